"""Pull requests from forks: the read-only token gets files instead of comments, and the second,
privileged stage (workflow_run) posts what the first saved, after checking it against GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reviewer.forges.bundle import Bundle
from reviewer.forges.markers import fingerprints_in
from tests.integration.pr.world import (
    HEAD_APP,
    REPO,
    RUN,
    SQL,
    TOKEN,
    answer,
    assert_clean,
    finding,
    line_of,
    run_pr,
    world,
)
from tests.servers.github_fake import READ_ONLY_MESSAGE, FakeGitHub
from tests.servers.openai_fake import FakeOpenAI, Reply

FORK = "forker/app"
SARIF_SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json")
                          .read_text(encoding="utf-8"))


def fork_review(tmp_path: Path, clean_env: pytest.MonkeyPatch, gh: FakeGitHub, model: FakeOpenAI):  # type: ignore[no-untyped-def]
    w = world(tmp_path)
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature", head_repo=FORK)
    gh.read_only = True
    model.script(Reply(content=answer(
        finding("app.py", line_of(HEAD_APP, SQL), SQL.strip(), "SQL injection", category="security", severity="critical"),
        finding("util.py", 4, RUN, "Shell command built from input", category="security", end=5),
    )))
    out = tmp_path / "results"
    env = w.actions_env(gh.url, w.pull_request_event("opened", head_repo=FORK), "pull_request")
    rc = run_pr(clean_env, env, model, w.dir, "--output-dir", str(out))
    return w, out, rc


def test_read_only_token_gets_files_and_job_summary(tmp_path: Path, clean_env: pytest.MonkeyPatch, gh: FakeGitHub,
                                                   model: FakeOpenAI, capfd: pytest.CaptureFixture[str]) -> None:
    w, out, rc = fork_review(tmp_path, clean_env, gh, model)
    printed = capfd.readouterr()
    assert rc == 0, printed.err
    assert_clean(gh)
    writes = gh.writes()
    assert len(writes) == 1 and writes[0].status == 403, "after the first 403 nothing more may be tried"
    assert gh.reviews == [] and gh.issue_comments == []
    sarif = json.loads((out / "review.sarif").read_text())
    jsonschema.validate(sarif, SARIF_SCHEMA)
    assert len(sarif["runs"][0]["results"]) == 2
    md = (out / "review.md").read_text()
    assert "SQL injection" in md and "read-only token" in md
    step = (tmp_path / "step-summary.md").read_text()
    assert "SQL injection" in step and "Shell command built from input" in step
    saved = Bundle.load(out / "results.json")
    assert saved.number == w.number and saved.head_sha == w.sha("feature") and len(saved.findings) == 2
    assert "files: the token cannot write" in printed.out
    assert TOKEN not in printed.out + printed.err + md + step + (out / "results.json").read_text()
    assert READ_ONLY_MESSAGE not in printed.out  # GitHub's words are not what a person needs to read


def test_second_stage_posts_the_saved_review(tmp_path: Path, clean_env: pytest.MonkeyPatch, gh: FakeGitHub,
                                             model: FakeOpenAI) -> None:
    w, out, rc = fork_review(tmp_path, clean_env, gh, model)
    assert rc == 0
    calls = len(model.requests)
    gh.read_only = False  # the workflow_run job has pull-requests: write
    env = w.actions_env(gh.url, w.workflow_run_event(FORK), "workflow_run")
    elsewhere = tmp_path / "no-checkout"
    elsewhere.mkdir()
    assert run_pr(clean_env, env, model, elsewhere, "--post-from", str(out)) == 0
    assert_clean(gh)
    assert len(model.requests) == calls, "the posting stage must not call the model"
    comments = gh.comments_for(REPO, w.number)
    assert sorted((c["path"], c["line"]) for c in comments) == [("app.py", line_of(HEAD_APP, SQL)), ("util.py", 5)]
    assert all(len(fingerprints_in(c["body"])) == 1 for c in comments)
    assert len(gh.summaries(REPO, w.number)) == 1
    # the diff for the anchors came from the API, not from a checkout
    assert any(r.operation == "pulls/list-files" for r in gh.requests)


def _tamper(out: Path, **changes: object) -> None:
    data = json.loads((out / "results.json").read_text())
    data.update(changes)
    (out / "results.json").write_text(json.dumps(data))


@pytest.mark.parametrize("case", ["other-head", "other-pull", "bad-finding", "claims-fingerprint"])
def test_second_stage_refuses_a_tampered_result(tmp_path: Path, clean_env: pytest.MonkeyPatch, gh: FakeGitHub,
                                                model: FakeOpenAI, capfd: pytest.CaptureFixture[str],
                                                case: str) -> None:
    w, out, rc = fork_review(tmp_path, clean_env, gh, model)
    assert rc == 0
    gh.read_only = False
    if case == "other-head":
        _tamper(out, head_sha=w.sha("main"))
    elif case == "other-pull":
        # a second pull request by someone else; the saved file claims it
        gh.add_pull(REPO, 8, w.dir, base="main", head="main~0")
        _tamper(out, number=8)
    elif case == "bad-finding":
        data = json.loads((out / "results.json").read_text())
        data["findings"][0]["severity"] = "approve"
        (out / "results.json").write_text(json.dumps(data))
    else:
        data = json.loads((out / "results.json").read_text())
        data["findings"][0]["fingerprint"] = "0" * 16
        (out / "results.json").write_text(json.dumps(data))
    capfd.readouterr()
    writes_before = len(gh.writes())
    env = w.actions_env(gh.url, w.workflow_run_event(FORK), "workflow_run")
    rc = run_pr(clean_env, env, model, tmp_path, "--post-from", str(out))
    err = capfd.readouterr().err
    assert_clean(gh)
    if case == "claims-fingerprint":
        # the fingerprint is recomputed, never taken from the file
        assert rc == 0
        fps = [fp for c in gh.comments_for(REPO, w.number) for fp in fingerprints_in(c["body"])]
        assert "0" * 16 not in fps and len(fps) == 2
        return
    assert rc == 2, err
    assert len(gh.writes()) == writes_before, "a tampered result must not be posted"
    assert {"other-head": "not posted", "other-pull": "not posted", "bad-finding": "malformed"}[case] in err
