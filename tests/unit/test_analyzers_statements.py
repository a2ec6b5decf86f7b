"""Statement units, merging by statement, cross-tool suppression comments: pure functions."""

from __future__ import annotations

from reviewer.analyzers.merge import Placed, one_per_statement
from reviewer.analyzers.refine import suppressed
from reviewer.analyzers.statements import python_units
from reviewer.findings import Finding

SOURCE = '''\
import os

@app.route(
    "/x")
def view(a,
         b=None):
    x = call(
        1,
        password="hunter22",
    )
    if x: return eval(y)
    try:
        pass
    except (ValueError,
            KeyError):
        raise
    else:
        z = 1
    match x:
        case {"a": 1}:
            pass
    # a comment
    return {
        "k": 1,
    }
'''


def test_units_are_statements_and_compound_headers() -> None:
    units = python_units(SOURCE.split("\n"))
    assert units is not None
    expected = {
        1: (1, 1),
        2: None,  # blank
        3: (3, 4), 4: (3, 4),  # a decorator over two lines
        5: (5, 6), 6: (5, 6),  # a def header over two lines, not its body
        7: (7, 10), 9: (7, 10), 10: (7, 10),  # a call over four lines
        11: (11, 11),  # `if x: return y`: the inner statement's line
        12: (12, 12), 13: (13, 13),
        14: (14, 15), 15: (14, 15),  # an except clause over two lines
        16: (16, 16), 17: None, 18: (18, 18),  # `else:` belongs to no unit
        19: (19, 19), 20: (20, 20), 21: (21, 21),  # match header, case header, its body
        22: None,  # a comment
        23: (23, 25), 25: (23, 25),
    }  # fmt: skip
    for line, unit in expected.items():
        assert units[line] == unit, line


def test_units_of_a_file_that_does_not_parse() -> None:
    assert python_units(["def f(:", "    pass"]) is None
    assert python_units([]) == [None]


def _f(rule: str, start: int, end: int, severity: str = "medium", category: str = "security",
       cwe: str | None = "CWE-89", source: str = "bandit", path: str = "a.py") -> Finding:
    return Finding(category=category, severity=severity, confidence=0.7, path=path, start_line=start,
                   end_line=end, title=f"{rule} title", explanation=f"{rule} says so.",
                   evidence=f"code {start}-{end}", cwe=cwe, source=source, rule=rule)


def test_one_finding_per_statement_and_category() -> None:
    placed = [
        Placed(_f("B608", 5, 8, "high"), (5, 8), 0),
        Placed(_f("S608", 5, 8, "high", source="ruff"), (5, 8), 1),
        Placed(_f("py-x", 5, 8, "medium", cwe="CWE-614", source="ast-grep"), (5, 8), 2),
        Placed(_f("F841", 5, 8, "low", category="refactor", cwe=None, source="ruff"), (5, 8), 1),
        Placed(_f("B608", 20, 20, "high"), (20, 20), 0),  # another statement
        Placed(_f("B608", 5, 8, "high", path="b.py"), (5, 8), 0),  # another file
    ]
    merged = one_per_statement(placed)
    assert [(f.path, f.start_line, f.category.value, f.rule) for f in merged] == [
        ("a.py", 5, "refactor", "F841"), ("a.py", 5, "security", "B608"), ("a.py", 20, "security", "B608"),
        ("b.py", 5, "security", "B608"),
    ]  # fmt: skip
    lead = merged[1]
    assert lead.explanation == (
        "B608 says so.\nAlso reported by ast-grep py-x, ruff S608.\nAlso on this statement: py-x title (CWE-614)."
    )
    # the worst severity leads, whatever the order; a lead without a CWE takes another's
    swapped = one_per_statement([
        Placed(_f("S608", 5, 8, "medium", cwe=None, source="ruff"), (5, 8), 0),
        Placed(_f("B608", 5, 8, "high", cwe=None), (5, 8), 1),
        Placed(_f("py-y", 5, 8, "low", cwe="CWE-89", source="ast-grep"), (5, 8), 2),
    ])
    assert len(swapped) == 1 and (swapped[0].rule, swapped[0].cwe) == ("B608", "CWE-89")


def test_overlapping_lines_merge_where_there_are_no_statements() -> None:
    merged = one_per_statement([
        Placed(_f("js-a", 3, 6, source="ast-grep", path="a.js"), (3, 6), 0),
        Placed(_f("secret", 5, 5, "high", source="secrets", path="a.js"), (5, 5), 1),
        Placed(_f("js-b", 7, 7, source="ast-grep", path="a.js"), (7, 7), 0),
    ])
    # the worst leads and keeps its own lines; the other's place is named
    assert [(f.rule, f.start_line, f.severity.value) for f in merged] == [("secret", 5, "high"), ("js-b", 7, "medium")]
    assert merged[0].explanation.endswith("Also reported by ast-grep js-a.\nAlso on this statement: js-a title (line 3).")


def test_each_tool_honours_the_other_tools_comment() -> None:
    assert suppressed("bandit", "B608", 'q = "SELECT %s" % x  # noqa: S608')
    assert suppressed("bandit", "B608", 'q = "SELECT %s" % x  # noqa')
    assert not suppressed("bandit", "B608", 'q = "SELECT %s" % x  # noqa: E501')
    assert suppressed("ruff", "S608", 'q = "SELECT %s" % x  # nosec B608')
    assert suppressed("ruff", "S608", 'q = "SELECT %s" % x  # nosec')
    assert not suppressed("ruff", "S608", 'q = "SELECT %s" % x  # nosec B602')
    assert not suppressed("ruff", "F841", "x = 1  # nosec")  # not a bandit twin
    assert suppressed("ast-grep", "py-insecure-random-for-secret", "t = random.random()  # noqa: py-insecure-random-for-secret")
    assert not suppressed("ast-grep", "js-eval-of-value", "eval(x) // nosec")


def test_the_same_code_twice_in_a_file_is_one_finding_naming_both_places() -> None:
    from reviewer.analyzers.merge import merge_same

    first = _f("js-eval", 307, 307, "high", source="ast-grep", path="a.js")
    again = first.model_copy(update={"start_line": 329, "end_line": 329})
    (merged,) = merge_same([first, again])
    assert merged.start_line == 307 and merged.fingerprint == first.fingerprint
    assert merged.explanation.endswith("The same code also stands at line 329 of this file.")
    assert "Also reported by" not in merged.explanation
