"""Run a function over many files in worker processes (``reviewer.index.worker``) when there is
enough work to pay for starting them: tree-sitter, the secret patterns and the tag patterns all
hold the GIL, so threads would not help. Workers start on first need and serve every later call
until ``close()``. Results come back in input order and are the same whichever process computed
them; a worker that fails leaves its share to this process."""

from __future__ import annotations

import os
import queue
import select
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reviewer.index.worker import function_name, read_frame, write_frame

Progress = Callable[[str, int, int], None]

PARALLEL_BYTES = 2_000_000  # below this much input, starting processes costs more than it saves
_BYTES_PER_WORKER = 1_000_000
_CHUNK_BYTES = 400_000
_MAX_WORKERS = 8


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])  # the directory holding the reviewer package
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reviewer.index.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_worker_env(),
        )
        self.alive = True

    def call(self, name: str, chunk: list[tuple[Any, ...]]) -> list[Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        write_frame(self.proc.stdin, (name, chunk))
        return read_frame(self.proc.stdout)

    def close(self, *, kill: bool = False) -> None:
        self.hang_up(kill=kill)
        self.reap()

    def hang_up(self, *, kill: bool = False) -> None:
        """Tell the worker to exit (it finishes when it reads the end of its input)."""
        self.alive = False
        if kill and self.proc.poll() is None:
            self.proc.kill()
        try:
            if self.proc.stdin is not None and self.proc.poll() is None:
                write_frame(self.proc.stdin, None)
        except (OSError, ValueError):
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def reap(self) -> None:
        """Wait for the worker to be gone; one that does not go within 10 s is killed."""
        _exited_within(self.proc, 10)  # woken the moment it exits, where the system can say so
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _exited_within(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Block until ``proc`` exits or ``seconds`` pass, on a process descriptor (Linux), instead
    of the polling with growing sleeps that ``Popen.wait(timeout=...)`` does."""
    if proc.returncode is not None or not hasattr(os, "pidfd_open"):
        return
    try:
        fd = os.pidfd_open(proc.pid)
    except OSError:
        return
    try:
        select.select([fd], [], [], seconds)
    finally:
        os.close(fd)


class Remote:
    """One worker process for calls made one at a time, started now so its imports (and what the
    first call loads) overlap with other work. Any failure makes it unusable: the caller then
    does the work itself."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._pending = False
        self._lock = threading.Lock()  # one call at a time, whichever thread makes it
        try:
            self._worker: _Worker | None = _Worker()
            assert self._worker.proc.stdin is not None
            write_frame(self._worker.proc.stdin, (function_name(fn), [args]))
            self._pending = True
        except (OSError, ValueError):
            self._worker = None

    @property
    def alive(self) -> bool:
        return self._worker is not None and self._worker.alive

    def ready(self) -> None:
        """Wait for the first call's answer (what it loads is loaded); raises ``OSError`` when
        the worker is gone."""
        if not self._pending and self.alive:
            return  # answered already (it is never pending again): no need to queue behind a call
        with self._lock:
            self._ready()

    def _ready(self) -> _Worker:
        w = self._worker
        if w is None or not w.alive:
            raise OSError("worker not running")
        try:
            if self._pending:
                assert w.proc.stdout is not None
                read_frame(w.proc.stdout)
                self._pending = False
        except (OSError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
            self._close()
            raise OSError(f"worker failed: {exc}") from exc
        return w

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the worker; raises ``OSError`` when the worker is gone."""
        with self._lock:
            w = self._ready()
            try:
                return w.call(function_name(fn), [args])[0]
            except (OSError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
                self._close()
                raise OSError(f"worker failed: {exc}") from exc

    def close(self) -> None:
        """Stop the worker; one still busy with its first call is killed, not waited for."""
        with self._lock:
            self._close()

    def release(self) -> None:
        """Tell the worker to exit, without waiting for it (``close()`` reaps it later); it can
        take no more calls."""
        with self._lock:
            if self._worker is not None and self._worker.alive:
                self._worker.hang_up(kill=self._pending)

    def _close(self) -> None:
        if self._worker is not None:
            self._worker.close(kill=self._pending)
            self._worker = None


class WorkerPool:
    def __init__(self, workers: int | None = None) -> None:
        self.max_workers = min(_MAX_WORKERS, workers if workers is not None else available_cpus())
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.release()
        for w in self._workers:
            w.reap()
        self._workers = []

    def release(self) -> None:
        """Tell every worker to exit, all at once, without waiting for them: they exit while
        this process goes on, and ``close()`` then finds them gone. A later ``map`` starts new
        workers if it wants some."""
        for w in self._workers:
            if w.alive:
                w.hang_up()

    def parallel(self, total: int) -> bool:
        """Whether ``map`` over jobs of ``total`` bytes runs in worker processes."""
        return self._wanted(total) > 1 and total >= PARALLEL_BYTES

    def _wanted(self, total: int) -> int:
        return min(self.max_workers, max(1, total // _BYTES_PER_WORKER))

    def start(self, n: int) -> None:
        """Start up to ``n`` workers now (they take a moment to import)."""
        while len([w for w in self._workers if w.alive]) < min(n, self.max_workers):
            try:
                self._workers.append(_Worker())
            except OSError:
                self.max_workers = len(self._workers)
                return

    def map(
        self,
        fn: Callable[..., Any],
        jobs: Sequence[tuple[Any, ...]],
        sizes: Sequence[int],
        *,
        progress: Progress | None = None,
        label: str = "index",
    ) -> list[Any]:
        """``[fn(*job) for job in jobs]``, in worker processes when the jobs are big enough.
        ``sizes`` (bytes of input per job) balance the work."""
        total = sum(sizes)
        results: list[Any] = [None] * len(jobs)
        done_flags = [False] * len(jobs)
        if self.parallel(total):
            self.start(self._wanted(total))
            self._run(function_name(fn), jobs, sizes, results, done_flags, progress, label)
        todo = [i for i, ok in enumerate(done_flags) if not ok]
        for n, i in enumerate(todo, 1):
            results[i] = fn(*jobs[i])
            if progress is not None and (n % 64 == 0 or n == len(todo)):
                progress(label, len(jobs) - len(todo) + n, len(jobs))
        return results

    def _run(
        self,
        name: str,
        jobs: Sequence[tuple[Any, ...]],
        sizes: Sequence[int],
        results: list[Any],
        done_flags: list[bool],
        progress: Progress | None,
        label: str,
    ) -> None:
        work: queue.Queue[list[int]] = queue.Queue()
        for chunk in _chunks(sizes):
            work.put(chunk)
        lock = threading.Lock()
        counter = [0]

        def drive(worker: _Worker) -> None:
            while worker.alive:
                try:
                    chunk = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    answer = worker.call(name, [jobs[i] for i in chunk])
                    if len(answer) != len(chunk):
                        raise ValueError("short answer")
                except (OSError, EOFError, ValueError, TypeError, AttributeError, ImportError):
                    worker.alive = False  # its chunk is left to this process
                    return
                with lock:
                    for i, r in zip(chunk, answer, strict=True):
                        results[i] = r
                        done_flags[i] = True
                    counter[0] += len(chunk)
                    if progress is not None:
                        progress(label, counter[0], len(jobs))

        threads = [threading.Thread(target=drive, args=(w,), daemon=True) for w in self._workers if w.alive]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for w in self._workers:
            if not w.alive:
                w.close()
        self._workers = [w for w in self._workers if w.alive]


def _chunks(sizes: Sequence[int]) -> list[list[int]]:
    """Chunks of about ``_CHUNK_BYTES``, largest jobs first so the run ends on small ones."""
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i], i))
    out: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i in order:
        current.append(i)
        size += sizes[i] + 200
        if size >= _CHUNK_BYTES:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out
