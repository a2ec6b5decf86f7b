"""The diff anchor model: commentable lines from real git diffs, placement rules, and a
cross-check against the fake GitHub's own, independent diff parser on random edits."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from reviewer.findings import Finding
from reviewer.forges import gitops
from reviewer.forges.anchors import Anchor, DiffMap, anchor
from reviewer.forges.gitlab import Version, line_code, position
from tests.conftest import MakeRepo, git, write_files
from tests.servers.github_fake import FakeGitHub, pull_diff


def make_finding(path: str, start: int, end: int | None = None, evidence: str = "x = 1") -> Finding:
    return Finding(category="bug", severity="high", confidence=0.9, path=path, start_line=start,
                   end_line=end or start, title="t", explanation="e", evidence=evidence)


def branch_diff(repo: Path, files: dict[str, str], delete: tuple[str, ...] = ()) -> tuple[DiffMap, str, str]:
    git(repo, "checkout", "-q", "-B", "feature", "main")
    write_files(repo, files)
    for rel in delete:
        git(repo, "rm", "-q", rel)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "change")
    base, head = git(repo, "rev-parse", "main").strip(), git(repo, "rev-parse", "feature").strip()
    return DiffMap.parse(gitops.diff_text(repo, base, head)), base, head


LINES = [f"line_{i:02d} = {i}" for i in range(1, 41)]


@pytest.fixture
def repo(make_repo: MakeRepo) -> Path:
    return make_repo({"a.py": "\n".join(LINES) + "\n", "old.py": "gone = 1\n", "keep.txt": "same\n",
                      "img.bin": b"\x00\x01\x02" * 10})


def test_commentable_lines_of_a_real_diff(repo: Path) -> None:
    lines = list(LINES)
    lines[4] = "line_05 = 'five'"  # hunk 1
    del lines[19]  # hunk 2: line_20 removed
    lines.insert(30, "inserted = True")  # hunk 3
    git(repo, "mv", "keep.txt", "moved.txt")
    diff, _, _ = branch_diff(repo, {"a.py": "\n".join(lines) + "\n", "new.py": "fresh = 1\nfresh = 2\n",
                                    "img.bin": b"\x00\x09" * 10}, delete=("old.py",))
    assert set(diff.paths()) == {"a.py", "new.py", "old.py", "img.bin", "moved.txt"}
    a = diff.file("a.py")
    assert a is not None and a.status == "modified" and len(a.hunks) == 3
    right = a.commentable("RIGHT")
    assert right[5] == 0 and right[2] == 0 and right[8] == 0 and 1 not in right and 9 not in right
    left = a.commentable("LEFT")
    assert 20 in left and left[20] == 1
    new = diff.file("new.py")
    assert new is not None and new.status == "added" and new.commentable("RIGHT") == {1: 0, 2: 0}
    assert new.commentable("LEFT") == {}
    old = diff.file("old.py")
    assert old is not None and old.status == "deleted" and old.commentable("LEFT") == {1: 0}
    assert diff.file("img.bin").binary  # type: ignore[union-attr]
    moved = diff.file("moved.txt")
    assert moved is not None and moved.status == "renamed" and moved.old_path == "keep.txt" and not moved.hunks


def test_gitlab_line_codes_and_positions(repo: Path) -> None:
    lines = list(LINES)
    lines[4] = "line_05 = 'five'"
    diff, base, head = branch_diff(repo, {"a.py": "\n".join(lines) + "\n"})
    fd = diff.file("a.py")
    assert fd is not None
    v = Version(base, base, head)
    added = position(Anchor("a.py", "RIGHT", 5, None, 0), fd, v)
    assert added["new_line"] == 5 and "old_line" not in added
    removed = position(Anchor("a.py", "LEFT", 5, None, 0), fd, v)
    assert removed["old_line"] == 5 and "new_line" not in removed
    context = position(Anchor("a.py", "RIGHT", 3, None, 0), fd, v)
    assert (context["old_line"], context["new_line"]) == (3, 3)
    multi = position(Anchor("a.py", "RIGHT", 5, 3, 0), fd, v)
    sha = __import__("hashlib").sha1(b"a.py").hexdigest()
    # GitLab numbers an added line with the old counter at that point (6: line 5 was removed)
    assert multi["line_range"] == {"start": {"line_code": f"{sha}_3_3", "type": "old"},
                                   "end": {"line_code": f"{sha}_6_5", "type": "new"}}
    hit = fd.at("LEFT", 5)
    assert hit is not None and line_code("a.py", hit[1]) == f"{sha}_5_5"


def test_random_edits_every_anchor_is_accepted_by_the_fake(make_repo: MakeRepo) -> None:
    """Anchors made by our parser checked by the fake GitHub's independent parser."""
    rng = random.Random(20240501)
    base_lines = [f"value_{i:03d} = compute({i})" for i in range(1, 121)]
    repo = make_repo({"m.py": "\n".join(base_lines) + "\n"})
    checked = placed = 0
    for round_no in range(12):
        lines = list(base_lines)
        for _ in range(rng.randint(1, 8)):
            op = rng.choice(["edit", "delete", "insert"])
            i = rng.randrange(len(lines))
            if op == "edit":
                lines[i] = lines[i] + f"  # edited {round_no}"
            elif op == "delete" and len(lines) > 10:
                del lines[i : i + rng.randint(1, 3)]
            else:
                lines.insert(i, f"added_{round_no}_{i} = True")
        diff, _, head = branch_diff(repo, {"m.py": "\n".join(lines) + "\n"})
        theirs = pull_diff(repo, "main", "feature")
        for _ in range(60):
            start = rng.randint(1, len(lines))
            end = min(len(lines), start + rng.choice([0, 0, 1, 3, 10, 40]))
            evidence = "\n".join(lines[start - 1 : end])
            a, _ = anchor(make_finding("m.py", start, end, evidence), diff)
            checked += 1
            if a is None:
                continue
            placed += 1
            comment = {"path": a.path, "body": "b", "line": a.line, "side": a.side}
            if a.start_line is not None:
                comment |= {"start_line": a.start_line, "start_side": a.side}
            assert FakeGitHub._check_anchor(theirs, comment) is None, (comment, head)
    assert checked == 720 and placed > 100
