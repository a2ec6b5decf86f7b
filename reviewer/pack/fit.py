"""Fit the budget: each file ends up ``full``, ``outline`` or ``listed`` (its path in the tree).

1. Focused files go in whole first, most important first (as an outline when whole does not fit).
2. Every other file offers two steps: listed -> outline (worth ``OUTLINE_VALUE`` of the file's
   value) and outline -> full (the rest), or one step listed -> full when its outline would save
   little. Steps are taken greedily by value per token, the classic greedy for a knapsack with
   a choice per item.
3. The plan is made with cheap estimates (so no file is parsed or counted unless it may be shown),
   then every planned block is counted exactly; steps are undone from the last while the exact
   total is over the budget, and further steps (exact counts, in the same order) fill what is
   left. The result never exceeds the budget and, when the repository is bigger than it, leaves
   little unused.

Every decision depends only on the files' contents, so a run with a warm cache makes the same
pack as a cold one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from reviewer.pack.model import Tier
from reviewer.pack.rank import Ranking

OUTLINE_VALUE = 0.35  # share of a file's value its outline carries
VALUE_POWER = 2.0  # a file's value is its score squared: the top of the ranking matters most
_OUTLINE_WORTH = 0.6  # an outline estimated above this share of the whole file is not offered
_FILL_BATCH = 48
_FILL_ROUNDS = 40

# exact token cost of each asked (path, tier) block; an option left out is not available
Costs = Callable[[Sequence[tuple[str, Tier]]], Mapping[tuple[str, Tier], int]]


@dataclass(frozen=True)
class Step:
    path: str
    to: Tier  # "outline" or "full"
    efficiency: float


@dataclass
class Selection:
    tiers: dict[str, Tier]
    costs: dict[str, int]  # exact tokens of each shown file's block
    used: int  # exact tokens of all blocks
    budget: int  # tokens that were available for blocks
    reasons: dict[str, str] = field(default_factory=dict)


class _Exact:
    """Exact costs, asked in batches and remembered."""

    def __init__(self, costs: Costs) -> None:
        self.costs = costs
        self.known: dict[tuple[str, Tier], int | None] = {}

    def need(self, items: Sequence[tuple[str, Tier]]) -> None:
        missing = [it for it in dict.fromkeys(items) if it not in self.known]
        if missing:
            got = self.costs(missing)
            for it in missing:
                self.known[it] = got.get(it)

    def get(self, path: str, tier: Tier) -> int | None:
        if tier == "listed":
            return 0
        self.need([(path, tier)])
        return self.known[(path, tier)]


def fit_budget(
    paths: Sequence[str],
    ranking: Ranking,
    est_full: Mapping[str, int],
    est_outline: Mapping[str, int | None],
    budget: int | Callable[[], int],
    costs: Costs,
    *,
    estimated_budget: int | None = None,
) -> Selection:
    """Choose tiers for ``paths`` within ``budget`` tokens of file blocks (what the rest of the
    document costs already taken off). ``est_outline[p]`` is None when ``p`` has no useful
    outline. ``budget`` may be a function, called once the plan's files are prepared (its exact
    value may need the tokenizer); ``estimated_budget`` then stands in for it while planning."""
    exact = _Exact(costs)
    tiers: dict[str, Tier] = dict.fromkeys(paths, "listed")
    reasons: dict[str, str] = {}
    focused_order = [p for p in ranking.focused if p in tiers]
    focused = set(focused_order)

    def est(path: str, tier: Tier) -> int:
        if tier == "full":
            return est_full[path]
        if tier == "outline":
            return est_outline[path] or est_full[path]
        return 0

    # 1. plan with estimates: focused files whole first, then steps by value per token
    est_left = estimated_budget if estimated_budget is not None else (budget if isinstance(budget, int) else 0)
    wanted: list[tuple[str, Tier]] = []
    for p in focused_order:
        wanted.append((p, "full"))
        if est(p, "full") <= est_left:
            est_left -= est(p, "full")
        elif est_outline.get(p) is not None:
            wanted.append((p, "outline"))
            est_left -= min(est_left, est(p, "outline"))
    steps = _steps([p for p in paths if p not in focused], ranking.scores, est_full, est_outline)
    plan: list[Step] = []
    planned: dict[str, Tier] = {}
    for step in steps:
        current = planned.get(step.path, "listed")
        if _rank(step.to) <= _rank(current):
            continue
        delta = est(step.path, step.to) - est(step.path, current)
        if delta <= est_left:
            plan.append(step)
            planned[step.path] = step.to
            est_left -= delta
    # 2. prepare and count everything planned at once (in worker processes when it is a lot)
    exact.need([*wanted, *planned.items()])
    left = budget() if callable(budget) else budget
    block_budget = left

    # 3a. focused files, whole when they fit
    for p in focused_order:
        full = exact.get(p, "full")
        if full is not None and full <= left:
            tiers[p], left = "full", left - full
            reasons[p] = "focused: whole"
            continue
        outline = exact.get(p, "outline") if est_outline.get(p) is not None else None
        if outline is not None and outline <= left:
            tiers[p], left = "outline", left - outline
            reasons[p] = "focused: outline (whole does not fit)"
        else:
            reasons[p] = "focused, but even its outline does not fit"

    # 3b. apply the plan with exact costs, undoing from the end while over the budget
    taken: list[tuple[Step, Tier]] = []  # (step, tier before it)
    for step in plan:
        before = tiers[step.path]
        if _rank(step.to) <= _rank(before):
            continue
        tiers[step.path] = step.to
        taken.append((step, before))
    used = sum(_cost(exact, p, t) for p, t in tiers.items() if p not in focused)
    while used > left and taken:
        step, before = taken.pop()
        used -= _cost(exact, step.path, step.to) - _cost(exact, step.path, before)
        tiers[step.path] = before
    # an option that turned out unavailable (no exact cost) is not taken; it counted as 0 above
    for p, t in list(tiers.items()):
        if t != "listed" and p not in focused and exact.get(p, t) is None:
            tiers[p] = "listed"
    left -= used

    # 3c. fill what is left, in the same order, with exact costs
    done = {id(s) for s, _ in taken}
    rest = [s for s in steps if id(s) not in done]
    pos = 0
    for _ in range(_FILL_ROUNDS):
        if left <= 0 or pos >= len(rest):
            break
        batch: list[tuple[str, Tier]] = []
        j = pos
        while j < len(rest) and len(batch) < _FILL_BATCH:
            s = rest[j]
            if _rank(s.to) > _rank(tiers[s.path]) and est(s.path, s.to) - est(s.path, tiers[s.path]) <= left * 1.5 + 64:
                batch.append((s.path, s.to))
                if tiers[s.path] != "listed":
                    batch.append((s.path, tiers[s.path]))
            j += 1
        exact.need(batch)
        for s in rest[pos:j]:
            current = tiers[s.path]
            if _rank(s.to) <= _rank(current) or (s.path, s.to) not in exact.known:
                continue
            new = exact.known[(s.path, s.to)]
            if new is None:
                continue
            delta = new - _cost(exact, s.path, current)
            if delta <= left:
                tiers[s.path] = s.to
                left -= delta
        pos = j

    chosen_costs = {p: _cost(exact, p, t) for p, t in tiers.items() if t != "listed"}
    for p, t in tiers.items():
        if p in reasons:
            continue
        if t == "full":
            reasons[p] = "whole: high value per token"
        elif t == "outline":
            reasons[p] = "outline: value per token"
        else:
            reasons[p] = "listed: over budget"
    return Selection(tiers, chosen_costs, sum(chosen_costs.values()), block_budget, reasons)


def _rank(tier: Tier) -> int:
    return {"listed": 0, "outline": 1, "full": 2}[tier]


def _cost(exact: _Exact, path: str, tier: Tier) -> int:
    if tier == "listed":
        return 0
    c = exact.get(path, tier)
    return c if c is not None else 0


def _steps(
    paths: Sequence[str], scores: Mapping[str, float], est_full: Mapping[str, int], est_outline: Mapping[str, int | None]
) -> list[Step]:
    out: list[Step] = []
    for p in paths:
        value = max(scores.get(p, 0.0), 1e-9) ** VALUE_POWER
        full = max(1, est_full[p])
        outline = est_outline.get(p)
        if outline is not None and outline < _OUTLINE_WORTH * full:
            outline = max(1, outline)
            out.append(Step(p, "outline", OUTLINE_VALUE * value / outline))
            out.append(Step(p, "full", (1 - OUTLINE_VALUE) * value / max(1, full - outline)))
        else:
            out.append(Step(p, "full", value / full))
    # most efficient first; a file's outline step before its full step when they tie
    out.sort(key=lambda s: (-s.efficiency, s.path, _rank(s.to)))
    return out
