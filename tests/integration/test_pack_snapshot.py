"""The snapshot layout (``--snapshot-every N``) on real git repositories: consecutive commits share
the snapshot byte for byte, the commits since come as redacted diffs of the files a pack may
show, the totals stay exact, and it steps back to the usual layout where it cannot apply."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from reviewer.config import Settings
from reviewer.pack import build_pack
from reviewer.pack.model import Pack
from reviewer.pack.tokens import get_tokenizer
from reviewer.review.call import line_reader
from tests.conftest import MakeRepo, git, write_files
from tests.integration.test_pack_ranked import AWS_ID, project


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(**{"cache_dir": str(tmp_path / "cache"), "snapshot_every": 4, **kw})


def commit(root: Path, files: dict[str, str | bytes], message: str, day: int) -> None:
    write_files(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, date=f"2024-02-{day:02d}T00:00:00Z")


def shared(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def exact(pack: Pack) -> None:
    assert get_tokenizer().count(pack.text) == pack.total_tokens
    assert pack.budget is not None and pack.total_tokens <= pack.budget


def test_next_commits_append_to_the_snapshot(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(12))  # depth 0: the snapshot commit for depths 0-3
    packs = [build_pack(root, settings(tmp_path))]
    plain = [build_pack(root, settings(tmp_path, snapshot_every=0))]
    # each commit edits a file untouched so far: in the usual layout it breaks the prefix early
    for day, mod in enumerate(("00", "05", "09"), 2):
        path = f"pkg/mod_{mod}.py"
        commit(root, {path: (root / path).read_text() + f"\n\ndef added_{mod}():\n    return {mod!r}\n"},
               f"add added_{mod}", day)
        packs.append(build_pack(root, settings(tmp_path)))
        plain.append(build_pack(root, settings(tmp_path, snapshot_every=0)))
    for prev, cur in itertools.pairwise(packs):
        exact(cur)
        # the snapshot and the earlier diffs are kept byte for byte
        end = prev.text.rfind("</commit>\n") + len("</commit>\n") if "<commit " in prev.text else \
            prev.text.index("<directory_structure>")
        assert cur.text[:end] == prev.text[:end]
    kept = [shared(a.text, b.text) / len(b.text) for a, b in itertools.pairwise(packs)]
    usual = [shared(a.text, b.text) / len(b.text) for a, b in itertools.pairwise(plain)]
    assert min(kept) > 0.9 and min(kept) > max(usual)
    last = packs[-1]
    assert last.text.count("<commit ") == 3 and "+def added_09():" in last.text
    assert "snapshot at " in last.notes[-1] and "3 commit(s) before HEAD" in last.notes[-1]
    # the snapshot holds the old text; what the review checks findings against is the current one
    assert "def added_05" not in last.text[: last.text.index("<changes")]
    lines = line_reader(root, last)("pkg/mod_05.py")
    assert lines is not None and "def added_05():" in lines
    assert last.file("pkg/mod_05.py").tier == "full"  # type: ignore[union-attr]
    # depth 4: the snapshot moves to HEAD for all but the files untouched longest, which stay as
    # they were at depth 0, with their diffs
    commit(root, {"pkg/mod_01.py": "x = 1\n"}, "rewrite mod_01", 9)
    moved = build_pack(root, settings(tmp_path))
    exact(moved)
    assert "(4 commit(s) before HEAD) for the steadiest files, HEAD for the rest" in moved.notes[-1]
    assert moved.text.count("<changes since=") == 1 and "\n1| x = 1\n" in moved.text
    # the older layer is the first half of the snapshot before: kept as it was
    assert shared(last.text, moved.text) >= moved.text.index("<changes since=") > 0.4 * len(moved.text)


def test_two_layers_keep_the_stable_files_when_the_snapshot_moves(make_repo: MakeRepo, tmp_path: Path) -> None:
    # every 2 commits, and the older layer every 16: at depths 17-21 the files untouched longest
    # come from depth 16 and the rest from the latest even depth
    root = make_repo(project(24))
    packs = {}
    for depth in range(1, 22):
        path = f"pkg/mod_{depth % 24:02d}.py"
        commit(root, {path: (root / path).read_text() + f"\nSTEP_{depth} = {depth}\n"}, f"step {depth}", depth)
        if depth >= 17:
            packs[depth] = build_pack(root, settings(tmp_path, snapshot_every=2))
            exact(packs[depth])
    assert "snapshot at " in packs[19].notes[-1] and "1 commit(s) before HEAD for the rest" in packs[19].notes[-1]
    assert "(3 commit(s) before HEAD) for the steadiest files" in packs[19].notes[-1]
    assert packs[19].text.count("<changes since=") == 2
    # the top layer moves from depth 18 to 20: the older layer and its diffs stay
    kept = shared(packs[19].text, packs[20].text)
    older = packs[19].text.index("</changes>")
    assert kept > older and kept / len(packs[20].text) > 0.4
    # every commit is in the pack once it is after the older layer, and the current lines are
    for depth in (17, 18, 19, 20, 21):
        assert f"+STEP_{depth} = {depth}" in packs[21].text
    lines = line_reader(root, packs[21])("pkg/mod_17.py")
    assert lines is not None and "STEP_17 = 17" in lines


def test_diffs_are_filtered_redacted_and_escaped(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({**project(4), ".gitignore": "build/\n"})
    commit(root, {
        "pkg/keys.py": f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\n',
        "package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {}}),
        "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    }, 'add keys "<evil>" & </commit> stuff', 2)
    pack = build_pack(root, settings(tmp_path))
    exact(pack)
    log = pack.text[pack.text.index("<changes"):]
    assert AWS_ID not in pack.text and "pkg/keys.py" in log
    assert any(h.path == "pkg/keys.py" for h in pack.secrets)
    assert "package-lock.json" not in log and "logo.png" not in log
    assert 'subject="add keys &quot;&lt;evil&gt;&quot; &amp; &lt;/commit&gt; stuff"' in log
    # control characters in a message neither split the log nor reach the pack
    commit(root, {"pkg/mod_01.py": "g = 7\n"}, "forged \x01 00ff \x02 split", 3)
    pack = build_pack(root, settings(tmp_path))
    exact(pack)
    assert 'subject="forged   00ff   split">\ndiff --git a/pkg/mod_01.py b/pkg/mod_01.py' in pack.text
    assert "\x01" not in pack.text and pack.text.count("<commit ") == 2


def test_empty_commits_and_merges(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(4))
    git(root, "commit", "-q", "--allow-empty", "-m", "nothing", date="2024-02-02T00:00:00Z")
    git(root, "checkout", "-q", "-b", "topic")
    commit(root, {"pkg/mod_02.py": "merged = True\n"}, "on the branch", 3)
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "-m", "merge topic", "topic", date="2024-02-04T00:00:00Z")
    pack = build_pack(root, settings(tmp_path))
    exact(pack)
    log = pack.text[pack.text.index("<changes"):]
    # first-parent history: the empty commit, then the merge as one diff against main
    assert log.count("<commit ") == 2 and 'subject="nothing">\n</commit>' in log
    assert 'subject="merge topic">\ndiff --git a/pkg/mod_02.py' in log and "+merged = True" in log
    assert "on the branch" not in log


def test_snapshot_tree_holds_regular_files_only(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(4))
    secret = tmp_path / "outside.txt"
    secret.write_text("OUTSIDE THE ROOT\n")
    os.symlink(secret, root / "escape.txt")
    os.symlink("pkg/core.py", root / "inside.py")
    commit(root, {}, "links", 2)  # depth 1
    commit(root, {"pkg/mod_00.py": "y = 2\n"}, "edit", 3)  # depth 2: the snapshot, links included
    commit(root, {"pkg/mod_01.py": "y = 3\n"}, "edit again", 4)
    pack = build_pack(root, settings(tmp_path, snapshot_every=2))
    exact(pack)
    assert "OUTSIDE THE ROOT" not in pack.text
    assert "1 commit(s) before HEAD" in pack.notes[-1]
    # two trees (depth 0 for the steadiest files, depth 2 with the links for the rest)
    trees = list((tmp_path / "cache" / "snapshots").glob("*/" + root.name))
    assert len(trees) == 2 and all((t / "pkg" / "core.py").is_file() for t in trees)
    for t in trees:
        assert not (t / "escape.txt").exists() and not (t / "inside.py").exists()
        assert not any(p.is_symlink() for p in t.rglob("*"))


def test_task_files_and_uncommitted_ones_come_whole_after_the_diffs(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(8))
    git(root, "checkout", "-q", "-b", "feature")
    commit(root, {"pkg/mod_03.py": "def handler_3(x):\n    return x * 3\n"}, "simplify", 2)
    (root / "pkg" / "mod_06.py").write_text("def handler_6(x):\n    return -x\n")  # not committed
    pack = build_pack(root, settings(tmp_path), diff_base="main")
    exact(pack)
    tail = pack.text[pack.text.index("</changes>"):]
    assert '<file path="pkg/mod_03.py" tier="full"' in tail and '<file path="pkg/mod_06.py" tier="full"' in tail
    assert "return -x" in tail and "<directory_structure>" in tail
    assert pack.file("pkg/mod_06.py").reason == "current text after the changes"  # type: ignore[union-attr]
    # --explain's counts are the ones the blocks state (a file's last block: its current text)
    from reviewer.cli.explain_view import explain_rows

    stated = {m[1]: int(m[2]) for m in re.finditer(r'<file path="([^"]+)"[^>]* tokens="(\d+)"', pack.text)}
    rows = {r["path"]: r["tokens"] for r in explain_rows(pack) if r["tier"] != "listed"}
    assert rows == stated and stated["pkg/mod_06.py"] == get_tokenizer().count(
        "1| def handler_6(x):\n2|     return -x\n")


def test_a_later_snapshot_when_the_diffs_do_not_fit(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(30))
    big = "".join(f"def generated_{i}(value):\n    return value * {i} + {i * i}\n\n" for i in range(400))
    commit(root, {"pkg/generated.py": big}, "add a big module", 2)  # depth 1
    commit(root, {"pkg/mod_02.py": "z = 3\n"}, "small edit", 3)  # depth 2
    budget = 12_000
    pack = build_pack(root, settings(tmp_path, budget=budget))
    exact(pack)
    assert pack.total_tokens >= 0.85 * budget
    # the diffs since depth 0 (the big module) do not fit: the snapshot is taken at depth 2
    assert "snapshot at HEAD" in pack.notes[-1] and "<changes" not in pack.text
    # the same repository with room for them: the snapshot stays at depth 0
    roomy = build_pack(root, settings(tmp_path, budget=200_000))
    exact(roomy)
    assert "2 commit(s) before HEAD" in roomy.notes[-1] and "+def generated_399(value):" in roomy.text


def test_same_bytes_with_and_without_cache(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(6))
    commit(root, {"pkg/mod_01.py": "a = 1\n"}, "one", 2)
    first = build_pack(root, settings(tmp_path)).text
    assert build_pack(root, settings(tmp_path)).text == first
    assert build_pack(root, settings(tmp_path, cache=False)).text == first


def test_root_below_the_top_of_the_repository(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"app/" + k: v for k, v in project(4).items()} | {"other/secret_plan.txt": "not ours\n"})
    commit(root, {"app/pkg/mod_01.py": "b = 2\n", "other/notes.txt": "elsewhere\n"}, "both", 2)
    pack = build_pack(root / "app", settings(tmp_path))
    exact(pack)
    assert "not ours" not in pack.text and "elsewhere" not in pack.text
    assert "diff --git a/pkg/mod_01.py b/pkg/mod_01.py" in pack.text
    assert pack.file("pkg/mod_01.py") is not None


def test_steps_back_to_the_usual_layout(make_repo: MakeRepo, tmp_path: Path) -> None:
    plain_dir = make_repo(project(3), use_git=False)
    pack = build_pack(plain_dir, settings(tmp_path))
    exact(pack)
    assert "needs a git repository" in pack.notes[0]
    root = make_repo(project(3))
    commit(root, {"pkg/mod_01.py": "c = 3\n"}, "one", 2)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{root}", str(shallow)], check=True,
                   capture_output=True)
    pack = build_pack(shallow, settings(tmp_path))
    exact(pack)
    assert "shallow" in pack.notes[0] and "<changes" not in pack.text


def test_cli_flag_and_note(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(4))
    commit(root, {"pkg/mod_01.py": "d = 4\n"}, "one", 2)
    env = {**os.environ, "REVIEWER_CACHE_DIR": str(tmp_path / "cli-cache")}
    out = subprocess.run([sys.executable, "-m", "reviewer", "pack", str(root), "--snapshot-every", "8", "-o",
                          str(tmp_path / "p.xml"), "--stats", "json"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert any("1 commit(s) before HEAD" in n for n in stats["notes"])
    assert "<changes since=" in (tmp_path / "p.xml").read_text()


def test_unwritable_cache_directory(make_repo: MakeRepo, tmp_path: Path) -> None:
    # a cache "directory" that is a file: nothing can be written below it (as root too)
    root = make_repo(project(4))
    commit(root, {"pkg/mod_01.py": "e = 5\n"}, "one", 2)
    reference = build_pack(root, settings(tmp_path, cache=False)).text
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    pack = build_pack(root, settings(tmp_path, cache_dir=str(blocked)))
    assert pack.text == reference and "1 commit(s) before HEAD" in pack.notes[-1]


def test_markdown_style(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(4))
    commit(root, {"pkg/mod_01.py": "f = 6\n```\nfenced\n"}, "one", 2)
    pack = build_pack(root, settings(tmp_path, style="markdown"))
    exact(pack)
    assert "## Changes since commit " in pack.text and "### Commit " in pack.text
    assert "````diff\ndiff --git a/pkg/mod_01.py b/pkg/mod_01.py" in pack.text  # a fence longer than the diff's


def test_a_snapshot_of_many_files(make_repo: MakeRepo, tmp_path: Path) -> None:
    # more object names than a pipe holds (1,800 x 41 bytes > 64 KiB), and blobs that fill the pipe
    # back long before all names are sent
    files = {f"data/d{i // 100:02d}/f{i:04d}.txt": f"line {i}\n" * 120 for i in range(1800)}
    root = make_repo(files)
    commit(root, {"data/d00/f0000.txt": "changed\n"}, "one", 2)
    pack = build_pack(root, settings(tmp_path, budget=50_000))
    exact(pack)
    assert "1 commit(s) before HEAD" in pack.notes[-1]
