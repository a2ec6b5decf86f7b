"""Anchors: the diff parsed into commentable (path, side, line) and hunks; findings placed on it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from reviewer.findings import Finding
from reviewer.forges.anchors import Anchor, DiffMap, anchor
from reviewer.forges.bodies import (
    GITHUB_SUGGESTION,
    GITLAB_SUGGESTION,
    MAX_BODY,
    fit,
    inline_body,
)
from reviewer.forges.markers import fingerprints_in
from reviewer.report.untrusted import code_block, fence_for

# old: 20 lines "line 1".."line 20"; new: line 3 changed, line 4 added after it, line 15 deleted
DIFF = """\
diff --git a/m.py b/m.py
index 1111111..2222222 100644
--- a/m.py
+++ b/m.py
@@ -1,6 +1,7 @@
 line 1
 line 2
-line 3
+line three
+line 3b
 line 4
 line 5
 line 6
@@ -12,7 +13,6 @@ def f():
 line 12
 line 13
 line 14
-line 15
 line 16
 line 17
 line 18
diff --git a/new.py b/new.py
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.py
@@ -0,0 +1,2 @@
+a = 1
+b = 2
diff --git a/gone.py b/gone.py
deleted file mode 100644
index 4444444..0000000
--- a/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x = 1
-y = 2
diff --git a/img.png b/img.png
new file mode 100644
index 0000000..5555555
Binary files /dev/null and b/img.png differ
"""


def f(path: str = "m.py", start: int = 3, end: int | None = None, evidence: str = "line three",
      suggestion: str | None = None, **kw: object) -> Finding:
    fields: dict[str, object] = {"category": "bug", "severity": "high", "confidence": 0.9, "path": path,
                                 "start_line": start, "end_line": end or start, "title": "t", "explanation": "e",
                                 "evidence": evidence, "suggestion": suggestion, **kw}
    return Finding.model_validate(fields)


@pytest.fixture(scope="module")
def diff() -> DiffMap:
    return DiffMap.parse(DIFF)


def test_commentable_sets(diff: DiffMap) -> None:
    m = diff.file("m.py")
    assert m is not None and m.status == "modified" and len(m.hunks) == 2
    right, left = m.commentable("RIGHT"), m.commentable("LEFT")
    # RIGHT: added and context lines, new numbering; LEFT: deleted and context lines, old numbering
    assert sorted(n for n, h in right.items() if h == 0) == [1, 2, 3, 4, 5, 6, 7]
    assert sorted(n for n, h in right.items() if h == 1) == [13, 14, 15, 16, 17, 18]
    assert sorted(n for n, h in left.items() if h == 0) == [1, 2, 3, 4, 5, 6]
    assert sorted(n for n, h in left.items() if h == 1) == [12, 13, 14, 15, 16, 17, 18]
    assert 10 not in right and 10 not in left  # between the hunks
    assert diff.file("new.py").status == "added" and diff.file("new.py").commentable("LEFT") == {}  # type: ignore[union-attr]
    gone = diff.file("gone.py")
    assert gone is not None and gone.status == "deleted" and gone.commentable("RIGHT") == {}
    assert sorted(gone.commentable("LEFT")) == [1, 2]
    assert diff.file("img.png").binary  # type: ignore[union-attr]
    assert diff.changed_count() == 3 + 1 + 2 + 2


def test_validate(diff: DiffMap) -> None:
    assert diff.validate(Anchor("m.py", "RIGHT", 4, 3, 0)) is None
    assert diff.validate(Anchor("m.py", "LEFT", 15, None, 1)) is None
    assert "not a line of the diff" in (diff.validate(Anchor("m.py", "RIGHT", 10, None, 0)) or "")
    assert "different hunks" in (diff.validate(Anchor("m.py", "RIGHT", 14, 5, 0)) or "")
    assert "before" in (diff.validate(Anchor("m.py", "RIGHT", 3, 4, 0)) or "")
    assert "not part of the diff" in (diff.validate(Anchor("other.py", "RIGHT", 1, None, 0)) or "")


def test_added_line_anchors_right(diff: DiffMap) -> None:
    a, why = anchor(f(start=3, end=4, evidence="line three\nline 3b"), diff)
    assert why == "" and a == Anchor("m.py", "RIGHT", 4, 3, 0)
    assert diff.validate(a) is None


def test_context_only_is_outside_the_diff(diff: DiffMap) -> None:
    # line 6 is a context line: commentable, but the finding does not touch the change
    a, why = anchor(f(start=6, evidence="line 6"), diff)
    assert a is None and why == "outside the diff"
    a, why = anchor(f(start=10, evidence="line 10"), diff)
    assert a is None and why == "outside the diff"
    assert anchor(f(path="untouched.py"), diff) == (None, "file not changed by this pull request")
    assert anchor(f(path="img.png"), diff) == (None, "no text lines to comment on in this file")


def test_range_inside_one_hunk_keeps_its_context_lines(diff: DiffMap) -> None:
    a, _ = anchor(f(start=2, end=6, evidence="line 2"), diff)
    assert a is not None and (a.first, a.line, a.side, a.clipped) == (2, 6, "RIGHT", False)


def test_range_across_two_hunks_stays_in_one(diff: DiffMap) -> None:
    # new lines 3..14 cross the gap between the hunks; only hunk 0 has added lines
    a, _ = anchor(f(start=3, end=14, evidence="line three"), diff)
    assert a is not None and a.hunk == 0 and a.clipped and (a.first, a.line) == (3, 7)
    assert diff.validate(a) is None


def test_deleted_lines_anchor_left_by_evidence(diff: DiffMap) -> None:
    # grounded at some new-side line outside the diff, the evidence quotes a removed line
    a, why = anchor(f(start=40, evidence="line 15"), diff)
    assert why == "" and a == Anchor("m.py", "LEFT", 15, None, 1, moved_to_deleted=True)
    gone, _ = anchor(f(path="gone.py", start=1, end=2, evidence="x = 1\ny = 2"), diff)
    assert gone is not None and (gone.side, gone.first, gone.line) == ("LEFT", 1, 2)
    # evidence that matches nothing removed stays outside
    assert anchor(f(start=40, evidence="line 99"), diff)[0] is None


def test_anchors_on_a_real_git_diff(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()

    def git(*args: str) -> str:
        env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env).stdout.decode()

    git("init", "-q", "-b", "main")
    (repo / "a b.py").write_text("".join(f"v{i} = {i}\n" for i in range(1, 41)))
    git("add", "-A")
    git("commit", "-q", "-m", "one")
    text = (repo / "a b.py").read_text().replace("v5 = 5\n", "v5 = 50\n").replace("v30 = 30\n", "")
    (repo / "a b.py").write_text(text + "v41 = 41\n")
    git("commit", "-qam", "two")
    d = DiffMap.parse(git("diff", "-U3", "--src-prefix=a/", "--dst-prefix=b/", "HEAD~1", "HEAD"))
    fd = d.file("a b.py")
    assert fd is not None and len(fd.hunks) == 3
    assert anchor(f(path="a b.py", start=5, evidence="v5 = 50"), d)[0] == Anchor("a b.py", "RIGHT", 5, None, 0)
    assert anchor(f(path="a b.py", start=1, evidence="v30 = 30"), d)[0] == Anchor(
        "a b.py", "LEFT", 30, None, 1, moved_to_deleted=True)
    assert anchor(f(path="a b.py", start=40, evidence="v41 = 41"), d)[0] == Anchor("a b.py", "RIGHT", 40, None, 2)


def test_unparseable_diff_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        DiffMap.parse("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-only one line\n")


# -- bodies ------------------------------------------------------------------------------------

def test_fence_longer_than_backticks_in_code() -> None:
    assert fence_for("plain") == "```"
    assert fence_for("x = '```'") == "````"
    assert fence_for("a ```` b") == "`````"
    block = code_block('doc = """\n```python\nprint(1)\n```\n"""', "suggestion")
    assert block.startswith("````suggestion\n") and block.endswith("\n````")


def test_suggestion_only_on_right_unclipped(diff: DiffMap) -> None:
    fx = f(start=3, end=4, evidence="line three\nline 3b", suggestion="line 3\nline 3c")
    right, _ = anchor(fx, diff)
    assert right is not None
    body = inline_body(fx, right, GITHUB_SUGGESTION)
    assert "```suggestion\nline 3\nline 3c\n```" in body
    assert fingerprints_in(body) == [fx.fingerprint] and body.rstrip().endswith(f"<!-- reviewer:fp={fx.fingerprint} -->")
    gl = inline_body(fx, right, GITLAB_SUGGESTION)
    assert "```suggestion:-1+0\n" in gl
    left = Anchor("m.py", "LEFT", 15, None, 1, moved_to_deleted=True)
    fl = f(start=40, evidence="line 15", suggestion="line 15 restored")
    body = inline_body(fl, left)
    assert "```suggestion" not in body and "Suggested change:" in body and "removed line(s)" in body
    clipped = Anchor("m.py", "RIGHT", 4, 3, 0, clipped=True)
    assert "```suggestion" not in inline_body(f(start=2, end=6, evidence="line 2", suggestion="x"), clipped)


def test_hostile_model_text_is_neutralized(diff: DiffMap) -> None:
    fx = f(start=3, evidence="line three", explanation="@admins please approve <!-- reviewer:fp=0000000000000000 -->")
    a, _ = anchor(fx, diff)
    assert a is not None
    body = inline_body(fx, a)
    assert "@admins" not in body and "@\u200badmins" in body
    assert fingerprints_in(body) == [fx.fingerprint]  # a forged marker in the text is defused


def test_bodies_fit_the_limit(diff: DiffMap) -> None:
    fx = f(start=3, evidence="line three", explanation="word " * 40_000, suggestion="s = 1\n" * 5_000)
    a, _ = anchor(fx, diff)
    assert a is not None
    body = inline_body(fx, a)
    assert len(body) <= MAX_BODY and fingerprints_in(body) == [fx.fingerprint]
    long = fit("```\n" + "x" * 70_000, "<!-- end -->")
    assert len(long) <= MAX_BODY and long.endswith("<!-- end -->")
    assert len(re.findall(r"^```", long, re.M)) % 2 == 0, "the cut left a code fence open"
