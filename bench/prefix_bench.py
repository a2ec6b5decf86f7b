"""Prefix reuse across consecutive commits: how much of each pack a provider's prefix cache can
reuse from the pack of the commit before.

    python bench/prefix_bench.py PATH [--commits 20] [--budget N] [--ref HEAD] [--repomix BIN]
                                      [--snapshot-every N]

Replays the last ``--commits`` first-parent commits up to ``--ref`` in a detached worktree beside
the clone (the clone itself is not touched), packs each with the same options, and reports the
mean share of each pack (bytes and V4 tokens) that is a byte-identical prefix of the previous
commit's pack. repomix's default output, made the same way, is measured beside it. With
``--snapshot-every N`` the packs use the snapshot layout (``reviewer.pack.snapshot_pack``) and the
default layout is measured beside it too. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewer.config import Settings
from reviewer.pack import build_pack
from reviewer.pack.tokens import get_tokenizer


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (binary search on slices: fast for long texts)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def shares(packs: list[str]) -> tuple[list[float], list[float]]:
    tok = get_tokenizer()
    by_bytes, by_tokens = [], []
    for prev, cur in itertools.pairwise(packs):
        n = common_prefix(prev, cur)
        by_bytes.append(len(cur[:n].encode()) / max(1, len(cur.encode())))
        # tokens of the shared prefix, cut at a line start so the count is the prefix's own
        cut = cur.rfind("\n", 0, n) + 1
        by_tokens.append(tok.count(cur[:cut]) / max(1, tok.count(cur)))
    return by_bytes, by_tokens


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--commits", type=int, default=20)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--ref", default="HEAD")
    ap.add_argument("--repomix", default=os.environ.get("REPOMIX") or shutil.which("repomix") or "")
    ap.add_argument("--snapshot-every", type=int, default=0, metavar="N")
    args = ap.parse_args()
    repo = Path(args.path).resolve()
    out = subprocess.run(["git", "-C", str(repo), "rev-list", "--first-parent", f"--max-count={args.commits}",
                          args.ref], capture_output=True, text=True, check=True).stdout.split()
    commits = list(reversed(out))
    tmp = Path(tempfile.mkdtemp(prefix="prefix-bench-"))
    wt = tmp / repo.name
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(wt), commits[0]], check=True,
                   capture_output=True)
    repomix = [args.repomix] if args.repomix else (["npx", "-y", "repomix"] if shutil.which("npx") else None)
    ours: list[str] = []
    plain: list[str] = []
    theirs: list[str] = []
    settings = Settings(budget=args.budget, cache_dir=str(tmp / "cache"), snapshot_every=args.snapshot_every)
    usual = settings.model_copy(update={"snapshot_every": 0})
    try:
        for c in commits:
            subprocess.run(["git", "-C", str(wt), "checkout", "-q", "--detach", "-f", c], check=True, capture_output=True)
            ours.append(build_pack(wt, settings).text)
            if args.snapshot_every:
                plain.append(build_pack(wt, usual).text)
            if repomix:
                target = tmp / "repomix.xml"
                proc = subprocess.run([*repomix, str(wt), "-o", str(target), "--quiet"], capture_output=True)
                if proc.returncode == 0:
                    theirs.append(target.read_text(encoding="utf-8", errors="replace"))
                    target.unlink()
    finally:
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(wt)], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    b, t = shares(ours)
    print(f"repository: {repo.name}, {len(commits)} consecutive commits ending at {commits[-1][:10]}, "
          f"{len(commits) - 1} transitions; pack size {len(ours[-1]) / 1e3:.0f} KB")
    print(f"{'packer':<16}{'mean bytes':>12}{'mean tokens':>13}{'median':>9}{'min':>8}")
    name = f"snapshot/{args.snapshot_every}" if args.snapshot_every else "reviewer"
    print(f"{name:<16}{statistics.mean(b):>12.1%}{statistics.mean(t):>13.1%}{statistics.median(b):>9.1%}{min(b):>8.1%}")
    if plain:
        pb, pt = shares(plain)
        print(f"{'reviewer':<16}{statistics.mean(pb):>12.1%}{statistics.mean(pt):>13.1%}{statistics.median(pb):>9.1%}"
              f"{min(pb):>8.1%}")
    if len(theirs) == len(ours):
        rb, rt = shares(theirs)
        print(f"{'repomix':<16}{statistics.mean(rb):>12.1%}{statistics.mean(rt):>13.1%}{statistics.median(rb):>9.1%}"
              f"{min(rb):>8.1%}")
    else:
        print("repomix: not measured (npm/npx missing or it failed)")
    print(f"per transition ({name} bytes):", " ".join(f"{x:.0%}" for x in b))
    print(f"pack size (last commit): {name} {len(ours[-1].encode()) / 1e3:.0f} KB"
          + (f", reviewer {len(plain[-1].encode()) / 1e3:.0f} KB" if plain else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
