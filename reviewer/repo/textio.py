"""Reading repository files: binary detection and decoding that never fails."""

from __future__ import annotations

import codecs
import os

# how a repository file is opened: never through a link (its target was checked already), and a
# FIFO swapped in does not block the open
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)

_SNIFF = 8192
# control characters other than tab, newline, carriage return, form feed and escape
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27)) + b"\x7f"
_CONTROL_TABLE = bytes.maketrans(b"", b"")


def read_up_to(fd: int, limit: int) -> bytes:
    """At most ``limit`` bytes of an open file (read ``limit`` = the maximum + 1 to tell a file
    over the maximum)."""
    chunks = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def looks_binary(head: bytes) -> bool:
    """True for data a person would not read as text: a NUL byte in the first 8 KB (unless it is
    UTF-16 with a BOM), or more than 30% control characters."""
    head = head[:_SNIFF]
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(_CONTROL_TABLE, _CONTROL))
    return controls / len(head) > 0.30


def decode(data: bytes) -> str:
    """Decode file bytes to text. UTF-8 (a BOM is dropped), UTF-16 with a BOM; anything else is
    read as UTF-8 with invalid bytes replaced (U+FFFD). Line endings become ``\\n``; a lone
    ``\\r`` is kept as it is so line numbers match what git and editors count."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[3:].decode("utf-8", "replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", "replace")
    else:
        text = data.decode("utf-8", "replace")
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text


def count_lines(text: str) -> int:
    """Lines as editors number them: a final newline does not start a new line."""
    if not text:
        return 0
    n = text.count("\n")
    return n if text.endswith("\n") else n + 1


def split_lines(text: str) -> list[str]:
    """The file's lines, numbered from 1 in the pack; only ``\\n`` separates lines."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
