"""Repository context for one cursor: what the code around the cursor refers to that lives in
other files, fitted into a small token budget.

Sources, strongest first:

1. names bound by the file's imports and used near the cursor (``Request(``, ``utils.quote(``):
   their definitions, followed through re-exports (``from .models import Request`` in a package
   ``__init__``);
2. names the file imports but has not used yet above the cursor: the next line is likely to
   (this is what RepoBench's "cross_file_first" measures);
3. other names near the cursor defined elsewhere in the repository (fewer definitions, closer
   directory: higher score);
4. outlines of imported modules, then the lines most recently edited in other files.

Each definition becomes a card: a set of line numbers of its file (a class's outline, a
function's signature, or the whole of a short one) with a compact variant (the signature alone).
Cards are fitted greedily by score, compact first so that many names fit, then widened while the
budget lasts. The result is rendered file by file in a stable order (files by path, recent edits
after them) so that consecutive requests share a long prompt prefix and hit the server's cache.
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, pairwise
from typing import NamedTuple

from reviewer.fim.counting import estimate, quick
from reviewer.fim.imports import Import
from reviewer.fim.repoindex import FileRecord, RepoIndex
from reviewer.index import Definition, language_for
from reviewer.index.languages import has_tree_sitter
from reviewer.index.outline import ELISION
from reviewer.index.spec import is_type_kind, load_spec
from reviewer.pack.tokens import Tokenizer

NEAR_BEFORE = 30  # lines above the cursor whose names count as "near"
NEAR_AFTER = 10
CLASS_LINES = 40  # at most this many outline lines of a class
SHORT_FUNCTION = 12  # a function this short is shown whole
RECENT_LINES = 24
OUTLINE_LINES = 60
MAX_DEFS_PER_NAME = 6  # a name defined more often than this is too common to guess from
MAX_SCAN_LINES = 300  # lines on either side of the cursor read for names
MAX_CARDS = 160
POPULAR = 16  # public names offered for a module imported whole  # candidates measured per request, best first
RECENT_SCORE = 1.0



@dataclass
class ContextItem:
    filename: str
    text: str
    tokens: int
    kind: str  # "repository" | "recent" | "client"
    lines: tuple[int, ...] = ()  # the file's line numbers shown (repository items)
    sha: str = ""  # the content they were cut from (repository items)


@dataclass
class Context:
    items: list[ContextItem] = field(default_factory=list)
    tokens: int = 0
    path: str | None = None  # the file the cursor is in, when known
    identified: bool = False  # the path was recognised from the text, not given
    candidates: int = 0
    ms: float = 0.0

    def pairs(self) -> list[tuple[str, str]]:
        return [(i.filename, i.text) for i in self.items]


@dataclass
class Card:
    rec: FileRecord
    full: frozenset[int]
    compact: frozenset[int]
    score: float
    name: str
    recent: float = 0.0  # when the file was edited, for a card of its recent edits


@dataclass
class _Bindings:
    symbols: dict[str, list[tuple[FileRecord, Definition]]] = field(default_factory=dict)
    modules: dict[str, list[FileRecord]] = field(default_factory=dict)
    star: list[FileRecord] = field(default_factory=list)
    imported_names: set[str] = field(default_factory=set)


# ---------------------------------------------------------------------------- entry point


def gather(
    index: RepoIndex,
    tokenizer: Tokenizer,
    prefix: str,
    suffix: str,
    *,
    path: str | None = None,
    budget: int = 2048,
    client: Iterable[tuple[str, str]] = (),
    client_budget: int = 2048,
) -> Context:
    """Context for a cursor between ``prefix`` and ``suffix`` in the file ``path`` (repository
    relative; recognised from the text when not given)."""
    start = time.perf_counter()
    ctx = Context(path=path)
    if path is None and index.files:
        probe = "\n".join(prefix.split("\n")[-80:]) + "\n" + "\n".join(suffix.split("\n")[:30])
        ctx.path = index.identify(probe)
        ctx.identified = ctx.path is not None
    rec = index.files.get(ctx.path) if ctx.path else None
    language = language_for(ctx.path) if ctx.path else None
    cards = _candidates(index, rec, ctx.path, language, prefix, suffix)
    ctx.candidates = len(cards)
    ctx.items = _fit(cards, tokenizer, budget)
    ctx.items += _client_items(client, tokenizer, client_budget)
    ctx.tokens = sum(i.tokens for i in ctx.items)
    ctx.ms = (time.perf_counter() - start) * 1000
    return ctx


# ---------------------------------------------------------------------------- candidates


def _candidates(
    index: RepoIndex, rec: FileRecord | None, path: str | None, language: str | None, prefix: str, suffix: str
) -> list[Card]:
    imports = list(rec.imports) if rec is not None else []
    if language is not None:
        imports += [i for i in _live_imports(language, prefix) if i not in imports]
    binds = _memo_bind(index, path or "", language, imports)
    keywords = load_spec(language).keywords if has_tree_sitter(language) else frozenset()
    local = {d.name for d in rec.definitions} if rec is not None else set()

    before = prefix.split("\n")[-MAX_SCAN_LINES:]
    after = suffix.split("\n")[:MAX_SCAN_LINES // 2]
    lex_before = [_lex(line) for line in before]
    lex_after = [_lex(line) for line in after]
    near: dict[str, float] = {}
    attrs: dict[tuple[str, str], float] = {}
    for dist, lex in enumerate(reversed(lex_before[-NEAR_BEFORE:])):
        _weigh(lex, 1.0 / (1.0 + dist / 8.0), near, attrs)
    for dist, lex in enumerate(lex_after[:NEAR_AFTER]):
        _weigh(lex, 0.8 / (1.0 + dist / 4.0), near, attrs)
    # a name counts as used above the cursor when it occurs there more often than its imports
    # name it (an import line alone is no use)
    seen = Counter(chain.from_iterable(lex.names for lex in lex_before))
    attrs_before = set(chain.from_iterable(lex.pairs for lex in lex_before))
    mentions = Counter(alias for imp in imports for _, alias in imp.names)
    mentions.update(imp.alias for imp in imports if imp.alias)
    used_before = {n for n, c in seen.items() if c > mentions.get(n, 0)}
    at = _window_start(rec, before)
    if rec is not None and at > 0:
        above_names, above_attrs = _used_above(rec, at, frozenset(binds.symbols), frozenset(binds.modules))
        used_before |= above_names
        attrs_before |= above_attrs
    used_after = set(chain.from_iterable(lex.names for lex in lex_after))
    attrs_after = set(chain.from_iterable(lex.pairs for lex in lex_after))

    scores: dict[tuple[str, int, str], Card] = {}

    visible = "\n".join(before[-120:] + after[:60]) if path is None else ""

    def add(r: FileRecord, d: Definition, score: float) -> None:
        if path is not None and r.path == path:
            return
        key = (r.path, d.start_line, d.qualname)
        card = scores.get(key)
        if card is None:
            if visible:  # the file is unknown: leave out what the editor's own text already shows
                lines = r.lines()
                sig = lines[d.signature_line - 1].strip() if d.signature_line <= len(lines) else ""
                if len(sig) >= 8 and sig in visible:
                    return
            full, compact = _memo_card(r, d)
            scores[key] = Card(r, full, compact, score, d.name)
        else:
            card.score = max(card.score, score) + 0.1 * min(card.score, score)

    # 1-2. names bound by imports: used near the cursor, or imported and not used yet (the next
    # lines are likely to), used further down, used already
    for name, targets in binds.symbols.items():
        score = 1.5 + (1.0 if name in used_after else 0.0) if name not in used_before else 0.5
        score = max(score, 4.0 * near.get(name, 0.0))
        for r, d in targets:
            add(r, d, score)
    # module.attribute where the module is bound: near the cursor, further down, above
    seen = {k: 4.0 * w for k, w in attrs.items()}
    for key in attrs_after:
        seen[key] = max(seen.get(key, 0.0), 2.0)
    for key in attrs_before:
        seen[key] = max(seen.get(key, 0.0), 0.6)
    for (head, attr), score in seen.items():
        for r in binds.modules.get(head, ())[:2]:
            for d in _lookup(index, r, attr):
                add(d[0], d[1], score)
    # a module imported whole and not used yet, or used below: what it offers (its own public
    # definitions and what it re-exports), the names most used across the repository first
    for head, mods in binds.modules.items():
        if head in used_before and head not in used_after and head not in near:
            continue
        for r in mods[:1]:
            exported = _exports(index, r)
            ranked = sorted(exported, key=lambda e: (-index.df.get(e[1].name, 0), e[1].name))
            for rank, (er, d) in enumerate(ranked[:POPULAR]):
                add(er, d, 1.0 - rank * 0.02)
    # members of a module bound near the cursor whose name shares words with the code around it
    words = _words(near)
    for head, mods in binds.modules.items():
        if head not in near:
            continue
        for r in mods[:1]:
            for d in r.definitions:
                if d.qualname != d.name:
                    continue
                overlap = len(_split_words(d.name) & words)
                if overlap >= 2:
                    add(r, d, 0.8 + 0.4 * overlap * near[head])
    # 3. other names near the cursor
    for name, w in near.items():
        if name in binds.symbols or name in keywords or name in local or len(name) < 3:
            continue
        found = [e for e in index.symbols.get(name, ()) if e[0].path != path]
        star = [e for r in binds.star for e in _lookup(index, r, name)]
        if star:
            for r, d in star[:2]:
                add(r, d, 3.0 * w)
            continue
        if not found or len(found) > MAX_DEFS_PER_NAME:
            continue
        here = path.rsplit("/", 1)[0] if path and "/" in path else ""
        for r, d in found:
            boost = 2.0 if here and r.path.startswith(here + "/") and "/" not in r.path[len(here) + 1 :] else 1.0
            add(r, d, 1.5 * w * boost / len(found))
    # 4. outlines of modules imported whole: the signatures of what they define at the top
    for head, mods in binds.modules.items():
        w = near.get(head, 0.0) + (0.3 if head in used_after else 0.0)
        for r in mods[:1]:
            key = (r.path, 0, "<outline>")
            if key in scores or r.path == path:
                continue
            lines = _module_lines(r)
            if lines:
                scores[key] = Card(r, frozenset(lines[:OUTLINE_LINES]), frozenset(lines[:12]), 0.4 + w, head)
    # 5. what was edited lately in other files
    for p, (when, spans) in list(index.recent.items())[-4:]:
        r = index.files.get(p)
        if r is None or p == path:
            continue
        changed: set[int] = set()
        around: set[int] = set()
        for a, b in spans:
            changed.update(range(a, b + 1))
            around.update(range(max(1, a - 3), b + 4))
        changed = set(sorted(changed)[:RECENT_LINES])
        around = set(sorted(around)[:RECENT_LINES])
        if changed:
            scores[(p, -1, "<recent>")] = Card(r, frozenset(around), frozenset(changed), RECENT_SCORE, p, when)
    ranked = sorted(scores.values(), key=lambda c: (-c.score, c.rec.path, min(c.full, default=0)))
    return ranked[:MAX_CARDS]


_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@lru_cache(maxsize=65536)
def _split_words(name: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(name) if len(w) > 1)


def _words(near: dict[str, float]) -> set[str]:
    out: set[str] = set()
    for name in near:
        out |= _split_words(name)
    return out


def _window_start(rec: FileRecord | None, before: list[str]) -> int:
    """Where the text the editor sent begins in the file on disk (found by its first lines), or
    -1 when it cannot be placed."""
    if rec is None:
        return -1
    probe = [line for line in before[:12] if line.strip()][:3]
    if len(probe) < 2:
        return -1
    return rec.text.find("\n".join(probe))


# a name that is not an attribute (not after a dot), and such a name followed by one attribute
_FREE_NAME = re.compile(r"(?<![\w$.])[A-Za-z_$][\w$]*")
_FREE_PAIR = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\.([A-Za-z_$][\w$]*)")


def _used_above(rec: FileRecord, at: int, names: frozenset[str], heads: frozenset[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """Which of ``names`` (and which ``head.attr`` for ``heads``) the file uses above offset ``at``,
    import statements aside: every free name of that text found in one pass, then kept when asked
    for (a pattern of all the names would try each at every position), remembered."""
    cache = _derived(rec)
    key = ("above", at, names, heads)
    hit = cache.get(key)
    if hit is None:
        text = _without_imports(rec.text[:at])
        used: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        if names:
            used = set(names.intersection(_FREE_NAME.findall(text)))
        if heads:
            pairs = {pair for pair in set(_FREE_PAIR.findall(text)) if pair[0] in heads}
        hit = cache[key] = (used, pairs)
    return hit  # type: ignore[return-value]


def _weigh(lex: _Lex, w: float, near: dict[str, float], attrs: dict[tuple[str, str], float]) -> None:
    for name in lex.names:
        if near.get(name, 0.0) < w:
            near[name] = w
    for pair in lex.pairs:
        if attrs.get(pair, 0.0) < w:
            attrs[pair] = w


_PY_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+\S+[ \t]+)?import[ \t]+(?:\([^)]*\)|[^\n]*)", re.M)


def _without_imports(text: str) -> str:
    return _PY_IMPORT_LINE.sub("", text)


_CHAIN = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
class _Lex(NamedTuple):
    names: tuple[str, ...]  # every identifier, in order
    pairs: tuple[tuple[str, str], ...]  # ("a", "b") for each "a.b"


_lex_cache: dict[str, _Lex] = {}


def _lex(line: str) -> _Lex:
    """The names of one line, remembered: the lines around a cursor come back with every
    keystroke."""
    hit = _lex_cache.get(line)
    if hit is None:
        if len(_lex_cache) > 100_000:
            _lex_cache.clear()
        names: list[str] = []
        pairs: list[tuple[str, str]] = []
        for m in _CHAIN.findall(line[:2000]):
            parts = m.split(".")
            names += parts
            pairs += pairwise(parts)
        hit = _lex_cache[line] = _Lex(tuple(names), tuple(pairs))
    return hit


_imports_cache: OrderedDict[tuple[str, str], list[Import]] = OrderedDict()


def _live_imports(language: str, prefix: str) -> list[Import]:
    """The imports in the text the editor sent, read once per distinct import region (the text
    up to the last line that mentions an import, which stays the same while typing below it)."""
    at = max(prefix.rfind("import"), prefix.rfind("#include"), prefix.rfind("require("), prefix.rfind("use "))
    if at < 0:
        return []
    end = prefix.find("\n\n", at)
    region = prefix[: end if end != -1 else len(prefix)][-20000:]
    key = (language, region)
    with _memo_lock:
        hit = _imports_cache.get(key)
        if hit is not None:
            _imports_cache.move_to_end(key)
            return hit
    from reviewer.fim.imports import read_imports

    hit = read_imports(language, region)
    with _memo_lock:
        _imports_cache[key] = hit
        while len(_imports_cache) > 64:
            _imports_cache.popitem(last=False)
    return hit


# ---------------------------------------------------------------------------- imports


_binds: OrderedDict[tuple[object, ...], _Bindings] = OrderedDict()


def _memo_bind(index: RepoIndex, path: str, language: str | None, imports: list[Import]) -> _Bindings:
    """``_bind``, remembered until the index changes (a file's imports rarely do)."""
    key = (id(index), index.stats.updates, index.stats.files, path, language, tuple(imports))
    with _memo_lock:
        hit = _binds.get(key)
        if hit is not None:
            _binds.move_to_end(key)
            return hit
    hit = _bind(index, path, language, imports)
    with _memo_lock:
        _binds[key] = hit
        while len(_binds) > 64:
            _binds.popitem(last=False)
    return hit


def _bind(index: RepoIndex, path: str, language: str | None, imports: list[Import]) -> _Bindings:
    binds = _Bindings()
    modules = index.modules
    for imp in imports:
        paths = modules.resolve(language, path, imp.module)
        recs = [index.files[p] for p in paths if p in index.files]
        if imp.alias and recs:
            binds.modules.setdefault(imp.alias.split(".")[0] if language == "python" else imp.alias, []).extend(recs)
            if language == "python" and "." in imp.alias:
                binds.modules.setdefault(imp.alias, []).extend(recs)
        for name, alias in imp.names:
            binds.imported_names.add(alias)
            if name == "*":
                binds.star.extend(recs[:1])
                continue
            if language == "python":
                sub = modules.resolve(language, path, (imp.module + "." if not imp.module.endswith(".") else imp.module) + name)
                subrecs = [index.files[p] for p in sub if p in index.files]
                if subrecs and not (recs and recs[0].top_level(name)):
                    binds.modules.setdefault(alias, []).extend(subrecs[:1])
                    continue
            if not recs:
                continue
            found = _lookup(index, recs[0], name if name != "default" else alias, default=name == "default")
            if found:
                binds.symbols.setdefault(alias, []).extend(found)
    return binds


def _exports(index: RepoIndex, rec: FileRecord) -> list[tuple[FileRecord, Definition]]:
    """The public top-level definitions a module offers: its own, and those it re-exports
    (``from .x import a``, ``from .y import *``), one level down. Remembered per record."""
    cache = _derived(rec)
    key = ("exports", index.stats.updates, index.stats.files)
    hit = cache.get(key)
    if hit is not None:
        return hit  # type: ignore[return-value]
    out: dict[str, tuple[FileRecord, Definition]] = {}
    for d in rec.definitions:
        if d.qualname == d.name and not d.name.startswith("_"):
            out.setdefault(d.name, (rec, d))
    for imp in rec.imports:
        if not imp.names or not imp.module.startswith("."):
            continue  # re-exports are relative imports of the package's own modules
        paths = index.modules.resolve(rec.language, rec.path, imp.module)
        target = index.files.get(paths[0]) if paths else None
        if target is None or target is rec:
            continue
        for orig, alias in imp.names:
            if orig == "*":
                for d in target.definitions:
                    if d.qualname == d.name and not d.name.startswith("_"):
                        out.setdefault(d.name, (target, d))
            elif not alias.startswith("_"):
                for d in target.top_level(orig)[:1]:
                    out.setdefault(alias, (target, d))
    hit = list(out.values())
    cache[key] = hit
    return hit


def _lookup(
    index: RepoIndex, rec: FileRecord, name: str, depth: int = 0, *, default: bool = False
) -> list[tuple[FileRecord, Definition]]:
    """Where ``name``, as seen by a file importing ``rec``, is defined: in ``rec`` itself, or
    wherever ``rec`` re-exports it from."""
    if default:
        lines = rec.lines()
        for d in rec.definitions:
            if d.qualname == d.name and "export default" in lines[d.start_line - 1]:
                return [(rec, d)]
    defs = rec.top_level(name) or [d for d in rec.definitions if d.name == name][:2]
    if defs:
        return [(rec, d) for d in defs[:2]]
    if depth >= 3:
        return []
    for imp in rec.imports:
        for orig, alias in imp.names:
            if alias == name or orig == "*":
                for p in index.modules.resolve(rec.language, rec.path, imp.module)[:1]:
                    target = index.files.get(p)
                    if target is not None and target is not rec:
                        found = _lookup(index, target, orig if orig != "*" else name, depth + 1)
                        if found:
                            return found
    return []


# ---------------------------------------------------------------------------- cards


_memo: dict[tuple[str, str], dict[object, object]] = {}
_memo_lock = threading.Lock()
_MEMO_RECORDS = 4096


def _derived(rec: FileRecord) -> dict[object, object]:
    """Per-record results that never change for a given content (records are immutable)."""
    key = (rec.path, rec.sha)
    d = _memo.get(key)
    if d is None:
        with _memo_lock:
            if len(_memo) >= _MEMO_RECORDS:
                _memo.clear()
            d = _memo.setdefault(key, {})
    return d


def _memo_card(rec: FileRecord, d: Definition) -> tuple[frozenset[int], frozenset[int]]:
    cache = _derived(rec)
    key = ("card", d.start_line, d.qualname, d.kind)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _card_lines(rec, d)
    return hit  # type: ignore[return-value]


def _memo_estimate(rec: FileRecord, lines: frozenset[int]) -> int:
    cache = _derived(rec)
    key = ("est", lines)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = estimate(_render(rec, lines))
    return hit  # type: ignore[return-value]


def _card_lines(rec: FileRecord, d: Definition) -> tuple[frozenset[int], frozenset[int]]:
    """(full, compact) line sets showing ``d``: a type by its outline, a function by its
    signature (whole when short), a variable by its assignment; a method with its class's
    header line."""
    head = set(range(d.start_line, max(d.signature_line, (d.body_line or d.signature_line + 1) - 1) + 1))
    if not head:
        head = {d.signature_line}
    if len(head) > 12:
        head = set(sorted(head)[:12])
    owner: set[int] = set()
    if "." in d.qualname and d.kind in ("method", "function"):
        parent = d.qualname.rsplit(".", 1)[0]
        for p in rec.definitions:
            if p.qualname == parent and p.start_line <= d.start_line <= p.end_line:
                owner = {p.signature_line}
                break
    if is_type_kind(d.kind):
        nums = _outline_numbers(rec)
        outline = nums[bisect_left(nums, d.start_line) : bisect_right(nums, d.end_line)]
        full = set(outline[:CLASS_LINES]) | head
        return frozenset(full | owner), frozenset(head | owner)
    if d.kind == "variable":
        lines = rec.lines()
        full = {d.start_line}
        depth = _brackets(lines[d.start_line - 1]) if d.start_line <= len(lines) else 0
        n = d.start_line
        while depth > 0 and n < len(lines) and n - d.start_line < 6:
            depth += _brackets(lines[n])
            n += 1
            full.add(n)
        return frozenset(full), frozenset({d.start_line})
    full = set(head)
    if d.end_line - d.start_line + 1 <= SHORT_FUNCTION:
        full = set(range(d.start_line, d.end_line + 1))
    elif d.body_line:
        nums = _outline_numbers(rec)
        doc = nums[bisect_left(nums, d.body_line) : bisect_right(nums, min(d.end_line, d.body_line + 2))]
        full |= set(doc[:2])
    return frozenset(full | owner), frozenset(head | owner)


def _module_lines(rec: FileRecord) -> list[int]:
    """The signature lines of a module's top-level definitions, in order."""
    cache = _derived(rec)
    hit = cache.get("module")
    if hit is None:
        lines: list[int] = []
        for d in rec.definitions:
            if d.qualname == d.name and not d.name.startswith("_"):
                lines.extend(sorted(_memo_card(rec, d)[1]))
        hit = cache["module"] = sorted(set(lines))
    return hit  # type: ignore[return-value]


def _outline_numbers(rec: FileRecord) -> list[int]:
    cache = _derived(rec)
    hit = cache.get("outline")
    if hit is None:
        hit = cache["outline"] = [n for n, _ in rec.outline if n]
    return hit  # type: ignore[return-value]


def _brackets(line: str) -> int:
    return sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")


def _render(rec: FileRecord, lines: Iterable[int]) -> str:
    """The lines of ``rec`` numbered ``lines``, in order, with one elision mark for each skipped
    run that holds any text. Remembered per record and line set."""
    key = lines if isinstance(lines, frozenset) else frozenset(lines)
    cache = _derived(rec)
    hit = cache.get(("render", key))
    if hit is not None:
        return hit  # type: ignore[return-value]
    text = rec.lines()
    out: list[str] = []
    prev = 0
    for n in sorted(key):
        if n < 1 or n > len(text):
            continue
        # a skipped run is marked unless it is all blank (runs longer than a few lines never are)
        if prev and n > prev + 1 and (n - 1 - prev > 4 or any(text[i].strip() for i in range(prev, n - 1))):
            out.append(ELISION)
        out.append(text[n - 1])
        prev = n
    result = "\n".join(out) + "\n"
    if len(cache) > 512:  # a long session renders many line sets of one file: start over
        cache.clear()
    cache[("render", key)] = result
    return result


# ---------------------------------------------------------------------------- fitting


def count_lines(tokenizer: Tokenizer, text: str) -> int:
    """Tokens of ``text`` counted line by line (each line with its newline): the same lines come
    back in request after request, so each is counted once (``CachedCounter``). A line-by-line
    count is never below the count of the whole: splitting only prevents merges across lines."""
    return sum(tokenizer.count_batch(text.splitlines(keepends=True)))


def count_many(tokenizer: Tokenizer, texts: list[str]) -> list[int]:
    """``count_lines`` for several texts in one call to the tokenizer."""
    pieces = [t.splitlines(keepends=True) for t in texts]
    flat = quick(tokenizer, [line for lines in pieces for line in lines])
    out = []
    i = 0
    for lines in pieces:
        out.append(sum(flat[i : i + len(lines)]))
        i += len(lines)
    return out


def _fit(cards: list[Card], tokenizer: Tokenizer, budget: int) -> list[ContextItem]:
    """Choose by estimate (cheap), count what was chosen; when the estimate was off for a file,
    correct it by the measured ratio and choose again (twice at most)."""
    if budget <= 0 or not cards:
        return []
    factor: dict[str, float] = {}
    items: list[ContextItem] = []
    for _ in range(3):
        items, estimates = _choose(cards, budget, factor)
        counts = count_many(tokenizer, [i.text for i in items])
        for item, k in zip(items, counts, strict=True):
            item.tokens = k
        if sum(counts) <= budget:
            return items
        for item, est in zip(items, estimates, strict=True):
            factor[item.filename] = factor.get(item.filename, 1.0) * max(1.0, item.tokens / max(1, est))
    while items and sum(i.tokens for i in items) > budget:
        items.pop()
    return items


def _choose(cards: list[Card], budget: int, factor: dict[str, float]) -> tuple[list[ContextItem], list[int]]:
    chosen: dict[str, set[int]] = {}
    recs: dict[str, FileRecord] = {}
    recent: dict[str, float] = {}
    n = len(cards)
    counts = [int(_memo_estimate(c.rec, c.full) * factor.get(c.rec.path, 1.0)) for c in cards]
    counts += [int(_memo_estimate(c.rec, c.compact) * factor.get(c.rec.path, 1.0)) for c in cards]
    used = 0
    header = 12  # a file's header in the prompt, about
    picked: list[int] = []
    for i, c in enumerate(cards):  # pass 1: the compact form of as many cards as fit
        cost = counts[n + i] + (header if c.rec.path not in chosen else 0)
        if used + cost > budget:
            continue
        chosen.setdefault(c.rec.path, set()).update(c.compact)
        recs[c.rec.path] = c.rec
        if c.recent:
            recent[c.rec.path] = c.recent
        used += cost
        picked.append(i)
    for i in picked:  # pass 2: widen them, best first, while the budget lasts
        c = cards[i]
        extra = counts[i] - counts[n + i]
        if extra > 0 and used + extra <= budget:
            chosen[c.rec.path].update(c.full)
            used += extra
    # stable first: files by path, then the recently edited ones, oldest edit first
    order = sorted(p for p in chosen if p not in recent) + sorted(recent, key=lambda p: recent[p])
    items = [ContextItem(p, _render(recs[p], chosen[p]), 0, "recent" if p in recent else "repository",
                         tuple(sorted(chosen[p])), recs[p].sha) for p in order]
    estimates = [int(estimate(i.text) * factor.get(i.filename, 1.0)) for i in items]
    return items, estimates


def _client_items(client: Iterable[tuple[str, str]], tokenizer: Tokenizer, budget: int) -> list[ContextItem]:
    chunks = [(str(f), str(t)) for f, t in client if t]
    if not chunks or budget <= 0:
        return []
    counts = count_many(tokenizer, [t for _, t in chunks])
    kept: list[ContextItem] = []
    used = 0
    for (name, text), n in zip(reversed(chunks), reversed(counts), strict=True):  # newest last: keep those
        if used + n > budget:
            break
        kept.append(ContextItem(name, text, n, "client"))
        used += n
    return kept[::-1]
