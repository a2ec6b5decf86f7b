"""Triggers from CI environments and payloads, saved results as hostile input, and settings
from the base branch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.errors import ConfigError, InputError
from reviewer.findings import Finding
from reviewer.forges.baseconfig import base_file_settings, load_pr_settings
from reviewer.forges.bundle import Bundle
from reviewer.forges.context import detect_forge, github_trigger, gitlab_trigger
from tests.conftest import MakeRepo, git, write_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"


def payload(tmp_path: Path, name: str, **changes: object) -> str:
    data = json.loads((FIXTURES / name).read_text())
    for dotted, value in changes.items():
        node = data
        keys = dotted.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_pull_request_events(tmp_path: Path) -> None:
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_TOKEN": "t" * 20}
    t = github_trigger({**env, "GITHUB_EVENT_PATH": payload(tmp_path, "webhook-pull_request-opened.json")})
    assert (t.repo, t.number, t.action, t.skip, t.full) == ("Codertocat/Hello-World", 2, "opened", None, False)
    assert t.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert t.api_url == "https://api.github.com"
    t = github_trigger({**env, "GITHUB_EVENT_PATH": payload(tmp_path, "webhook-pull_request-synchronize.json")})
    assert t.action == "synchronize" and t.skip is None
    t = github_trigger({**env, "GITHUB_EVENT_PATH": payload(tmp_path, "webhook-pull_request-opened.json",
                                                             action="labeled")})
    assert t.skip and "labeled" in t.skip
    t = github_trigger({**env, "GITHUB_EVENT_PATH": payload(tmp_path, "webhook-pull_request-opened.json",
                                                             pull_request__draft=True)})
    assert t.skip and "draft" in t.skip
    ghes = github_trigger({**env, "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
                           "GITHUB_EVENT_PATH": payload(tmp_path, "webhook-pull_request-opened.json")})
    assert ghes.api_url == "https://ghe.example.com/api/v3"
    assert "t" * 20 not in repr(ghes)


def test_issue_comment_events(tmp_path: Path) -> None:
    env = {"GITHUB_EVENT_NAME": "issue_comment"}
    pr_link = {"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
    ok = github_trigger({**env, "GITHUB_EVENT_PATH": payload(
        tmp_path, "webhook-issue_comment-created.json", comment__body="/review\nplease", issue__pull_request=pr_link)})
    assert ok.skip is None and ok.full and ok.number == 1 and ok.requested_by == "Codertocat"
    on_issue = github_trigger({**env, "GITHUB_EVENT_PATH": payload(
        tmp_path, "webhook-issue_comment-created.json", comment__body="/review")})
    assert on_issue.skip and "not a pull request" in on_issue.skip
    edited = github_trigger({**env, "GITHUB_EVENT_PATH": payload(
        tmp_path, "webhook-issue_comment-created.json", action="edited", comment__body="/review",
        issue__pull_request=pr_link)})
    assert edited.skip and "edited" in edited.skip


def test_local_and_bad_inputs(tmp_path: Path) -> None:
    t = github_trigger({"GITHUB_TOKEN": "x"}, repo="o/r", number=5)
    assert (t.event, t.number, t.repo) == ("local", 5, "o/r")
    with pytest.raises(InputError, match="which repository"):
        github_trigger({}, number=5)
    with pytest.raises(InputError, match="no pull request given"):
        github_trigger({}, repo="o/r")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        github_trigger({"GITHUB_EVENT_PATH": str(bad), "GITHUB_REPOSITORY": "o/r"})
    with pytest.raises(InputError, match="does not handle 'push'"):
        github_trigger({"GITHUB_EVENT_NAME": "push", "GITHUB_REPOSITORY": "o/r",
                        "GITHUB_EVENT_PATH": payload(tmp_path, "webhook-pull_request-opened.json")})


def test_gitlab_environment() -> None:
    env = {"GITLAB_CI": "true", "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "42",
           "CI_MERGE_REQUEST_IID": "7", "CI_COMMIT_SHA": "a" * 40, "GITLAB_TOKEN": "glpat-" + "x" * 20}
    assert detect_forge(env) == "gitlab" and detect_forge({}) == "github"
    t = gitlab_trigger(env)
    assert (t.repo, t.number, t.head_sha, t.skip) == ("42", 7, "a" * 40, None)
    assert gitlab_trigger({**env, "CI_MERGE_REQUEST_IID": ""}).skip
    assert gitlab_trigger({}, repo="grp/app", number=3, api_url="https://gl/api/v4").event == "local"


def good_bundle() -> dict[str, object]:
    f = Finding(category="bug", severity="high", confidence=0.5, path="a.py", start_line=1, end_line=1, title="t",
                explanation="e", evidence="x = 1")
    return json.loads(Bundle("github", "o/r", 3, "a" * 40, "b" * 40, "c" * 40, findings=[f]).to_json())


@pytest.mark.parametrize(("change", "message"), [
    ({"version": 2}, "known version"),
    ({"forge": "bitbucket"}, "malformed"),
    ({"head_sha": "HEAD; rm -rf /"}, "malformed"),
    ({"number": 0}, "names no pull request"),
    ({"findings": "all of them"}, "malformed"),
    ({"findings": [{"title": "no schema"}]}, "malformed"),
    ({"present": ["x"]}, "malformed"),
])
def test_saved_results_are_validated(tmp_path: Path, change: dict[str, object], message: str) -> None:
    data = good_bundle()
    data.update(change)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=message):
        Bundle.load(path)


def test_saved_results_round_trip(tmp_path: Path) -> None:
    data = good_bundle()
    data["findings"][0]["fingerprint"] = "f" * 16  # type: ignore[index]
    data["notes"] = ["n" * 10_000]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    b = Bundle.load(path)
    assert b.findings[0].fingerprint != "f" * 16 and len(b.notes[0]) == 500
    assert Bundle.load(path).to_json() == b.to_json()


def test_settings_from_the_base_branch(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo({"pyproject.toml": '[tool.reviewer]\nfocus = ["bug"]\nmax_chunks = 2\n',
                      ".reviewer.toml": 'focus = ["security"]\nbudget = 5000\n'})
    base = git(repo, "rev-parse", "HEAD").strip()
    write_files(repo, {".reviewer.toml": 'focus = ["style"]\nbudget = 10\nbase_url = "http://evil"\n'})
    git(repo, "commit", "-qam", "head changes the rules")
    assert base_file_settings(repo, base) == {"focus": ["security"], "max_chunks": 2, "budget": 5000}
    monkeypatch.delenv("REVIEWER_BUDGET", raising=False)
    s = load_pr_settings(repo, base, {"max_chunks": 3}, environ={"REVIEWER_BUDGET": "7000"})
    # shipped defaults < base branch files < environment < flags; the head's files never count
    assert (s.focus, s.budget, s.max_chunks, s.base_url) == (["security"], 7000, 3, None)
    assert s.models, "the shipped model table is still there"


def test_base_branch_config_that_is_a_symlink_or_broken(make_repo: MakeRepo) -> None:
    repo = make_repo({"real.toml": 'focus = ["security"]\n', "pyproject.toml": "[tool.reviewer\n"})
    (repo / ".reviewer.toml").symlink_to("real.toml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    with pytest.raises(ConfigError, match=r"pyproject\.toml on the base branch is not valid TOML"):
        base_file_settings(repo, "HEAD")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    git(repo, "commit", "-qam", "fix")
    assert base_file_settings(repo, "HEAD") == {}, "a symlinked .reviewer.toml is not followed"
