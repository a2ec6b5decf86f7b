"""The stat cache: a warm scan takes unchanged files' hashes from it and reads their text only
when asked; anything changed, too fresh, corrupt or bypassed is read again."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from reviewer.config import Settings
from reviewer.errors import InputError
from reviewer.pack import build_pack
from reviewer.repo.scan import SourceFile, scan
from reviewer.repo.statcache import StatCache
from tests.conftest import MakeRepo

OLD = time.time() - 3600


def settings(cache_dir: Path, **kw: object) -> Settings:
    return Settings(cache_dir=str(cache_dir), **kw)


def age(root: Path) -> None:
    """Make every file an hour old, so the cache may trust what it records of them."""
    for dirpath, _, names in os.walk(root):
        if ".git" in Path(dirpath).parts:
            continue
        for name in names:
            os.utime(Path(dirpath, name), (OLD, OLD))


def cache_file(cache: Path) -> Path:
    (found,) = (cache / "scan").glob("*.json")
    return found


def test_warm_scan_reads_only_what_is_asked_for(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"a.py": "a = 1\n", "b.py": "b = 2\nb2 = 3\n", "blob.dat2": b"\x00\x01\x02" * 10})
    age(root)
    cache = tmp_path / "cache"
    cold = {f.path: f for f in scan(root, settings(cache)).files}
    warm = scan(root, settings(cache))
    by_path = {f.path: f for f in warm.files}
    assert sorted(by_path) == sorted(cold)
    assert {"a.py", "b.py"} <= set(by_path)
    for path, f in by_path.items():
        assert f._text is None, path  # not read yet
        assert f.sha256 == cold[path].sha256
        assert f.lines == cold[path].lines
    assert by_path["b.py"].text == "b = 2\nb2 = 3\n"
    assert {e.path: e.reason for e in warm.excluded}["blob.dat2"] == "binary"


def test_a_changed_file_is_read_again(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"a.py": "a = 1\n", "b.py": "b = 2\n"})
    age(root)
    cache = tmp_path / "cache"
    scan(root, settings(cache))
    (root / "a.py").write_text("a = 100\n")  # same size would still differ in mtime and ctime
    os.utime(root / "a.py", (OLD, OLD))  # even with the old mtime: ctime moved
    warm = {f.path: f for f in scan(root, settings(cache)).files}
    assert warm["a.py"]._text == "a = 100\n"
    assert warm["b.py"]._text is None


def test_a_file_changed_just_now_is_not_trusted_next_time(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"fresh.py": "x = 1\n", "old.py": "y = 1\n"})
    os.utime(root / "old.py", (OLD, OLD))
    cache = tmp_path / "cache"
    scan(root, settings(cache))
    files = json.loads(cache_file(cache).read_text())["files"]
    assert "old.py" in files
    assert "fresh.py" not in files


def test_text_that_no_longer_has_the_recorded_hash_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("changed\n")
    f = SourceFile("a.py", tmp_path / "a.py", None, 8, "0" * 64)
    with pytest.raises(InputError, match="changed while it was being read"):
        _ = f.text


@pytest.mark.parametrize("garbage", ["", "{", "[]", '{"v": 1, "salt": "x", "files": {"a.py": [1, 2]}}',
                                     '{"v": 999, "files": {}}'])
def test_a_corrupt_cache_file_is_ignored(make_repo: MakeRepo, tmp_path: Path, garbage: str) -> None:
    root = make_repo({"a.py": "a = 1\n"})
    age(root)
    cache = tmp_path / "cache"
    scan(root, settings(cache))
    cache_file(cache).write_text(garbage)
    files = {f.path: f for f in scan(root, settings(cache)).files}
    assert files["a.py"].text == "a = 1\n"
    assert json.loads(cache_file(cache).read_text())["files"]["a.py"][4] == files["a.py"].sha256


def test_no_cache_writes_nothing(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"a.py": "a = 1\n"})
    age(root)
    cache = tmp_path / "cache"
    files = scan(root, settings(cache, cache=False)).files
    assert not (cache / "scan").exists()
    assert all(f._text is not None for f in files)


def test_packs_are_the_same_bytes_cold_warm_and_without_cache(make_repo: MakeRepo, tmp_path: Path) -> None:
    files = {f"pkg/m{i}.py": f"def f{i}(x):\n    return x + {i}\n" * (i + 1) for i in range(30)}
    root = make_repo(files)
    age(root)
    cache = tmp_path / "cache"
    cold = build_pack(root, settings(cache, budget=2_000)).text
    warm = build_pack(root, settings(cache, budget=2_000)).text
    none = build_pack(root, settings(tmp_path / "elsewhere", budget=2_000, cache=False)).text
    assert cold == warm == none
    assert "pkg/m0.py" in cold


def test_the_cache_keeps_only_the_most_recent_roots(make_repo: MakeRepo, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.repo import statcache

    monkeypatch.setattr(statcache, "_MAX_ROOTS", 2)
    cache = tmp_path / "cache"
    roots = [make_repo({"a.py": f"a = {i}\n"}, name=f"r{i}") for i in range(4)]
    for i, root in enumerate(roots):
        age(root)
        scan(root, settings(cache))
        newest = max((cache / "scan").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        os.utime(newest, ns=(i * 10**9, i * 10**9 + 10**12))  # a distinct, increasing write time
    kept = sorted((cache / "scan").glob("*.json"))
    assert len(kept) == 2
    assert kept == sorted(StatCache.for_root(cache, root.resolve(), "any salt").path for root in roots[2:])
