"""Precision and recall of the taint rules per CWE, on the cases in bench/taint/.

Each case is a line of a small Flask, Django or FastAPI app marked ``# expect: CWE-89`` (a flaw
on this line) or ``# expect: safe`` (no flaw of the file's kind here). Four runs, in the same
process, one after the other: the taint rules alone (semgrep), reviewer's offline analyzers with semgrep, the same without semgrep
(ruff, bandit, ast-grep, secrets), and bandit alone (through reviewer's table, which corrects some
of bandit's CWE ids). A finding counts for the line it spans, by CWE family (95 and 1336 count as
94, 77 as 78, 80 as 79); a finding on a line marked for another family, or on an unmarked line,
is a false positive of its family. Findings of other CWEs are not scored.

    python bench/taint_bench.py [CASES_DIR] [-v]    (-v: list each miss and false positive)

The directory ``heldout/`` holds cases written after the rules were frozen; its figures are
printed apart from the cases the rules were tuned on.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

from reviewer.analyzers import run_analyzers

FAMILY = {"CWE-95": "CWE-94", "CWE-1336": "CWE-94", "CWE-77": "CWE-78", "CWE-80": "CWE-79", "CWE-23": "CWE-22", "CWE-36": "CWE-22"}
SCORED = ("CWE-89", "CWE-78", "CWE-94", "CWE-22", "CWE-601", "CWE-643", "CWE-90", "CWE-79", "CWE-502", "CWE-501", "CWE-918")
RUNS = {
    "semgrep alone": ["semgrep"],
    "reviewer + semgrep": ["semgrep", "bandit", "ruff", "ast-grep", "secrets"],
    "reviewer, no semgrep": ["bandit", "ruff", "ast-grep", "secrets"],
    "bandit alone": ["bandit"],
}
MARK = re.compile(r"#\s*expect:\s*(safe|CWE-\d+)")


def family(cwe: str | None) -> str | None:
    return FAMILY.get(cwe, cwe) if cwe else None


def expectations(root: Path, paths: list[str]) -> dict[tuple[str, int], str]:
    marks = {}
    for path in paths:
        for number, line in enumerate((root / path).read_text(encoding="utf-8").splitlines(), start=1):
            match = MARK.search(line)
            if match:
                marks[(path, number)] = family(match.group(1)) or "safe"
    return marks


def score(findings, marks: dict[tuple[str, int], str], paths: set[str], log=None) -> dict[str, Counter]:
    tally = {c: Counter() for c in SCORED}
    hit: set[tuple[str, int, str]] = set()
    for f in findings:
        fam = family(f.cwe)
        if f.path not in paths or fam not in tally:
            continue
        lines = [(f.path, n) for n in range(f.start_line, f.end_line + 1)]
        matched = [key for key in lines if marks.get(key) == fam]
        if matched:
            for key in matched:
                if (*key, fam) not in hit:
                    hit.add((*key, fam))
                    tally[fam]["tp"] += 1
        else:
            tally[fam]["fp"] += 1
            if log:
                log(f"  FP {fam} {f.path}:{f.start_line} ({f.source} {f.rule}), marked {marks.get(lines[0], 'nothing')}")
    for (path, number), fam in marks.items():
        if path in paths and fam != "safe" and (path, number, fam) not in hit:
            tally[fam]["fn"] += 1
            if log:
                log(f"  FN {fam} {path}:{number}")
    return tally


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "  - "


def table(title: str, results: dict[str, dict[str, Counter]], marks, paths: set[str]) -> None:
    cases = Counter(v for (p, _), v in marks.items() if p in paths)
    print(f"\n{title}: {sum(cases[c] for c in SCORED)} flawed lines, {cases['safe']} safe lines")
    names = list(results)
    print(f"{'CWE':<9} {'flawed':>6} " + " ".join(f"{n:>24}" for n in names))
    print(f"{'':<9} {'':>6} " + " ".join(f"{'P':>8}{'R':>6}{'TP/FP/FN':>10}" for _ in names))
    totals = {n: Counter() for n in names}
    for cwe in SCORED:
        row = f"{cwe:<9} {cases[cwe]:>6} "
        for n in names:
            t = results[n][cwe]
            totals[n].update(t)
            row += f"{ratio(t['tp'], t['tp'] + t['fp']):>8}{ratio(t['tp'], t['tp'] + t['fn']):>6}{t['tp']:>4}/{t['fp']}/{t['fn']:<3}"
        print(row)
    row = f"{'all':<9} {sum(cases[c] for c in SCORED):>6} "
    for n in names:
        t = totals[n]
        row += f"{ratio(t['tp'], t['tp'] + t['fp']):>8}{ratio(t['tp'], t['tp'] + t['fn']):>6}{t['tp']:>4}/{t['fp']}/{t['fn']:<3}"
    print(row)


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = len(args) < len(sys.argv) - 1
    root = Path(args[0] if args else Path(__file__).parent / "taint").resolve()
    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    marks = expectations(root, paths)
    results: dict[str, dict[str, dict[str, Counter]]] = {}
    heldout = {p for p in paths if p.startswith("heldout/")}
    tuned = set(paths) - heldout
    for name, analyzers in RUNS.items():
        started = time.monotonic()
        run = run_analyzers(root, paths, analyzers)
        seconds = time.monotonic() - started
        for note in run.notes:
            print(f"[{name}] {note}")
        if any("not installed" in n for n in run.notes):
            print(f"[{name}] an analyzer is missing: its figures below are not meaningful")
        print(f"[{name}] {len(run.findings)} findings in {seconds:.1f} s")
        results[name] = {
            "tuned": score(run.findings, marks, tuned),
            "heldout": score(run.findings, marks, heldout),
            "all": score(run.findings, marks, set(paths), print if verbose else None),
        }
    for part, title in (("tuned", "Cases the rules were tuned on"), ("heldout", "Held-out cases"), ("all", "All cases")):
        paths_of = {"tuned": tuned, "heldout": heldout, "all": set(paths)}[part]
        table(title, {n: r[part] for n, r in results.items()}, marks, paths_of)
    return 0


if __name__ == "__main__":
    sys.exit(main())
