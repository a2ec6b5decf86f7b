"""Which lines of each repository file hold a secret, found once per file content.

Context cut from repository files goes out with every completion request. Scanning each piece
for secrets on the request path costs about a quarter of a first request's time; a file's
content changes rarely, so each file is scanned whole once (in worker processes, in the
background, after the index is built; again when the watcher sees it change). A piece of
context whose lines hold none of the file's secret lines is sent as it is; any other piece,
and every piece of a file not scanned yet, is redacted on the request path as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from reviewer.security.secrets import redact


def secret_lines(path: str, text: str) -> tuple[int, ...]:
    """The 1-based numbers of the lines that redaction changes (every line of a private key
    block, not only its first)."""
    red = redact(path, text)
    if not red.hits:
        return ()
    before, after = text.split("\n"), red.text.split("\n")
    changed = [n for n, (a, b) in enumerate(zip(before, after, strict=False), 1) if a != b]
    # redaction keeps the line count; if it ever did not, every line counts as secret
    return tuple(changed) if len(before) == len(after) else tuple(range(1, len(before) + 1))


class SecretMap:
    """path -> (content hash, secret line numbers), for the content last scanned."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[str, frozenset[int]]] = {}
        self._lock = threading.Lock()
        self.scanned = 0  # files scanned since start
        self._clean: OrderedDict[tuple[str, str], frozenset[str]] = OrderedDict()
        self.enabled = False  # scanning was asked for (what is sent is redacted)
        self.done = False  # the first pass over the repository has finished

    def get(self, path: str, sha: str) -> frozenset[int] | None:
        """The secret lines of ``path`` at content ``sha``, or None when that content was not
        scanned (the caller must then redact what it sends)."""
        entry = self._known.get(path)
        return entry[1] if entry is not None and entry[0] == sha else None

    def learn(self, path: str, sha: str, text: str) -> None:
        self.put(path, sha, secret_lines(path, text))

    def put(self, path: str, sha: str, lines: Iterable[int]) -> None:
        with self._lock:
            self._known[path] = (sha, frozenset(lines))
            self.scanned += 1

    def forget(self, path: str) -> None:
        with self._lock:
            self._known.pop(path, None)

    def clean_texts(self, path: str, sha: str, lines: Callable[[], list[str]]) -> frozenset[str] | None:
        """The texts of the lines of that content that hold no secret (a text that is also a
        secret line's is left out), or None when it was not scanned. An editor sends mostly
        lines of the file as it is on disk: those need no scan."""
        known = self.get(path, sha)
        if known is None:
            return None
        key = (path, sha)
        with self._lock:
            hit = self._clean.get(key)
            if hit is not None:
                self._clean.move_to_end(key)
                return hit
        text = lines()
        secret = {text[n - 1] for n in known if 0 < n <= len(text)}
        hit = frozenset(text).difference(secret) | {""}
        with self._lock:
            self._clean[key] = hit
            while len(self._clean) > 32:
                self._clean.popitem(last=False)
        return hit

    def is_clean(self, path: str, sha: str, lines: Iterable[int]) -> bool:
        """True when ``lines`` of that content are known to hold no secret."""
        known = self.get(path, sha)
        return known is not None and known.isdisjoint(lines)
