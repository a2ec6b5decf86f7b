"""What we post: comment bodies, suggestion fences, the summary and its hidden state, scrubbing."""

from __future__ import annotations

import base64
import json

from reviewer.findings import Finding
from reviewer.forges.bundle import Bundle
from reviewer.forges.markers import (
    OpenItem,
    State,
    is_summary,
    read_state,
    write_state,
)
from reviewer.forges.scrub import Scrubber
from reviewer.forges.summary import LIMIT, SummaryInput, render_summary

SHA = "a" * 40


def f(**kw: object) -> Finding:
    base: dict[str, object] = dict(category="bug", severity="high", confidence=0.8, path="a.py", start_line=3,
                                   end_line=4, title="Off by one", explanation="The loop runs once too often.",
                                   evidence="for i in range(n + 1):\n    x += a[i]")
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_state_round_trip_and_hostile_states() -> None:
    item = OpenItem("0123456789abcdef", "a.py", 3, "Off by one", "high", "bug", "fedcba9876543210", 2, True)
    marker = write_state(State(SHA, [item]))
    assert read_state("text\n" + marker) == State(SHA, [item])

    def encoded(obj: object) -> str:
        return f"<!-- reviewer:state:v1 {base64.b64encode(json.dumps(obj).encode()).decode()} -->"

    assert read_state("no state") is None
    assert read_state("<!-- reviewer:state:v1 !!notbase64 -->") is None
    assert read_state(encoded([1, 2])) is None
    bad_items = [{"fp": "zz"}, {**item.__dict__, "fp": "XYZ"}, {**item.__dict__, "severity": "approve"},
                 {**item.__dict__, "n": 10**9}, "str", None]
    state = read_state(encoded({"head": "not a sha; rm -rf /", "items": [*bad_items, item.__dict__]}))
    assert state is not None and state.head is None and state.items == [item]


def test_state_fits_its_budget() -> None:
    items = [OpenItem(f"{i:016x}", "p/" * 100 + "a.py", i, "T" * 120, "low", "style", "f" * 16, 1, False)
             for i in range(300)]
    marker = write_state(State(SHA, items))
    assert len(marker) <= 24_000
    kept = read_state(marker)
    assert kept is not None and 0 < len(kept.items) < 300 and kept.items[0] == items[0]


def test_summary_stays_within_the_limit_with_many_long_findings() -> None:
    findings = [f(title=f"Finding {i} " + "t" * 180, path=f"src/m{i}.py", explanation="long " * 2_000, evidence=f"x{i} = {i}\n" * 50,
                  suggestion="y = 2\n" * 200) for i in range(400)]
    bundle = Bundle("github", "o/r", 1, SHA, "b" * 40, "c" * 40, findings=findings, model_used=True,
                    files_full=[f"src/m{i}.py" for i in range(3000)], files_listed=[f"x/{i}" for i in range(3000)])
    body = render_summary(SummaryInput(bundle, "GitHub", outside=[(x, "outside the diff") for x in findings],
                                       state=State("b" * 40, [])))
    assert len(body) <= LIMIT
    assert is_summary(body) and read_state(body) is not None
    assert "### Outside the diff (400)" in body and "more (all of them are in the SARIF and Markdown reports)" in body
    assert "Shortened to fit" in body


def test_scrubber() -> None:
    s = Scrubber(["sk-live-secret-value-123", None, "short"])
    s.add("glpat-" + "x" * 20)
    text = "a sk-live-secret-value-123 b ghp_" + "A" * 36 + " c github_pat_" + "B" * 30 + " d glpat-" + "x" * 20
    out = s(text)
    assert "sk-live" not in out and "ghp_" not in out and "github_pat_" not in out and "glpat-" not in out
    assert "short" in s("short"), "values under 8 characters are not treated as secrets"
    assert "sk-live" not in repr(s) and "glpat" not in repr(s)
