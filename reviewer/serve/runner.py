"""Start an engine in its own process group, wait until it answers, stop it with nothing left.

The engine writes to a log file (never a pipe: a full pipe would block it). Readiness is
``/health`` (where the engine has it) and then ``/v1/models`` listing the served model, bounded
by a deadline and watching the process: an engine that exits while loading is reported at once
with the end of its log.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewer.errors import BackendError
from reviewer.serve.command import LaunchPlan

HEALTH_PATHS = {"vllm": "/health", "sglang": "/health", "llama-cpp": None}
POLL_INTERVAL = 0.5


class LogTail:
    """New complete lines of a growing log file, read without holding it open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def new_lines(self) -> list[str]:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read(1 << 20)
        except OSError:
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.replace(b"\r", b"\n").split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines if line.strip()]

    def last(self, n: int = 25) -> str:
        try:
            data = self.path.read_bytes()[-64_000:]
        except OSError:
            return ""
        lines = [ln for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
        return "\n".join(lines[-n:])


@dataclass
class EngineProcess:
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def pgid(self) -> int:
        return self.proc.pid  # start_new_session: the engine leads its own group

    def exited(self) -> int | None:
        return self.proc.poll()

    def how_it_ended(self) -> str:
        code = self.proc.poll()
        return "is still running" if code is None else describe_exit(code)


_REBUILD = ("rebuild it for any x86-64 CPU: CMAKE_ARGS=-DGGML_NATIVE=OFF pip install --force-reinstall "
            "--no-cache-dir --no-deps 'llama-cpp-python[server]>=0.3,<0.4' (vLLM, SGLang: install a build "
            "made for this machine)")
_SIGNAL_MEANING = {
    "SIGILL": "the engine was built for another CPU (it uses instructions this one cannot run); " + _REBUILD,
    "SIGKILL": "often the kernel's out-of-memory killer (see dmesg): the model needs more memory than is free",
    "SIGSEGV": "the engine crashed (segmentation fault); its log may say more",
    "SIGBUS": "the engine crashed (bus error: a model file truncated or a disk full?)",
    "SIGABRT": "the engine aborted itself; its log says why",
}


def describe_exit(code: int) -> str:
    """How a process ended, in words: 'exited with code N', or the signal that killed it and what
    that usually means (a negative return code from subprocess is a signal number)."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"was killed by signal {-code}"
    meaning = _SIGNAL_MEANING.get(name)
    return f"was killed by {name}" + (f": {meaning}" if meaning else "")


def start(plan: LaunchPlan, log_path: Path) -> EngineProcess:
    """Start ``plan`` in a new session (its own process group), output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **plan.env}
    with log_path.open("wb") as log:
        try:
            proc = subprocess.Popen(plan.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
        except OSError as exc:
            raise BackendError(f"cannot start {plan.argv[0]}: {exc.strerror or exc}") from exc
    return EngineProcess(proc, log_path)


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # our own local server
            return resp.status, resp.read(1 << 20)
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (OSError, ValueError):
        return 0, b""


def served_models(body: bytes) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return []
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    return [str(m["id"]) for m in items if isinstance(m, dict) and "id" in m]


def wait_ready(engine: EngineProcess, base_url: str, health_path: str | None, timeout: float,
               on_tick: Callable[[str], None] | None = None) -> list[str]:
    """Wait until ``base_url`` (".../v1") answers health and lists its models; returns the model
    ids. Raises BackendError when the process exits first or ``timeout`` seconds pass."""
    root = base_url.rsplit("/v1", 1)[0]
    deadline = time.monotonic() + timeout
    healthy = health_path is None
    stage = "loading"
    while True:
        code = engine.exited()
        if code is not None:
            raise BackendError(f"the engine {describe_exit(code)}, before it was ready; end of {engine.log_path}:\n"
                               + LogTail(engine.log_path).last())
        if not healthy:
            status, _ = _get(root + health_path, timeout=2)  # type: ignore[operator]
            healthy = status == 200
            if healthy:
                stage = "healthy, waiting for /v1/models"
        if healthy:
            status, body = _get(base_url + "/models", timeout=5)
            models = served_models(body) if status == 200 else []
            if models:
                return models
        if time.monotonic() > deadline:
            raise BackendError(f"the engine was not ready after {timeout:.0f} s ({stage}); end of {engine.log_path}:\n"
                               + LogTail(engine.log_path).last())
        if on_tick is not None:
            on_tick(stage)
        time.sleep(POLL_INTERVAL)


def group_alive(pgid: int) -> bool:
    """Whether any process is left in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop(engine: EngineProcess, grace: float = 30.0) -> bool:
    """SIGTERM the engine's whole group, wait up to ``grace`` seconds, then SIGKILL what is left.
    A second Ctrl-C while waiting kills at once. Returns True when the group is gone."""
    pgid = engine.pgid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    try:
        while time.monotonic() < deadline:
            engine.proc.poll()  # reap the leader so it does not linger as a zombie in the group
            if not group_alive(pgid):
                return True
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    _signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        engine.proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)  # orphans are reaped by init; give it a moment
    return not group_alive(pgid)
