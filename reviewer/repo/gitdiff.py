"""Git's diffs, read within limits.

- ``raw_changes``: what changed between two commits (or a commit and the work tree), from
  ``git diff --raw -z``: exact paths (never quoted), modes, object ids and sizes, without reading
  any content.
- ``read_sections``: a diff or ``git log -p`` read from the pipe one file section at a time. A
  section longer than its cap is skipped to its end without being held, and lines are read in
  pieces, so a 100 MB one-line file costs a pipe buffer, not 100 MB (nor the 5.5 GB it took when
  the whole output was decoded, redacted and counted at once).
- ``section_header``: the ``diff --git`` line git writes for a pair of paths (quoted as git
  quotes them), to tell which change a section belongs to.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from reviewer.repo.git import GitStream, run_git

NULL_SHA = "0" * 40
SUBMODULE_MODE = "160000"
LINK_MODE = "120000"
_PIECE = 1 << 16  # bytes read at a time from a line
_HEAD_KEEP = 16384  # bytes of a section's first line kept (two paths)
_DIFF = b"diff --git "
_BINARY = (b"Binary files ", b"GIT binary patch")


@dataclass
class Change:
    """One entry of ``git diff --raw``: a file added (A), modified (M), deleted (D), renamed (R),
    copied (C) or changed in type (T)."""

    status: str
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    old_path: str
    new_path: str
    old_size: int | None = None  # bytes; None when there is no old side
    new_size: int | None = None

    @property
    def path(self) -> str:
        return self.old_path if self.status == "D" else self.new_path


def raw_changes(root: Path, since: str, until: str | None = None) -> list[Change]:
    """The changes from ``since`` to ``until`` (the work tree when None), paths relative to
    ``root``, renames detected, submodules left alone; with the size of each side (objects from
    git, the work tree's files from the disk)."""
    args = ["diff", "--raw", "-z", "-M", "--no-abbrev", "--relative", "--ignore-submodules=all", since]
    if until:
        args.append(until)
    out = run_git(root, *args, "--", timeout=300).stdout.decode("utf-8", "surrogateescape")
    fields = out.split("\0")
    changes: list[Change] = []
    i = 0
    while i < len(fields) and fields[i].startswith(":"):
        meta = fields[i][1:].split()
        if len(meta) != 5:
            break
        status = meta[4][:1]
        if status in ("R", "C"):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old = new = fields[i + 1]
            i += 2
        changes.append(Change(status, meta[0], meta[1], meta[2], meta[3], old, new))
    _sizes(root, changes, worktree=until is None)
    return changes


def _sizes(root: Path, changes: list[Change], *, worktree: bool) -> None:
    shas = {sha for c in changes for sha, mode in ((c.old_sha, c.old_mode), (c.new_sha, c.new_mode))
            if sha != NULL_SHA and mode not in (SUBMODULE_MODE, "000000")}
    sizes: dict[str, int] = {}
    if shas:
        with GitStream(root, "cat-file", "--batch-check=%(objectname) %(objectsize)", stdin=subprocess.PIPE,
                       check=False) as proc:
            proc.feed(sorted(shas))
            for line in proc.stdout:
                parts = line.split()
                if len(parts) == 2 and parts[1].isdigit():
                    sizes[parts[0].decode()] = int(parts[1])
    for c in changes:
        if c.status != "A":
            c.old_size = sizes.get(c.old_sha)
        if c.status != "D":
            c.new_size = sizes.get(c.new_sha)
            if c.new_size is None and worktree:
                c.new_size = _disk_size(root, c.new_path)


def _disk_size(root: Path, rel: str) -> int | None:
    try:
        st = os.lstat(os.path.join(root, rel))
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


# -- reading a patch in sections ---------------------------------------------------------------


@dataclass
class Section:
    """One file's part of a patch: from its ``diff --git`` line to the next."""

    header: str  # the ``diff --git`` line, without its newline (at most 4 KB of it)
    text: str | None  # the whole section; None when it was longer than the cap
    size: int  # bytes git wrote for it
    binary: bool = False


@dataclass
class Record:
    """A line outside any section that starts with the record marker (``git log``'s commits)."""

    line: str  # at most 4 KB of it, without its newline


def read_sections(stream: IO[bytes], cap: int, marker: bytes | None = None) -> Iterator[Section | Record]:
    """The sections (and marker lines) of a patch read from ``stream``; a section's text is
    held only while it is within ``cap`` bytes. Other lines outside sections are skipped."""
    head: bytes | None = None
    parts: list[bytes] = []
    size = 0
    binary = False
    at_line_start = True

    def finish() -> Section:
        text = b"".join(parts).decode("utf-8", "surrogateescape") if size <= cap else None
        return Section(_line(head or b""), text, size, binary)

    while True:
        piece = stream.readline(_PIECE)
        if not piece:
            break
        starts = at_line_start
        at_line_start = piece.endswith(b"\n")
        if starts and piece.startswith(_DIFF):
            if head is not None:
                yield finish()
            head, parts, size, binary = piece[:_HEAD_KEEP], [piece], len(piece), False
            continue
        if starts and marker is not None and piece.startswith(marker):
            if head is not None:
                yield finish()
                head, parts, size = None, [], 0
            yield Record(_line(piece[:_HEAD_KEEP]))
            continue
        if head is None:
            continue  # a line outside any section (a record's blank line, a long marker line's tail)
        size += len(piece)
        if size <= cap:
            parts.append(piece)
            if starts and piece.startswith(_BINARY):
                binary = True
        elif parts:
            parts = []
    if head is not None:
        yield finish()


def _line(data: bytes) -> str:
    return data.rstrip(b"\n").decode("utf-8", "surrogateescape")


def section_header(old: str, new: str) -> str:
    """The ``diff --git`` line git writes for ``old`` -> ``new`` (``core.quotepath=off``)."""
    return f"diff --git {quote_path('a/' + old)} {quote_path('b/' + new)}"


_ESCAPES = {7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 34: '"', 92: "\\"}


def quote_path(name: str) -> str:
    """``name`` quoted as git quotes a path with ``core.quotepath=off``: in double quotes, with C
    escapes, when it holds a control character, a double quote or a backslash (other characters,
    and bytes that are not UTF-8, as they are)."""
    if not any(ord(c) < 0x20 or c in '"\\\x7f' for c in name):
        return name
    out = []
    for c in name:
        code = ord(c)
        if code in _ESCAPES:
            out.append("\\" + _ESCAPES[code])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\{code:03o}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'
