"""`reviewer serve` as a stage: check the machine, build the command, run it until stopped.

What the person sees is the caller's business: :func:`run` reports through a :class:`ServeView`.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reviewer.errors import EXIT_BACKEND, BackendError, InputError
from reviewer.serve import runner
from reviewer.serve.command import LaunchPlan, Placement, build, local_url
from reviewer.serve.machine import MachineReport, check_machine
from reviewer.serve.profiles import Profile


@dataclass
class Prepared:
    profile: Profile
    placement: Placement
    report: MachineReport
    plan: LaunchPlan

    @property
    def base_url(self) -> str:
        return local_url(self.placement)


def prepare(profile: Profile, placement: Placement, environ: dict[str, str] | None = None) -> Prepared:
    """Check the machine and build the command (the command is built even when a check fails,
    so ``--dry-run`` can show it)."""
    follower = profile.nodes > 1 and placement.node_rank > 0
    report = check_machine(profile, placement.host, placement.port, serves_http=not follower, environ=environ)
    weights = report.weights_path
    if weights is None and profile.weights.package is not None:
        weights = f"<{profile.weights.glob} from package {profile.weights.package}>"
    plan = build(profile, placement, weights_path=weights, python=report.engine_python)
    return Prepared(profile, placement, report, plan)


def require_fit(prepared: Prepared) -> None:
    problems = prepared.report.problems
    if problems:
        detail = "; ".join(f"{c.name}: {c.detail}" for c in problems)
        raise InputError(f"this machine cannot run profile {prepared.profile.name}: {detail}",
                         hint="reviewer serve --list shows every profile and its hardware; --dry-run prints the command")


class ServeView(Protocol):
    def started(self, engine: runner.EngineProcess) -> None: ...
    def log_lines(self, lines: list[str]) -> None: ...
    def waiting(self, stage: str) -> None: ...
    def ready(self, prepared: Prepared, models: list[str]) -> None: ...
    def follower(self, prepared: Prepared) -> None: ...
    def stopping(self) -> None: ...
    def stopped(self, clean: bool, engine: runner.EngineProcess) -> None: ...


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM, SIGHUP (the terminal went away) and SIGINT stop the server the same way Ctrl-C
    does, even when SIGINT was ignored at start (a background job of a script)."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(prepared: Prepared, log_path: Path, view: ServeView, *, timeout: float | None = None,
        grace: float = 30.0) -> int:
    """Start the engine, wait until it serves, keep it running until Ctrl-C/SIGTERM or until it
    exits by itself; always stop its whole process group. Returns 0 after a requested stop."""
    profile = prepared.profile
    with _terminate_as_interrupt():
        engine = runner.start(prepared.plan, log_path)
        tail = runner.LogTail(log_path)
        stopped_by_user = False
        try:
            view.started(engine)

            def tick(stage: str) -> None:
                view.log_lines(tail.new_lines())
                view.waiting(stage)

            if prepared.plan.serves_http:
                models = runner.wait_ready(engine, prepared.base_url, runner.HEALTH_PATHS[profile.engine],
                                           timeout or profile.startup_timeout_s, on_tick=tick)
                view.log_lines(tail.new_lines())
                view.ready(prepared, models)
            else:
                view.follower(prepared)
            while engine.exited() is None:
                view.log_lines(tail.new_lines())
                with contextlib.suppress(subprocess.TimeoutExpired):
                    engine.proc.wait(timeout=runner.POLL_INTERVAL)
            view.log_lines(tail.new_lines())
            raise BackendError(f"the engine {engine.how_it_ended()}; end of {log_path}:\n" + tail.last())
        except KeyboardInterrupt:
            stopped_by_user = True
        finally:
            try:
                view.stopping()
            finally:
                clean = runner.stop(engine, grace=grace)  # a second Ctrl-C in here kills at once
            view.stopped(clean, engine)
        return 0 if stopped_by_user and clean else EXIT_BACKEND
