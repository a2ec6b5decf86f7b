"""A pull request made for a test: a real git repository with ``main`` and a ``feature`` branch,
webhook payloads copied from GitHub's own examples with the repository, numbers, commit ids
and refs rewritten to point at it, and the environment GitHub Actions would set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import cli
from reviewer.cli.common import run_cli
from tests.conftest import git, write_files
from tests.servers.github_fake import FakeGitHub
from tests.servers.openai_fake import FakeOpenAI

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "github"
# shaped like a GitHub Actions token so the scrubber's patterns are exercised too; not a real one
TOKEN = "ghs_" + "T3stT0kenN0tRealA1b2C3d4E5f6G7h8I9j0"
REPO = "octo/app"


def finding(path: str, line: int, evidence: str, title: str, *, end: int | None = None, category: str = "bug",
            severity: str = "high", suggestion: str | None = None, explanation: str | None = None,
            confidence: float = 0.9) -> dict[str, Any]:
    out: dict[str, Any] = {
        "category": category, "severity": severity, "confidence": confidence, "path": path,
        "start_line": line, "end_line": end or line + evidence.count("\n"), "title": title,
        "explanation": explanation or f"{title}: explained.", "evidence": evidence,
    }
    if suggestion is not None:
        out["suggestion"] = suggestion
    return out


def answer(*findings: dict[str, Any]) -> str:
    return json.dumps({"findings": list(findings)})


class PrWorld:
    def __init__(self, tmp_path: Path, base: dict[str, str], change: dict[str, str], *, number: int = 7,
                 delete: tuple[str, ...] = (), name: str = "app") -> None:
        self.tmp = tmp_path
        self.number = number
        self.dir = tmp_path / name
        self.dir.mkdir(parents=True)
        write_files(self.dir, base)
        git(self.dir, "init", "-q", "-b", "main")
        git(self.dir, "add", "-A")
        git(self.dir, "commit", "-q", "-m", "base", date="2024-01-01T00:00:00Z")
        git(self.dir, "checkout", "-q", "-b", "feature")
        self.commit(change, "the change", delete=delete)

    def commit(self, files: dict[str, str], message: str, *, delete: tuple[str, ...] = ()) -> str:
        write_files(self.dir, files)
        for rel in delete:
            git(self.dir, "rm", "-q", rel)
        git(self.dir, "add", "-A")
        git(self.dir, "commit", "-q", "--allow-empty", "-m", message, date="2024-01-02T00:00:00Z")
        return self.sha("HEAD")

    def commit_on_main(self, files: dict[str, str], message: str) -> str:
        git(self.dir, "checkout", "-q", "main")
        write_files(self.dir, files)
        git(self.dir, "add", "-A")
        git(self.dir, "commit", "-q", "-m", message, date="2024-01-03T00:00:00Z")
        sha = self.sha("HEAD")
        git(self.dir, "checkout", "-q", "feature")
        return sha

    def sha(self, ref: str) -> str:
        return git(self.dir, "rev-parse", ref).strip()

    # -- events ----------------------------------------------------------------------------
    def _payload(self, name: str) -> dict[str, Any]:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        text = text.replace("Codertocat/Hello-World", REPO)
        return json.loads(text)

    def _write(self, payload: dict[str, Any], name: str) -> Path:
        path = self.tmp / f"event-{name}.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        return path

    def _rewrite_pull(self, pr: dict[str, Any], head_repo: str) -> None:
        owner, repo = REPO.split("/")
        pr["number"] = self.number
        pr["draft"] = False
        pr["state"] = "open"
        pr["base"]["ref"], pr["base"]["sha"] = "main", self.sha("main")
        pr["base"]["repo"]["full_name"], pr["base"]["repo"]["name"] = REPO, repo
        pr["base"]["repo"]["owner"]["login"] = owner
        pr["head"]["ref"], pr["head"]["sha"] = "feature", self.sha("feature")
        pr["head"]["repo"]["full_name"] = head_repo
        pr["head"]["repo"]["name"] = head_repo.split("/")[1]
        pr["head"]["repo"]["owner"]["login"] = head_repo.split("/")[0]
        pr["head"]["repo"]["fork"] = head_repo != REPO

    def pull_request_event(self, action: str = "opened", *, head_repo: str = REPO, before: str | None = None) -> Path:
        name = "webhook-pull_request-synchronize.json" if action == "synchronize" else "webhook-pull_request-opened.json"
        payload = self._payload(name)
        payload["action"] = action
        payload["number"] = self.number
        self._rewrite_pull(payload["pull_request"], head_repo)
        if action == "synchronize":
            payload["before"] = before or self.sha("feature~1")
            payload["after"] = self.sha("feature")
        return self._write(payload, f"pr-{action}")

    def comment_event(self, body: str = "/review", association: str = "MEMBER", *, on_pull: bool = True) -> Path:
        payload = self._payload("webhook-issue_comment-created.json")
        payload["issue"]["number"] = self.number
        if on_pull:
            payload["issue"]["pull_request"] = {
                "url": f"https://api.github.com/repos/{REPO}/pulls/{self.number}",
                "html_url": f"https://github.com/{REPO}/pull/{self.number}",
                "diff_url": f"https://github.com/{REPO}/pull/{self.number}.diff",
                "patch_url": f"https://github.com/{REPO}/pull/{self.number}.patch",
                "merged_at": None,
            }
        payload["comment"]["body"] = body
        payload["comment"]["author_association"] = association
        return self._write(payload, "comment")

    def workflow_run_event(self, head_repo: str, *, head_sha: str | None = None) -> Path:
        payload = {
            "action": "completed",
            "workflow_run": {
                "event": "pull_request", "conclusion": "success", "head_sha": head_sha or self.sha("feature"),
                "head_branch": "feature", "head_repository": {"full_name": head_repo},
                "pull_requests": [],  # GitHub leaves this empty for pull requests from forks
            },
            "repository": {"full_name": REPO},
        }
        return self._write(payload, "workflow_run")

    def actions_env(self, api_url: str, event: Path, event_name: str, **extra: str) -> dict[str, str]:
        env = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": api_url,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_STEP_SUMMARY": str(self.tmp / "step-summary.md"),
        }
        env.update(extra)
        return env


def run_pr(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], model: FakeOpenAI, root: Path, *extra: str) -> int:
    """The real CLI, in this process, with ``env`` set and the model pointed at the local server."""
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    args = ["pr", str(root), "--backend", "openai", "--base-url", model.base_url, "--model", "fake-model",
            "--analyzers", "none", "--timeout", "60", *extra]
    return run_cli(cli, args)


# -- the application most scenarios review ---------------------------------------------------

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


def assert_clean(gh: FakeGitHub) -> None:
    assert gh.schema_invalid == [], gh.schema_invalid
    assert gh.unprocessable == [], gh.unprocessable
    assert gh.unknown == [], gh.unknown
    for r in gh.requests:
        assert TOKEN not in json.dumps(r.body), "the token was sent in a request body"


def world(tmp_path: Path) -> PrWorld:
    return PrWorld(tmp_path, {"app.py": BASE_APP, "README.md": "# app\n"}, {"app.py": HEAD_APP, "util.py": UTIL})
