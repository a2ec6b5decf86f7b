"""The on-disk index cache: round trips, keys, size bound, --no-cache, damage and two writers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reviewer.config import Settings
from reviewer.index import index_text
from reviewer.index.cache import IndexCache, cache_size, decode_index, encode_index

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "index"


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(cache_dir=str(tmp_path / "cache"), **kw)


def test_index_round_trip_through_a_new_connection(tmp_path: Path) -> None:
    ix = index_text("sample.py", (FIXTURES / "sample.py").read_text(encoding="utf-8"))
    assert decode_index(encode_index(ix)) == ix
    with IndexCache(settings(tmp_path)) as cache:
        cache.put_indexes({"abc": ix})
        cache.put_counts({"abc:full": 123})
        cache.put_json("tags", {"abc": {"x": [1, "é"]}})
    with IndexCache(settings(tmp_path)) as cache:
        assert cache.get_indexes(["abc", "missing"]) == {"abc": ix}
        assert cache.get_counts(["abc:full", "nope"]) == {"abc:full": 123}
        assert cache.get_json("tags", ["abc"]) == {"abc": {"x": [1, "é"]}}
        assert cache.hits == 3 and cache.misses == 2


def test_counts_are_per_tokenizer(tmp_path: Path) -> None:
    with IndexCache(settings(tmp_path)) as cache:
        cache.put_counts({"k": 5})
    with IndexCache(settings(tmp_path, tokenizer="hf:/elsewhere/tokenizer.json")) as cache:
        assert cache.get_counts(["k"]) == {}


def test_no_cache_reads_and_writes_nothing(tmp_path: Path) -> None:
    with IndexCache(settings(tmp_path, cache=False)) as cache:
        cache.put_counts({"k": 1})
        assert cache.get_counts(["k"]) == {}
        assert not cache.enabled
    assert not (tmp_path / "cache").exists()


def test_size_is_bounded_by_evicting_the_least_recently_used(tmp_path: Path) -> None:
    s = settings(tmp_path, cache_max_mb=1)
    blob = {"t": "x" * 20_000}
    for batch in range(10):  # 10 x 20 entries x 20 KB = 4 MB offered
        with IndexCache(s) as cache:
            cache.put_json("big", {f"{batch}-{i}": blob for i in range(20)})
    with IndexCache(s) as cache:
        total = cache._db.execute("SELECT SUM(size) FROM entries").fetchone()[0]  # type: ignore[union-attr]
        newest = cache.get_json("big", [f"9-{i}" for i in range(20)])
        oldest = cache.get_json("big", [f"0-{i}" for i in range(20)])
    assert total <= 1024 * 1024
    assert len(newest) == 20 and not oldest
    assert cache_size(s) > 0


def test_a_damaged_database_turns_the_cache_off_without_failing(tmp_path: Path) -> None:
    s = settings(tmp_path)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "index.sqlite3").write_bytes(b"this is not a database" * 100)
    with IndexCache(s) as cache:
        assert cache.get_counts(["k"]) == {}
        cache.put_counts({"k": 1})
        assert not cache.enabled and "cache" in cache.note


WRITER = """
import sys
from reviewer.config import Settings
from reviewer.index.cache import IndexCache
s = Settings(cache_dir=sys.argv[1])
me = sys.argv[2]
for round in range(30):
    with IndexCache(s) as cache:
        cache.put_counts({f"{me}-{round}-{i}": i for i in range(50)})
        assert cache.get_counts([f"{me}-{round}-7"]) == {f"{me}-{round}-7": 7}
print("ok")
"""


def test_two_runs_can_share_the_cache(tmp_path: Path) -> None:
    cache_dir = str(tmp_path / "cache")
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, cache_dir, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name in ("a", "b")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1].decode()[-500:] for o in outs]
    with IndexCache(Settings(cache_dir=cache_dir)) as cache:
        keys = [f"{n}-{r}-{i}" for n in "ab" for r in range(30) for i in range(50)]
        assert len(cache.get_counts(keys)) == len(keys)
