"""Precision of the offline analyzers on a real repository, before and after a change.

    python bench/precision_bench.py REPO [--base SRC] [--labels FILE] [--seed 17] [--sample 60]
    python bench/precision_bench.py REPO --base SRC --time 3      # analyzer wall time, side by side

Runs ``reviewer review REPO --format json`` with no model (no API key in the environment) with
this source tree and, with ``--base``, with another checkout of reviewer's source (the code
before the change), and prints for each: findings in total, by severity and by where they sit
(code, tests, docs, examples, CI files). Then the sample to label: every finding at medium and
above of this tree (a uniform random sample with a fixed seed when there are more than
``--sample``), as a Markdown table. ``--labels FILE`` reads that table back once its ``label``
column says ``real`` or ``noise`` (with a one-line reason) and prints the precision at medium+;
``--write-labels`` (re)writes FILE with the sample, keeping the labels already given.

``--time N`` measures the analyzers alone (``run_analyzers`` on every scanned file, all
analyzers in parallel), N rounds with the two trees interleaved, and prints the medians, their
ratio and the load average beside each round. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
SEVERITIES = ("critical", "high", "medium", "low", "info")
WHERE = ("code", "test", "docs", "example", "ci")
_TIMER = r"""
import json, sys, time
from pathlib import Path
from reviewer.analyzers import run_analyzers
from reviewer.config import load_settings
from reviewer.repo.scan import scan
root = Path(sys.argv[1])
paths = [f.path for f in scan(root, load_settings(root)).files]
t = time.perf_counter()
run = run_analyzers(root, paths, ["all"])
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "seconds": run.seconds, "findings": len(run.findings), "files": len(paths),
                  "notes": [n for n in run.notes if "not installed" in n or "timed out" in n or "failed" in n]}))
"""


def env_for(src: Path) -> dict[str, str]:
    """No key for any model, the source tree first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPSEEK_", "OPENAI_", "PYTHONPATH"))}
    env["PYTHONPATH"] = str(src)
    return env


def review(src: Path, repo: Path, out: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    proc = subprocess.run(  # from the output's directory: `-m` puts the working directory first on the path
        [sys.executable, "-m", "reviewer", "review", str(repo), "--format", "json", "-o", str(out), "-q"],
        env=env_for(src), capture_output=True, text=True, check=False, cwd=out.parent,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.exit(f"reviewer failed with {src}: {proc.stderr.strip()[-500:]}")
    return json.loads(out.read_text(encoding="utf-8")), wall


def where(path: str) -> str:
    from reviewer.pack.roles import apart_role  # this tree's classification, for both runs alike

    return apart_role(path) or "code"


def counts(doc: dict) -> tuple[int, Counter[str], Counter[str]]:
    findings = doc["findings"]
    return (len(findings), Counter(f["severity"] for f in findings), Counter(where(f["path"]) for f in findings))


def print_counts(rows: list[tuple[str, dict]]) -> None:
    head = ["", "total", *SEVERITIES, *WHERE]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, doc in rows:
        total, sev, role = counts(doc)
        print("| " + " | ".join([name, str(total), *(str(sev[s]) for s in SEVERITIES), *(str(role[w]) for w in WHERE)]) + " |")


def rules_of(f: dict) -> str:
    others = re.search(r"Also reported by ([^.\n]+)\.", f["explanation"])
    named = f"{f['source']} {f['rule']}" if f.get("rule") else f["source"]
    return named + (f" (+{others.group(1)})" if others else "")


def sample(doc: dict, size: int, seed: int) -> tuple[list[dict], int]:
    """Every finding at medium and above, or ``size`` of them drawn with ``seed``; and how many there are."""
    worst = [f for f in doc["findings"] if SEVERITIES.index(f["severity"]) <= SEVERITIES.index("medium")]
    chosen = worst if len(worst) <= size else random.Random(seed).sample(worst, size)
    return sorted(chosen, key=lambda f: (f["path"], f["start_line"], f["fingerprint"])), len(worst)


def read_labels(path: Path) -> dict[str, tuple[str, str]]:
    """fingerprint -> (label, reason) from a labels table (rows whose label is real or noise)."""
    labels: dict[str, tuple[str, str]] = {}
    if not path.is_file():
        return labels
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and re.fullmatch(r"[0-9a-f]{16}", cells[0]) and cells[5] in ("real", "noise"):
            labels[cells[0]] = (cells[5], cells[6])
    return labels


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[dict], labels: dict[str, tuple[str, str]]) -> list[str]:
    out = ["| id | severity | rules | location | title | label | reason |", "|---|---|---|---|---|---|---|"]
    for f in rows:
        label, reason = labels.get(f["fingerprint"], ("", ""))
        out.append("| " + " | ".join([
            f["fingerprint"], f["severity"], _cell(rules_of(f)), _cell(f"{f['path']}:{f['start_line']}"),
            _cell(f["title"][:80]), label, _cell(reason),
        ]) + " |")  # fmt: skip
    return out


def commit_of(repo: Path) -> str:
    proc = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%H %cs"], capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() or "(not a git repository)"


def time_analyzers(trees: list[tuple[str, Path]], repo: Path, rounds: int) -> None:
    walls: dict[str, list[float]] = {name: [] for name, _ in trees}
    print(f"\nanalyzer wall time on {repo.name} ({rounds} rounds, trees interleaved):")
    for i in range(rounds):
        for name, src in trees if i % 2 == 0 else list(reversed(trees)):
            load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
            proc = subprocess.run([sys.executable, "-c", _TIMER, str(repo)], env=env_for(src), capture_output=True,
                                  text=True, check=False, cwd=repo.parent)
            if proc.returncode != 0:
                sys.exit(f"timing failed with {src}: {proc.stderr.strip()[-500:]}")
            data = json.loads(proc.stdout.strip().splitlines()[-1])
            walls[name].append(data["wall"])
            per = ", ".join(f"{k} {v:.1f}" for k, v in sorted(data["seconds"].items()))
            print(f"  round {i + 1} {name:>6}: {data['wall']:6.1f} s  ({per}; {data['files']} files, "
                  f"{data['findings']} findings; load {' '.join(load)}){' ' + str(data['notes']) if data['notes'] else ''}")
    medians = {name: statistics.median(v) for name, v in walls.items()}
    line = "  median: " + ", ".join(f"{n} {m:.1f} s" for n, m in medians.items())
    if len(trees) == 2:
        (a, _), (b, _) = trees
        line += f"; {b}/{a} = {medians[b] / medians[a]:.2f}"
        # each round's two runs sit side by side in time, so their ratio is the fairer figure
        # when the machine's load moves
        paired = [y / x for x, y in zip(walls[a], walls[b], strict=True)]
        line += f"; per round {', '.join(f'{r:.2f}' for r in paired)} (median {statistics.median(paired):.2f})"
    print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--base", type=Path, help="another checkout of reviewer's source: the code before the change")
    ap.add_argument("--labels", type=Path, help="the labels table (Markdown) for this repository")
    ap.add_argument("--write-labels", action="store_true", help="(re)write --labels with the sample, keeping labels")
    ap.add_argument("--sample", type=int, default=60, help="largest sample of medium+ findings (default 60)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--time", type=int, default=0, metavar="N", help="also time the analyzers alone, N rounds")
    ap.add_argument("--only-time", action="store_true", help="with --time: skip the review and the sample")
    args = ap.parse_args()
    repo = args.repo.resolve()
    trees = ([("before", args.base.resolve())] if args.base else []) + [("after", HERE)]
    print(f"{repo.name} at {commit_of(repo)}")
    if args.only_time:
        time_analyzers(trees, repo, max(1, args.time))
        return
    with tempfile.TemporaryDirectory() as tmp:
        docs = []
        for name, src in trees:
            doc, wall = review(src, repo, Path(tmp) / f"{name}.json")
            docs.append((name, doc))
            print(f"  {name}: reviewer review (no model) {wall:.1f} s")
    print()
    print_counts(docs)
    after = docs[-1][1]
    rows, worst = sample(after, args.sample, args.seed)
    labels = read_labels(args.labels) if args.labels else {}
    drawn = f"all {worst}" if len(rows) == worst else f"{len(rows)} of {worst} (seed {args.seed})"
    print(f"\nSample at medium and above: {drawn}\n")
    lines = table(rows, labels)
    print("\n".join(lines))
    if args.labels and args.write_labels:
        head = [f"# Precision sample: {repo.name}", "",
                f"Repository at {commit_of(repo)}; `reviewer review REPO` with no model; findings at medium and "
                f"above: {drawn}. Label each `real` or `noise` with a one-line reason.", ""]  # fmt: skip
        args.labels.parent.mkdir(parents=True, exist_ok=True)
        args.labels.write_text("\n".join([*head, *lines]) + "\n", encoding="utf-8")
        print(f"\nwrote {args.labels}")
    if labels:
        got = [labels[f["fingerprint"]][0] for f in rows if f["fingerprint"] in labels]
        real = got.count("real")
        missing = len(rows) - len(got)
        pct = f"{100 * real / len(got):.0f} %" if got else "n/a"
        print(f"\nprecision at medium+: {real} real / {len(got)} labelled = {pct}"
              + (f"; {missing} not labelled yet" if missing else ""))
    if args.time:
        time_analyzers(trees, repo, args.time)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
