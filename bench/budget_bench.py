"""Budget use: how full each pack is, and whether any exceeds its budget, recounted exactly.

    python bench/budget_bench.py PATH [PATH ...] [--budget 32768 --budget 131072 --budget 999424]

Each repository is packed at each budget; the written text is recounted with the V4 tokenizer
(the packer's own total is not trusted here) and compared with the budget. Utilization only
means something when the repository is bigger than the budget: a repository that fits whole is
reported as such. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewer.config import Settings
from reviewer.pack import build_pack
from reviewer.pack.tokens import get_tokenizer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--budget", action="append", type=int, default=[])
    ap.add_argument("--style", default="xml", choices=["xml", "markdown"])
    args = ap.parse_args()
    budgets = args.budget or [32_768, 131_072, 1_048_576 - 49_152]
    tok = get_tokenizer()
    cache = tempfile.mkdtemp(prefix="budget-bench-")
    overshoots = 0
    worst = 1.0
    print(f"{'repository':<14}{'budget':>10}{'exact':>11}{'use':>9}{'over':>6}{'full':>6}{'outline':>8}{'listed':>7}"
          f"{'s':>7}  note")
    for path in args.paths:
        root = Path(path).resolve()
        for budget in budgets:
            t = time.perf_counter()
            pack = build_pack(root, Settings(budget=budget, cache_dir=cache, style=args.style))
            seconds = time.perf_counter() - t
            exact = tok.count(pack.text)
            tiers = {k: sum(f.tier == k for f in pack.files) for k in ("full", "outline", "listed")}
            whole = tiers["outline"] == 0 and tiers["listed"] == 0
            over = exact > budget
            overshoots += over
            note = "fits whole: utilization not applicable" if whole else ""
            if exact != pack.total_tokens:
                note += f" reported {pack.total_tokens:,} != recount"
            if not whole:
                worst = min(worst, exact / budget)
            print(f"{root.name:<14}{budget:>10,}{exact:>11,}{exact / budget:>9.2%}{'YES' if over else 'no':>6}"
                  f"{tiers['full']:>6}{tiers['outline']:>8}{tiers['listed']:>7}{seconds:>7.1f}  {note}")
    print(f"overshoots: {overshoots}; lowest utilization where the repository is bigger than the budget: {worst:.2%}")
    return 1 if overshoots else 0


if __name__ == "__main__":
    raise SystemExit(main())
