"""``reviewer pr`` end to end: the real CLI, the real review engine against the local
OpenAI-protocol server, a real git repository, and the fake GitHub that validates every request
against GitHub's OpenAPI request schemas and refuses comments outside the diff with 422."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewer.cli import cli
from reviewer.cli.common import run_cli
from reviewer.forges.markers import fingerprints_in, read_state
from tests.conftest import git
from tests.integration.pr_world import REPO, TOKEN, PrWorld, answer, finding
from tests.servers.github_fake import FakeGitHub
from tests.servers.openai_fake import FakeOpenAI, Reply

BASE_APP = '''"""A small application."""

import sqlite3


def connect(path):
    return sqlite3.connect(path)


def find_user(db, name):
    return db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchall()


def total(items):
    result = 0
    for item in items:
        result += item
    return result


def average(items):
    return total(items) / len(items)


def unused_helper(value):
    return value * 2


def render(user):
    return "<p>" + user["name"] + "</p>"
'''

# the change: find_user builds SQL by formatting; total gets an off-by-one; a new module
HEAD_APP = BASE_APP.replace(
    '    return db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchall()',
    "    query = \"SELECT * FROM users WHERE name = '%s'\" % name\n    return db.execute(query).fetchall()",
).replace("    for item in items:\n        result += item", "    for i in range(len(items) + 1):\n        result += items[i]")

UTIL = '''import subprocess


def run(command):
    return subprocess.run(command, shell=True, check=False)


def greet(name):
    return f"hello {name}"
'''

SQL = "    query = \"SELECT * FROM users WHERE name = '%s'\" % name"
LOOP = "    for i in range(len(items) + 1):\n        result += items[i]"
RUN = "def run(command):\n    return subprocess.run(command, shell=True, check=False)"
RENDER = '    return "<p>" + user["name"] + "</p>"'


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(needle.split("\n")[0]) + 1


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    import os

    for key in list(os.environ):
        if key.startswith(("GITHUB_", "GITLAB", "CI_", "REVIEWER_", "RUNNER_")) or key in (
                "DEEPSEEK_API_KEY", "GH_TOKEN", "CI"):
            monkeypatch.delenv(key, raising=False)
    yield monkeypatch


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN) as server:
        yield server


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def run_pr(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], model: FakeOpenAI, root: Path, *extra: str) -> int:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    args = ["pr", str(root), "--backend", "openai", "--base-url", model.base_url, "--model", "fake-model",
            "--analyzers", "none", "--timeout", "60", *extra]
    return run_cli(cli, args)


def assert_clean(gh: FakeGitHub) -> None:
    assert gh.schema_invalid == [], gh.schema_invalid
    assert gh.unprocessable == [], gh.unprocessable
    assert gh.unknown == [], gh.unknown
    for r in gh.requests:
        assert TOKEN not in json.dumps(r.body), "the token was sent in a request body"


def world(tmp_path: Path) -> PrWorld:
    return PrWorld(tmp_path, {"app.py": BASE_APP, "README.md": "# app\n"}, {"app.py": HEAD_APP, "util.py": UTIL})


def test_first_review_posts_one_review_and_one_summary(tmp_path: Path, clean_env: pytest.MonkeyPatch,
                                                        gh: FakeGitHub, model: FakeOpenAI,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    w = world(tmp_path)
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    model.script(Reply(content=answer(
        finding("app.py", line_of(HEAD_APP, SQL), SQL.strip(), "SQL injection", category="security", severity="critical"),
        finding("util.py", 4, RUN, "Shell command built from input", category="security", end=5),
        finding("app.py", line_of(HEAD_APP, RENDER), RENDER.strip(), "Unescaped HTML", category="security",
                severity="medium"),
    )))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    rc = run_pr(clean_env, env, model, w.dir)
    out = capfd.readouterr()
    assert rc == 0, out.err
    assert_clean(gh)
    # one review with the two findings on changed lines
    (review,) = gh.reviews
    assert review["_event"] == "COMMENT" and review["commit_id"] == w.sha("feature")
    comments = gh.comments_for(REPO, w.number)
    placed = sorted((c["path"], c.get("start_line"), c["line"], c["side"]) for c in comments)
    assert placed == [("app.py", None, line_of(HEAD_APP, SQL), "RIGHT"), ("util.py", 4, 5, "RIGHT")]
    for c in comments:
        assert len(fingerprints_in(c["body"])) == 1
    # the render finding sits on an unchanged line: summary, "outside the diff"
    (summary,) = gh.summaries(REPO, w.number)
    body = summary["body"]
    assert "### Outside the diff (1)" in body and "Unescaped HTML" in body
    assert "**3 new findings** this run: 2 as inline comments, 1 below" in body
    assert re.search(r"\*\*Files:\*\* \d+ reviewed in full", body)
    assert "**Cost:** Model fake-model: 1 call(s)" in body
    state = read_state(body)
    assert state is not None and state.head == w.sha("feature") and len(state.items) == 3
    # the token appears nowhere: not in output, not sent to the model
    assert TOKEN not in out.out + out.err
    assert TOKEN not in json.dumps([r.body for r in model.requests])
    assert "reviewer pr: posted: posted 2 inline comment(s); summary created" in out.out


def test_second_push_no_duplicates_summary_edited(tmp_path: Path, clean_env: pytest.MonkeyPatch, gh: FakeGitHub,
                                                  model: FakeOpenAI) -> None:
    w = world(tmp_path)
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    first = [
        finding("app.py", line_of(HEAD_APP, SQL), SQL.strip(), "SQL injection", category="security", severity="critical"),
        finding("app.py", line_of(HEAD_APP, LOOP), LOOP.strip(), "Off by one", end=line_of(HEAD_APP, LOOP) + 1),
    ]
    model.script(Reply(content=answer(*first)))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    assert run_pr(clean_env, env, model, w.dir) == 0
    assert len(gh.comments_for(REPO, w.number)) == 2
    summary_id = gh.summaries(REPO, w.number)[0]["id"]

    # push: the loop is fixed, a new problem appears; the SQL injection is still there
    fixed = HEAD_APP.replace(LOOP, "    for item in items:\n        result += item")
    new_util = UTIL + "\n\ndef load(path):\n    return eval(open(path).read())\n"
    before = w.sha("feature")
    w.commit({"app.py": fixed, "util.py": new_util}, "fix the loop, add load")
    model.script(Reply(content=answer(
        finding("app.py", line_of(fixed, SQL), SQL.strip(), "SQL injection", category="security", severity="critical"),
        finding("util.py", line_of(new_util, "    return eval(open(path).read())"), "return eval(open(path).read())",
                "eval of file contents", category="security"),
    )))
    env = w.actions_env(gh.url, w.pull_request_event("synchronize", before=before), "pull_request")
    assert run_pr(clean_env, env, model, w.dir) == 0
    assert_clean(gh)
    comments = gh.comments_for(REPO, w.number)
    fps = [fp for c in comments for fp in fingerprints_in(c["body"])]
    assert len(fps) == len(set(fps)) == 3, "a finding was posted twice"
    assert [c["path"] for c in comments[2:]] == ["util.py"]
    summaries = gh.summaries(REPO, w.number)
    assert [s["id"] for s in summaries] == [summary_id], "the summary was re-created instead of edited"
    body = summaries[0]["body"]
    assert "### Resolved since the last run (1)" in body and "~~Off by one~~" in body
    assert "### Still open from earlier runs (1)" in body and "SQL injection" in body
    assert "the new commits" in body
    # the push was reviewed as new commits with the whole pull request as context
    user = model.chat_requests()[-1].body["messages"][-1]["content"]
    assert "<pull-request-diff" in user and f'<diff base="{before}">' in user
    patches = [r for r in gh.requests if r.method == "PATCH"]
    assert len(patches) == 1 and patches[0].path.endswith(f"/issues/comments/{summary_id}")
