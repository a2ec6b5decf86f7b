"""Definition-level packing: which definitions are offered, how they are weighed, and the fit
choosing a function whole over its whole file, never over the budget."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from reviewer.index import index_text
from reviewer.pack.defrank import UnitTask, messages, score_units
from reviewer.pack.defs import Unit, row_text, units_of
from reviewer.pack.fit import fit_budget
from reviewer.pack.render import Block, body
from tests.conftest import TableCosts as Costs
from tests.conftest import table_ranking as ranking

SOURCE = '''import os


class Request:
    """A request."""

    def __init__(self, hooks=None):
        self.hooks = hooks

    def register_hook(self, event, hook):
        """Properly register a hook."""
        if not callable(hook):
            raise ValueError("hook must be callable, got a list of hooks")
        self.hooks[event].append(hook)


class Empty(Exception):
    pass


def helper(x):
    return os.path.join(x, "y")
'''


def test_units_are_functions_methods_and_leaf_classes() -> None:
    ix = index_text("models.py", SOURCE)
    units = units_of(ix, SOURCE.count("\n"))
    assert [u.qualname for u in units] == ["Request.__init__", "Request.register_hook", "Empty", "helper"]
    hook = units[1]
    assert SOURCE.split("\n")[hook.start - 1].strip().startswith("def register_hook")
    assert SOURCE.split("\n")[hook.end - 1].strip() == "self.hooks[event].append(hook)"


def test_scores_follow_names_frames_messages_and_words() -> None:
    lines = SOURCE.split("\n")
    units = units_of(index_text("models.py", SOURCE), len(lines))
    by_name = {u.qualname: k for k, u in enumerate(units)}

    def weights(task: UnitTask) -> dict[str, float]:
        scored = score_units({"models.py": (lines, units)}, task)["models.py"]
        return {u.qualname: scored[k][0] for k, u in enumerate(units)}

    assert set(weights(UnitTask()).values()) == {0.0}
    named = weights(UnitTask(names={"register_hook": 1.0}))
    assert named["Request.register_hook"] > 0 and named["helper"] == 0
    qualified = weights(UnitTask(names={"register_hook": 1.0}, qualified={("Request", "register_hook")}))
    assert qualified["Request.register_hook"] > named["Request.register_hook"]
    line = units[by_name["helper"]].start + 1
    assert weights(UnitTask(frames={"models.py": [(line, 1.0)]}))["helper"] > 0
    quoted = weights(UnitTask(messages=messages('It fails with ValueError: hook must be callable, got a list')))
    assert quoted["Request.register_hook"] > 0 and quoted["Request.__init__"] == 0
    worded = weights(UnitTask(terms={"join": 2.0, "path": 1.0}))
    assert max(worded, key=lambda k: worded[k]) == "helper"


def test_messages_are_error_texts_and_quoted_phrases() -> None:
    text = 'Running it:\nValueError: could not convert the "x" value\nand the log says "the hook was not registered".'
    found = messages(text)
    assert ("could", "not", "convert", "the", "x", "value") in found
    assert ("the", "hook", "was", "not", "registered") in found
    assert messages("a 'short' one") == []


class Plan:
    """A file's outline with definitions that may be whole: cost of the outline plus each
    chosen definition (a definition's lines counted once)."""

    def __init__(self, outline: int, units: list[int], weights: list[float]) -> None:
        self.outline, self.units, self.weights = outline, units, weights

    def cost(self, chosen: Sequence[int]) -> int:
        return self.outline + sum(self.units[k] for k in set(chosen))


def test_the_matching_function_whole_instead_of_its_large_file() -> None:
    full = {"big.py": 20_000, "mid.py": 3_000, "small.py": 800}
    outline: dict[str, int | None] = {"big.py": 2_000, "mid.py": 400, "small.py": None}
    plans = {"big.py": Plan(2_000, [600, 900], [3.0, 0.5])}
    scores = {"big.py": 1.0, "mid.py": 0.6, "small.py": 0.5}
    sel = fit_budget(sorted(full), ranking(scores, ["big.py"]), full, outline, 7_000, Costs(full, outline), units=plans)
    assert sel.tiers["big.py"] == "outline" and 0 in sel.units["big.py"]
    assert sel.costs["big.py"] == plans["big.py"].cost(sel.units["big.py"])
    assert sel.used == sum(sel.costs.values()) <= 7_000
    assert "definitions whole" in sel.reasons["big.py"]
    # with room for it all, the file goes whole
    sel = fit_budget(sorted(full), ranking(scores, ["big.py"]), full, outline, 30_000, Costs(full, outline), units=plans)
    assert sel.tiers["big.py"] == "full" and "big.py" not in sel.units


def test_a_top_file_goes_whole_before_many_small_low_ones() -> None:
    # the best file, its matching definitions shown, competes for the rest of its body with
    # thirty small files far down the ranking: the room goes to the best file first
    full = {"best.py": 6_000, **{f"low{i:02d}.py": 300 for i in range(30)}}
    outline: dict[str, int | None] = {**dict.fromkeys(full, None), "best.py": 1_500}
    plans = {"best.py": Plan(1_500, [500, 500, 500], [3.0, 3.0, 2.0])}
    scores = {"best.py": 1.0, **{f"low{i:02d}.py": 0.17 for i in range(30)}}
    sel = fit_budget(sorted(full), ranking(scores), full, outline, 9_000, Costs(full, outline), units=plans)
    assert sel.tiers["best.py"] == "full", sel.reasons["best.py"]
    assert sel.used <= 9_000 and sum(t == "full" for t in sel.tiers.values()) > 5


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("budget", [3_000, 32_000, 128_000])
def test_never_over_with_definitions(seed: int, budget: int) -> None:
    rng = random.Random(seed)
    full = {f"f{i:03d}.py": rng.randint(100, 30_000) for i in range(150)}
    outline: dict[str, int | None] = {p: max(30, c // rng.randint(4, 10)) for p, c in full.items()}
    plans = {}
    for p in sorted(full)[:40]:
        n = rng.randint(1, 6)
        plans[p] = Plan(outline[p] or 0, [rng.randint(20, max(21, full[p] // 8)) for _ in range(n)],
                        [rng.choice([0.2, 0.6, 2.0, 3.5]) for _ in range(n)])
    scores = {p: rng.random() ** 2 for p in full}
    focused = [p for p in sorted(full)[:60] if rng.random() < 0.1]
    sel = fit_budget(sorted(full), ranking(scores, focused), full, outline, budget, Costs(full, outline), units=plans)
    for p, t in sel.tiers.items():
        if t == "listed":
            continue
        want = full[p] if t == "full" else plans[p].cost(sel.units[p]) if p in sel.units else outline[p]
        assert sel.costs[p] == want
    assert sel.used == sum(sel.costs.values()) <= budget
    assert sel.used >= 0.97 * budget
    assert all(sel.tiers[p] == "outline" for p in sel.units)


def test_unit_of_a_class_with_methods_is_its_methods() -> None:
    ix = index_text("a.py", SOURCE)
    assert "Request" not in [u.qualname for u in units_of(ix, 200)]
    assert Unit("helper", "function", 21, 22) in units_of(ix, 200)


def test_rows_render_as_the_body_does() -> None:
    numbered = [(1, "import os"), (0, ""), (10, "def f(x):"), (11, ""), (12, "    return x"), (0, "")]
    assert "".join(row_text(n, t) for n, t in numbered) == body(Block("m.py", "outline", 40, numbered))
