"""`reviewer review` and `reviewer ask` as a user runs them: the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import git
from tests.servers.openai_fake import FakeOpenAI, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SARIF_SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "DEEPSEEK_API_KEY" and not k.startswith("REVIEWER_")}
    base.update({"NO_COLOR": "1", "COLUMNS": "150"})
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "reviewer", *args], capture_output=True, text=True, env=base,
                          cwd=cwd, timeout=300)


@pytest.fixture
def vulnerable(tmp_path: Path) -> Path:
    repo = tmp_path / "vulnerable-app"
    shutil.copytree(FIXTURES / "vulnerable-app", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fixture")
    return repo


def test_no_model_runs_the_analyzers_and_says_so(vulnerable: Path, tmp_path: Path) -> None:
    proc = run("review", str(vulnerable), "--fail-on", "high")
    assert proc.returncode == 1, proc.stderr
    assert "No model was used" in proc.stdout
    assert "DEEPSEEK_API_KEY" in proc.stdout
    assert "security" in proc.stdout and "Traceback" not in proc.stderr
    proc = run("review", str(vulnerable), "--fail-on", "critical", "-q")
    assert proc.returncode == 0


@pytest.mark.parametrize("fmt", ["sarif", "json", "markdown", "rdjson"])
def test_every_format(vulnerable: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    proc = run("review", str(vulnerable), "--format", fmt, "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    if fmt == "sarif":
        doc = json.loads(text)
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
        results = doc["runs"][0]["results"]
        assert results and all(r["partialFingerprints"]["reviewerFingerprint/v1"] for r in results)
        rules = doc["runs"][0]["tool"]["driver"]["rules"]
        assert any("external/cwe/cwe-89" in r["properties"]["tags"] for r in rules)
    elif fmt == "json":
        doc = json.loads(text)
        assert doc["model_used"] is False and doc["findings"]
        assert {"security", "bug"} <= set(doc["counts"]["category"])
    elif fmt == "markdown":
        assert text.startswith("# Review") and "No model was used" in text
    else:
        doc = json.loads(text)
        assert doc["diagnostics"] and all(d["location"]["path"] for d in doc["diagnostics"])


def test_backend_error_exits_3_without_leaking_the_key(vulnerable: Path) -> None:
    with FakeOpenAI(default=Reply(status=401, error_message="invalid api key")) as server:
        proc = run("review", str(vulnerable), "--backend", "deepseek", "--base-url", server.base_url,
                   "--analyzers", "none", env={"DEEPSEEK_API_KEY": "sk-secret-value-123456"})
    assert proc.returncode == 3
    assert "HTTP 401" in proc.stderr and "Traceback" not in proc.stderr
    assert "sk-secret-value-123456" not in proc.stderr + proc.stdout


def test_dry_run_prints_tokens_and_cost_and_sends_nothing(vulnerable: Path) -> None:
    with FakeOpenAI() as server:
        proc = run("review", str(vulnerable), "--dry-run", "--backend", "deepseek", "--base-url", server.base_url,
                   env={"DEEPSEEK_API_KEY": "sk-test"})
        assert server.chat_requests() == []
    assert proc.returncode == 0, proc.stderr
    assert "prompt tokens" in proc.stdout and "cost, all cache miss" in proc.stdout and "$" in proc.stdout
    assert "deepseek-flash" in proc.stdout and "peak prices, now" in proc.stdout


def test_dry_run_needs_no_key(vulnerable: Path) -> None:
    proc = run("review", str(vulnerable), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "deepseek-flash" in proc.stdout and "cost, pack cached" in proc.stdout
    proc = run("review", str(vulnerable), "--dry-run", "--format", "json")
    estimate = json.loads(proc.stdout)["estimate"]
    assert estimate["model"] == "deepseek-flash" and estimate["price_tier"] in ("peak", "off-peak")
    assert estimate["prompt_tokens"] > estimate["pack_tokens"] > 0
    assert 0 < estimate["cost_usd_cache_hit"] < estimate["cost_usd_cache_miss"]


def test_review_diff_sends_the_change_first(vulnerable: Path) -> None:
    (vulnerable / "shop" / "new.py").write_text("def risky(cmd):\n    import os\n    return os.system(cmd)\n")
    git(vulnerable, "checkout", "-q", "-b", "feature")
    git(vulnerable, "add", "-A")
    git(vulnerable, "commit", "-q", "-m", "add risky")
    reply = {"findings": [{"category": "security", "severity": "critical", "confidence": 0.95, "path": "shop/new.py",
                           "start_line": 3, "end_line": 3, "title": "Command injection",
                           "explanation": "cmd reaches a shell.", "evidence": "return os.system(cmd)"}]}
    with FakeOpenAI(Reply(content=json.dumps(reply))) as server:
        proc = run("review", str(vulnerable), "--diff", "main", "--backend", "openai", "--base-url", server.base_url,
                   "--model", "m", "--analyzers", "none", "--format", "json", "--fail-on", "high")
        body = server.chat_requests()[0].body["messages"][-1]["content"]
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["path"] == "shop/new.py"
    assert body.index("</repository>") < body.index('<diff base="main">') < body.index("+    return os.system(cmd)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", ".", "--focus", "vibes"], "unknown --focus"),
        (["ask", "."], "QUESTION or --trace"),
        (["review", "/no/such/dir"], "does not exist"),
        (["review", ".", "--backend", "nope"], "unknown backend"),
        (["review", ".", "--backend", "deepseek"], "DEEPSEEK_API_KEY"),
    ],
)
def test_usage_errors_exit_2(vulnerable: Path, args: list[str], message: str) -> None:
    proc = run(*args, cwd=vulnerable)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_ask_with_a_trace_on_stdin(vulnerable: Path, tmp_path: Path) -> None:
    trace = ('Traceback (most recent call last):\n  File "shop/calculator.py", line 6, in calculate\n'
             "    print(eval(expression))\nNameError: name 'x' is not defined\n")
    reply = {"answer": "The expression is evaluated with eval() on raw input.",
             "findings": [{"category": "bug", "severity": "high", "confidence": 0.8, "path": "shop/calculator.py",
                           "start_line": 6, "end_line": 6, "title": "eval of user input",
                           "explanation": "eval() runs whatever the user typed.",
                           "evidence": "print(eval(expression))"}]}
    with FakeOpenAI(Reply(content=json.dumps(reply))) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "reviewer", "ask", str(vulnerable), "--trace", "-", "--backend", "openai",
             "--base-url", server.base_url, "--model", "m", "--format", "markdown"],
            input=trace, capture_output=True, text=True, timeout=300,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("REVIEWER_")}, "NO_COLOR": "1"})
        user = server.chat_requests()[0].body["messages"][-1]["content"]
    assert proc.returncode == 0, proc.stderr
    assert "## Answer" in proc.stdout and "eval() on raw input" in proc.stdout
    assert "`shop/calculator.py:6`" in proc.stdout
    assert user.index("</repository>") < user.index("NameError")


def test_ask_without_a_model_says_how_to_configure_one(vulnerable: Path) -> None:
    proc = run("ask", str(vulnerable), "where is the database opened?")
    assert proc.returncode == 2 and "needs a model" in proc.stderr and "DEEPSEEK_API_KEY" in proc.stderr


def test_output_format_from_the_file_name(vulnerable: Path, tmp_path: Path) -> None:
    for name, check in (("out.json", lambda t: json.loads(t)["findings"]),
                        ("out.sarif", lambda t: json.loads(t)["version"] == "2.1.0"),
                        ("out.sarif.json", lambda t: json.loads(t)["version"] == "2.1.0"),
                        ("out.md", lambda t: t.startswith("# Review")),
                        ("out.rdjson", lambda t: json.loads(t)["diagnostics"])):
        out = tmp_path / name
        proc = run("review", str(vulnerable), "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert check(out.read_text()), name
        assert f"wrote {name.split('.', 1)[1].replace('md', 'markdown').replace('sarif.json', 'sarif')} to" in proc.stdout
        assert "None" not in proc.stdout


def test_an_output_name_without_a_known_format_is_refused_before_any_work(vulnerable: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    proc = run("review", str(vulnerable), "-o", str(out))
    assert proc.returncode == 2
    assert "cannot tell which format to write to" in proc.stderr and "--format" in proc.stderr
    assert not out.exists() and "Traceback" not in proc.stderr
    proc = run("ask", str(vulnerable), "why?", "-o", str(out))
    assert proc.returncode == 2 and "cannot tell which format" in proc.stderr


def test_our_own_outputs_left_in_the_repository_are_never_packed(vulnerable: Path, tmp_path: Path) -> None:
    # A user runs pack and review in the repository and leaves the files there (renamed, moved).
    assert run("pack", ".", "-q", cwd=vulnerable).returncode == 0
    assert run("pack", ".", "-q", "--style", "markdown", "-o", "notes/old-pack.md", cwd=vulnerable).returncode == 0
    for name in ("results.json", "review.sarif", "review.md", "review.rdjson"):
        assert run("review", ".", "-q", "-o", name, cwd=vulnerable).returncode == 0
    (vulnerable / "copy-of-pack.txt").write_bytes((vulnerable / "reviewer-pack.xml").read_bytes())
    # ... and a file of their own that only shares a name is still packed
    (vulnerable / "mine").mkdir()
    (vulnerable / "mine" / "reviewer-pack.xml").write_text("<config><item>kept</item></config>\n")
    out = tmp_path / "stats.json"
    proc = run("pack", ".", "--stats", "json", "-o", str(tmp_path / "p.xml"), cwd=vulnerable)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    out.write_text(proc.stdout)
    text = (tmp_path / "p.xml").read_text()
    assert stats["excluded"].get("reviewer-output") == 7, stats["excluded"]
    for name in ("reviewer-pack.xml", "notes/old-pack.md", "results.json", "review.sarif", "review.md",
                 "review.rdjson", "copy-of-pack.txt"):
        assert f'<file path="{name}"' not in text, name
    assert '<file path="mine/reviewer-pack.xml"' in text
    assert text.count("<repository ") == 1


def test_a_server_that_is_not_there_is_a_backend_error_not_a_traceback(vulnerable: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for command in (["review", str(vulnerable)], ["ask", str(vulnerable), "where is eval used?"]):
        proc = run(*command, "--backend", "openai", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m",
                   "--timeout", "3")
        assert proc.returncode == 3, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 3
