"""Secrets out of what is sent to a completion server that is not on this machine.

The secret scan (``reviewer.security.secrets``) costs about 0.3 ms per kilobyte, and an editor
sends nearly the same text with every keystroke. The text is cut into blocks at lines chosen by
their own content (so an edit moves only the boundaries near it), each block is redacted once and
remembered; a private key block is never cut, nor (within a limit) a value that goes on from one
line to the next. What was replaced is counted, never shown.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict

from reviewer.security.secrets import redact

_MAX_BLOCK_LINES = 64
# a line ending like this may go on in the next (a literal concatenated with the next line's):
# never the last line of a block, so a secret split over the two is read whole
_GOES_ON = ("+", ",", "(", "[", "{", "\\", '"', "'", "`", ".", "|")
_cache: OrderedDict[tuple[str, str], tuple[str, int]] = OrderedDict()
_lock = threading.Lock()
_MAX_ENTRIES = 4096


def _blocks(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    start = 0
    in_key = False
    for i, line in enumerate(lines):
        if "-----BEGIN" in line:
            in_key = True
        if "-----END" in line:
            in_key = False
        n = i + 1 - start
        boundary = zlib.crc32(line.encode("utf-8", "replace")) % 16 == 0 or n >= _MAX_BLOCK_LINES
        if n >= 4 * _MAX_BLOCK_LINES or (boundary and not in_key and not line.rstrip().endswith(_GOES_ON)):
            out.append("".join(lines[start : i + 1]))
            start = i + 1
    if start < len(lines):
        out.append("".join(lines[start:]))
    return out


def redact_text(path: str, text: str) -> tuple[str, int]:
    """``text`` with every secret found replaced, and how many were."""
    if not text:
        return text, 0
    out: list[str] = []
    hits = 0
    for block in _blocks(text):
        key = (path, block)
        with _lock:
            found = _cache.get(key)
            if found is not None:
                _cache.move_to_end(key)
        if found is None:
            red = redact(path, block)
            found = (red.text, len(red.hits))
            with _lock:
                _cache[key] = found
                while len(_cache) > _MAX_ENTRIES:
                    _cache.popitem(last=False)
        out.append(found[0])
        hits += found[1]
    return "".join(out), hits
