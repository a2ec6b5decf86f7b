"""``reviewer pr`` end to end: the real CLI, the real review engine against the local
OpenAI-protocol server, a real git repository, and the fake GitHub that validates every request
against GitHub's OpenAPI request schemas and refuses comments outside the diff with 422."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reviewer.forges.markers import fingerprints_in, read_state
from tests.integration.pr.world import (
    BASE_APP,
    HEAD_APP,
    LOOP,
    RENDER,
    REPO,
    RUN,
    SQL,
    TOKEN,
    UTIL,
    PrWorld,
    answer,
    assert_clean,
    finding,
    line_of,
    run_pr,
    world,
)
from tests.servers.github_fake import FakeGitHub
from tests.servers.openai_fake import FakeOpenAI, Reply


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


def test_forty_findings_thirty_inline_rest_in_summary(tmp_path: Path, clean_env: pytest.MonkeyPatch, gh: FakeGitHub,
                                                      model: FakeOpenAI) -> None:
    lines = [f"VALUE_{i:02d} = compute({i})" for i in range(45)]
    module = "from calc import compute\n\n" + "\n".join(lines) + "\n"
    w = PrWorld(tmp_path, {"app.py": BASE_APP}, {"values.py": module})
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    model.script(Reply(content=answer(*(
        finding("values.py", 3 + i, lines[i], f"Magic number {i}", category="style", severity="low")
        for i in range(40)
    ))))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    assert run_pr(clean_env, env, model, w.dir) == 0
    assert_clean(gh)
    assert len(gh.reviews) == 1
    comments = gh.comments_for(REPO, w.number)
    assert len(comments) == 30
    assert sorted(c["line"] for c in comments) == list(range(3, 33))
    body = gh.summaries(REPO, w.number)[0]["body"]
    assert "### Over the limit of 30 inline comments (10)" in body
    for i in range(30, 40):
        assert f"Magic number {i}" in body
    assert "**40 new findings** this run: 30 as inline comments, 10 below" in body


def test_finding_on_deleted_lines_goes_to_the_left_side(tmp_path: Path, clean_env: pytest.MonkeyPatch,
                                                        gh: FakeGitHub, model: FakeOpenAI) -> None:
    guard = '    if not actor.is_admin:\n        raise PermissionError("admins only")'
    base = ("def delete_user(db, user, actor):\n" + guard + "\n    db.delete(user)\n\n\n"
            "def ban_user(db, user, actor):\n" + guard + "\n    db.ban(user)\n")
    head = base.replace(guard + "\n    db.delete(user)", "    db.delete(user)", 1)
    w = PrWorld(tmp_path, {"admin.py": base}, {"admin.py": head})
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    model.script(Reply(content=answer(
        # the model points at the removed check, by its old line numbers
        finding("admin.py", 2, guard.strip(), "Authorization check removed from delete_user", category="security",
                end=3),
        # and at line 3, which in the new file is an unchanged line of ban_user: outside the diff
        finding("admin.py", 7, "db.ban(user)", "Ban is not logged", severity="low"),
    )))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    assert run_pr(clean_env, env, model, w.dir) == 0
    assert_clean(gh)
    (c,) = gh.comments_for(REPO, w.number)
    assert (c["side"], c["start_line"], c["line"], c.get("start_side")) == ("LEFT", 2, 3, "LEFT")
    assert "removed line(s)" in c["body"]
    assert "suggestion" not in c["body"]
    body = gh.summaries(REPO, w.number)[0]["body"]
    assert "### Outside the diff (1)" in body and "Ban is not logged" in body


def test_multiline_finding_across_two_hunks_is_clipped_to_one(tmp_path: Path, clean_env: pytest.MonkeyPatch,
                                                              gh: FakeGitHub, model: FakeOpenAI) -> None:
    base_lines = [f"step_{i:02d}()" for i in range(1, 31)]
    head_lines = list(base_lines)
    head_lines[4] = "step_05(retry=True)"
    head_lines[24] = "step_25(retry=True)"
    w = PrWorld(tmp_path, {"flow.py": "\n".join(base_lines) + "\n"}, {"flow.py": "\n".join(head_lines) + "\n"})
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    evidence = "\n".join(head_lines[4:25])
    model.script(Reply(content=answer(
        finding("flow.py", 5, evidence, "Retries without a limit", end=25,
                suggestion="\n".join(head_lines[4:25]).replace("retry=True", "retry=3")),
    )))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    assert run_pr(clean_env, env, model, w.dir) == 0
    assert_clean(gh)
    (c,) = gh.comments_for(REPO, w.number)
    # the first hunk holds new lines 2..8 (three lines of context around line 5)
    assert c["side"] == "RIGHT" and c["start_line"] == 5 and c["line"] == 8
    assert "`flow.py:5-25`" in c["body"]
    assert "```suggestion" not in c["body"], "a suggestion must not replace a clipped range"
    assert "Suggested change:" in c["body"]


def test_suggestion_containing_fences(tmp_path: Path, clean_env: pytest.MonkeyPatch, gh: FakeGitHub,
                                      model: FakeOpenAI) -> None:
    doc = "# Usage\n\nRun it:\n\n```sh\nreviewer review .\n```\n"
    w = PrWorld(tmp_path, {"README.md": "# Usage\n"}, {"README.md": doc, "tool.py": 'HELP = """run: ```x```"""\n'})
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    fixed = "Run it:\n\n```sh\nreviewer review . --diff main\n```"
    model.script(Reply(content=answer(
        finding("README.md", 3, "Run it:\n\n```sh\nreviewer review .\n```", "Example misses --diff", category="docs",
                severity="low", end=7, suggestion=fixed),
        finding("tool.py", 1, 'HELP = """run: ```x```"""', "Help text", category="docs", severity="info",
                suggestion='HELP = """run: ````y````"""'),
    )))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    assert run_pr(clean_env, env, model, w.dir) == 0
    assert_clean(gh)
    by_path = {c["path"]: c for c in gh.comments_for(REPO, w.number)}
    md = by_path["README.md"]["body"]
    assert (by_path["README.md"]["start_line"], by_path["README.md"]["line"]) == (3, 7)
    assert f"````suggestion\n{fixed}\n````" in md
    py = by_path["tool.py"]["body"]
    assert '`````suggestion\nHELP = """run: ````y````"""\n`````' in py


def test_secondary_rate_limit_is_waited_out(tmp_path: Path, clean_env: pytest.MonkeyPatch, gh: FakeGitHub,
                                            model: FakeOpenAI) -> None:
    w = world(tmp_path)
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    gh.secondary_rate_limit("POST", r"/pulls/\d+/reviews$", retry_after=1)
    model.script(Reply(content=answer(
        finding("app.py", line_of(HEAD_APP, SQL), SQL.strip(), "SQL injection", category="security"))))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    assert run_pr(clean_env, env, model, w.dir) == 0
    assert_clean(gh)
    posts = [r for r in gh.requests if r.method == "POST" and r.path.endswith("/reviews")]
    assert [r.status for r in posts] == [403, 200]
    assert posts[1].at - posts[0].at >= 1.0, "the retry came before Retry-After"
    assert len(gh.reviews) == 1 and len(gh.comments_for(REPO, w.number)) == 1


def test_rate_limit_longer_than_the_bound_fails_clearly(tmp_path: Path, clean_env: pytest.MonkeyPatch,
                                                        gh: FakeGitHub, model: FakeOpenAI,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    w = world(tmp_path)
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    gh.secondary_rate_limit("POST", r"/pulls/\d+/reviews$", retry_after=3600)
    model.script(Reply(content=answer(
        finding("app.py", line_of(HEAD_APP, SQL), SQL.strip(), "SQL injection", category="security"))))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    rc = run_pr(clean_env, env, model, w.dir, "--max-wait", "5")
    err = capfd.readouterr().err
    assert rc == 3
    assert "rate limited (403)" in err and "5s limit" in err
    assert TOKEN not in err
