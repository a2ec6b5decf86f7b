"""On-disk cache of per-file results, so a second run on the same repository costs almost nothing.

One SQLite database (WAL mode: two runs may read and write it at once) under the user cache
directory, or ``settings.cache_dir``. Every key holds the content's SHA-256 and a fingerprint of
the code that produced the value (the index, the renderer, the tokenizer wrapper and the secret
redaction): a value is never reused by a version of the tool that would compute it differently.
Token counts also hold the tokenizer's name. The database is kept under ``settings.cache_max_mb``
by evicting the least recently used entries. ``settings.cache = False`` (``--no-cache``) turns
every call into a no-op.

Values are JSON (zlib-compressed for indexes), never pickle: a cache file is not trusted to run code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from reviewer.config import Settings
from reviewer.index.indexer import INDEXER_VERSION
from reviewer.index.model import Definition, FileIndex

Timer = Callable[[str], AbstractContextManager[None]]  # ``Stopwatch.stage``: where the time goes

_FILE = "index.sqlite3"
_CHUNK = 500  # keys per SQL statement (SQLite's limit on bound parameters is 32766 or 999)
_FINGERPRINTED = (
    ("reviewer.index", "*.py"),
    ("reviewer.index", "specs/*.toml"),
    ("reviewer.pack", "render.py"),
    ("reviewer.pack", "tokens.py"),
    ("reviewer.security", "*.py"),
    ("reviewer.repo", "textio.py"),
)


@cache
def code_fingerprint() -> str:
    """A short hash of the sources whose behaviour cached values depend on."""
    h = hashlib.sha256(INDEXER_VERSION.encode())
    for package, pattern in _FINGERPRINTED:
        base = Path(str(resources.files(package)))
        for path in sorted(base.glob(pattern)):
            h.update(path.relative_to(base).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def default_cache_dir(settings: Settings) -> Path:
    if settings.cache_dir:
        return Path(settings.cache_dir).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("reviewer", appauthor=False))


class IndexCache:
    """Per-file index, token counts and other small records, keyed by content hash."""

    def __init__(
        self, settings: Settings, *, tokenizer: str | None = None, timer: Timer | None = None
    ) -> None:
        self.enabled = bool(settings.cache)
        self._timer = timer
        self.tokenizer = tokenizer or settings.tokenizer
        self.max_bytes = max(1, settings.cache_max_mb) * 1024 * 1024
        self.note = ""  # why the cache is off, when it had to be turned off
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        self._used: set[str] = set()
        self._written = 0
        self._fp = code_fingerprint()
        if self.enabled:
            self.path = default_cache_dir(settings) / _FILE
            self._open()

    # -- life cycle --------------------------------------------------------------------------

    def _open(self) -> None:
        # Two runs opening a new database at once: switching it to WAL can answer "database is
        # locked" at once, without waiting for the busy timeout; such an open is tried again.
        deadline = time.monotonic() + 10
        while True:
            try:
                self._db = self._connect()
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    self._disable(f"index cache unavailable ({exc}); running without it")
                    return
                time.sleep(0.05)
            except (OSError, sqlite3.Error) as exc:
                self._disable(f"index cache unavailable ({exc}); running without it")
                return

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries ("
                "key TEXT PRIMARY KEY, value BLOB NOT NULL, size INTEGER NOT NULL, used INTEGER NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS entries_used ON entries(used)")
        except BaseException:
            db.close()
            raise
        return db

    def _disable(self, note: str) -> None:
        self.enabled = False
        self.note = note
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None

    def _timed(self) -> AbstractContextManager[None]:
        return self._timer("cache") if self._timer is not None else nullcontext()

    def close(self) -> None:
        """Record which entries were used and keep the database within its size limit."""
        if self._db is None:
            return
        with self._timed():
            self._close()

    def _close(self) -> None:
        db = self._db
        assert db is not None
        try:
            now = int(time.time())
            used = sorted(self._used)
            if used:
                db.execute("BEGIN IMMEDIATE")
                for i in range(0, len(used), _CHUNK):
                    part = used[i : i + _CHUNK]
                    db.execute(
                        f"UPDATE entries SET used = ? WHERE key IN ({','.join('?' * len(part))})", [now, *part]
                    )
                db.execute("COMMIT")
            if self._written:
                self._evict()
        except sqlite3.Error:
            pass
        finally:
            db.close()
            self._db = None

    def __enter__(self) -> IndexCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _evict(self) -> None:
        assert self._db is not None
        total = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0]
        if total <= self.max_bytes:
            return
        target = int(self.max_bytes * 0.8)
        rows = self._db.execute("SELECT key, size FROM entries ORDER BY used, key").fetchall()
        doomed: list[str] = []
        for key, size in rows:
            if total <= target:
                break
            doomed.append(key)
            total -= size
        self._db.execute("BEGIN IMMEDIATE")
        for i in range(0, len(doomed), _CHUNK):
            part = doomed[i : i + _CHUNK]
            self._db.execute(f"DELETE FROM entries WHERE key IN ({','.join('?' * len(part))})", part)
        self._db.execute("COMMIT")

    def is_empty(self) -> bool:
        """True when nothing can be read from the cache (it is off, or holds no entry yet)."""
        if self._db is None:
            return True
        try:
            return self._db.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is None
        except sqlite3.Error:
            return True

    # -- raw access --------------------------------------------------------------------------

    def _get(self, keys: list[str]) -> dict[str, Any]:
        if self._db is None or not keys:
            return {}
        with self._timed():
            return self._select(keys)

    def _select(self, keys: list[str]) -> dict[str, Any]:
        assert self._db is not None
        out: dict[str, Any] = {}
        try:
            for i in range(0, len(keys), _CHUNK):
                part = keys[i : i + _CHUNK]
                rows = self._db.execute(
                    f"SELECT key, value FROM entries WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                out.update(rows)
        except sqlite3.DatabaseError as exc:
            self._disable(f"index cache unreadable ({exc}); running without it")
            return {}
        self._used.update(out)
        self.hits += len(out)
        self.misses += len(set(keys)) - len(out)
        return out

    def _put(self, items: Iterable[tuple[str, Any, int]]) -> None:
        if self._db is None:
            return
        now = int(time.time())
        rows = [(k, v, size, now) for k, v, size in items]
        if not rows:
            return
        with self._timed():
            self._insert(rows)

    def _insert(self, rows: list[tuple[str, Any, int, int]]) -> None:
        assert self._db is not None
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO entries(key, value, size, used) VALUES (?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
            self._written += len(rows)
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            self.note = f"index cache not written ({exc})"

    # -- typed records ----------------------------------------------------------------------

    def _ix_key(self, sha: str) -> str:
        return f"ix:{self._fp}:{sha}"

    def get_indexes(self, shas: Iterable[str]) -> dict[str, FileIndex]:
        keys = {self._ix_key(s): s for s in shas}
        found = self._get(list(keys))
        out: dict[str, FileIndex] = {}
        for key, blob in found.items():
            try:
                out[keys[key]] = decode_index(zlib.decompress(blob))
            except (zlib.error, ValueError, KeyError, TypeError, IndexError):
                continue  # a damaged entry is recomputed and overwritten
        return out

    def put_indexes(self, items: Mapping[str, FileIndex]) -> None:
        rows = []
        for sha, ix in items.items():
            blob = zlib.compress(encode_index(ix), 1)
            rows.append((self._ix_key(sha), blob, len(blob) + 64))
        self._put(rows)

    def _n_key(self, key: str) -> str:
        return f"n:{self._fp}:{self.tokenizer}:{key}"

    def get_counts(self, keys: Iterable[str]) -> dict[str, int]:
        """Token counts by caller-chosen key (e.g. ``"<sha>:full"``), for this tokenizer."""
        names = {self._n_key(k): k for k in keys}
        return {names[k]: int(v) for k, v in self._get(list(names)).items() if isinstance(v, int)}

    def put_counts(self, items: Mapping[str, int]) -> None:
        self._put((self._n_key(k), int(v), 48) for k, v in items.items())

    def _j_key(self, kind: str, key: str) -> str:
        return f"j:{self._fp}:{kind}:{key}"

    def get_json(self, kind: str, keys: Iterable[str]) -> dict[str, Any]:
        names = {self._j_key(kind, k): k for k in keys}
        out = {}
        for k, v in self._get(list(names)).items():
            try:
                out[names[k]] = json.loads(v)
            except (ValueError, TypeError):
                continue
        return out

    def put_json(self, kind: str, items: Mapping[str, Any]) -> None:
        rows = []
        for k, v in items.items():
            data = json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode()
            rows.append((self._j_key(kind, k), data, len(data) + 48))
        self._put(rows)


def text_key(text: str) -> str:
    """A cache key for an arbitrary text (a header, a tree, a file block's frame)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def encode_index(ix: FileIndex) -> bytes:
    data = {
        "l": ix.language,
        "k": ix.outline_kind,
        "d": [[d.name, d.qualname, d.kind, d.start_line, d.end_line, d.signature_line, d.body_line]
              for d in ix.definitions],
        "r": "\n".join(ix.references),
        "on": [n for n, _ in ix.outline_lines],
        "ot": "\n".join(t for _, t in ix.outline_lines),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def decode_index(raw: bytes) -> FileIndex:
    from reviewer.index.outline import outline_text

    data = json.loads(raw.decode("utf-8", "surrogatepass"))
    numbers: list[int] = data["on"]
    texts = data["ot"].split("\n") if numbers else []
    if len(texts) != len(numbers):
        raise ValueError("outline length mismatch")
    outline = [(int(n), t) for n, t in zip(numbers, texts, strict=True)]
    return FileIndex(
        language=data["l"],
        definitions=[Definition(d[0], d[1], d[2], int(d[3]), int(d[4]), int(d[5]), int(d[6])) for d in data["d"]],
        references=data["r"].split("\n") if data["r"] else [],
        outline=outline_text(outline),
        outline_kind="tree-sitter" if data["k"] == "tree-sitter" else "plain",
        outline_lines=outline,
    )


def cache_size(settings: Settings) -> int:
    """Bytes on disk of the cache database (0 when there is none)."""
    path = default_cache_dir(settings) / _FILE
    total = 0
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            total += os.path.getsize(str(path) + suffix)
    return total
