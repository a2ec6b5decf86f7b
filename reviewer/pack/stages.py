"""Where a pack's time goes: wall seconds per stage, each stage's own.

A stage entered while another runs pauses the outer one, so the figures add up to the time
measured and each is what that stage itself cost (``fit`` without the preparing and counting it
asks for). ``reviewer pack --stats json`` reports them under ``stages``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# the stages in the order a pack meets them (others are added after these, as they come)
ORDER = ("scan", "tags", "focus", "rank", "fit", "prepare", "tokenizer", "count", "cache", "order", "render", "close")


class Stopwatch:
    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds: dict[str, float] = {}
        self._clock = clock
        self._stack: list[str] = []
        self._since = 0.0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.begin(name)
        try:
            yield
        finally:
            self.end()

    def begin(self, name: str) -> None:
        """Enter ``name`` (for a stage that no ``with`` block can hold); ``end()`` leaves it."""
        now = self._clock()
        if self._stack:
            self._add(self._stack[-1], now - self._since)
        self._stack.append(name)
        self._since = now

    def end(self) -> None:
        now = self._clock()
        self._add(self._stack.pop(), now - self._since)
        self._since = now

    def _add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def report(self) -> dict[str, float]:
        """Seconds per stage, rounded to the millisecond, in the pack's order."""
        names = [n for n in ORDER if n in self.seconds] + sorted(set(self.seconds) - set(ORDER))
        return {n: round(self.seconds[n], 3) for n in names}
