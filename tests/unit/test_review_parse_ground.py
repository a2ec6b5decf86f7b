"""Parsing the model's untrusted answer and grounding its findings in the real code."""

from __future__ import annotations

import json

import pytest

from reviewer.findings import Finding
from reviewer.review.ground import ground, locate, merge
from reviewer.review.parse import ParseError, parse_answer

FILE = [
    "import os",
    "",
    "def run(cmd):",
    "    # run it",
    "    os.system(cmd)",
    "    return  True",
    "",
    "def other():",
    "    os.system(cmd)",
]


def item(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"category": "security", "severity": "high", "confidence": 0.8, "path": "app.py",
                               "start_line": 5, "end_line": 5, "title": "shell", "explanation": "x",
                               "evidence": "os.system(cmd)"}
    base.update(kw)
    return base


def finding(**kw: object) -> Finding:
    return Finding(**item(**kw))  # type: ignore[arg-type]


# -- parse ------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrap", [
    "{}",
    "Sure! Here you go:\n```json\n{}\n```\nAnything else?",
    "```\n{}\n```",
    "prose {} trailing prose",
])
def test_fences_and_prose(wrap: str) -> None:
    text = wrap.replace("{}", json.dumps({"findings": [item()]}))
    parsed = parse_answer(text)
    assert [f.title for f in parsed.findings] == ["shell"] and not parsed.repaired


def test_braces_inside_strings_do_not_confuse_extraction() -> None:
    text = "note: {not json}\n" + json.dumps({"findings": [item(explanation="use {cmd} } carefully")]})
    assert parse_answer(text).findings[0].explanation == "use {cmd} } carefully"


def test_broken_json_is_repaired() -> None:
    text = json.dumps({"findings": [item()]})[:-2] + ",]}"  # trailing comma, then cut
    text = text.replace('"severity": "high"', "'severity': 'high'")
    parsed = parse_answer(text)
    assert parsed.repaired and parsed.findings[0].severity.value == "high"


@pytest.mark.parametrize("text", ["", "   ", "I found no problems.", "[1, 2, 3]"])
def test_nothing_readable(text: str) -> None:
    with pytest.raises(ParseError):
        parse_answer(text)


def test_each_finding_is_validated_alone() -> None:
    parsed = parse_answer(json.dumps({"findings": [
        item(), "a string", item(severity="catastrophic"), item(confidence=7), item(start_line="five"),
        item(cwe=89, title="int cwe"), item(cwe="cwe 22 path traversal", title="text cwe"),
    ], "answer": "  because  ", "hints": [{"id": "H1"}]}))
    assert [f.title for f in parsed.findings] == ["shell", "int cwe", "text cwe"]
    assert [f.cwe for f in parsed.findings] == [None, "CWE-89", "CWE-22"]
    assert [d.reason.split(":")[0] for d in parsed.dropped] == ["invalid-schema"] * 4
    assert parsed.answer == "because" and parsed.hints == [{"id": "H1"}]
    assert all(f.source == "model" and f.fingerprint for f in parsed.findings)


def test_a_sloppy_end_line_is_forgiven_a_bad_start_line_is_not() -> None:
    parsed = parse_answer(json.dumps({"findings": [
        item(end_line=0, title="zero end"), item(end_line=2, title="end before start"),
        {k: v for k, v in item(title="no end").items() if k != "end_line"},
        item(start_line=0, title="zero start"), item(start_line="x", title="text start"),
    ]}))
    assert [(f.title, f.end_line) for f in parsed.findings] == [("zero end", 5), ("end before start", 5), ("no end", 5)]
    assert [d.reason for d in parsed.dropped] == ["invalid-schema: start_line"] * 2


def test_findings_not_a_list() -> None:
    with pytest.raises(ParseError):
        parse_answer('{"findings": "none"}')


# -- ground -----------------------------------------------------------------------------------


def read(path: str) -> list[str] | None:
    return FILE if path == "app.py" else None


def test_evidence_is_found_and_lines_snapped() -> None:
    g = ground([finding(start_line=2, end_line=2)], {"app.py"}, read)
    (f,) = g.findings
    assert (f.start_line, f.end_line, f.evidence) == (5, 5, "    os.system(cmd)")


def test_the_occurrence_nearest_the_cited_line_wins() -> None:
    (f,) = ground([finding(start_line=9, end_line=9)], {"app.py"}, read).findings
    assert f.start_line == 9


def test_whitespace_and_line_number_prefixes_are_ignored() -> None:
    ev = "  4 |     # run it\n5 | os.system( cmd )\n6|return True"
    (f,) = ground([finding(start_line=4, evidence=ev)], {"app.py"}, read).findings
    assert (f.start_line, f.end_line) == (4, 6)
    assert f.evidence == "\n".join(FILE[3:6])


@pytest.mark.parametrize(("kw", "reason"), [
    ({"path": "other.py"}, "unknown-path"),
    ({"path": "../../etc/passwd"}, "unknown-path"),
    ({"start_line": 99, "end_line": 99}, "line-out-of-range"),
    ({"evidence": "subprocess.call(cmd, shell=True)"}, "evidence-not-found"),
    ({"evidence": "   \n...\n"}, "evidence-too-short"),
    ({"evidence": "}"}, "evidence-too-short"),
])
def test_ungrounded_findings_are_dropped_with_a_reason(kw: dict[str, object], reason: str) -> None:
    g = ground([finding(**kw)], {"app.py", "other.py"} - ({"other.py"} if kw.get("path") == "other.py" else set()), read)
    assert g.findings == [] and [d.reason for d in g.dropped] == [reason]


def test_unreadable_shown_file() -> None:
    g = ground([finding(path="gone.py")], {"gone.py"}, read)
    assert [d.reason for d in g.dropped] == ["unreadable"]


def test_evidence_far_from_the_cited_lines() -> None:
    lines = ["x = 1"] * 100 + ["eval(data)"]
    g = ground([finding(path="big.py", start_line=2, end_line=2, evidence="eval(data)")], {"big.py"},
               lambda p: lines)
    assert [d.reason for d in g.dropped] == ["evidence-far-from-lines"]


def test_rewrapped_evidence_is_still_found() -> None:
    lines = ["result = compute(alpha,", "                 beta)"]
    assert locate("result = compute(alpha, beta)", lines, 1) == (1, 2)


def test_duplicates_merge_by_fingerprint_keeping_the_worst() -> None:
    a = finding(severity="medium", title="a", start_line=5)
    b = finding(severity="critical", title="b", start_line=3)  # same code, wrong line: snapped, same fingerprint
    g = ground([a, b], {"app.py"}, read)
    assert [f.title for f in g.findings] == ["b"] and [d.reason for d in g.dropped] == ["duplicate"]
    merged, dups = merge([finding(category="bug"), finding(category="security")])
    assert len(merged) == 2 and dups == []  # category is part of the fingerprint
