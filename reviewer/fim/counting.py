"""Exact token counts for completion requests, remembered.

An editor asks again and again about nearly the same text: the lines around the cursor and the
same context cards come back with every keystroke. Counting them once and remembering the
result keeps the exact V4 count (``reviewer.pack.tokens``) off the request path after the first
request of a region. Fitting uses a character estimate; what is finally sent is counted exactly.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from reviewer.pack.tokens import Tokenizer

CHARS_PER_TOKEN = 3.6  # code under the V4 tokenizer runs 3.9-4.2; lower is the safe side


def estimate(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


class CachedCounter:
    """``count`` / ``count_batch`` as the tokenizer's, with the answers remembered (LRU)."""

    def __init__(self, tokenizer: Tokenizer, max_entries: int = 50_000) -> None:
        self.tokenizer = tokenizer
        self.name = tokenizer.name
        self.max_entries = max_entries
        self._cache: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def count(self, text: str) -> int:
        return self.count_batch([text])[0]

    def count_batch(self, texts: list[str]) -> list[int]:
        out: list[int | None] = []
        missing: list[str] = []
        with self._lock:
            for t in texts:
                n = self._cache.get(t)
                if n is None:
                    missing.append(t)
                else:
                    self._cache.move_to_end(t)
                out.append(n)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            unique = list(dict.fromkeys(missing))
            counts = dict(zip(unique, self.tokenizer.count_batch(unique), strict=True))
            with self._lock:
                for t, n in counts.items():
                    self._cache[t] = n
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
            out = [counts[t] if n is None else n for t, n in zip(texts, out, strict=True)]
        return [int(n) for n in out]  # type: ignore[arg-type]
