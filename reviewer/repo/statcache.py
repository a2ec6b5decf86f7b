"""What the last scan of a root learnt about each file, keyed by what ``lstat`` says of it.

A warm run must not read and hash every file of a big tree again just to learn that nothing
changed: when a file's size, modification and change times and inode are those recorded, its
content hash, line count and verdict (kept, binary, generated...) are taken from here, and its
text is read only if the pack shows it. Like git's index, an entry recorded within a couple of
seconds of the file's last change is not trusted later (the file may change again within the
timestamp's granularity), so such a file is simply read again next time.

One small JSON file per root under the cache directory, replaced atomically; unreadable or
foreign contents are ignored. ``--no-cache`` bypasses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

_VERSION = 1
_RACY_NS = 2_000_000_000  # entries this close to the file's last change are not kept
_MAX_ENTRIES = 500_000
_MAX_ROOTS = 64  # stat files kept in the cache directory; the least recently written go first


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class StatCache:
    def __init__(self, path: Path | None, salt: str = "") -> None:
        self.path = path
        self._salt = salt
        self._old: dict[str, list[Any]] = {}
        self._new: dict[str, list[Any]] = {}
        self._changed = False
        if path is not None:
            self._old = self._load(path)

    @classmethod
    def for_root(cls, cache_dir: Path, root: Path, salt: str) -> StatCache:
        name = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:24]
        return cls(cache_dir / "scan" / f"{name}.json", salt)

    def _load(self, path: Path) -> dict[str, list[Any]]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return {}
        if not isinstance(data, dict) or data.get("v") != _VERSION or data.get("salt") != self._salt:
            return {}
        files = data.get("files")
        return files if isinstance(files, dict) else {}

    def lookup(self, rel: str, st: os.stat_result) -> tuple[str, int, str | None] | None:
        """``(sha256, lines, verdict)`` recorded for this very file, or None. The verdict is None
        for a file that is kept, else the reason it was left out."""
        entry = self._old.get(rel)
        if not isinstance(entry, list) or len(entry) != 7 or entry[:4] != _stamp(st):
            return None
        sha, lines, verdict = entry[4], entry[5], entry[6]
        if not isinstance(sha, str) or not isinstance(lines, int) or not (verdict is None or isinstance(verdict, str)):
            return None
        self._new[rel] = entry
        return sha, lines, verdict

    def record(self, rel: str, st: os.stat_result, sha: str, lines: int, verdict: str | None) -> None:
        if time.time_ns() - st.st_mtime_ns < _RACY_NS:
            self._changed = True  # too fresh to trust; an older entry must not survive either
            return
        self._new[rel] = [*_stamp(st), sha, lines, verdict]
        self._changed = True

    def save(self) -> None:
        """Write what this scan saw (files gone since are dropped); nothing when nothing changed."""
        if self.path is None or len(self._new) > _MAX_ENTRIES:
            return
        if not self._changed and self._new.keys() == self._old.keys():
            return
        data = {"v": _VERSION, "salt": self._salt, "files": self._new}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".scan-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, separators=(",", ":"))
                os.replace(tmp, self.path)  # two runs at once: the last complete file wins
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _prune(self.path.parent)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _prune(directory: Path) -> None:
    """Keep the stat files of the ``_MAX_ROOTS`` roots scanned most recently."""
    found = []
    for entry in directory.glob("*.json"):
        try:
            found.append((entry.stat().st_mtime_ns, entry.name, entry))
        except OSError:
            continue
    for _, _, entry in sorted(found, reverse=True)[_MAX_ROOTS:]:
        entry.unlink(missing_ok=True)
