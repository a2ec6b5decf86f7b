"""Reporters on hand-made results: SARIF against the official schema, Markdown, rdjson, the terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
from rich.console import Console

from reviewer.findings import Finding
from reviewer.report import render
from reviewer.report.summary import count_line
from reviewer.report.terminal import print_estimate, print_report
from reviewer.review.model import Dropped, ReviewResult, Usage

SARIF_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json")
                          .read_text())


def f(**kw: object) -> Finding:
    base: dict[str, object] = {"category": "security", "severity": "high", "confidence": 0.9, "path": "app/db.py",
                               "start_line": 3, "end_line": 4, "title": "SQL injection", "explanation": "x",
                               "evidence": 'q = "SELECT %s" % name\ndb.execute(q)', "cwe": "CWE-89"}
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def result() -> ReviewResult:
    return ReviewResult(
        findings=[
            f(suggestion='db.execute("SELECT ?", (name,))'),
            f(category="bug", severity="medium", cwe=None, path="dir with space/ünï.py", title="[bold]not markup[/]",
              evidence="x = ```not a fence```", start_line=1, end_line=1),
            f(category="performance", severity="low", cwe=None, title="loop", evidence="for a in b:", source="ruff",
              rule="PERF401"),
        ],
        dropped=[Dropped("invented", "nope.py", 3, "unknown-path"), Dropped("dup", "app/db.py", 3, "duplicate")],
        notes=["a note"],
        usage=Usage(model="deepseek-v4-pro", calls=1, prompt_tokens=1000, cache_hit_tokens=600, cache_miss_tokens=400,
                    completion_tokens=50, reasoning_tokens=20, cost_usd=0.00123),
        model_used=True,
    )


def test_sarif_is_valid_with_rules_cwe_and_fingerprints() -> None:
    doc = json.loads(render(result(), "sarif"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"reviewer/security", "reviewer/bug", "ruff/PERF401"}
    assert "external/cwe/cwe-89" in rules["reviewer/security"]["properties"]["tags"]
    assert rules["reviewer/security"]["properties"]["security-severity"] == "8.0"
    res = run["results"]
    assert [r["level"] for r in res] == ["error", "warning", "note"]
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in res)
    assert res[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dir%20with%20space/%C3%BCn%C3%AF.py"
    assert len({r["partialFingerprints"]["reviewerFingerprint/v1"] for r in res}) == 3


def test_empty_sarif_is_valid() -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(render(ReviewResult(), "sarif")))


def test_markdown_fences_survive_backticks_in_code() -> None:
    md = render(result(), "markdown")
    assert md.startswith("# Review\n\n3 findings: 1 security, 1 bug, 1 performance (1 high, 1 medium, 1 low).")
    assert "````\nx = ```not a fence```\n````" in md
    assert "1 duplicate, 1 unknown-path" in md and "cost $0.0012" in md


def test_rdjson_replaces_whole_lines() -> None:
    doc = json.loads(render(result(), "rdjson"))
    d = doc["diagnostics"][0]
    assert d["severity"] == "ERROR" and d["code"]["value"] == "reviewer/security"
    assert d["location"]["range"] == {"start": {"line": 3}, "end": {"line": 4}}
    sug = d["suggestions"][0]
    assert sug["range"] == {"start": {"line": 3, "column": 1}, "end": {"line": 5, "column": 1}}
    assert sug["text"].endswith("\n")


def test_json_carries_counts_drops_and_usage() -> None:
    doc = json.loads(render(result(), "json"))
    assert doc["counts"]["category"] == {"security": 1, "bug": 1, "performance": 1}
    assert doc["usage"]["reasoning_tokens"] == 20 and len(doc["dropped"]) == 2
    assert doc["model_used"] is True and doc["chunks"] == 0 and doc["truncated"] is False


def test_terminal_report() -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=120, color_system=None)
    print_report(console, result())
    out = buf.getvalue()
    assert count_line(result()) in out
    assert "[bold]not markup[/]" in out  # titles are escaped, not interpreted
    assert "Dropped: 1 duplicate, 1 unknown-path" in out
    assert "600 cache hit, 400 miss" in out and "(20 reasoning)" in out and "$0.0012" in out
    assert 'SELECT %s" % name' in out  # the evidence, highlighted


def many() -> ReviewResult:
    """120 findings of 14 kinds, 40 of them in tests and docs."""
    findings = [f(path=f"app/m{i}.py", start_line=i + 1, end_line=i + 1, evidence=f"x{i} = 1") for i in range(30)]
    findings += [f(severity="medium", title=f"kind {k}", cwe=None, path=f"app/k{k}_{i}.py", evidence="y = 2",
                   start_line=1, end_line=1) for k in range(12) for i in range(4)]
    findings += [f(severity="low", title="Hard-coded password", path=f"tests/test_{i}.py", evidence="pw = 3",
                   start_line=1, end_line=1) for i in range(30)]
    findings += [f(severity="low", title="Example secret", path=f"docs/page{i}.md", evidence="s = 4",
                   start_line=1, end_line=1) for i in range(10)]
    findings += [f(severity="info", title="style", path="app/z.py", start_line=i + 1, end_line=i + 1,
                   evidence=f"z{i}") for i in range(2)]
    return ReviewResult(findings=findings, model_used=False)


def test_terminal_report_fits_a_screen() -> None:
    buf = io.StringIO()
    print_report(Console(file=buf, width=100, color_system=None), many())
    out = buf.getvalue()
    lines = out.splitlines()
    assert len(lines) <= 45, len(lines)
    assert max(len(line) for line in lines) <= 100
    flat = " ".join(out.split())  # the sentences, whatever the width wrapped
    assert "120 findings" in lines[1] and "40 of them in tests, docs, examples or CI files" in flat
    # a row per kind, worst first, counted, with a place; the smallest kinds summed up
    rows = [line for line in lines if line.startswith("│ ")]
    assert rows[0].split("│")[1:4] == [" high     ", "   30 ", " SQL injection (CWE-89)" + " " * (len(rows[0].split("│")[3]) - 23)]
    assert "app/m0.py:1 +29 more" in rows[0]
    assert "in 6 more kinds" in out  # 1 + 12 + 1 kinds in the code, 8 rows shown
    assert out.count("╭─") == 3  # the worst three in full
    assert "Apart: 40 in 30 tests, 10 documentation (at most low): 30 Hard-coded password, 10 Example secret." in flat
    assert "3 of 120 findings shown in full; --all prints every one here" in flat


def test_terminal_report_says_where_the_rest_was_written_and_all_shows_everything() -> None:
    buf = io.StringIO()
    print_report(Console(file=buf, width=100, color_system=None), many(), written="review.md")
    flat = " ".join(buf.getvalue().split())
    assert "3 of 120 findings shown in full; all 120 are in review.md (--all prints them here)." in flat
    buf = io.StringIO()
    print_report(Console(file=buf, width=100, color_system=None), many(), show_all=True)
    out = buf.getvalue()
    assert out.count("╭─") == 120 and "shown in full" not in out


def test_terminal_estimate_says_the_price_tier() -> None:
    buf = io.StringIO()
    print_estimate(Console(file=buf, width=120, color_system=None),
                   {"backend": "deepseek", "model": "deepseek-flash", "context_window": 1_048_576,
                    "prompt_tokens": 1234, "pack_tokens": 1000, "answer_tokens_assumed": 8192,
                    "cost_usd_cache_miss": 0.01, "cost_usd_cache_hit": 0.005, "priced": True,
                    "price_tier": "off-peak"})
    out = buf.getvalue()
    assert "1,234" in out and "$0.0100 (off-peak prices, now)" in out
