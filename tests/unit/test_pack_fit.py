"""Budget fitting: never over, nearly full, focused files whole first, estimates only order."""

from __future__ import annotations

import random

import pytest

from reviewer.pack.fit import fit_budget
from tests.conftest import TableCosts as Costs
from tests.conftest import table_ranking as ranking


def repo(n: int, seed: int) -> tuple[dict[str, int], dict[str, int | None], dict[str, float]]:
    rng = random.Random(seed)
    full = {f"f{i:04d}.py": rng.randint(30, 20_000) for i in range(n)}
    outline: dict[str, int | None] = {p: (max(20, c // rng.randint(3, 12)) if rng.random() < 0.8 else None)
                                      for p, c in full.items()}
    scores = {p: rng.random() ** 3 for p in full}
    return full, outline, scores


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("budget", [2_000, 32_000, 128_000, 1_000_000])
@pytest.mark.parametrize("bias", [0.6, 1.0, 1.7])  # estimates too low, right, too high
def test_never_over_and_nearly_full(seed: int, budget: int, bias: float) -> None:
    full, outline, scores = repo(400, seed)
    est_full = {p: int(c * bias) for p, c in full.items()}
    est_outline = {p: (int(c * bias) if c is not None else None) for p, c in outline.items()}
    costs = Costs(full, outline)
    sel = fit_budget(sorted(full), ranking(scores), est_full, est_outline, budget, costs)
    used = sum(full[p] if t == "full" else outline[p] for p, t in sel.tiers.items() if t != "listed")  # type: ignore[misc]
    assert used == sel.used <= budget
    if sum(full.values()) > budget:
        assert used >= 0.97 * budget, (used, budget)
    # nothing shown without an exact count, no outline for a file that has none
    assert all(outline[p] is not None for p, t in sel.tiers.items() if t == "outline")


def test_whole_repository_fits_whole() -> None:
    full = {"a.py": 100, "b.py": 200, "c.py": 50}
    sel = fit_budget(sorted(full), ranking({"a.py": 1.0, "b.py": 0.5, "c.py": 0.1}), full,
                     dict.fromkeys(full, 10), 1_000, Costs(full, dict.fromkeys(full, 10)))
    assert set(sel.tiers.values()) == {"full"} and sel.used == 350


def test_focused_whole_first_then_value_per_token() -> None:
    full = {"big_focus.py": 5_000, "hub.py": 3_000, "leaf.py": 3_000, "tiny.py": 100}
    outline: dict[str, int | None] = {"big_focus.py": 400, "hub.py": 300, "leaf.py": 300, "tiny.py": None}
    scores = {"big_focus.py": 0.1, "hub.py": 1.0, "leaf.py": 0.01, "tiny.py": 0.5}
    sel = fit_budget(sorted(full), ranking(scores, ["big_focus.py"]), full, outline, 8_500, Costs(full, outline))
    assert sel.tiers["big_focus.py"] == "full" and sel.reasons["big_focus.py"] == "focused: whole"
    assert sel.tiers["hub.py"] == "full"
    assert sel.tiers["tiny.py"] == "full"
    assert sel.tiers["leaf.py"] == "outline"
    # a focused file too big to go whole goes as its outline
    sel = fit_budget(sorted(full), ranking(scores, ["big_focus.py"]), full, outline, 1_000, Costs(full, outline))
    assert sel.tiers["big_focus.py"] == "outline" and "whole does not fit" in sel.reasons["big_focus.py"]


def test_only_what_may_be_shown_is_prepared() -> None:
    full, outline, scores = repo(2_000, 1)
    costs = Costs(full, outline)
    fit_budget(sorted(full), ranking(scores), full, outline, 50_000, costs)
    asked = {p for p, _ in costs.asked}
    assert len(asked) < 400  # of 2,000 files, about 20 MB


def test_budget_given_late() -> None:
    full = {"a.py": 100, "b.py": 200}
    calls = []

    def late() -> int:
        calls.append(1)
        return 250

    sel = fit_budget(sorted(full), ranking({"a.py": 1.0, "b.py": 0.9}), full, {"a.py": None, "b.py": None}, late,
                     Costs(full, {"a.py": None, "b.py": None}), estimated_budget=1_000)
    assert calls == [1] and sel.used <= 250 and sel.budget == 250
