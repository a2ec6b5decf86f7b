"""Everything the packer knows about files, computed once and cached: lexical tags for every file,
and, only for the files that may be shown, the redacted text, the tree-sitter outline and the
exact token count of each rendered block.

Work that misses the cache runs in worker processes when there is enough of it; the tokenizer is
loaded only when a count is not in the cache (a warm run never loads it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from reviewer.config import Settings
from reviewer.index.batch import Remote, WorkerPool
from reviewer.index.cache import IndexCache, text_key
from reviewer.index.indexer import index_text
from reviewer.index.languages import language_for
from reviewer.index.model import Definition, FileIndex
from reviewer.index.outline import MAX_LINE
from reviewer.index.tags import Tags, lexical_tags
from reviewer.pack.jobs import count_tokens, prepare_file
from reviewer.pack.model import SecretHit, Tier
from reviewer.pack.render import Block, Renderer, body, number_lines
from reviewer.pack.stages import Stopwatch
from reviewer.pack.tokens import Tokenizer, get_tokenizer
from reviewer.repo.scan import SourceFile
from reviewer.repo.textio import count_lines

if TYPE_CHECKING:
    from reviewer.pack.defs import DefPlan

Progress = Callable[[str, int, int], None]

# estimates used only to order choices (exact counts decide): tokens per character of code, and
# per line for the "123| " prefix, measured on sympy, flask and requests
_TOKENS_PER_CHAR = 0.30
_TOKENS_PER_LINE = 2.2
_FRAME_TOKENS = 40
_PART_CHARS = 200_000  # redacted in this process and counted in the counting process part by part


def _tags_to_json(t: Tags) -> dict[str, Any]:
    return {"l": t.language, "d": "\n".join(t.defines), "r": "\n".join(t.references), "n": t.lines, "c": t.chars,
            "ol": t.outline_lines, "oc": t.outline_chars, "m": t.has_main, "t": "\n".join(t.top)}


def _tags_from_json(d: dict[str, Any]) -> Tags:
    return Tags(d["l"], d["d"].split("\n") if d["d"] else [], d["r"].split("\n") if d["r"] else [], int(d["n"]),
                int(d["c"]), int(d["ol"]), int(d["oc"]), bool(d["m"]), d["t"].split("\n") if d.get("t") else [])


def start_counter(settings: Settings) -> Remote:
    """A worker process that loads the tokenizer now and counts for this run."""
    # a first small count starts the tokenizer's thread pool: the first big one is then fast
    return Remote(count_tokens, settings.tokenizer, ["def warm(up):\n    return up\n"] * 64)


class Workbench:
    def __init__(
        self,
        files: Sequence[SourceFile],
        settings: Settings,
        renderer: Renderer,
        cache: IndexCache,
        pool: WorkerPool,
        progress: Progress | None = None,
        *,
        watch: Stopwatch | None = None,
    ) -> None:
        self.files = {f.path: f for f in files}
        self.watch = watch or Stopwatch()
        self.settings = settings
        self.renderer = renderer
        self.cache = cache
        self.pool = pool
        self.progress = progress
        self.redact = settings.redact_secrets
        self._flag = "r" if self.redact else "n"
        self.tags: dict[str, Tags] = {}
        self.texts: dict[str, str] = {}  # path -> redacted text, for prepared files
        self.hits: dict[str, list[SecretHit]] = {}
        self.indexes: dict[str, FileIndex] = {}
        self.outlines: dict[str, list[tuple[int, str]]] = {}  # redacted outline lines
        self.outline_hits: dict[str, list[SecretHit]] = {}
        self.outline_kinds: dict[str, str] = {}  # "tree-sitter" | "plain"
        self.blocks: dict[tuple[str, Tier], tuple[str, int]] = {}  # rendered block and its tokens
        self.body_tokens: dict[tuple[str, Tier], int] = {}  # tokens of each block's body (its head states them)
        self._tokenizer: Tokenizer | None = None
        self._remote: Remote | None = None
        self._sender: ThreadPoolExecutor | None = None  # hands counts to the counting process
        self.counted = 0  # texts counted with the tokenizer (cache misses)
        self.counted_apart = 0  # of which in the counting process

    # -- tokenizer ------------------------------------------------------------------------------

    def preload_tokenizer(self, counter: Remote | None = None, *, likely: bool = True) -> None:
        """Load the tokenizer in a process of its own (``counter``, or one started now) while
        this process and the workers go on: loading it here would hold this process's GIL for a
        second and starve them. ``likely``: whether counts are likely to be missing from the
        cache (some file's content was read anew), else nothing is started."""
        if counter is not None:
            self._remote = counter
        elif likely and self._tokenizer is None and self._remote is None and self.pool.max_workers > 1:
            self._remote = start_counter(self.settings)

    def release(self) -> None:
        """Nothing more will be counted: let the counting process exit while the pack is
        rendered (``close()`` reaps it). A count asked for later is made in this process."""
        self._stop_sender()
        if self._remote is not None:
            self._remote.release()

    def _stop_sender(self) -> None:
        if self._sender is not None:
            self._sender.shutdown(wait=True)
            self._sender = None

    def close(self) -> None:
        self._stop_sender()
        if self._remote is not None:
            self._remote.close()
            self._remote = None

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            self._tokenizer = get_tokenizer(self.settings.tokenizer)
        return self._tokenizer

    def _count(self, texts: list[str]) -> list[int]:
        return self._count_later(texts)()

    def _count_later(self, texts: list[str]) -> Callable[[], list[int]]:
        """Start counting ``texts``; the call returned gives the counts. With a counting
        process, the count runs there while this process goes on (preparing outlines, say);
        otherwise it is made when the counts are asked for."""
        self.counted += len(texts)
        remote = self._remote
        if remote is None or not remote.alive:
            return lambda: self._count_here(texts)
        with self.watch.stage("tokenizer"):
            try:
                remote.ready()
            except OSError:
                return lambda: self._count_here(texts)
        if self._sender is None:
            self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="count")
        future = self._sender.submit(remote.call, count_tokens, self.settings.tokenizer, texts)

        def result() -> list[int]:
            with self.watch.stage("count"):
                try:
                    counts: list[int] = future.result()
                    self.counted_apart += len(texts)
                    return counts
                except OSError:
                    pass
            return self._count_here(texts)

        return result

    def _count_here(self, texts: list[str]) -> list[int]:
        with self.watch.stage("tokenizer"):
            get_tokenizer(self.settings.tokenizer)
        with self.watch.stage("count"):
            return count_tokens(self.settings.tokenizer, texts)

    @property
    def tokenizer_name(self) -> str:
        name = self.settings.tokenizer
        return "deepseek-v4" if name in ("deepseek-v4", "deepseek", "v4") else name

    def count_texts(self, texts: Sequence[str]) -> list[int]:
        """Exact counts, from the cache when the same text was counted before."""
        keys = [text_key(t) for t in texts]
        known = self.cache.get_counts(keys)
        missing = [i for i, k in enumerate(keys) if k not in known]
        if missing:
            counts = self._count([texts[i] for i in missing])
            new = {keys[i]: n for i, n in zip(missing, counts, strict=True)}
            self.cache.put_counts(new)
            known.update(new)
        return [known[k] for k in keys]

    # -- tags -----------------------------------------------------------------------------------

    def load_tags(self) -> dict[str, Tags]:
        shas = {p: f.sha256 for p, f in self.files.items()}
        found = self.cache.get_json("tags", sorted(set(shas.values())))
        missing = []
        for p, sha in shas.items():
            d = found.get(sha)
            if d is not None:
                try:
                    self.tags[p] = _tags_from_json(d)
                    continue
                except (KeyError, TypeError, ValueError):
                    pass
            missing.append(p)
        if missing:
            size = sum(len(self.files[p].text) for p in missing)
            if size > 500_000:
                self.preload_tokenizer()  # a cold run: counts will miss too
            got = self.pool.map(lexical_tags, [(p, self.files[p].text) for p in missing],
                                [len(self.files[p].text) for p in missing], progress=self.progress, label="tags")
            new = {}
            for p, t in zip(missing, got, strict=True):
                self.tags[p] = t
                new[self.files[p].sha256] = _tags_to_json(t)
            self.cache.put_json("tags", new)
        return self.tags

    def estimates(self) -> tuple[dict[str, int], dict[str, int | None]]:
        full: dict[str, int] = {}
        outline: dict[str, int | None] = {}
        for p, t in self.tags.items():
            full[p] = int(_TOKENS_PER_CHAR * t.chars + _TOKENS_PER_LINE * t.lines) + _FRAME_TOKENS
            if t.outline_lines <= 0 or t.outline_lines >= t.lines:
                outline[p] = None
            else:
                outline[p] = int(_TOKENS_PER_CHAR * t.outline_chars + _TOKENS_PER_LINE * t.outline_lines) + _FRAME_TOKENS
        return full, outline

    # -- redaction and index, for files that may be shown --------------------------------------

    def _key(self, path: str) -> str:
        return f"{self.files[path].sha256}:{self._flag}"

    def prepare(self, paths: Sequence[str], *, index: Sequence[str] = ()) -> None:
        """The redacted text of ``paths`` (shown whole) and the redacted outline of ``index``."""
        sha = {p: self.files[p].sha256 for p in (*paths, *index)}
        need_text = [p for p in dict.fromkeys(paths) if p not in self.texts]
        need_outline = [p for p in dict.fromkeys(index) if p not in self.outlines]
        if not self.redact:
            for p in need_text:
                self.texts[p], self.hits[p] = self.files[p].text, []
            need_text = []
        elif need_text:
            found = self.cache.get_json("redact", [sha[p] for p in need_text])
            for p in need_text:
                d = found.get(sha[p])
                if isinstance(d, dict) and isinstance(d.get("h"), list):
                    self.texts[p] = d["t"] if isinstance(d.get("t"), str) else self.files[p].text
                    self.hits[p] = [SecretHit(p, int(line), str(kind)) for line, kind in d["h"]]
            need_text = [p for p in need_text if p not in self.texts]
        if need_outline:
            # what an outline shows (its lines, redacted) is kept on its own: reading it back
            # does not need the whole index
            found = self.cache.get_json(f"outline-{self._flag}", [sha[p] for p in need_outline])
            for p in need_outline:
                d = found.get(sha[p])
                try:
                    numbers, texts = d["n"], (d["t"].split("\n") if d["n"] else [])
                    if len(numbers) != len(texts):
                        continue
                    self.outlines[p] = [(int(n), str(t)) for n, t in zip(numbers, texts, strict=True)]
                    self.outline_hits[p] = [SecretHit(p, int(line), str(kind)) for line, kind in d["h"]]
                    self.outline_kinds[p] = str(d["k"])
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue
            need_outline = [p for p in need_outline if p not in self.outlines]
        jobs = sorted(set(need_text) | set(need_outline))
        if not jobs:
            return
        full, outl = set(need_text), set(need_outline)
        with self.watch.stage("prepare"):
            args = [(p, self.files[p].text, p in full, p in outl, self.redact and p in outl) for p in jobs]
            results = self.pool.map(prepare_file, args, [len(a[1]) for a in args], progress=self.progress,
                                    label="redact")
        redactions: dict[str, Any] = {}
        outline_records: dict[str, Any] = {}
        indexes: dict[str, FileIndex] = {}
        for p, (changed, hits, ix, outline, outline_hits) in zip(jobs, results, strict=True):
            if p in full:
                self.texts[p] = changed if changed is not None else self.files[p].text
                self.hits[p] = [SecretHit(p, line, kind) for line, kind in hits]
                redactions[sha[p]] = {"h": hits, "t": changed}
            if p in outl and ix is not None:
                self.indexes[p] = ix
                indexes[sha[p]] = ix
                lines = outline if outline is not None else ix.outline_lines
                self.outlines[p] = lines
                self.outline_hits[p] = [SecretHit(p, line, kind) for line, kind in outline_hits]
                self.outline_kinds[p] = ix.outline_kind
                outline_records[sha[p]] = {"h": outline_hits, "k": ix.outline_kind, "n": [n for n, _ in lines],
                                           "t": "\n".join(t for _, t in lines)}
        self.cache.put_json("redact", redactions)
        self.cache.put_json(f"outline-{self._flag}", outline_records)
        self.cache.put_indexes(indexes)

    # -- exact block costs ----------------------------------------------------------------------

    def costs(self, items: Sequence[tuple[str, Tier]]) -> dict[tuple[str, Tier], int]:
        """Exact tokens of each ``(path, tier)`` block as rendered; an outline that would show
        the whole file (nothing elided) is not offered. Whole files are redacted first and
        counted while the outlines are made."""
        items = [it for it in dict.fromkeys(items) if it[1] != "listed"]
        todo = [it for it in items if it not in self.blocks]
        whole = [it for it in todo if it[1] == "full"]
        outlined = [it for it in todo if it[1] == "outline"]
        counting = []
        for part in self._parts(whole):
            self.prepare([p for p, _ in part])
            counting.append(self._count_blocks(part))
        self.prepare((), index=[p for p, _ in outlined])
        counting.append(self._count_blocks(outlined))
        for finish in counting:
            finish()
        return {it: self.blocks[it][1] for it in items if it in self.blocks}

    def _parts(self, items: list[tuple[str, Tier]]) -> list[list[tuple[str, Tier]]]:
        """``items`` in parts to prepare one after the other, so the counting process counts
        one part while this process redacts the next; in one part when worker processes would
        redact them (they are as quick as the counting) or when this process counts itself."""
        size = sum(self.files[p].size for p, _ in items)
        if self._remote is None or not self._remote.alive or self.pool.parallel(size):
            return [items] if items else []
        parts: list[list[tuple[str, Tier]]] = [[]]
        filled = 0
        for item in items:
            if filled >= _PART_CHARS:
                parts.append([])
                filled = 0
            parts[-1].append(item)
            filled += self.files[item[0]].size
        return parts

    def _count_blocks(self, items: Sequence[tuple[str, Tier]]) -> Callable[[], None]:
        """Render the bodies of prepared ``items`` and start counting those not in the cache;
        the call returned finishes: it takes the counts, frames each block and keeps it."""
        blocks: list[tuple[tuple[str, Tier], Block, str]] = []
        for path, tier in items:
            if tier == "outline":
                numbered = self.outlines.get(path)
                if numbered is None or not any(n == 0 for n, _ in numbered):
                    continue
            else:
                numbered = number_lines(self.texts[path])
            block = Block(path, tier, count_lines(self.files[path].text), numbered, language_for(path))
            blocks.append(((path, tier), block, body(block)))
        if not blocks:
            return lambda: None
        keys = [f"{self._key(k[0])}:{k[1]}" for k, _, _ in blocks]
        known = self.cache.get_counts(keys)
        missing = [i for i, k in enumerate(keys) if k not in known]
        counts = self._count_later([blocks[i][2] for i in missing]) if missing else list

        def finish() -> None:
            if missing:
                if self.progress is not None:
                    self.progress("count", 0, len(missing))
                new = {keys[i]: n for i, n in zip(missing, counts(), strict=True)}
                self.cache.put_counts(new)
                known.update(new)
                if self.progress is not None:
                    self.progress("count", len(missing), len(missing))
            heads, tails = [], []
            for (_, block, text), key in zip(blocks, keys, strict=True):
                heads.append(self.renderer.head(block, known[key], text))
                tails.append(self.renderer.tail(block, text))
            frames = self.frame_counts(heads, tails)
            for i, ((item, _, text), key) in enumerate(zip(blocks, keys, strict=True)):
                self.blocks[item] = (heads[i] + text + tails[i], frames[i] + known[key])
                self.body_tokens[item] = known[key]

        return finish

    def frame_counts(self, heads: list[str], tails: list[str]) -> list[int]:
        """Tokens of each block's head plus tail, cached by their text."""
        keys = [text_key(h + "\0" + t) for h, t in zip(heads, tails, strict=True)]
        known = self.cache.get_counts(keys)
        missing = [i for i, k in enumerate(keys) if k not in known]
        if missing:
            counts = self._count([heads[i] for i in missing] + [tails[i] for i in missing])
            m = len(missing)
            new = {keys[i]: counts[j] + counts[m + j] for j, i in enumerate(missing)}
            self.cache.put_counts(new)
            known.update(new)
        return [known[k] for k in keys]

    # -- definition-level blocks (reviewer.pack.defs) -------------------------------------------

    def unit_indexes(self, paths: Sequence[str]) -> dict[str, FileIndex]:
        """The definitions of ``paths`` (as a ``FileIndex`` without references or outline), from
        this run's parses, the cache, or a parse now."""
        out: dict[str, FileIndex] = {}
        sha = {p: self.files[p].sha256 for p in paths}
        found = self.cache.get_json("defs", sorted({sha[p] for p in paths if p not in self.indexes}))
        new: dict[str, Any] = {}
        for p in paths:
            ix = self.indexes.get(p)
            if ix is None and sha[p] in found:
                try:
                    d = found[sha[p]]
                    ix = FileIndex(d["l"], [Definition(str(a), str(b), str(c), int(e), int(f), int(g), int(h))
                                            for a, b, c, e, f, g, h in d["d"]])
                except (KeyError, TypeError, ValueError):
                    ix = None
            if ix is None:
                ix = self.cache.get_indexes([sha[p]]).get(sha[p]) or index_text(p, self.files[p].text)
            if sha[p] not in found:
                new[sha[p]] = {"l": ix.language, "d": [[d.name, d.qualname, d.kind, d.start_line, d.end_line,
                                                        d.signature_line, d.body_line] for d in ix.definitions]}
            out[p] = ix
        self.cache.put_json("defs", new)
        return out

    def count_rows(self, plans: Iterable[DefPlan]) -> None:
        """Fill each plan's token counts: every line its blocks may show, rendered as shown
        (whole, or cut as an outline line), and the elision mark."""
        from reviewer.pack.defs import row_text

        plans = list(plans)
        if not plans:
            return
        mark = self.count_texts([row_text(0, "")])[0]
        keys = {pl.path: f"{self._key(pl.path)}" for pl in plans}
        found = self.cache.get_json("rows", sorted(set(keys.values())))
        todo: list[tuple[DefPlan, tuple[int, bool], str]] = []
        records: dict[str, dict[str, dict[str, int]]] = {}
        for pl in plans:
            pl.elision_tokens = mark
            rec = found.get(keys[pl.path])
            rec = rec if isinstance(rec, dict) else {}
            records[keys[pl.path]] = {"w": dict(rec.get("w", {})), "t": dict(rec.get("t", {}))}
            want: dict[tuple[int, bool], None] = {}
            for row in sorted(pl.outline_rows):
                want[(row, len(pl.lines[row - 1]) <= MAX_LINE)] = None
            for u in pl.units:
                for row in range(u.start, min(u.end, len(pl.lines)) + 1):
                    want[(row, True)] = None
            for row, whole in want:
                got = records[keys[pl.path]]["w" if whole else "t"].get(str(row))
                if isinstance(got, int):
                    pl.row_tokens[(row, whole)] = got
                else:
                    line = pl.lines[row - 1]
                    todo.append((pl, (row, whole), row_text(row, line if whole else line[:MAX_LINE] + "…")))
        if not todo:
            return
        counts = self._count([t for _, _, t in todo])
        changed: set[str] = set()
        for (pl, (row, whole), _), n in zip(todo, counts, strict=True):
            pl.row_tokens[(row, whole)] = n
            records[keys[pl.path]]["w" if whole else "t"][str(row)] = n
            changed.add(keys[pl.path])
        self.cache.put_json("rows", {k: records[k] for k in sorted(changed)})

    def secrets(self, shown: Mapping[str, Tier], rows: Mapping[str, set[int]] | None = None) -> list[SecretHit]:
        """Secrets redacted in what is shown: the whole file, or an outline's kept lines (``rows``:
        the lines shown of an outline with definitions whole, made from the whole file's text)."""
        rows = rows or {}
        out = [h for p, t in shown.items() if p not in rows
               for h in (self.hits if t == "full" else self.outline_hits).get(p, [])]
        out += [h for p, shown_rows in rows.items() for h in self.hits.get(p, []) if h.line in shown_rows]
        return sorted(out, key=lambda s: (s.path, s.line, s.kind))
