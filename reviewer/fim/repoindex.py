"""The repository, indexed in memory for completion: every file's definitions, outline and
imports, a table from each name to where it is defined, the module map that resolves imports,
and a sample of line fingerprints that recognises which file an editor is showing.

Built once from the packer's scan and index (the on-disk index cache makes a restart cheap;
worker processes parse when there is much to parse), then kept current file by file with
``update`` / ``remove``. Writers hold a lock; readers never wait: every record is immutable and
each table entry is replaced whole, so a request reads a consistent entry at any moment.
"""

from __future__ import annotations

import re
import threading
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewer.config import Settings
from reviewer.fim.imports import Import, ModuleMap, read_imports
from reviewer.fim.secretmap import SecretMap, secret_lines
from reviewer.index import Definition, FileIndex, index_text, language_for
from reviewer.index.refs import references

Progress = Callable[[str, int, int], None]

MIN_FINGERPRINT_CHARS = 12  # shorter lines ("return x", "}") say nothing about which file this is
FINGERPRINT_SAMPLE = 3  # keep one line fingerprint in this many (by hash), to bound memory

_TOP_VARIABLE = {
    "python": re.compile(r"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=(?!=)", re.M),
    "javascript": re.compile(r"^(?:export[ \t]+)?(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)", re.M),
    "go": re.compile(r"^(?:var|const)[ \t]+([A-Za-z_]\w*)", re.M),
}
_TOP_VARIABLE["typescript"] = _TOP_VARIABLE["tsx"] = _TOP_VARIABLE["javascript"]


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str
    language: str | None
    text: str
    sha: str
    mtime_ns: int
    definitions: tuple[Definition, ...]
    outline: tuple[tuple[int, str], ...]
    imports: tuple[Import, ...]

    def lines(self) -> list[str]:
        return _split_lines(self)

    def top_level(self, name: str) -> list[Definition]:
        """Definitions of ``name`` at the top of the file (not methods)."""
        return [d for d in self.definitions if d.name == name and d.qualname == name]


_lines_cache: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
_lines_lock = threading.Lock()


def _split_lines(rec: FileRecord) -> list[str]:
    key = (rec.path, rec.sha)
    with _lines_lock:
        hit = _lines_cache.get(key)
        if hit is not None:
            _lines_cache.move_to_end(key)
            return hit
    lines = rec.text.split("\n")
    with _lines_lock:
        _lines_cache[key] = lines
        while len(_lines_cache) > 1024:
            _lines_cache.popitem(last=False)
    return lines


def top_variables(language: str | None, text: str) -> list[Definition]:
    """Module-level assignments (``NAME = ...``, ``export const NAME``): imported like functions,
    and the index does not list them."""
    regex = _TOP_VARIABLE.get(language or "")
    if regex is None:
        return []
    out = []
    for m in regex.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        out.append(Definition(m.group(1), m.group(1), "variable", line, line, line, 0))
    return out


def make_record(path: str, text: str, sha: str, mtime_ns: int, index: FileIndex) -> FileRecord:
    language = index.language
    defs = list(index.definitions)
    seen = {(d.name, d.start_line) for d in defs}
    defs += [v for v in top_variables(language, text) if (v.name, v.start_line) not in seen]
    defs.sort(key=lambda d: (d.start_line, d.end_line, d.qualname))
    return FileRecord(
        path=path,
        language=language,
        text=text,
        sha=sha,
        mtime_ns=mtime_ns,
        definitions=tuple(defs),
        outline=tuple(index.outline_lines),
        imports=tuple(read_imports(language, text)),
    )


def fingerprints(text: str, *, sample: bool = True) -> set[int]:
    """Hashes of the distinctive lines of ``text`` (stripped of indentation): one line in
    ``FINGERPRINT_SAMPLE``, chosen by a stable checksum so every run keeps the same ones, or all of
    them for a short file (so that it can be recognised too); all of them with ``sample=False``."""
    lines = {s for s in (line.strip() for line in text.split("\n")) if len(s) >= MIN_FINGERPRINT_CHARS}
    if sample and len(lines) > FINGERPRINT_SAMPLE * 16:
        lines = {s for s in lines if zlib.crc32(s.encode("utf-8", "replace")) % FINGERPRINT_SAMPLE == 0}
    return {hash(s) for s in lines}


@dataclass
class IndexStats:
    files: int = 0
    definitions: int = 0
    ready: bool = False
    build_seconds: float = 0.0
    cached: int = 0
    parsed: int = 0
    updates: int = 0
    notes: list[str] = field(default_factory=list)


class RepoIndex:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, FileRecord] = {}
        self.symbols: dict[str, tuple[tuple[FileRecord, Definition], ...]] = {}
        self.modules = ModuleMap()
        self.stats = IndexStats()
        self._owner: dict[int, str] = {}  # line fingerprint -> path ("" when several files share it)
        self._lock = threading.Lock()
        self.recent: OrderedDict[str, tuple[float, list[tuple[int, int]]]] = OrderedDict()  # path -> (when, changed spans)
        self.df: Counter[str] = Counter()  # name -> how many files use it (how common a name is)
        self.secrets = SecretMap()  # which lines of each file hold a secret (filled by scan_secrets)

    # ------------------------------------------------------------------ building

    def build(self, settings: Settings, progress: Progress | None = None) -> None:
        """Scan and index the whole repository (the on-disk cache first, then worker processes)."""
        from reviewer.index.batch import WorkerPool
        from reviewer.index.cache import IndexCache
        from reviewer.repo.scan import scan

        start = time.perf_counter()
        result = scan(self.root, settings, progress)
        files = result.files
        with IndexCache(settings) as cache:
            known = cache.get_indexes(f.sha256 for f in files)
            todo = [f for f in files if not _fits(known.get(f.sha256), f.path)]
            if cache.note:
                self.stats.notes.append(cache.note)
            fresh: dict[str, FileIndex] = {}
            if todo:
                with WorkerPool() as pool:
                    indexes = pool.map(index_text, [(f.path, f.text) for f in todo],
                                       [f.size for f in todo], progress=progress, label="index")
                fresh = {f.sha256: ix for f, ix in zip(todo, indexes, strict=True)}
                cache.put_indexes(fresh)
        records = []
        for f in files:
            ix = known.get(f.sha256)
            if not _fits(ix, f.path):
                ix = fresh.get(f.sha256)
            if ix is None or not _fits(ix, f.path):
                ix = index_text(f.path, f.text)
            try:
                mtime = f.abspath.stat().st_mtime_ns
            except OSError:
                mtime = 0
            records.append(make_record(f.path, f.text, f.sha256, mtime, ix))
            self.df.update(ix.references)
        self.add_all(records)
        self.stats.cached = len(files) - len(todo)
        self.stats.parsed = len(todo)
        self.stats.build_seconds = time.perf_counter() - start
        self.stats.ready = True

    def scan_secrets(self, progress: Progress | None = None) -> None:
        """Find the secret lines of every indexed file not scanned at its current content, in
        worker processes (the request threads keep the interpreter to themselves)."""
        from reviewer.index.batch import WorkerPool

        self.secrets.enabled = True
        todo = [r for r in list(self.files.values()) if self.secrets.get(r.path, r.sha) is None]
        if todo:
            with WorkerPool() as pool:
                found = pool.map(secret_lines, [(r.path, r.text) for r in todo],
                                 [len(r.text) for r in todo], progress=progress, label="secrets")
            for rec, lines in zip(todo, found, strict=True):
                self.secrets.put(rec.path, rec.sha, lines)
        self.secrets.done = True

    def add_all(self, records: Iterable[FileRecord]) -> None:
        with self._lock:
            symbols: dict[str, list[tuple[FileRecord, Definition]]] = {}
            for rec in records:
                self.files[rec.path] = rec
                self.modules.add(rec.path)
                for d in rec.definitions:
                    symbols.setdefault(d.name, []).append((rec, d))
                self._own(rec)
            for name, entries in symbols.items():
                self.symbols[name] = self.symbols.get(name, ()) + tuple(entries)
            self._count()

    def _own(self, rec: FileRecord) -> None:
        for h in fingerprints(rec.text):
            prev = self._owner.get(h)
            if prev is None:
                self._owner[h] = rec.path
            elif prev != rec.path:
                self._owner[h] = ""

    def _count(self) -> None:
        self.stats.files = len(self.files)
        self.stats.definitions = sum(len(v) for v in self.symbols.values())

    # ------------------------------------------------------------------ changes

    def update(self, rec: FileRecord, changed: list[tuple[int, int]] | None = None) -> None:
        """Replace (or add) one file's record; ``changed`` are the 1-based line spans that differ
        from the previous version (kept for the "recently edited" context)."""
        with self._lock:
            old = self.files.get(rec.path)
            if old is not None:
                self._drop_symbols(old)
                self.df.subtract(_refs(old))
            self.df.update(_refs(rec))
            self.files[rec.path] = rec
            self.modules.add(rec.path)
            grouped: dict[str, list[tuple[FileRecord, Definition]]] = {}
            for d in rec.definitions:
                grouped.setdefault(d.name, []).append((rec, d))
            for name, entries in grouped.items():
                self.symbols[name] = self.symbols.get(name, ()) + tuple(entries)
            self._own(rec)
            if changed:
                self.recent[rec.path] = (time.time(), changed)
                self.recent.move_to_end(rec.path)
                while len(self.recent) > 16:
                    self.recent.popitem(last=False)
            self.stats.updates += 1
            self._count()

    def touch(self, path: str, mtime_ns: int) -> None:
        """The file was written but its content is the same: remember the new time only."""
        with self._lock:
            rec = self.files.get(path)
            if rec is not None:
                self.files[path] = replace(rec, mtime_ns=mtime_ns)

    def remove(self, path: str) -> None:
        with self._lock:
            old = self.files.pop(path, None)
            if old is None:
                return
            self._drop_symbols(old)
            self.df.subtract(_refs(old))
            self.modules.remove(path)
            self.recent.pop(path, None)
            self.secrets.forget(path)
            self.stats.updates += 1
            self._count()

    def _drop_symbols(self, old: FileRecord) -> None:
        for name in {d.name for d in old.definitions}:
            kept = tuple(e for e in self.symbols.get(name, ()) if e[0].path != old.path)
            if kept:
                self.symbols[name] = kept
            else:
                self.symbols.pop(name, None)

    # ------------------------------------------------------------------ questions

    def identify(self, text: str) -> str | None:
        """The indexed file whose lines ``text`` (an editor's prefix and suffix) shares most, when
        one file clearly does."""
        votes: Counter[str] = Counter()
        owner = self._owner
        for h in fingerprints(text, sample=False):
            path = owner.get(h)
            if path:
                votes[path] += 1
        if not votes:
            return None
        ranked = votes.most_common(2)
        best, n = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0
        if n >= 2 and n >= 2 * second and best in self.files:
            return best
        return None


def _refs(rec: FileRecord) -> list[str]:
    """The names a file uses, as the index reads them (keywords left out)."""
    from reviewer.index.languages import has_tree_sitter
    from reviewer.index.spec import load_spec

    keywords = load_spec(rec.language).keywords if has_tree_sitter(rec.language) else frozenset()
    return references(rec.text, keywords)


def _fits(ix: FileIndex | None, path: str) -> bool:
    """A cached index is keyed by content only: the same bytes under another extension (an empty
    ``__init__.py`` and an empty ``README``) must be indexed as their own language."""
    return ix is not None and ix.language == language_for(path)
