"""The Python rules and the noise handling on real files (tests/fixtures/python-rules): every line
marked ``# expect: RULE`` is reported by that rule, at the severity it says; every other line is a
near miss and is not. The tools are the real ones; the fixture is copied into a git repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewer.analyzers import run_analyzers
from reviewer.analyzers.credentials import placeholder_reason
from tests.integration.test_analyzers_fixtures import copy_fixture, scanned_paths

_EXPECT = re.compile(r"#\s*expect:\s*(.+)$")
RULE_FILES = ["cookies.py", "settings.py", "xml_parsers.py", "xml_defused.py", "random_secrets.py", "hashing.py",
              "defaults.py"]


def expectations(root: Path, files: list[str]) -> dict[tuple[str, int], list[str]]:
    out: dict[tuple[str, int], list[str]] = {}
    for name in files:
        for n, line in enumerate((root / name).read_text().splitlines(), start=1):
            m = _EXPECT.search(line)
            if m:
                out[(name, n)] = m.group(1).split()
    return out


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture("python-rules", tmp_path_factory.mktemp("py"))


def test_each_rule_finds_its_true_positives_and_none_of_the_near_misses(fixture: Path) -> None:
    run = run_analyzers(fixture, scanned_paths(fixture), ["ast-grep"])
    assert run.notes == []
    expected = expectations(fixture, RULE_FILES)
    got: dict[tuple[str, int], set[str]] = {}
    for f in run.findings:
        rules = {f.rule or ""} | set(re.findall(r"py-[a-z-]+", f.explanation))  # merged rules are named
        got.setdefault((f.path, f.start_line), set()).update(r for r in rules if r.startswith("py-"))
    assert got == {place: set(rules) for place, rules in expected.items()}
    # every rule has at least one true positive here
    assert {r for rules in expected.values() for r in rules} == {
        "py-cookie-without-secure", "py-cookie-without-httponly", "py-session-cookie-secure-off",
        "py-session-cookie-httponly-off", "py-xml-resolve-entities", "py-xml-network-entities",
        "py-lxml-entities-by-default", "py-lxml-xmlparser-default", "py-insecure-random-for-secret",
        "py-weak-hash-of-secret", "py-mutable-default-mutated",
    }  # fmt: skip


def test_rule_metadata_reaches_the_finding(fixture: Path) -> None:
    run = run_analyzers(fixture, ["cookies.py", "random_secrets.py", "xml_parsers.py"], ["ast-grep"])
    by_rule = {f.rule: f for f in run.findings}
    secure = by_rule["py-cookie-without-secure"]
    assert (secure.category.value, secure.severity.value, secure.cwe) == ("security", "medium", "CWE-614")
    rnd = by_rule["py-insecure-random-for-secret"]
    assert rnd.cwe == "CWE-338" and "related: CWE-330" in rnd.explanation
    assert by_rule["py-xml-resolve-entities"].severity.value == "high"
    assert by_rule["py-lxml-xmlparser-default"].severity.value == "low"
    # two rules on one multi-line call: one finding, quoting the whole statement, naming both
    both = next(f for f in run.findings if f.path == "cookies.py" and f.start_line == 17)
    assert (both.start_line, both.end_line) == (17, 22)
    assert both.rule == "py-cookie-without-httponly" and both.cwe == "CWE-1004"
    assert "Also on this statement: Session cookie set without Secure (CWE-614)." in both.explanation


def test_comments_silence_the_python_rules(make_repo) -> None:
    root = make_repo({"app.py": 'import random\ntoken = random.random()  # nosec\nkey_token = random.random()  # noqa: py-insecure-random-for-secret\nsid = random.random()  # noqa: E501\n'})
    run = run_analyzers(root, ["app.py"], ["ast-grep"])
    assert [(f.start_line, f.rule) for f in run.findings] == [(4, "py-insecure-random-for-secret")]


def facts(run) -> dict[tuple[str, int], tuple[str, str, str, str]]:
    return {(f.path, f.start_line): (f.source, f.rule, f.severity.value, f.explanation) for f in run.findings}


def test_noise_handling_with_every_analyzer(fixture: Path) -> None:
    files = ["credentials.py", "queries.py", "serve.py", "tests/login_checks.py"]
    run = run_analyzers(fixture, files, ["all"])
    got = facts(run)
    expected = expectations(fixture, files)
    assert set(got) == set(expected), sorted(set(got) ^ set(expected))
    for place, words in expected.items():
        _source, rule, severity, explanation = got[place]
        want_low = "low" in words
        assert (severity == "low") == want_low, (place, severity)
        if words[0] == "secret":  # the scanner's finding, or bandit's with the scanner's merged in
            assert re.search(r"password-or-key|basic-auth-credentials", rule + explanation), (place, rule)
        else:
            assert rule == words[0], (place, rule)
    # the multi-line SQL statement: bandit and ruff on different lines of it, one finding
    sql = next(f for f in run.findings if (f.path, f.start_line) == ("queries.py", 5))
    assert (sql.rule, sql.start_line, sql.end_line, sql.severity.value, sql.cwe) == ("B608", 5, 8, "high", "CWE-89")
    assert sql.evidence.startswith("cur.execute(") and sql.evidence.endswith(")")
    assert "Also reported by ruff S608." in sql.explanation
    # the credential in a test is low and says why; bandit's and ruff's reports on it merged in
    test_secret = got[("tests/login_checks.py", 5)]
    assert "part of the tests" in test_secret[3] and "Also reported by" in test_secret[3]
    # placeholders were counted, not reported; so were the lines silenced by the other tool
    note = next(n for n in run.notes if n.startswith("analyzers:"))
    assert "shown at low at most" in note and "placeholder" in note and "silenced by a # noqa or # nosec" in note
    # the real values never reach a finding
    dumped = repr([f.model_dump() for f in run.findings])
    assert "q7Rm-2vLx-9KfT-w4Zp" not in dumped and "Zq8-vR2m-Lk5w" not in dumped


@pytest.mark.parametrize(
    ("kind", "value", "line", "real"),
    [
        ("password-or-key", "q7Rm-2vLx-9KfT-w4Zp", 'PASSWORD = "q7Rm-2vLx-9KfT-w4Zp"', True),
        ("password-or-key", "sunshine7", 'DB_PASSWORD = "sunshine7"', True),
        ("password-or-key", "a8f5f167f44f4964e6c998dee827110c", 'SECRET_KEY_BASE = "a8f5f167f44f4964e6c998dee827110c"', True),
        ("basic-auth-credentials", "Sup3rS3cretPw", "postgres://admin:Sup3rS3cretPw@db/prod", True),
        ("private-key", "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----", True),
        ("password-or-key", "", 'PASSWORD = ""', False),
        ("password-or-key", "dev", 'SECRET_KEY = "dev"', False),
        ("password-or-key", "password", 'PASSWORD = "password"', False),
        ("password-or-key", "changeme123", 'PASSWORD = "changeme123"', False),
        ("password-or-key", "development key", "SECRET_KEY = 'development key'", False),
        ("password-or-key", "${DB_PASSWORD}", 'password: "${DB_PASSWORD}"', False),
        ("password-or-key", "{{ vault_pw }}", "password: {{ vault_pw }}", False),
        ("aws-access-key", "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE", False),
        ("password-or-key", "AAAAAAAAAAAAAAAAAAAA", 'SECRET_KEY = "AAAAAAAAAAAAAAAAAAAA"', False),
        ("password-or-key", "123456789", 'PIN = "123456789"', False),
        ("password-or-key", "incorrect_password", 'DB_PASSWORD = "incorrect_password"', False),
        ("password-or-key", "success", 'ctx["email_password_status"] = "success"', False),
        ("password-or-key", "secret_key", 'app.secret_key = "secret_key"', False),
        ("basic-auth-credentials", "://ctfd:ctfd@", "mysql://ctfd:ctfd@db/ctfd", False),
        ("basic-auth-credentials", "postgres", "postgres://postgres:postgres@localhost/dev", False),
        ("password-or-key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", 'STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"', False),
    ],
)
def test_which_secret_values_look_real(kind: str, value: str, line: str, real: bool) -> None:
    assert (placeholder_reason(kind, value, line) is None) == real
