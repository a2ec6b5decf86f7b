"""Analyzer plumbing without the tools: mapping tables, name resolution, path handling, merging."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.analyzers import ANALYZERS, resolve_names
from reviewer.analyzers import tables as tables_module
from reviewer.analyzers.base import balanced, chunked, one_line, relative_to_root
from reviewer.analyzers.run import merge_same
from reviewer.analyzers.tables import classify, section
from reviewer.errors import InputError
from reviewer.findings import Finding


@pytest.mark.parametrize(
    ("analyzer", "rule", "expected"),
    [
        # ruff's flake8-bandit rules read bandit's rows: both tools agree
        ("ruff", "S608", ("security", "high", "CWE-89")),
        ("ruff", "S307", ("security", "high", "CWE-94")),
        ("ruff", "S602", ("security", "high", "CWE-78")),
        ("ruff", "S324", ("security", "low", "CWE-328")),
        ("ruff", "S105", ("security", "medium", "CWE-798")),
        ("ruff", "S113", ("security", "medium", "CWE-1088")),
        ("ruff", "S112", ("security", "medium", None)),  # no bandit row: ruff's S row
        ("ruff", "F841", ("refactor", "low", None)),
        ("ruff", "F821", ("bug", "high", None)),
        ("ruff", "F706", ("bug", "high", None)),  # prefix F7
        ("ruff", "F632", ("bug", "medium", None)),  # prefix F6
        ("ruff", "B006", ("bug", "low", None)),  # py-mutable-default-mutated: the changed ones
        ("ruff", "B017", ("bug", "low", None)),  # prefix B
        ("ruff", "PERF401", ("performance", "low", None)),
        ("ruff", "invalid-syntax", ("bug", "high", None)),
        ("ruff", "ZZZ123", ("style", "info", None)),  # default row
        ("bandit", "B608", ("security", "high", "CWE-89")),
        ("secrets", "password-or-key", ("security", "high", "CWE-798")),
        ("secrets", "private-key", ("security", "critical", "CWE-321")),
        ("secrets", "github-token", ("security", "high", "CWE-798")),
    ],
)
def test_classify_rows(analyzer: str, rule: str, expected: tuple[str, str, str | None]) -> None:
    got = classify(analyzer, rule)
    assert (got.category, got.severity, got.cwe) == expected
    assert 0.0 <= got.confidence <= 1.0


# The CWE of every row that names one, as MITRE defines the weakness the rule finds (why, per
# row: the comments in tables.toml and the ast-grep rule files).
CWE_ROWS = {
    ("bandit", "B102"): ("CWE-94", ("CWE-95",)),  # exec: code injection; eval injection related
    ("bandit", "B307"): ("CWE-94", ("CWE-95",)),  # eval: the same
    ("bandit", "B104"): ("CWE-1327", ()),  # bind all interfaces (bandit: CWE-605, another weakness)
    ("bandit", "B105"): ("CWE-798", ()),  # hard-coded credentials
    ("bandit", "B106"): ("CWE-798", ()),
    ("bandit", "B107"): ("CWE-798", ()),
    ("bandit", "B108"): ("CWE-377", ()),  # insecure temporary file
    ("bandit", "B113"): ("CWE-1088", ()),  # remote resource without timeout (bandit: CWE-400)
    ("bandit", "B201"): ("CWE-489", ("CWE-94",)),  # active debug code (bandit: CWE-94)
    ("bandit", "B301"): ("CWE-502", ()),
    ("bandit", "B308"): ("CWE-79", ()),
    ("bandit", "B310"): ("CWE-918", ("CWE-73",)),  # urlopen: SSRF or file: (bandit: CWE-22)
    ("bandit", "B313"): ("CWE-776", ()),  # stdlib XML: entity expansion, not XXE
    ("bandit", "B314"): ("CWE-776", ()),
    ("bandit", "B315"): ("CWE-776", ()),
    ("bandit", "B316"): ("CWE-776", ()),
    ("bandit", "B317"): ("CWE-776", ()),
    ("bandit", "B318"): ("CWE-776", ()),
    ("bandit", "B319"): ("CWE-776", ()),
    ("bandit", "B320"): ("CWE-611", ()),  # lxml < 5.0 resolves external entities
    ("bandit", "B324"): ("CWE-328", ()),  # weak hash (not the CWE-327 class)
    ("bandit", "B501"): ("CWE-295", ()),
    ("bandit", "B506"): ("CWE-502", ()),  # yaml.load (bandit: CWE-20)
    ("bandit", "B602"): ("CWE-78", ()),
    ("bandit", "B605"): ("CWE-78", ()),
    ("bandit", "B608"): ("CWE-89", ()),
    ("bandit", "B701"): ("CWE-79", ()),  # jinja2 autoescape off (bandit: CWE-94)
    ("bandit", "B703"): ("CWE-79", ()),
    ("bandit", "B704"): ("CWE-79", ()),
    ("secrets", "password-or-key"): ("CWE-798", ()),
    ("secrets", "basic-auth-credentials"): ("CWE-798", ()),
    ("secrets", "private-key"): ("CWE-321", ("CWE-798",)),  # hard-coded cryptographic key
}


def test_every_cwe_row_is_pinned() -> None:
    """A row's CWE changes only with this table: each was checked against MITRE's definition."""
    for (analyzer, rule), (cwe, related) in CWE_ROWS.items():
        got = classify(analyzer, rule)
        assert (got.cwe, got.related) == (cwe, related), (analyzer, rule)
        if analyzer == "bandit":  # ruff's twin says the same
            twin = classify("ruff", f"S{rule[1:]}")
            assert (twin.cwe, twin.related) == (cwe, related), rule
    listed = {("bandit", r) for r, row in section("bandit")["rules"].items() if "cwe" in row}
    listed |= {("secrets", r) for r, row in section("secrets")["rules"].items() if "cwe" in row}
    assert listed <= set(CWE_ROWS), listed - set(CWE_ROWS)
    # the retired ids stay retired: weak hash is not CWE-327, eval/exec not CWE-95 alone
    cwes = {classify(a, r).cwe for a, r in CWE_ROWS}
    assert "CWE-327" not in cwes and "CWE-95" not in cwes and "CWE-330" not in cwes


def test_ast_grep_rule_files_name_the_corrected_cwes() -> None:
    import yaml

    rules = {}
    base = Path(tables_module.__file__).parent / "rules"
    for directory in yaml.safe_load((base / "sgconfig.yml").read_text())["ruleDirs"]:  # ast-grep's only
        for path in sorted((base / directory).rglob("*.yml")):
            for doc in yaml.safe_load_all(path.read_text()):
                rules[doc["id"]] = doc.get("metadata", {})
    expected = {
        "js-weak-hash": ("CWE-328", None),
        "go-weak-hash": ("CWE-328", None),
        "js-eval-of-value": ("CWE-94", ["CWE-95"]),
        "py-xml-resolve-entities": ("CWE-611", None),
        "py-lxml-entities-by-default": ("CWE-611", None),
        "py-cookie-without-secure": ("CWE-614", None),
        "py-session-cookie-secure-off": ("CWE-614", None),
        "py-cookie-without-httponly": ("CWE-1004", None),
        "py-session-cookie-httponly-off": ("CWE-1004", None),
        "py-insecure-random-for-secret": ("CWE-338", ["CWE-330"]),
        "py-weak-hash-of-secret": ("CWE-328", ["CWE-916"]),
    }
    for rule_id, (cwe, related) in expected.items():
        assert (rules[rule_id].get("cwe"), rules[rule_id].get("related")) == (cwe, related), rule_id
    assert not {r for r, m in rules.items() if m.get("cwe") in ("CWE-327", "CWE-95")}


def test_native_values_fill_what_a_row_leaves_out_and_bad_values_fall_back() -> None:
    # no bandit row for B412: bandit's own severity, confidence and CWE are used
    got = classify("bandit", "B412", native={"severity": "low", "confidence": 0.9, "cwe": "CWE-319"})
    assert (got.category, got.severity, got.confidence, got.cwe) == ("security", "low", 0.9, "CWE-319")
    # the row wins over the tool where it has a value
    got = classify("bandit", "B608", native={"severity": "medium", "cwe": "CWE-1"})
    assert (got.severity, got.cwe) == ("high", "CWE-89")
    # a rule file with nonsense metadata still gives a valid finding
    got = classify("ast-grep", "x", native={"category": "weird", "severity": "urgent", "confidence": 7})
    assert (got.category, got.severity, got.confidence) == ("bug", "medium", 1.0)


def test_shell_commands_made_of_literals_drop_to_low() -> None:
    for analyzer, rule in (("ruff", "S602"), ("bandit", "B602"), ("ruff", "S605"), ("bandit", "B605")):
        assert (
            classify(analyzer, rule, message="call with shell=True identified, security issue").severity
            == "high"
        )
        assert (
            classify(analyzer, rule, message="Starting a process with a shell: Seems safe, but ...").severity
            == "low"
        )


def test_password_messages_are_hidden() -> None:
    for analyzer, rule in (("bandit", "B105"), ("bandit", "B106"), ("bandit", "B107"), ("ruff", "S105")):
        got = classify(analyzer, rule)
        assert got.hide_message and got.title and "password" in got.title.lower()


def test_resolve_names() -> None:
    assert resolve_names(["all"]) == list(ANALYZERS) == ["semgrep", "bandit", "ruff", "ast-grep", "secrets"]
    assert resolve_names(["none"]) == [] and resolve_names([]) == []
    assert resolve_names(["secrets", "RUFF"]) == ["ruff", "secrets"]
    assert resolve_names(["ruff,bandit, secrets"]) == ["bandit", "ruff", "secrets"]
    assert resolve_names(["astgrep", "detect-secrets"]) == ["ast-grep", "secrets"]
    with pytest.raises(InputError, match="unknown analyzer 'eslint'") as err:
        resolve_names(["ruff", "eslint"])
    assert "ruff" in (err.value.hint or "")


def test_relative_to_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    assert relative_to_root(root, str(root / "a" / "b.py")) == "a/b.py"
    assert relative_to_root(root, "./a/b.py") == "a/b.py"
    assert relative_to_root(root, "a/../b.py") == "b.py"
    assert relative_to_root(root, str(tmp_path / "other.py")) is None
    assert relative_to_root(root, "../other.py") is None
    assert relative_to_root(root, str(root)) is None


def test_chunked_keeps_every_path_once_under_the_limit() -> None:
    paths = [f"dir{i}/file{i}.py" for i in range(1000)]
    chunks = list(chunked(paths, limit=500))
    assert [p for c in chunks for p in c] == paths
    assert all(sum(len(p) + 1 for p in c) <= 500 for c in chunks)
    assert list(chunked([])) == []


def test_one_line() -> None:
    assert one_line("a\n\tb\x00c  d") == "a b c d"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"


def _f(source: str, rule: str, severity: str, cwe: str | None = None, confidence: float = 0.5) -> Finding:
    return Finding(
        category="security",
        severity=severity,
        confidence=confidence,
        path="a.py",
        start_line=3,
        end_line=3,
        title=f"{rule} title",
        explanation=f"{rule} says so.",
        evidence="password = '[REDACTED:password-or-key]'",
        cwe=cwe,
        source=source,
        rule=rule,
    )


def test_merge_same_keeps_the_worst_and_names_the_others() -> None:
    merged = merge_same(
        [
            _f("bandit", "B105", "medium", "CWE-259", 0.7),
            _f("ruff", "S105", "medium", None, 0.8),
            _f("secrets", "password-or-key", "high", None, 0.6),
        ]
    )
    assert len(merged) == 1
    m = merged[0]
    assert (m.source, m.rule, m.severity.value, m.cwe, m.confidence) == (
        "secrets",
        "password-or-key",
        "high",
        "CWE-259",
        0.8,
    )
    assert m.explanation == "password-or-key says so.\nAlso reported by bandit B105, ruff S105."
    # different places stay apart
    other = _f("ruff", "S105", "low").model_copy(update={"path": "b.py", "fingerprint": "x"})
    assert len(merge_same([_f("bandit", "B105", "medium"), other])) == 2


def test_balanced_groups_split_work_by_size(tmp_path: Path) -> None:
    sizes = {"big.py": 9000, "mid.py": 5000, "a.py": 2000, "b.py": 2000, "c.py": 1000, "gone.py": None}
    for name, size in sizes.items():
        if size is not None:
            (tmp_path / name).write_text("x" * size)
    groups = balanced(tmp_path, list(sizes), 2)
    assert sorted(p for g in groups for p in g) == sorted(sizes)
    loads = [sum(sizes[p] or 0 for p in g) for g in groups]
    assert len(groups) == 2 and max(loads) - min(loads) <= 1000
    assert balanced(tmp_path, ["a.py"], 4) == [["a.py"]]
    assert balanced(tmp_path, [], 4) == []
