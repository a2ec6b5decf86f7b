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
from typing import Protocol

from reviewer.pack.model import Tier
from reviewer.pack.rank import Ranking

OUTLINE_VALUE = 0.35  # share of a file's value its outline carries
VALUE_POWER = 2.0  # a file's value is its score squared: the top of the ranking matters most
_OUTLINE_WORTH = 0.6  # an outline estimated above this share of the whole file is not offered
REST_WEIGHT = 12.0  # of a large file's body beside its matching definitions (see reviewer.pack.defrank)
FOCUS_WHOLE_SHARE = 1.0  # a focused file goes whole first when it takes at most this share of the budget
FOCUS_UNIT_WEIGHT = 0.5  # ... else its outline, with its definitions weighing at least this whole
FOCUS_UNITS = 3  # ... at most this many of them
SMALL_SHARE = 0.04  # of the budget, for small files that match the task (see small_matches)
SMALL_TOKENS = 1 / 256  # a file is small when its estimate is under this share of the budget
SMALL_MATCH = 0.3  # of the best lexical match, for a file to match the task
_FILL_BATCH = 48
_FILL_ROUNDS = 40

# exact token cost of each asked (path, tier) block; an option left out is not available
Costs = Callable[[Sequence[tuple[str, Tier]]], Mapping[tuple[str, Tier], int]]


class UnitChoices(Protocol):
    """A file's definitions that may be shown whole in its outline (``reviewer.pack.defs.DefPlan``)."""

    weights: list[float]  # how much each matters to the task

    def cost(self, chosen: Sequence[int]) -> int:
        """Exact tokens of the file's block: its outline with the ``chosen`` definitions whole."""
        ...


State = tuple[Tier, frozenset[int]]  # a file's tier and, in an outline, the definitions shown whole
_NONE: frozenset[int] = frozenset()
_LISTED: State = ("listed", _NONE)


@dataclass(frozen=True)
class Step:
    path: str
    to: Tier  # "outline" or "full"
    efficiency: float
    unit: int = -1  # with "outline": this definition whole too (an index into the file's UnitChoices)


@dataclass
class Selection:
    tiers: dict[str, Tier]
    costs: dict[str, int]  # exact tokens of each shown file's block
    used: int  # exact tokens of all blocks
    budget: int  # tokens that were available for blocks
    reasons: dict[str, str] = field(default_factory=dict)
    units: dict[str, tuple[int, ...]] = field(default_factory=dict)  # path -> definitions shown whole


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
    units: Mapping[str, UnitChoices] | None = None,
    small: Sequence[str] = (),
) -> Selection:
    """Choose tiers for ``paths`` within ``budget`` tokens of file blocks (what the rest of the
    document costs already taken off). ``est_outline[p]`` is None when ``p`` has no useful
    outline. ``budget`` may be a function, called once the plan's files are prepared (its exact
    value may need the tokenizer); ``estimated_budget`` then stands in for it while planning.
    ``units``: for the files that may show some definitions whole in their outline, the exact
    cost of each choice and each definition's weight (``reviewer.pack.defs``). ``small``: small
    files that match the task, best first (``small_matches``), whole right after the focused ones
    within ``SMALL_SHARE`` of the budget."""
    exact = _Exact(costs)
    units = units or {}
    state: dict[str, State] = dict.fromkeys(paths, _LISTED)
    reasons: dict[str, str] = {}
    focused_order = [p for p in ranking.focused if p in state]
    focused = set(focused_order)

    def est(path: str, tier: Tier) -> int:
        if tier == "full":
            return est_full[path]
        if tier == "outline":
            return est_outline[path] or est_full[path]
        return 0

    def est_state(path: str, st: State) -> int:
        if st[1]:
            return units[path].cost(sorted(st[1]))
        return est(path, st[0])

    def cost(path: str, st: State) -> int | None:
        """Exact tokens of ``path`` in state ``st`` (None: not available)."""
        if st[0] == "listed":
            return 0
        if st[1]:
            return units[path].cost(sorted(st[1]))
        return exact.get(path, st[0])

    # 1. plan with estimates: focused files whole first, then steps by value per token
    est_left = estimated_budget if estimated_budget is not None else (budget if isinstance(budget, int) else 0)
    est_total = est_left
    wanted: list[tuple[str, Tier]] = []
    planned: dict[str, State] = {}
    for p in focused_order:
        wanted.append((p, "full"))
        if est(p, "full") <= est_left and not _partial_first(est(p, "full"), est_total):
            est_left -= est(p, "full")
            planned[p] = ("full", _NONE)
        elif est_outline.get(p) is not None:
            wanted.append((p, "outline"))
            est_left -= min(est_left, est(p, "outline"))
            planned[p] = ("outline", _NONE)
    steps = _steps(paths, ranking.scores, est_full, est_outline, units)
    plan: list[Step] = []
    for step in steps:
        current = planned.get(step.path, _LISTED)
        new = _advance(current, step)
        if new is None:
            continue
        delta = est_state(step.path, new) - est_state(step.path, current)
        if delta <= est_left:
            plan.append(step)
            planned[step.path] = new
            est_left -= delta
    # 2. prepare and count everything planned at once (in worker processes when it is a lot)
    exact.need([*wanted, *((p, "full") for p in small), *((p, st[0]) for p, st in planned.items() if not st[1])])
    left = budget() if callable(budget) else budget
    block_budget = left

    # 3a. focused files, whole when they fit, unless one would take over FOCUS_WHOLE_SHARE of the
    # budget: that one goes as its outline (with its matching definitions whole, for a large
    # file that has some) and the steps below may still make it whole, by value per token
    for p in focused_order:
        full = exact.get(p, "full")
        if full is not None and full <= left and not _partial_first(full, block_budget):
            state[p], left = ("full", _NONE), left - full
            reasons[p] = "focused: whole"
            continue
        why = "whole does not fit" if full is None or full > left else f"whole: {full:,} tokens, much of the budget"
        outline = exact.get(p, "outline") if est_outline.get(p) is not None else None
        if outline is not None and outline <= left:
            st: State = _best_units(units[p], outline, left) if p in units else ("outline", _NONE)
            state[p] = st
            left -= cost(p, st) or 0
            reasons[p] = f"focused: outline{' with definitions whole' if st[1] else ''} ({why})"
        else:
            reasons[p] = "focused, but even its outline does not fit"
    # 3a'. small files that match the task, whole, within a share of the budget: a big budget
    # never leaves one out for the sake of a large file that merely ranks high
    room = int(SMALL_SHARE * block_budget)
    for p in small:
        if state.get(p) != _LISTED:
            continue
        full = exact.get(p, "full")
        if full is None or full > min(left, room):
            continue
        state[p], left, room = ("full", _NONE), left - full, room - full
        reasons[p] = "whole: a small file that matches the task"
    fixed = dict(state)  # what the focus decided; the steps below start from it

    # 3b. apply the plan with exact costs, undoing from the end while over the budget
    taken: list[tuple[Step, State]] = []  # (step, state before it)
    for step in plan:
        before = state[step.path]
        new = _advance(before, step)
        if new is None:
            continue
        state[step.path] = new
        taken.append((step, before))
    used = sum(cost(p, st) or 0 for p, st in state.items() if st != fixed[p])
    used -= sum(cost(p, fixed[p]) or 0 for p, st in state.items() if st != fixed[p])
    while used > left and taken:
        step, before = taken.pop()
        used -= (cost(step.path, state[step.path]) or 0) - (cost(step.path, before) or 0)
        state[step.path] = before
    # an option that turned out unavailable (no exact cost) is not taken; it counted as 0 above
    for p, st in list(state.items()):
        if st != fixed[p] and st[0] != "listed" and cost(p, st) is None:
            used -= (cost(p, st) or 0) - (cost(p, fixed[p]) or 0)
            state[p] = fixed[p]
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
            new = _advance(state[s.path], s)
            if new is not None and not new[1] and est(s.path, s.to) - est_state(s.path, state[s.path]) <= left * 1.5 + 64:
                batch.append((s.path, s.to))
                if state[s.path][0] != "listed" and not state[s.path][1]:
                    batch.append((s.path, state[s.path][0]))
            j += 1
        exact.need(batch)
        for s in rest[pos:j]:
            current = state[s.path]
            new = _advance(current, s)
            if new is None or (not new[1] and (s.path, s.to) not in exact.known):
                continue
            after = cost(s.path, new)
            if after is None:
                continue
            delta = after - (cost(s.path, current) or 0)
            if delta <= left:
                state[s.path] = new
                left -= delta
        pos = j

    tiers: dict[str, Tier] = {p: st[0] for p, st in state.items()}
    chosen_costs = {p: cost(p, st) or 0 for p, st in state.items() if st[0] != "listed"}
    chosen_units = {p: tuple(sorted(st[1])) for p, st in state.items() if st[1]}
    for p, t in tiers.items():
        if p in reasons and state[p] == fixed[p]:
            continue
        if t == "full":
            why = "whole: high value per token"
        elif state[p][1]:
            why = "outline with definitions whole: value per token"
        elif t == "outline":
            why = "outline: value per token"
        else:
            why = "listed: over budget"
        reasons[p] = f"focused, then {why}" if p in focused else why
    return Selection(tiers, chosen_costs, sum(chosen_costs.values()), block_budget, reasons, chosen_units)


def small_matches(matches: Mapping[str, float], est_full: Mapping[str, int], budget: int) -> list[str]:
    """Files under ``SMALL_TOKENS`` of the budget whose match to the task (0..1, relative to the
    best match) is at least ``SMALL_MATCH``, best match first, as many as ``SMALL_SHARE`` of the
    budget holds by estimate."""
    limit = budget * SMALL_TOKENS
    found = sorted((p for p, m in matches.items() if m >= SMALL_MATCH and est_full.get(p, limit + 1) <= limit),
                   key=lambda p: (-matches[p], p))
    out: list[str] = []
    room = SMALL_SHARE * budget
    for p in found:
        if est_full[p] <= room:
            out.append(p)
            room -= est_full[p]
    return out


def _advance(current: State, step: Step) -> State | None:
    """The state ``step`` leads to from ``current``, or None when it does not apply."""
    tier, chosen = current
    if step.to == "full":
        return None if tier == "full" else ("full", _NONE)
    if step.unit < 0:
        return ("outline", chosen) if tier == "listed" else None
    if tier == "full" or step.unit in chosen:
        return None
    return ("outline", chosen | {step.unit})


def _partial_first(full: int, budget: int) -> bool:
    """A focused file that alone would take over ``FOCUS_WHOLE_SHARE`` of the budget is not
    packed whole first."""
    return full > FOCUS_WHOLE_SHARE * budget


def _best_units(plan: UnitChoices, outline: int, left: int) -> State:
    """The outline with its heaviest definitions (at most ``FOCUS_UNITS``, each weighing at least
    ``FOCUS_UNIT_WEIGHT`` and half the heaviest) that fit in ``left``; the fit may add more later,
    by value per token."""
    chosen: frozenset[int] = _NONE
    floor = max(FOCUS_UNIT_WEIGHT, 0.5 * max(plan.weights, default=0.0))
    for k in sorted(range(len(plan.weights)), key=lambda k: (-plan.weights[k], k))[:FOCUS_UNITS]:
        if plan.weights[k] < floor:
            break
        more = chosen | {k}
        if plan.cost(sorted(more)) <= left:
            chosen = more
    return ("outline", chosen)


def _rank(tier: Tier) -> int:
    return {"listed": 0, "outline": 1, "full": 2}[tier]


def _cost(exact: _Exact, path: str, tier: Tier) -> int:
    if tier == "listed":
        return 0
    c = exact.get(path, tier)
    return c if c is not None else 0


def _steps(
    paths: Sequence[str], scores: Mapping[str, float], est_full: Mapping[str, int],
    est_outline: Mapping[str, int | None], units: Mapping[str, UnitChoices],
) -> list[Step]:
    out: list[Step] = []
    for p in paths:
        value = max(scores.get(p, 0.0), 1e-9) ** VALUE_POWER
        full = max(1, est_full[p])
        outline = est_outline.get(p)
        plan = units.get(p)
        if plan is not None and outline is not None:
            # the outline, each matching definition whole (its share of the body's value, by
            # weight, against the rest of the file), then the rest of the file
            outline = max(1, outline)
            base = plan.cost([])
            total = sum(plan.weights) + REST_WEIGHT
            out.append(Step(p, "outline", OUTLINE_VALUE * value / outline))
            for k, w in enumerate(plan.weights):
                extra = max(1, plan.cost([k]) - base)
                out.append(Step(p, "outline", (1 - OUTLINE_VALUE) * value * w / total / extra, k))
            rest = max(1, full - plan.cost(list(range(len(plan.weights)))))
            out.append(Step(p, "full", (1 - OUTLINE_VALUE) * value * REST_WEIGHT / total / rest))
        elif outline is not None and outline < _OUTLINE_WORTH * full:
            outline = max(1, outline)
            out.append(Step(p, "outline", OUTLINE_VALUE * value / outline))
            out.append(Step(p, "full", (1 - OUTLINE_VALUE) * value / max(1, full - outline)))
        else:
            out.append(Step(p, "full", value / full))
    # most efficient first; a file's outline step before its full step when they tie
    out.sort(key=lambda s: (-s.efficiency, s.path, _rank(s.to), s.unit))
    return out
