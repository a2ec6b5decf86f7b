"""The runner on real processes: a started engine's whole process group is stopped (a child that
ignores SIGTERM is killed after the grace period), readiness waits on /health then /v1/models of
a real local HTTP server, and an engine that dies early is reported with the end of its log."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from reviewer.errors import BackendError
from reviewer.serve import runner
from reviewer.serve.command import LaunchPlan

TREE = r"""
import os, signal, subprocess, sys, time
ignore = sys.argv[1] == "stubborn"
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time\n"
    + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if ignore else "")
    + "print('grandchild up', flush=True)\ntime.sleep(600)"])
print(f"child {child.pid}", flush=True)
time.sleep(600)
"""

SERVER = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
port = int(sys.argv[1]); ready_after = time.monotonic() + float(sys.argv[2])
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): print("request", self.path, flush=True)
    def do_GET(self):
        up = time.monotonic() >= ready_after
        if self.path == "/health":
            code, body = (200, b"") if up else (503, b"loading")
        elif self.path == "/v1/models":
            code, body = (200, json.dumps({"object": "list", "data": [{"id": "m1"}] if up else []}).encode())
        else:
            code, body = 404, b""
        self.send_response(code); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
print("listening", flush=True)
HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def wait_for_line(log: Path, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    tail = runner.LogTail(log)
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen += tail.new_lines()
        for line in seen:
            if text in line:
                return line
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in {seen}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["polite", "stubborn"])
def test_stop_leaves_no_process_of_the_group(tmp_path: Path, kind: str) -> None:
    log = tmp_path / "engine.log"
    engine = runner.start(LaunchPlan([sys.executable, "-c", TREE, kind]), log)
    try:
        grandchild = int(wait_for_line(log, "child ").split()[1])
        wait_for_line(log, "grandchild up")
        assert os.getpgid(grandchild) == engine.pgid
        started = time.monotonic()
        assert runner.stop(engine, grace=1.0) is True
        assert not runner.group_alive(engine.pgid)
        if kind == "stubborn":
            assert time.monotonic() - started >= 1.0  # it was given the grace period, then killed
        with pytest.raises(ProcessLookupError):
            os.kill(grandchild, 0)
    finally:
        if runner.group_alive(engine.pgid):
            os.killpg(engine.pgid, signal.SIGKILL)


def test_ready_waits_for_health_then_models(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "engine.log"
    engine = runner.start(LaunchPlan([sys.executable, "-c", SERVER, str(port), "1.0"]), log)
    stages: list[str] = []
    try:
        models = runner.wait_ready(engine, f"http://127.0.0.1:{port}/v1", "/health", 60, on_tick=stages.append)
        assert models == ["m1"]
        assert "loading" in stages  # it did wait
        assert "request /health" in log.read_text()
    finally:
        assert runner.stop(engine, grace=5)


def test_an_engine_that_dies_is_reported_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    code = "import sys; print('CUDA error: no kernel image is available', flush=True); sys.exit(3)"
    engine = runner.start(LaunchPlan([sys.executable, "-c", code]), log)
    with pytest.raises(BackendError) as exc:
        runner.wait_ready(engine, f"http://127.0.0.1:{free_port()}/v1", "/health", 60)
    assert "exited with code 3, before it was ready" in str(exc.value)
    assert "CUDA error: no kernel image is available" in str(exc.value)


def test_an_engine_killed_by_sigill_is_named_with_what_to_do(tmp_path: Path) -> None:
    # What a llama.cpp build made for another CPU does on its first instruction that this CPU lacks.
    log = tmp_path / "engine.log"
    code = "import os, signal; print('loading model', flush=True); os.kill(os.getpid(), signal.SIGILL)"
    engine = runner.start(LaunchPlan([sys.executable, "-c", code]), log)
    with pytest.raises(BackendError) as exc:
        runner.wait_ready(engine, f"http://127.0.0.1:{free_port()}/v1", "/health", 60)
    message = str(exc.value)
    assert "was killed by SIGILL" in message and "built for another CPU" in message
    assert "CMAKE_ARGS=-DGGML_NATIVE=OFF" in message and "loading model" in message


@pytest.mark.parametrize(("code", "words"), [
    (0, "exited with code 0"), (2, "exited with code 2"), (-9, "killed by SIGKILL: often the kernel's out-of-memory"),
    (-11, "killed by SIGSEGV"), (-4, "killed by SIGILL"), (-200, "killed by signal 200"),
])
def test_describe_exit(code: int, words: str) -> None:
    assert words in runner.describe_exit(code)


def test_not_ready_in_time(tmp_path: Path) -> None:
    port = free_port()
    engine = runner.start(LaunchPlan([sys.executable, "-c", SERVER, str(port), "600"]), tmp_path / "e.log")
    try:
        with pytest.raises(BackendError, match=r"not ready after 2 s \(loading\)"):
            runner.wait_ready(engine, f"http://127.0.0.1:{port}/v1", "/health", 2)
    finally:
        assert runner.stop(engine, grace=5)


def test_a_missing_engine_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError):
        runner.start(LaunchPlan([str(tmp_path / "no-such-engine"), "serve"]), tmp_path / "e.log")
