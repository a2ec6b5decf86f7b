"""Keep the in-memory index current while fim-server runs: a background thread that compares
every indexed file's modification time with the disk once a second, and lists the repository
again every few seconds for files that appeared. A changed file is read, indexed and swapped in
on this thread; requests never wait for it (see ``RepoIndex``).

Polling rather than an OS file-watch API: on a 2,000-file repository a whole pass costs about
8 ms of CPU (``os.lstat`` on each file; measured on sympy's 2,087 files), spread over the second
in eight slices so that no slice delays a request by more than a millisecond or two. It needs no
dependency and behaves the same on every platform and file system, network mounts included.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from reviewer.config import Settings
from reviewer.fim.repoindex import RepoIndex, make_record
from reviewer.index import index_text

SLICES = 8


def changed_span(old: str, new: str) -> list[tuple[int, int]]:
    """The 1-based lines of ``new`` that differ from ``old`` (one span: from the first line that
    differs to the last), empty when nothing does."""
    a = old.split("\n")
    b = new.split("\n")
    if a == b:
        return []
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    last = max(start + 1, end_b)
    return [(start + 1, min(last, len(b)))]


class Watcher:
    def __init__(self, index: RepoIndex, settings: Settings, *, interval: float = 1.0, relist_every: int = 5) -> None:
        self.index = index
        self.settings = settings
        self.interval = interval
        self.relist_every = max(1, relist_every)
        self.ticks = 0
        self.last_tick_ms = 0.0
        self.max_tick_ms = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._is_git: bool | None = None
        self._sorted: tuple[tuple[int, int], list[str]] = ((-1, -1), [])

    def start(self) -> Watcher:
        self._thread = threading.Thread(target=self._run, name="fim-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        # a pass is spread over the interval in SLICES steps, so that no step holds the
        # interpreter long enough to delay a request
        step = 0
        while not self._stop.wait(self.interval / SLICES):
            if not self.index.stats.ready:
                continue
            with contextlib.suppress(Exception):  # a bad file must never stop the watcher
                self.tick(part=(step % SLICES, SLICES))
            step += 1

    def tick(self, part: tuple[int, int] = (0, 1)) -> int:
        """One pass over the files (or over part ``i`` of ``n`` of them); files that appeared
        are looked for once every ``relist_every`` full passes. Returns how many files changed."""
        start = time.perf_counter()
        i, n = part
        if i == 0:
            self.ticks += 1
        base = str(self.index.root) + os.sep
        changed = 0
        paths = self._paths() if n > 1 else list(self.index.files)
        for path in paths[i::n]:
            rec = self.index.files.get(path)
            if rec is None:
                continue
            try:
                st = os.lstat(base + path)
            except FileNotFoundError:
                self.index.remove(path)
                changed += 1
                continue
            except OSError:
                continue
            if st.st_mtime_ns != rec.mtime_ns:
                changed += self.refresh(path, st.st_mtime_ns)
        if i == n - 1 and self.ticks % self.relist_every == 0:
            for path in self._new_files():
                try:
                    mtime = os.lstat(base + path).st_mtime_ns
                except OSError:
                    continue
                changed += self.refresh(path, mtime)
        self.last_tick_ms = (time.perf_counter() - start) * 1000
        self.max_tick_ms = max(self.max_tick_ms, self.last_tick_ms)
        return changed

    def _paths(self) -> list[str]:
        key = (self.index.stats.files, self.index.stats.updates)
        if self._sorted[0] != key:
            self._sorted = (key, sorted(self.index.files))
        return self._sorted[1]

    def refresh(self, path: str, mtime_ns: int) -> int:
        """Read, index and swap in one file; 1 when its content changed."""
        from reviewer.repo.scan import SourceFile, _read

        old = self.index.files.get(path)
        item = _read(self.index.root, path, self.settings.max_file_bytes)
        if not isinstance(item, SourceFile):
            if old is not None:
                self.index.remove(path)
                return 1
            return 0
        if old is not None and old.sha == item.sha256:
            self.index.touch(path, mtime_ns)
            return 0
        rec = make_record(path, item.text, item.sha256, mtime_ns, index_text(path, item.text))
        self.index.update(rec, changed_span(old.text, item.text) if old is not None else [(1, min(40, item.text.count("\n") + 1))])
        if self.index.secrets.enabled:
            self.index.secrets.learn(path, item.sha256, item.text)
        return 1

    def _new_files(self) -> list[str]:
        from reviewer.repo import git
        from reviewer.repo.policy import PathPolicy
        from reviewer.repo.scan import _walk

        root: Path = self.index.root
        if self._is_git is None:
            self._is_git = git.is_work_tree(root)
        listed = git.ls_files(root) if self._is_git else _walk(root)
        policy = PathPolicy(self.settings)
        known = self.index.files
        return [p for p in listed if p not in known and policy.reason(p) is None]
