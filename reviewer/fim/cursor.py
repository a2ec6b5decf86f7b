"""A cursor in a file of the repository: the file read safely, the text split at the cursor.

Used when a caller names a file and a position instead of sending the text around the cursor
(``reviewer fim FILE --line L --col C``, and fim-server requests that carry ``filename``,
``line`` and ``column``). Every way this can go wrong is an input error with an HTTP status.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from reviewer.config import Settings
from reviewer.errors import InputError
from reviewer.repo.policy import PathPolicy
from reviewer.repo.textio import OPEN_FLAGS, decode, looks_binary, read_up_to


class RequestError(InputError):
    """An input error, with the HTTP status fim-server answers it with."""

    def __init__(self, message: str, status: int = 400, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class FileGate:
    """Which files of the repository may be read for a client: those the pack may show (its
    rules: never ``.git``, not what git ignores, not excluded, lock, vendored, generated, binary or
    too large). A file the index holds was admitted by the scan; any other is checked here."""

    def __init__(self, root: Path, settings: Settings, known: Callable[[str], bool] | None = None) -> None:
        self.root = root
        self.policy = PathPolicy(settings)
        self.known = known

    def reason(self, rel: str) -> str | None:
        named = self.policy.reason(rel)
        if named is not None:
            return named
        if self.known is not None and self.known(rel):
            return None
        found = self.policy.file_reason(self.root, rel, gitignore=True)
        return None if found == "missing" else found

    def check(self, rel: str) -> None:
        reason = self.reason(rel)
        if reason is None:
            return
        status = _STATUS.get(reason, 403)
        if status == 413:
            raise RequestError(f"file too large for completion: {rel} (limit {self.policy.max_bytes:,} bytes)", 413)
        if status == 415:
            raise RequestError(f"binary file ({reason}), nothing to complete: {rel}", 415)
        raise RequestError(f"{rel} is not read: the pack's rules leave it out ({reason})", 403)


# a file left out for what it is, not for where it is: the statuses a read of it has always had
_STATUS = {"too-large": 413, **dict.fromkeys(("binary", "image", "media", "font", "archive", "model-weights", "data"), 415)}


def repo_path(root: Path, name: str) -> tuple[str, Path]:
    """``name`` (relative to ``root``, or absolute) as a repository path and a real path inside
    ``root``; anything that leaves the root, through ``..`` or a link, is refused."""
    if not name or "\x00" in name:
        raise RequestError("empty or invalid file name")
    p = Path(name)
    full = p if p.is_absolute() else root / p
    if not Path(os.path.normpath(full)).is_relative_to(root):  # refused whether or not it exists
        raise RequestError(f"path is outside the repository: {name}", 403)
    try:
        real = full.resolve(strict=True)
    except FileNotFoundError as exc:
        raise RequestError(f"no such file in the repository: {name}", 404) from exc
    except (OSError, RuntimeError) as exc:
        raise RequestError(f"cannot open {name}", 404) from exc
    try:
        rel = real.relative_to(root)
    except ValueError as exc:
        raise RequestError(f"path is outside the repository: {name}", 403) from exc
    return rel.as_posix(), real


def read_source(root: Path, name: str, max_bytes: int, gate: FileGate | None = None) -> tuple[str, str]:
    """``(repository path, text)`` of a file the cursor may be in (one ``gate`` lets through)."""
    rel, real = repo_path(root, name)
    if gate is not None:
        gate.check(rel)
    try:
        fd = os.open(real, OPEN_FLAGS)
    except OSError as exc:
        raise RequestError(f"cannot read {rel}: {exc.strerror}", 404 if isinstance(exc, FileNotFoundError) else 403) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RequestError(f"not a regular file: {rel}", 400)
        if st.st_size > max_bytes:
            raise RequestError(f"file too large for completion: {rel} ({st.st_size:,} bytes, limit {max_bytes:,})", 413)
        data = read_up_to(fd, max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise RequestError(f"file too large for completion: {rel} (limit {max_bytes:,} bytes)", 413)
    if looks_binary(data[:8192]):
        raise RequestError(f"binary file, nothing to complete: {rel}", 415)
    return rel, decode(data)


def split_at(text: str, line: int, column: int) -> tuple[str, str]:
    """``(prefix, suffix)`` of ``text`` at 1-based ``line`` and 1-based ``column`` (column 1 is
    before the first character; one past the line's last character is its end)."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if not lines:
        lines = [""]
    if line < 1 or column < 1:
        raise RequestError(f"line and column start at 1 (got line {line}, column {column})")
    if line > len(lines):
        raise RequestError(f"cursor past the end of the file: line {line}, the file has {len(lines)} line(s)")
    current = lines[line - 1]
    if column > len(current) + 1:
        raise RequestError(f"cursor past the end of line {line}: column {column}, the line has {len(current)} character(s)")
    before = "".join(f"{s}\n" for s in lines[: line - 1]) + current[: column - 1]
    return before, text[len(before) :]
