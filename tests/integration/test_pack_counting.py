"""Exact counts made in a counting process of their own, while this process prepares outlines:
the same counts as made here, a fallback when that process dies, and exact totals for a pack big
enough to use it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from reviewer.config import Settings
from reviewer.index.batch import WorkerPool
from reviewer.index.cache import IndexCache
from reviewer.pack.prepare import Workbench, start_counter
from reviewer.pack.render import get_renderer
from reviewer.pack.tokens import get_tokenizer
from reviewer.repo.scan import scan
from tests.conftest import MakeRepo

SECRET = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"


def module(i: int, methods: int) -> str:
    body = "".join(
        f"    def method_{k}(self, value):\n        \"\"\"Step {k} of {i}.\"\"\"\n"
        f"        total = value * {k} + {i}\n        total += len(os.sep) * {k}\n"
        f"        if total > {i * 100}:\n            total -= {k}\n        return total\n\n"
        for k in range(methods)
    )
    return f'"""Module {i}."""\n\nimport os\n\nTOKEN = "{SECRET}"\n\n\nclass Thing{i}:\n{body}'


def items_of(files: list[str]) -> list[tuple[str, str]]:
    """Every file whole, and every other one as an outline too."""
    return [(p, "full") for p in files] + [(p, "outline") for p in files[::2]]


def bench_costs(root: Path, settings: Settings, *, counter: bool, kill_counter: bool = False) -> tuple[dict, dict, Workbench]:
    scanned = scan(root, settings)
    paths = [f.path for f in scanned.files]
    with IndexCache(settings) as cache, WorkerPool(2 if counter else 1) as pool:
        bench = Workbench(scanned.files, settings, get_renderer("xml"), cache, pool)
        remote = start_counter(settings) if counter else None
        try:
            bench.preload_tokenizer(remote)
            if kill_counter:
                assert remote is not None and remote._worker is not None
                remote.ready()
                remote._worker.proc.kill()
                remote._worker.proc.wait()
            costs = bench.costs(items_of(paths))
            blocks = dict(bench.blocks)
        finally:
            bench.close()
            if remote is not None:
                remote.close()
    return costs, blocks, bench


def test_counts_made_in_the_counting_process_equal_counts_made_here(make_repo: MakeRepo) -> None:
    root = make_repo({f"pkg/m{i}.py": module(i, 6 + 3 * i) for i in range(8)})
    settings = Settings(cache=False)
    here, here_blocks, local = bench_costs(root, settings, counter=False)
    there, there_blocks, remote = bench_costs(root, settings, counter=True)
    assert local.counted_apart == 0 < remote.counted_apart == remote.counted  # the second counted elsewhere
    assert there == here and there_blocks == here_blocks
    assert any(t == "outline" for _, t in there) and any(t == "full" for _, t in there)
    tok = get_tokenizer()
    for (path, tier), (text, n) in there_blocks.items():
        assert tok.count(text) == n, (path, tier)
        assert SECRET not in text


def test_a_counting_process_that_dies_leaves_the_counts_to_this_process(make_repo: MakeRepo) -> None:
    root = make_repo({f"pkg/m{i}.py": module(i, 5 + i) for i in range(6)})
    settings = Settings(cache=False)
    here, here_blocks, _ = bench_costs(root, settings, counter=False)
    there, there_blocks, bench = bench_costs(root, settings, counter=True, kill_counter=True)
    assert there == here and there_blocks == here_blocks
    assert bench.counted_apart == 0 < bench.counted


def test_a_pack_big_enough_for_a_counting_process_is_exact(make_repo: MakeRepo, tmp_path: Path) -> None:
    # over 500 KB of text: the tags miss the cache and the tokenizer is loaded in a process of its own
    root = make_repo({f"pkg/m{i:03d}.py": module(i, 25 + i % 20) for i in range(200)})
    assert sum(p.stat().st_size for p in root.rglob("*.py")) > 600_000
    outs = []
    for n, flags in enumerate((["--no-cache"], [], [])):
        out = tmp_path / f"pack{n}.xml"
        proc = subprocess.run(
            [sys.executable, "-m", "reviewer", "pack", str(root), "--budget", "60000", "-o", str(out), "-q",
             "--stats", "json", *flags],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "REVIEWER_CACHE_DIR": str(tmp_path / "cache")},
        )
        assert proc.returncode == 0, proc.stderr
        stats = json.loads(proc.stdout)
        text = out.read_text(encoding="utf-8")
        assert stats["total_tokens"] == get_tokenizer().count(text) <= 60000
        assert stats["files"]["outline"] > 0 and stats["files"]["full"] > 0
        assert SECRET not in text
        # each block's own count, as its head says, is its body's
        blocks = re.findall(r'<file path="[^"]*" tier="\w+" lines="\d+" tokens="(\d+)"[^>]*>\n(.*?)</file>\n', text, re.S)
        assert len(blocks) == stats["files"]["full"] + stats["files"]["outline"]
        assert [int(n) for n, _ in blocks] == get_tokenizer().count_batch([b for _, b in blocks])
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]  # --no-cache, an empty cache, a warm one
