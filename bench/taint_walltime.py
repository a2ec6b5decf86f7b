"""Wall time of the offline analyzers with and without semgrep, on real repositories.

For each repository: the scanner's file list, then the analyzers run side by side (as
``reviewer review`` runs them) without semgrep and with semgrep, alternately, ``--repeat`` times;
the median of each and their ratio are printed with the load average, and semgrep's findings per
rule on the last run.

    python bench/taint_walltime.py PATH [PATH ...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from pathlib import Path

from reviewer.analyzers import run_analyzers
from reviewer.config import load_settings
from reviewer.repo.scan import scan

BEFORE = ["bandit", "ruff", "ast-grep", "secrets"]
AFTER = ["semgrep", *BEFORE]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}")
    for root in args.paths:
        root = root.resolve()
        files = [f.path for f in scan(root, load_settings(root)).files]
        py = sum(1 for f in files if f.endswith(".py"))
        times: dict[str, list[float]] = {"before": [], "after": []}
        loads: list[str] = []
        last = None
        for _ in range(args.repeat):
            for label, names in (("before", BEFORE), ("after", AFTER)):
                loads.append(load())
                started = time.monotonic()
                run = run_analyzers(root, files, names)
                times[label].append(time.monotonic() - started)
                if label == "after":
                    last = run
        before, after = statistics.median(times["before"]), statistics.median(times["after"])
        print(f"\n{root.name}: {len(files)} files ({py} Python)")
        print(f"  without semgrep: {before:6.1f} s  (runs: {', '.join(f'{t:.1f}' for t in times['before'])})")
        print(f"  with semgrep:    {after:6.1f} s  (runs: {', '.join(f'{t:.1f}' for t in times['after'])})")
        print(f"  ratio: {after / before:.2f}   load average at each start: {' | '.join(loads)}")
        if last is not None:
            per = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(last.seconds.items()))
            print(f"  per analyzer (last run with semgrep): {per}")
            rules = Counter(f.rule for f in last.findings if f.source == "semgrep")
            also = Counter(
                r.split()[-1] for f in last.findings for r in f.explanation.split("Also reported by ")[1:] if "semgrep" in r
            )
            print(f"  semgrep findings: {sum(rules.values())} {dict(rules)}; merged into another tool's: {sum(also.values())}")
            for note in last.notes:
                print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
