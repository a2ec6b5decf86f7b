"""Speed of ``reviewer pack`` to an exact budget, beside ``repomix`` on the same tree, same run.

    python bench/speed_bench.py PATH [PATH ...] [--budget N] [--rounds 5] [--repomix BIN]

Each round runs, one after the other (interleaved, so a busy machine weighs on both tools alike):
reviewer cold with ``--no-cache``, repomix cold (its token-count cache in a new empty directory),
reviewer cold with a new empty cache directory, repomix warm (its cache filled), reviewer warm (a
cache filled by an earlier run, nothing changed) and reviewer warm after one file was edited (a
copy of the tree is used for that). Reported per run kind: median, min and max wall time, median
CPU time (user + system of the whole process tree), peak memory of the whole process tree (the
tool and every worker it starts, summed) and the load average at the start; for reviewer, the
median time of each stage of the packer (``--stats json``'s ``stages``; ``outside`` is start-up,
imports and writing the file), and the pack's exact total, recounted from the written file with
the V4 tokenizer, against the budget. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Measurement, measure
from peer import repomix_command, repomix_env, repomix_version


def reviewer(path: str, out: str, budget: int | None, cache: bool) -> list[str]:
    cmd = [sys.executable, "-m", "reviewer", "pack", path, "-o", out, "-q", "--stats", "json"]
    if budget:
        cmd += ["--budget", str(budget)]
    if not cache:
        cmd.append("--no-cache")
    return cmd


def bench_tree(path: str, args: argparse.Namespace, repomix: list[str] | None) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="speed-bench-"))
    try:
        return _bench_tree(path, args, repomix, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench_tree(path: str, args: argparse.Namespace, repomix: list[str] | None, tmp: Path) -> int:
    def env(cache: Path) -> dict[str, str]:
        return {**os.environ, "REVIEWER_CACHE_DIR": str(cache)}

    warm_cache = tmp / "cache"
    copy = tmp / "edited"
    shutil.copytree(path, copy, symlinks=True)
    out = {k: str(tmp / f"{k}.xml") for k in ("nocache", "empty", "warm", "edited")}
    # fill the caches the warm runs read (the cold runs are told not to, or get an empty one)
    measure(reviewer(path, out["warm"], args.budget, True), env(warm_cache))
    measure(reviewer(str(copy), out["edited"], args.budget, True), env(warm_cache))
    if repomix:
        measure([*repomix, path, "-o", str(tmp / "repomix.xml"), "--quiet"], repomix_env(tmp / "repomix-warm"))
    rows: dict[str, list[Measurement]] = {k: [] for k in (
        "reviewer cold --no-cache", "repomix cold", "reviewer cold, empty cache", "repomix warm",
        "reviewer warm", "reviewer warm, 1 file edited")}
    stats: dict[str, list[dict]] = {k: [] for k in rows}
    victim = next(p for p in sorted(copy.rglob("*.py")) if "test" not in p.name)

    def ours(kind: str, argv: list[str], cache: Path) -> bool:
        m = measure(argv, env(cache))
        if m.rc != 0:
            print(f"reviewer failed ({kind}): {m.stderr[-500:]}", file=sys.stderr)
            return False
        rows[kind].append(m)
        stats[kind].append(json.loads(m.stdout))
        return True

    def theirs(kind: str, cache: Path) -> None:
        if repomix:
            m = measure([*repomix, path, "-o", str(tmp / "repomix.xml"), "--quiet"], repomix_env(cache))
            if m.rc == 0:
                rows[kind].append(m)

    for r in range(args.rounds):
        if not ours("reviewer cold --no-cache", reviewer(path, out["nocache"], args.budget, False), warm_cache):
            return 1
        theirs("repomix cold", tmp / f"repomix-cold-{r}")
        if not ours("reviewer cold, empty cache", reviewer(path, out["empty"], args.budget, True), tmp / f"cold-{r}"):
            return 1
        shutil.rmtree(tmp / f"cold-{r}", ignore_errors=True)
        theirs("repomix warm", tmp / "repomix-warm")
        ours("reviewer warm", reviewer(path, out["warm"], args.budget, True), warm_cache)
        with victim.open("a", encoding="utf-8") as fh:
            fh.write(f"\n# edited in round {r}\n")
        ours("reviewer warm, 1 file edited", reviewer(str(copy), out["edited"], args.budget, True), warm_cache)

    from reviewer.pack.tokens import get_tokenizer

    last = stats["reviewer cold --no-cache"][-1]
    text = Path(out["nocache"]).read_text(encoding="utf-8")
    recount = get_tokenizer(last["tokenizer"]).count(text)
    packs = {k: Path(out[k]).read_bytes() for k in ("nocache", "empty", "warm")}
    same = packs["nocache"] == packs["empty"] == packs["warm"]
    print(f"\n== {Path(path).name}  ({last['files']['full']} whole, {last['files']['outline']} outline, "
          f"{last['files']['listed']} listed; {last['excluded_total']} excluded)")
    print(f"pack: {last['total_tokens']:,} tokens reported, {recount:,} recounted from the file, budget "
          f"{last['budget']:,} ({recount / last['budget']:.2%}); --no-cache, empty-cache and warm packs "
          f"identical: {same}")
    print(f"cpus: {os.cpu_count()}, rounds: {args.rounds}")
    print(f"{'run':<30}{'median s':>9}{'min':>7}{'max':>7}{'cpu s':>7}{'peak RSS MB':>12}{'load':>6}")
    for name, vals in rows.items():
        if not vals:
            print(f"{name:<30}{'not measured':>14}")
            continue
        walls = [m.wall for m in vals]
        print(f"{name:<30}{statistics.median(walls):>9.2f}{min(walls):>7.2f}{max(walls):>7.2f}"
              f"{statistics.median(m.cpu for m in vals):>7.2f}{max(m.peak_rss_mb for m in vals):>12.0f}"
              f"{statistics.median(m.load for m in vals):>6.2f}")
    for ours_kind, peer_kind in (("reviewer cold --no-cache", "repomix cold"), ("reviewer cold, empty cache", "repomix cold"),
                                 ("reviewer warm", "repomix warm")):
        if rows[ours_kind] and rows[peer_kind]:
            a = statistics.median(m.wall for m in rows[ours_kind])
            b = statistics.median(m.wall for m in rows[peer_kind])
            print(f"{ours_kind} / {peer_kind}: {a / b:.2f}x")
    print("stages of the packer, median seconds (outside: start-up, imports, writing the pack)")
    for kind, runs in stats.items():
        if not runs:
            continue
        names = list(dict.fromkeys(n for s in runs for n in s.get("stages", {})))
        cells = [f"{n} {statistics.median(s.get('stages', {}).get(n, 0.0) for s in runs):.2f}" for n in names]
        outside = statistics.median(m.wall - s["seconds"] for m, s in zip(rows[kind], runs, strict=True))
        print(f"  {kind}: " + ", ".join([*cells, f"outside {outside:.2f}"]))
    return 0 if same and recount == last["total_tokens"] else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="PATH")
    ap.add_argument("--budget", type=int, default=None, help="default: the 1M window minus the reserve")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repomix", default=None, help="repomix binary (default: $REPOMIX, PATH, npx -y repomix)")
    args = ap.parse_args()
    repomix = repomix_command(args.repomix)
    print(f"repomix: {repomix_version(repomix) if repomix else 'not found (not measured)'}")
    status = 0
    for path in args.paths:
        status |= bench_tree(str(Path(path).resolve()), args, repomix)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
