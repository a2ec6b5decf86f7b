"""Token counts for completion requests: exact V4 counts, remembered, off the request path.

An editor asks again and again about nearly the same text: the lines around the cursor and the
same context cards come back with every keystroke. Each line is counted once with the V4
tokenizer (``reviewer.pack.tokens``) and remembered. The tokenizer costs about 1 µs of CPU per
character, so a request at a place never seen before would spend 10-20 ms counting 15 KB of new
text; with ``background=True`` (fim-server) such lines are estimated on the request path
(characters over the ratio measured so far, rounded up) and counted exactly on a background
thread, so the next request has their exact counts. ``reviewer fim`` counts everything exactly.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading

from reviewer.pack.tokens import Tokenizer

CHARS_PER_TOKEN = 3.6  # code under the V4 tokenizer runs 3.9-4.2; lower is the safe side


def estimate(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def quick(tokenizer: Tokenizer, texts: list[str]) -> list[int]:
    """``quick_batch`` when the counter has it, exact counts otherwise."""
    fn = getattr(tokenizer, "quick_batch", None)
    return fn(texts) if fn is not None else tokenizer.count_batch(texts)


class CachedCounter:
    """``count`` / ``count_batch`` as the tokenizer's, with the answers remembered, and
    ``quick_batch``: remembered counts, or estimates counted later in the background."""

    def __init__(self, tokenizer: Tokenizer, max_entries: int = 100_000, *, background: bool = False) -> None:
        self.tokenizer = tokenizer
        self.name = tokenizer.name
        self.max_entries = max_entries
        self.background = background
        self._cache: dict[str, int] = {}
        self._lock = threading.Lock()
        self._pending: queue.Queue[list[str]] = queue.Queue(maxsize=256)
        self._worker: threading.Thread | None = None
        self._chars = 0  # what has been counted, for the estimate's ratio
        self._tokens = 0
        self.hits = 0
        self.misses = 0
        self.estimated = 0

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def count(self, text: str) -> int:
        return self.count_batch([text])[0]

    def _lookup(self, texts: list[str]) -> tuple[list[int | None], list[str]]:
        get = self._cache.get
        out: list[int | None] = [get(t) for t in texts]
        missing = [t for t, n in zip(texts, out, strict=True) if n is None]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        return out, missing

    def _store(self, texts: list[str]) -> dict[str, int]:
        unique = list(dict.fromkeys(texts))
        counts = dict(zip(unique, self.tokenizer.count_batch(unique), strict=True))
        with self._lock:
            if len(self._cache) + len(counts) > self.max_entries:  # forget the oldest half
                for key in list(self._cache)[: len(self._cache) // 2]:
                    del self._cache[key]
            self._cache.update(counts)
            self._chars += sum(len(t) for t in unique)
            self._tokens += sum(counts.values())
        return counts

    def count_batch(self, texts: list[str]) -> list[int]:
        """Exact counts."""
        out, missing = self._lookup(texts)
        if missing:
            counts = self._store(missing)
            out = [counts[t] if n is None else n for t, n in zip(texts, out, strict=True)]
        return [int(n) for n in out]  # type: ignore[arg-type]

    def quick_batch(self, texts: list[str]) -> list[int]:
        """Exact counts for texts seen before; for the others, an estimate now and an exact count
        in the background (or an exact count now when ``background`` is off)."""
        if not self.background:
            return self.count_batch(texts)
        out, missing = self._lookup(texts)
        if not missing:
            return [int(n) for n in out]  # type: ignore[arg-type]
        self.estimated += len(missing)
        self._later(list(dict.fromkeys(missing)))
        ratio = self.ratio()
        return [int(n) if n is not None else math.ceil(len(t) / ratio) + 1 for t, n in zip(texts, out, strict=True)]

    def ratio(self) -> float:
        """Characters per token measured so far (90% of it: an estimate errs on the high side)."""
        with self._lock:
            if self._tokens >= 2000:
                return 0.9 * self._chars / self._tokens
        return CHARS_PER_TOKEN

    def _later(self, texts: list[str]) -> None:
        if self._worker is None:
            with self._lock:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._drain, name="fim-count", daemon=True)
                    self._worker.start()
        with contextlib.suppress(queue.Full):  # if full: counted next time they are asked for
            self._pending.put_nowait(texts)

    def _drain(self) -> None:
        while True:
            batch = self._pending.get()
            try:
                for i in range(0, len(batch), 64):  # small calls: the tokenizer holds the GIL while it counts
                    self._store(batch[i : i + 64])
            except Exception:  # a text the tokenizer rejects is estimated again next time
                pass
            finally:
                self._pending.task_done()

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the background counts are done (for tests and benchmarks)."""
        import time

        end = time.monotonic() + timeout
        while self._pending.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.005)
