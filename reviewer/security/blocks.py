"""Secrets that are blocks of encoded data: private keys in PEM (or PuTTY) form, and base64 blobs
that decode to a secret.

A key block is redacted from its BEGIN line to its END line, each line's encoded part replaced in
place; a block without its END (cut off) goes on while its lines look like key data. A block
written on one line with ``\\n`` escapes (a JSON service-account file) is redacted from BEGIN to
END on that line. A base64 blob is decoded when it decodes to text, and redacted whole when that
text holds a secret (a key, ``password=...``, a private key), by the same detectors.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator

from reviewer.security.found import Span

_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d")
_END = re.compile(r"-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----")
_DATA = re.compile(r"[A-Za-z0-9+/=]{8,}")
_HEADER = re.compile(r"^\s*(?:Proc-Type|DEK-Info|Comment|Version|Encryption|Public-Lines|Private-Lines|Private-MAC"
                     r"|Key-Derivation|Argon2-[A-Za-z]+):")
_QUOTES = " \t\"'`,;+\\()[]"
_MAX_BLOCK_LINES = 400
KIND = "private-key"


def private_keys(text: str) -> Iterator[Span]:
    if "PRIVATE KEY" not in text and "PuTTY-User-Key-File" not in text:
        return
    for begin in _BEGIN.finditer(text):
        line_end = _line_end(text, begin.start())
        end = _END.search(text, begin.end(), line_end)
        if end is not None:  # the whole block on one line (\n escapes)
            data = _DATA.search(text, begin.end(), end.start())
            if data is not None and end.start() - begin.end() >= 40:
                yield Span(begin.start(), end.end(), KIND)
            continue
        body = _body(text, line_end + 1)
        if body:  # a BEGIN line followed by no key data is code or prose that names the marker
            yield Span(begin.start(), line_end, KIND)
            yield from body


def _body(text: str, pos: int) -> list[Span]:
    """The lines after a BEGIN line, up to and with its END line (or while they look like key data)."""
    spans: list[Span] = []
    for _ in range(_MAX_BLOCK_LINES):
        if pos >= len(text):
            break
        line_end = _line_end(text, pos)
        line = text[pos:line_end]
        end = _END.search(line)
        if end is not None:
            data = _DATA.search(line, 0, end.start())
            spans.append(Span(pos + (data.start() if data else end.start()), pos + end.end(), KIND))
            break
        if _BEGIN.search(line):
            break
        core = line.strip(_QUOTES)
        if core and _HEADER.match(line):
            at = line.find(core)
            spans.append(Span(pos + at, pos + at + len(core), KIND))
        elif core:
            data = _DATA.search(line)
            if data is None or len(data.group(0)) < 0.8 * len(core):
                break  # not key data: the block was cut off before its END
            spans.append(Span(pos + data.start(), pos + data.end(), KIND))
        pos = line_end + 1
    return spans


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end == -1 else end


# -- base64 ------------------------------------------------------------------------------------

_BLOB = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/]{20,}={0,2}(?![A-Za-z0-9+/=_-])")
_MAX_BLOB = 64_000
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


def decode_text(blob: str) -> str | None:
    """The text a base64 blob decodes to, or None when it is not base64 of printable text."""
    if len(blob) > _MAX_BLOB:
        return None
    head = blob[:24]
    try:
        if not set(base64.b64decode(head + "=" * (-len(head) % 4))) <= _PRINTABLE:
            return None
        data = base64.b64decode(blob + "=" * (-len(blob.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None
    if not set(data) <= _PRINTABLE:
        return None
    return data.decode("ascii")


def base64_blobs(text: str, inner: Callable[[str], str | None]) -> Iterator[Span]:
    """Each blob whose decoded text ``inner`` finds a secret in (``inner`` returns its kind)."""
    for m in _BLOB.finditer(text):
        blob = m.group(0)
        if blob.isalpha() or blob.isdigit() or ("/" in blob and not any(c.isdigit() for c in blob)):
            continue  # a long word, a number, or a path
        start = m.start()
        decoded = decode_text(blob)
        if decoded is None and blob[0] in "+/":  # a diff's "+" before the blob
            blob, start = blob[1:], start + 1
            decoded = decode_text(blob)
        if decoded is None:
            continue
        kind = inner(decoded)
        if kind is not None:
            yield Span(start, m.end(), f"base64-{kind}")
