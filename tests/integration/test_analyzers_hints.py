"""Analyzer findings through the whole review: as hints to a model on the local OpenAI-protocol
server (confirmed, rejected, ignored), and alone when no model is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from reviewer.config import load_settings
from reviewer.review.engine import review
from tests.integration.test_analyzers_fixtures import EXPECTED, FAKE_PASSWORD, copy_fixture
from tests.servers.openai_fake import FakeOpenAI, Reply

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"

# The ids the hints get (worst first, then by place); the test checks the prompt says the same.
HINT_LINES = [
    "H1 shop/calculator.py:6 [bandit B307] security/high CWE-94: eval() of a value that may come from input",
    "H2 shop/db.py:7 [bandit B608] security/high CWE-89: SQL built by string formatting",
    "H3 shop/settings.py:4 [secrets password-or-key] security/high CWE-798: Hard-coded password or key",
    "H4 shop/tools.py:12 [bandit B602] security/high CWE-78: subprocess run through a shell (shell=True)",
    "H5 static/greeting.js:6 [ast-grep js-innerhtml-from-value] security/high CWE-79: "
    "innerHTML assigned from a variable (DOM XSS)",
    "H6 shop/tools.py:15 [ast-grep py-mutable-default-mutated] bug/medium: Mutable default argument changed by the function",
    "H7 shop/tools.py:8 [bandit B324] security/low CWE-328: Weak hash function (MD5/SHA-1)",
    "H8 shop/tools.py:21 [ruff F841] refactor/low: Local variable `count` is assigned to but never used",
]
SQL_LINE = "query = \"SELECT id, email FROM customers WHERE name = '%s'\" % name"

MODEL_ANSWER = {
    "findings": [
        {
            "category": "security",
            "severity": "critical",
            "confidence": 0.95,
            "path": "shop/db.py",
            "start_line": 7,
            "end_line": 8,
            "title": "Customer lookup is open to SQL injection",
            "explanation": "The customer name is formatted into the SQL text and executed.",
            "evidence": SQL_LINE + "\n    return conn.execute(query).fetchall()",
            "suggestion": 'return conn.execute("SELECT id, email FROM customers WHERE name = ?", (name,)).fetchall()',
            "cwe": "CWE-89",
        }
    ],
    "hints": [
        {"id": "H2", "verdict": "confirmed", "reason": "name comes from the caller and reaches the query"},
        {"id": "H5", "verdict": "confirmed", "reason": "the name parameter of the address reaches innerHTML"},
        {"id": "H7", "verdict": "rejected", "reason": "a checksum for change detection, not a security use"},
        # H1, H3, H4, H6, H8: no verdict, so they stay unreviewed
    ],
}


@pytest.fixture
def vulnerable(tmp_path: Path) -> Path:
    return copy_fixture("vulnerable-app", tmp_path)


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with FakeOpenAI() as s:
        yield s


def settings_for(root: Path, server: FakeOpenAI, **over: object):  # type: ignore[no-untyped-def]
    base = {"backend": "openai", "base_url": server.base_url, "model": "fake-model", "timeout": 20,
            # the hint mechanics on a fixed set of analyzers (semgrep, installed apart, has its own tests)
            "analyzers": ["bandit", "ruff", "ast-grep", "secrets"], "max_retries": 0}  # fmt: skip
    base.update(over)
    return load_settings(root, base, environ={})


def test_hint_round_trip_confirmed_rejected_and_ignored(vulnerable: Path, server: FakeOpenAI) -> None:
    server.script(Reply(content=json.dumps(MODEL_ANSWER)))
    result = review(vulnerable, settings_for(vulnerable, server))

    # the prompt: the hints, compact, after the repository and before the task
    (request,) = server.chat_requests()
    user = request.body["messages"][-1]["content"]
    start, end = user.index("<analyzer_hints>\n"), user.index("\n</analyzer_hints>")
    assert user[start + len("<analyzer_hints>\n") : end].splitlines() == HINT_LINES
    assert user.index('innerHTML = "Hello, " + name') < start  # the repository comes first
    assert user.index('"verdict"', end) > end  # the task, asking for verdicts, comes after
    assert FAKE_PASSWORD not in json.dumps(request.body)

    assert result.model_used
    by_place = {(f.path, f.start_line): f for f in result.findings}
    # confirmed and reported by the model: one finding, the model's words, the analyzer's identity
    sql = by_place[("shop/db.py", 7)]
    assert (sql.status, sql.source, sql.rule, sql.severity.value, sql.end_line) == (
        "confirmed", "bandit", "B608", "critical", 8,
    )  # fmt: skip
    assert sql.title == "Customer lookup is open to SQL injection" and sql.suggestion
    assert sql.explanation.endswith(
        "Flagged by bandit B608; confirmed by the model: name comes from the caller and reaches the query"
    )
    # confirmed only by verdict: the analyzer's finding, marked
    xss = by_place[("static/greeting.js", 6)]
    assert (xss.status, xss.source, xss.severity.value, xss.cwe) == (
        "confirmed",
        "ast-grep",
        "high",
        "CWE-79",
    )
    assert xss.explanation.endswith(
        "Confirmed by the model: the name parameter of the address reaches innerHTML"
    )
    # ignored: kept, unreviewed
    unreviewed = {(f.path, f.start_line) for f in result.findings if f.status == "unreviewed"}
    assert unreviewed == {
        ("shop/calculator.py", 6), ("shop/settings.py", 4), ("shop/tools.py", 12),
        ("shop/tools.py", 15), ("shop/tools.py", 21),
    }  # fmt: skip
    assert len(result.findings) == 7  # 8 hints, one rejected, the model's own merged into H2
    # rejected: out of the findings, kept aside with the reason
    (md5,) = result.rejected
    assert (md5.path, md5.start_line, md5.rule, md5.status) == ("shop/tools.py", 8, "B324", "rejected")
    assert md5.explanation.endswith(
        "Rejected by the model: a checksum for change detection, not a security use"
    )
    assert ("shop/tools.py", 8) not in by_place


def test_a_model_that_ignores_every_hint_leaves_them_unreviewed(vulnerable: Path, server: FakeOpenAI) -> None:
    server.script(Reply(content=json.dumps({"findings": []})))
    result = review(vulnerable, settings_for(vulnerable, server))
    assert result.rejected == []
    assert {f.status for f in result.findings} == {"unreviewed"}
    assert {
        (f.path, f.start_line, f.category.value, f.severity.value, f.cwe) for f in result.findings
    } == EXPECTED


def test_hints_only_for_files_in_the_pack(vulnerable: Path, server: FakeOpenAI) -> None:
    server.script(Reply(content=json.dumps({"findings": [], "hints": [{"id": "H1", "verdict": "rejected"}]})))
    result = review(vulnerable, settings_for(vulnerable, server, exclude=["static/**"]))
    user = server.chat_requests()[0].body["messages"][-1]["content"]
    assert "greeting.js" not in user
    assert "H1 shop/calculator.py:6 [bandit B307]" in user and "H8 " not in user  # 7 hints, H1..H7
    assert [f.rule for f in result.rejected] == ["B307"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REVIEWER_", "DEEPSEEK_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "review", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_without_a_model_reports_the_analyzers(vulnerable: Path) -> None:
    proc = cli(str(vulnerable), "--fail-on", "high", "--format", "json", "-q")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["model_used"] is False
    assert data["notes"][0].startswith("no model was used: set DEEPSEEK_API_KEY")
    got = {(f["path"], f["start_line"], f["category"], f["severity"], f["cwe"]) for f in data["findings"]}
    assert got == EXPECTED
    assert FAKE_PASSWORD not in proc.stdout

    sarif = cli(str(vulnerable), "--format", "sarif", "-q")
    assert sarif.returncode == 0, sarif.stderr
    doc = json.loads(sarif.stdout)
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    assert len(doc["runs"][0]["results"]) == len(EXPECTED)

    only = cli(str(vulnerable), "--analyzers", "ruff", "--format", "json", "-q")
    assert {f["source"] for f in json.loads(only.stdout)["findings"]} == {"ruff"}
    bad = cli(str(vulnerable), "--analyzers", "ruff,eslint")
    assert bad.returncode == 2 and "unknown analyzer 'eslint'" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_show_rejected(vulnerable: Path, server: FakeOpenAI) -> None:
    answer = Reply(content=json.dumps(MODEL_ANSWER))
    server.script(answer, answer)
    base = [str(vulnerable), "--backend", "openai", "--base-url", server.base_url, "--model", "fake-model",
            "--format", "json", "-q"]  # fmt: skip
    hidden = json.loads(cli(*base).stdout)
    shown = json.loads(cli(*base, "--show-rejected").stdout)
    assert "rejected" not in hidden
    assert [(f["path"], f["start_line"], f["status"]) for f in shown["rejected"]] == [
        ("shop/tools.py", 8, "rejected")
    ]
    assert hidden["findings"] == shown["findings"] and len(hidden["findings"]) == 7
