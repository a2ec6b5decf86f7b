"""Scanning real git repositories and plain directories, including hostile ones."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reviewer.config import load_settings
from reviewer.errors import InputError
from reviewer.repo.scan import resolve_root, scan
from tests.conftest import MakeRepo, git


def reasons(result) -> dict[str, str]:
    return {e.path: e.reason for e in result.excluded}


def test_git_repo_honours_gitignore_untracked_and_info_exclude(make_repo: MakeRepo) -> None:
    root = make_repo({".gitignore": "*.log\nsecret_dir/\n", "app.py": "print(1)\n", "debug.log": "x\n"})
    (root / "new_untracked.py").write_text("x = 2\n")
    (root / "secret_dir").mkdir()
    (root / "secret_dir" / "a.py").write_text("x = 3\n")
    (root / ".git" / "info" / "exclude").write_text("local_only.py\n")
    (root / "local_only.py").write_text("x = 4\n")
    result = scan(root, load_settings(root))
    paths = [f.path for f in result.files]
    assert paths == [".gitignore", "app.py", "new_untracked.py"]
    assert result.is_git


def test_plain_directory_walk_honours_nested_gitignore(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            ".gitignore": "*.tmp\nbuild_out/\n",
            "src/.gitignore": "generated_*.py\n!generated_keep.py\n",
            "src/main.py": "x = 1\n",
            "src/generated_a.py": "x = 2\n",
            "src/generated_keep.py": "x = 3\n",
            "notes.tmp": "x\n",
            "build_out/x.py": "x = 4\n",
        },
        use_git=False,
    )
    result = scan(root, load_settings(root))
    assert [f.path for f in result.files] == [".gitignore", "src/.gitignore", "src/generated_keep.py", "src/main.py"]
    assert not result.is_git


def test_default_ignores_and_globs_keep_their_reason(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "package-lock.json": "{}\n",
            "static/app.min.js": "var a=1;\n",
            "node_modules/x/index.js": "module.exports = 1\n",
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
            "model.safetensors": b"\x00" * 10,
            "docs/guide.md": "# Guide\n",
            "src/a.py": "a = 1\n",
        }
    )
    result = scan(root, load_settings(root, {"exclude": ["docs/"]}))
    assert [f.path for f in result.files] == ["src/a.py"]
    r = reasons(result)
    assert r["package-lock.json"] == "lock-file"
    assert r["static/app.min.js"] == "minified"
    assert r["node_modules/x/index.js"] == "vendored"
    assert r["logo.png"] == "image"
    assert r["model.safetensors"] == "model-weights"
    assert r["docs/guide.md"] == "excluded"
    only = scan(root, load_settings(root, {"include": ["*.md"], "use_default_ignores": True}))
    assert [f.path for f in only.files] == ["docs/guide.md"]


def test_hostile_repository(make_repo: MakeRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside_secret.txt"
    outside.write_text("TOP-SECRET-OUTSIDE\n")
    names = {
        "new\nline.py": "a = 1\n",
        "tab\tname.py": "b = 2\n",
        "quote\"s'.py": "c = 3\n",
        "space name.py": "d = 4\n",
        "ünïcödé_名前.py": "e = 5\n",
        "bad_utf8.py": b"x = '\xff\xfe\xfa'\n",
        "nul.txt": b"abc\x00def\n",
        "bom.py": b"\xef\xbb\xbfprint('bom')\r\nprint(2)\r\n",
        "utf16.txt": "hello utf16\n".encode("utf-16"),
    }
    root = make_repo(names)
    os.symlink("/etc/passwd", root / "passwd_link")
    os.symlink(outside, root / "outside_link.txt")
    os.symlink("..", root / "parent_link")
    os.symlink("loop_b", root / "loop_a")
    os.symlink("loop_a", root / "loop_b")
    os.symlink("bom.py", root / "inside_link.py")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "links")
    with (root / "big.txt").open("w") as fh:  # 50 MB, one line, untracked
        fh.write("x" * (50 * 1024 * 1024))
    result = scan(root, load_settings(root))
    by_path = {f.path: f for f in result.files}
    r = reasons(result)
    assert r["passwd_link"] == "link-outside-root"
    assert r["outside_link.txt"] == "link-outside-root"
    assert r["parent_link"] in ("link-outside-root", "submodule-or-directory")
    assert r["loop_a"] == "broken-or-looping-link"
    assert r["inside_link.py"] == "link"
    assert r["big.txt"] == "too-large"
    assert r["nul.txt"] == "binary"
    for name in ("new\nline.py", "tab\tname.py", "quote\"s'.py", "space name.py", "ünïcödé_名前.py"):
        assert name in by_path, name
    assert by_path["bad_utf8.py"].text == "x = '\ufffd\ufffd\ufffd'\n"
    assert by_path["bom.py"].text == "print('bom')\nprint(2)\n"
    assert by_path["utf16.txt"].text == "hello utf16\n"
    for f in result.files:
        assert "TOP-SECRET-OUTSIDE" not in f.text
        assert "root:x:0:0" not in f.text


def test_walk_never_follows_directory_links(make_repo: MakeRepo, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "leak.py").write_text("LEAK = 1\n")
    root = make_repo({"a.py": "a = 1\n"}, use_git=False)
    os.symlink(elsewhere, root / "linked_dir")
    os.symlink(".", root / "self_loop")
    result = scan(root, load_settings(root))
    assert [f.path for f in result.files] == ["a.py"]
    assert reasons(result)["linked_dir"] == "link-outside-root"
    assert reasons(result)["self_loop"] in ("link", "submodule-or-directory")


def test_fifo_is_not_read(make_repo: MakeRepo) -> None:
    root = make_repo({"a.py": "a = 1\n"}, use_git=False)
    os.mkfifo(root / "pipe")
    result = scan(root, load_settings(root))
    assert reasons(result)["pipe"] == "not-a-regular-file"


def test_root_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        resolve_root(tmp_path / "nope")
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        resolve_root(f)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a directory without permissions")
def test_unreadable_root(tmp_path: Path) -> None:
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0)
    try:
        with pytest.raises(InputError, match="cannot read"):
            resolve_root(d)
    finally:
        d.chmod(0o755)


def test_tracked_files_below_a_directory_swapped_for_a_link_are_not_read(make_repo: MakeRepo, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "inner").mkdir(parents=True)
    (elsewhere / "inner" / "leak.py").write_text("LEAK = 1\n")
    root = make_repo({"pkg/inner/leak.py": "ok = 1\n", "pkg/keep.py": "keep = 1\n", "b.py": "b = 1\n"})
    shutil.rmtree(root / "pkg" / "inner")
    os.symlink(elsewhere / "inner", root / "pkg" / "inner")  # git still lists pkg/inner/leak.py
    (root / "pkg2").mkdir()
    os.symlink(root / "pkg", root / "pkg2" / "alias")  # a link to a directory inside the root
    result = scan(root, load_settings(root))
    assert reasons(result)["pkg/inner/leak.py"] == "link-outside-root"
    assert [f.path for f in result.files] == ["b.py", "pkg/keep.py"]
    assert all("LEAK" not in f.text for f in result.files)
