"""Definition-level packing: a large file shown as its outline with the definitions that matter
to the task whole (functions, methods, small classes), instead of the whole file or only its
outline.

A file qualifies when it is large for the budget, ranks high enough to be shown, and some of its
definitions match the task (``reviewer.pack.defrank``). For each such file a ``DefPlan`` knows
the exact token cost of its block with any set of its matching definitions expanded, so the fit
(``reviewer.pack.fit``) can weigh "this function whole" against "that file whole" by value per
token, and the total stays exact.

The block is built from the redacted text of the file: the outline's kept lines (cut at
``MAX_LINE`` characters, as outlines are) and every line of each chosen definition (whole), each
at its real line number, every run of elided lines that holds any text marked ``⋮``. Each rendered
line starts with its number, where the V4 pre-tokenizer never joins text, so the body's count is
the sum of its lines' counts; those are counted once per file content and cached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reviewer.index.languages import language_for
from reviewer.index.model import FileIndex
from reviewer.index.outline import MAX_LINE
from reviewer.pack.render import ELISION, Block, body
from reviewer.repo.textio import split_lines

if TYPE_CHECKING:
    from reviewer.pack.defrank import UnitTask
    from reviewer.pack.prepare import Workbench
    from reviewer.pack.rank import Ranking

# a file is large for a budget when its whole block would take more than this share of it
LARGE_SHARE = 1 / 32
LARGE_MIN = 1_500  # ... and at least this many tokens (estimated)
MAX_CANDIDATES = 24  # files looked at, best ranked first
MAX_UNITS = 8  # definitions of one file offered whole, best matching first
_UNIT_SHARE = 0.6  # a definition spanning more of the file than this is not offered (the whole file is)
_LEAF_KINDS = frozenset({"function", "method"})


def row_text(n: int, line: str) -> str:
    """One line of ``reviewer.pack.render.body``, alone (its counts add up to the body's: every
    line starts with a digit or the elision mark); ``n`` 0 is the elision mark."""
    return (f"{n}| {line}\n" if line else f"{n}|\n") if n else ELISION + "\n"


@dataclass(frozen=True)
class Unit:
    """A definition that may be shown whole: 1-based inclusive lines (decorators included)."""

    qualname: str
    kind: str
    start: int
    end: int


def units_of(index: FileIndex, n_lines: int) -> list[Unit]:
    """The definitions of a file that may be shown whole on their own: functions and methods,
    and classes (or other scopes) holding no other definition; none over ``_UNIT_SHARE`` of the
    file. In file order."""
    defs = index.definitions
    out: list[Unit] = []
    for i, d in enumerate(defs):
        if d.end_line - d.start_line + 1 > _UNIT_SHARE * max(1, n_lines):
            continue
        if d.kind not in _LEAF_KINDS:
            inner = any(o is not d and d.start_line <= o.start_line and o.end_line <= d.end_line
                        and (o.start_line, o.end_line) != (d.start_line, d.end_line) for o in defs[i + 1:i + 400])
            if inner:
                continue
        out.append(Unit(d.qualname, d.kind, d.start_line, d.end_line))
    # nested functions of a method are not walked by the index; a unit inside another unit (a
    # leaf class's method) adds nothing
    kept: list[Unit] = []
    for u in sorted(out, key=lambda u: (u.start, -u.end, u.qualname)):
        if kept and kept[-1].start <= u.start and u.end <= kept[-1].end:
            continue
        kept.append(u)
    return kept


@dataclass
class DefPlan:
    """One file's block with a choice of its definitions whole: rows, exact costs, rendering."""

    path: str
    lines: list[str]  # the redacted text's lines
    outline_rows: frozenset[int]  # 1-based numbers of the lines the outline keeps
    units: list[Unit]  # offered, best matching first
    weights: list[float]  # how much each unit matters to the task
    why: list[str]  # why each unit matters, for --explain
    block_lines: int  # line count of the whole file, as the block's head shows it
    language: str | None
    row_tokens: dict[tuple[int, bool], int] = field(default_factory=dict)  # (row, whole) -> tokens
    elision_tokens: int = 0
    bench: Workbench | None = None
    _costs: dict[tuple[int, ...], int] = field(default_factory=dict)
    _frames: dict[int, int] = field(default_factory=dict)  # digits of the body's count -> head and tail tokens

    def _all(self, chosen: Sequence[int] | None) -> Sequence[int]:
        return range(len(self.units)) if chosen is None else chosen

    def rows(self, chosen: Sequence[int] | None = None) -> list[tuple[int, bool]]:
        """Shown rows in order, each with whether it is shown whole (inside a chosen unit);
        ``chosen``: indexes into ``units`` (None: all)."""
        whole: set[int] = set()
        for k in self._all(chosen):
            u = self.units[k]
            whole.update(range(u.start, min(u.end, len(self.lines)) + 1))
        return [(r, r in whole) for r in sorted(whole | self.outline_rows)]

    def shown_rows(self) -> set[int]:
        return {r for r, _ in self.rows()}

    def numbered(self, chosen: Sequence[int] | None = None) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        prev = 0
        for row, whole in self.rows(chosen):
            if row > prev + 1 and self._has_text(prev + 1, row):
                out.append((0, ""))
            out.append((row, self._row_text(row, whole)))
            prev = row
        if prev < len(self.lines) and self._has_text(prev + 1, len(self.lines) + 1):
            out.append((0, ""))
        return out

    def _has_text(self, start: int, end: int) -> bool:
        """Any non-blank line among 1-based rows ``start`` .. ``end - 1``."""
        return any(self.lines[i - 1].strip() for i in range(start, end))

    def _row_text(self, row: int, whole: bool) -> str:
        line = self.lines[row - 1]
        if not whole and len(line) > MAX_LINE:
            return line[:MAX_LINE] + "…"
        return line

    def body_tokens(self, chosen: Sequence[int] | None = None) -> int:
        rows = self.rows(chosen)
        total = 0
        prev = 0
        for row, whole in rows:
            if row > prev + 1 and self._has_text(prev + 1, row):
                total += self.elision_tokens
            total += self.row_tokens[(row, whole or len(self.lines[row - 1]) <= MAX_LINE)]
            prev = row
        if prev < len(self.lines) and self._has_text(prev + 1, len(self.lines) + 1):
            total += self.elision_tokens
        return total

    def cost(self, chosen: Sequence[int] | None = None) -> int:
        """Tokens of the block (head, body, tail) with the ``chosen`` units whole. Exact: the
        head's count is taken once per length of the body's count written in it (the tokenizer
        cuts digits apart from the rest), and ``render`` checks it against the block itself."""
        key = tuple(sorted(self._all(chosen)))
        got = self._costs.get(key)
        if got is None:
            n = self.body_tokens(key)
            got = self._costs[key] = n + self._frame_tokens(n, key)
        return got

    def _frame_tokens(self, body_tokens: int, chosen: Sequence[int]) -> int:
        assert self.bench is not None
        if self._fenced:  # markdown: the fence around the body depends on the body
            head, tail = self._frame(body_tokens, self.text_body(chosen))
            return self.bench.frame_counts([head], [tail])[0]
        digits = len(str(body_tokens))
        if digits not in self._frames:
            head, tail = self._frame(body_tokens, "")
            self._frames[digits] = self.bench.frame_counts([head], [tail])[0]
        return self._frames[digits]

    def _frame(self, body_tokens: int, text: str) -> tuple[str, str]:
        assert self.bench is not None
        block = Block(self.path, "outline", self.block_lines, [], self.language)
        return self.bench.renderer.head(block, body_tokens, text), self.bench.renderer.tail(block, text)

    @property
    def _fenced(self) -> bool:
        """The head and tail depend on the body (a markdown fence longer than any in it)."""
        assert self.bench is not None
        return self.bench.renderer.style != "xml"

    def text_body(self, chosen: Sequence[int] | None = None) -> str:
        return body(Block(self.path, "outline", self.block_lines, self.numbered(chosen), self.language))

    def render(self) -> tuple[str, int]:
        """The block with every unit whole, and its exact tokens (its head and tail counted as
        they are written)."""
        assert self.bench is not None
        text = self.text_body()
        n = self.body_tokens()
        head, tail = self._frame(n, text)
        return head + text + tail, n + self.bench.frame_counts([head], [tail])[0]

    def narrowed(self, chosen: Sequence[int]) -> DefPlan:
        """The same file with only the ``chosen`` units (all shown)."""
        keep = sorted(chosen)
        return DefPlan(self.path, self.lines, self.outline_rows, [self.units[k] for k in keep],
                       [self.weights[k] for k in keep], [self.why[k] for k in keep], self.block_lines,
                       self.language, self.row_tokens, self.elision_tokens, bench=self.bench)

    def explain(self) -> str:
        order = sorted(range(len(self.units)), key=lambda k: self.units[k].start)
        names = [f"{self.units[k].qualname} (lines {self.units[k].start}-{self.units[k].end}: {self.why[k]})"
                 for k in order]
        return f"{len(names)} definition{'s' if len(names) != 1 else ''} whole: " + "; ".join(names)

    def to_json(self) -> list[list[object]]:
        return [[u.qualname, u.kind, u.start, u.end, w, why]
                for u, w, why in zip(self.units, self.weights, self.why, strict=True)]


def restore_plans(bench: Workbench, stored: Mapping[str, object]) -> dict[str, DefPlan] | None:
    """The plans a run recorded (``DefPlan.to_json``), every unit chosen; None when a record does
    not fit the file."""
    paths = sorted(stored)
    if not paths:
        return {}
    bench.prepare(paths, index=paths)
    plans: dict[str, DefPlan] = {}
    try:
        for p in paths:
            outline = bench.outlines.get(p)
            if outline is None or p not in bench.texts:
                return None
            lines = split_lines(bench.texts[p])
            units: list[Unit] = []
            weights: list[float] = []
            why: list[str] = []
            for qualname, kind, start, end, w, reason in stored[p]:  # type: ignore[attr-defined]
                if not 1 <= int(start) <= int(end) <= len(lines):
                    return None
                units.append(Unit(str(qualname), str(kind), int(start), int(end)))
                weights.append(float(w))
                why.append(str(reason))
            plans[p] = DefPlan(p, lines, frozenset(n for n, _ in outline if n), units, weights, why,
                               bench.files[p].lines, language_for(p), bench=bench)
    except (TypeError, ValueError):
        return None
    bench.count_rows(plans.values())
    return plans


def plan_definitions(
    paths: Sequence[str],
    ranking: Ranking,
    task: UnitTask,
    bench: Workbench,
    est_full: Mapping[str, int],
    est_outline: Mapping[str, int | None],
    budget: int,
) -> dict[str, DefPlan]:
    """``DefPlan`` for the large, well-ranked files some of whose definitions match the task."""
    from reviewer.pack.defrank import score_units

    large = max(LARGE_MIN, int(budget * LARGE_SHARE))
    candidates = [p for p in ranking.order if est_full.get(p, 0) > large and est_outline.get(p) is not None
                  and task.may_match(p, bench.tags.get(p))][:MAX_CANDIDATES]
    if not candidates:
        return {}
    bench.prepare([], index=candidates)
    indexes = bench.unit_indexes(candidates)
    per_file: dict[str, tuple[list[str], list[Unit]]] = {}
    for p in candidates:
        ix = indexes.get(p)
        outline = bench.outlines.get(p)
        if ix is None or outline is None or not any(n == 0 for n, _ in outline):
            continue
        per_file[p] = (split_lines(bench.files[p].text), units_of(ix, bench.files[p].lines))
    scores = score_units(per_file, task)
    best: dict[str, list[int]] = {}
    for p, (_, units) in per_file.items():
        scored = scores[p]
        ranked = sorted((k for k, (w, _) in enumerate(scored) if w > 0), key=lambda k: (-scored[k][0], units[k].start))
        if ranked:
            best[p] = ranked[:MAX_UNITS]
    bench.prepare(list(best))  # the redacted text, for the lines shown
    plans: dict[str, DefPlan] = {}
    for p, keep in best.items():
        units, scored = per_file[p][1], scores[p]
        plans[p] = DefPlan(
            p, split_lines(bench.texts[p]), frozenset(n for n, _ in bench.outlines[p] if n), [units[k] for k in keep],
            [scored[k][0] for k in keep], [scored[k][1] for k in keep], bench.files[p].lines,
            language_for(p), bench=bench,
        )
    bench.count_rows(plans.values())
    return plans
