"""Speed of ``reviewer pack`` to an exact budget, beside ``repomix`` on the same tree, same run.

    python bench/speed_bench.py PATH [--budget N] [--rounds 3] [--repomix BIN]

Each round runs, one after the other: reviewer cold (``--no-cache``), repomix (its own cold run:
it keeps no cache), then reviewer warm (a cache filled by an earlier run, nothing changed) and
reviewer warm after one file was edited (a copy of the tree is used for that). Reported: median
wall time, peak memory of the whole process tree (the tool and every worker it starts, sampled
from /proc every 20 ms, summed), and for reviewer the pack's exact total, recounted from the
written file with the V4 tokenizer, against the budget. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tree_rss_kb(root_pid: int) -> int:
    """Sum of VmRSS over ``root_pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/status") as fh:
                kb = next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = kb
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """(wall seconds, peak tree RSS MB, return code, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = 0
    out_chunks: list[bytes] = []
    import threading

    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    reader.join()
    proc.stderr.read()  # type: ignore[union-attr]
    return wall, peak / 1024, proc.returncode, b"".join(out_chunks).decode("utf-8", "replace")


def reviewer(path: str, out: str, budget: int | None, cache_dir: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "reviewer", "pack", path, "-o", out, "-q", "--stats", "json"]
    if budget:
        cmd += ["--budget", str(budget)]
    if cache_dir is None:
        cmd.append("--no-cache")
    return cmd


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--budget", type=int, default=None, help="default: the 1M window minus the reserve")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repomix", default=os.environ.get("REPOMIX") or shutil.which("repomix") or "")
    args = ap.parse_args()
    path = str(Path(args.path).resolve())
    tmp = Path(tempfile.mkdtemp(prefix="speed-bench-"))
    cache = str(tmp / "cache")
    env = {**os.environ, "REVIEWER_CACHE_DIR": cache}
    copy = tmp / "edited"
    shutil.copytree(path, copy, symlinks=True)
    repomix = [args.repomix] if args.repomix else (["npx", "-y", "repomix"] if shutil.which("npx") else None)
    # fill the caches (the warm runs read them; the cold runs are told not to)
    run(reviewer(path, str(tmp / "w.xml"), args.budget, cache), env)
    run(reviewer(str(copy), str(tmp / "e.xml"), args.budget, cache), env)
    rows: dict[str, list[tuple[float, float]]] = {"cold": [], "repomix": [], "warm": [], "warm, one file edited": []}
    stats = None
    victim = next(p for p in sorted(copy.rglob("*.py")) if "test" not in p.name)
    for r in range(args.rounds):
        wall, rss, rc, out = run(reviewer(path, str(tmp / "c.xml"), args.budget, None), env)
        if rc != 0:
            print("reviewer failed", file=sys.stderr)
            return 1
        stats = json.loads(out)
        rows["cold"].append((wall, rss))
        if repomix:
            wall, rss, rc, _ = run([*repomix, path, "-o", str(tmp / "repomix.xml"), "--quiet"])
            if rc == 0:
                rows["repomix"].append((wall, rss))
        wall, rss, rc, _ = run(reviewer(path, str(tmp / "w.xml"), args.budget, cache), env)
        rows["warm"].append((wall, rss))
        with victim.open("a", encoding="utf-8") as fh:
            fh.write(f"\n# edited in round {r}\n")
        wall, rss, rc, _ = run(reviewer(str(copy), str(tmp / "e.xml"), args.budget, cache), env)
        rows["warm, one file edited"].append((wall, rss))

    from reviewer.pack.tokens import get_tokenizer

    assert stats is not None
    text = (tmp / "c.xml").read_text(encoding="utf-8")
    recount = get_tokenizer(stats["tokenizer"]).count(text)
    same = (tmp / "c.xml").read_bytes() == (tmp / "w.xml").read_bytes()
    print(f"tree: {Path(path).name}  ({stats['files']['full']} whole, {stats['files']['outline']} outline, "
          f"{stats['files']['listed']} listed; {stats['excluded_total']} excluded)")
    print(f"pack: {stats['total_tokens']:,} tokens reported, {recount:,} recounted from the file, budget "
          f"{stats['budget']:,} ({recount / stats['budget']:.2%}); cold and warm packs identical: {same}")
    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}, rounds: {args.rounds}")
    print(f"{'run':<26}{'median wall s':>14}{'min':>8}{'max':>8}{'peak RSS MB (tree)':>20}")
    for name, vals in rows.items():
        if not vals:
            print(f"{name:<26}{'not measured':>14}")
            continue
        walls = [w for w, _ in vals]
        print(f"{name:<26}{statistics.median(walls):>14.2f}{min(walls):>8.2f}{max(walls):>8.2f}"
              f"{max(r for _, r in vals):>20.0f}")
    if rows["repomix"]:
        ratio = statistics.median(w for w, _ in rows["cold"]) / statistics.median(w for w, _ in rows["repomix"])
        print(f"cold reviewer / repomix: {ratio:.2f}x")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
