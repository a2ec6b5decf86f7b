"""Benchmark ``reviewer pack`` beside ``npx repomix`` on the same tree, in the same run.

    python bench/pack_bench.py PATH [--budget N] [--runs 1]

Prints wall time, CPU time and peak memory (of the whole process tree) of each tool, the ratio
between them, and the token totals each reports. ``reviewer pack`` is run cold (``--no-cache``)
and warm (cache filled by the cold run). repomix (``REPOMIX``, on PATH, or ``npx -y repomix``;
see ``peer.py``) is run cold, its token-count cache in a new empty directory each time; when npm
is missing this says so and measures only reviewer. ``bench/speed_bench.py`` interleaves more
kinds of run and reports the packer's stages. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Measurement, measure
from peer import repomix_command, repomix_env, repomix_version


def reviewer_cmd(path: str, out: str, budget: int | None, cache: bool) -> list[str]:
    cmd = [sys.executable, "-m", "reviewer", "pack", path, "-o", out, "-q", "--stats", "json"]
    if budget:
        cmd += ["--budget", str(budget)]
    if not cache:
        cmd.append("--no-cache")
    return cmd


def best(runs: list[Measurement]) -> tuple[float, float, float]:
    return statistics.median(m.wall for m in runs), max(m.peak_rss_mb for m in runs), statistics.median(m.cpu for m in runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    path = str(Path(args.path).resolve())
    tmp = tempfile.mkdtemp(prefix="pack-bench-")
    rows = []

    cold = [measure(reviewer_cmd(path, f"{tmp}/r.xml", args.budget, cache=False)) for _ in range(args.runs)]
    if cold[0].rc != 0:
        print("reviewer pack failed:", cold[0].stderr, file=sys.stderr)
        return 1
    warm = [measure(reviewer_cmd(path, f"{tmp}/r.xml", args.budget, cache=True)) for _ in range(args.runs + 1)][1:]
    stats = json.loads(warm[-1].stdout)
    rows.append(("reviewer pack (cold)", *best(cold)))
    rows.append(("reviewer pack (warm)", *best(warm)))

    repomix = repomix_command()
    repomix_row = None
    if repomix is None:
        print("npm/npx not found: repomix not measured")
    else:
        rcmd = [*repomix, path, "-o", f"{tmp}/repomix.xml", "--quiet"]
        rm = [measure(rcmd, repomix_env(Path(tmp, f"repomix-cache-{i}"))) for i in range(args.runs)]
        if rm[0].rc != 0:
            print("repomix failed:", rm[0].stderr[-500:])
        else:
            repomix_row = (f"repomix {repomix_version(repomix)} (cold)", *best(rm))
            rows.append(repomix_row)

    print(f"tree: {path}")
    print(f"reviewer: {stats['total_tokens']:,} tokens (exact, {stats['tokenizer']}), budget {stats['budget']:,}, "
          f"files {stats['files']}, excluded {stats['excluded_total']}")
    if repomix_row is not None:
        size = Path(f"{tmp}/repomix.xml").stat().st_size
        print(f"repomix: output {size / 1e6:.1f} MB (no budget applied)")
    print(f"{'tool':<30}{'wall s':>8}{'cpu s':>8}{'peak RSS MB':>13}")
    for name, wall, rss, cpu in rows:
        print(f"{name:<30}{wall:>8.2f}{cpu:>8.2f}{rss:>13.0f}")
    if repomix_row is not None:
        print(f"ratio cold reviewer / repomix: wall {rows[0][1] / repomix_row[1]:.2f}x, RSS {rows[0][2] / repomix_row[2]:.2f}x")
        print(f"ratio warm reviewer / repomix: wall {rows[1][1] / repomix_row[1]:.2f}x")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
