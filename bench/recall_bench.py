"""Context recall on SWE-bench Lite: does the pack hold what the real fix changed?

    python bench/recall_bench.py EVAL.json --repo psf/requests=PATH [--repo OWNER/NAME=PATH ...]
        [--budget 999424 --budget 128000] [--limit N] [--half A|B] [--json OUT]

For each instance of a repository given with ``--repo`` (a git clone holding the instance's
base commit; it is not touched: a detached worktree is made beside it in a temp directory), the
repository at ``base_commit`` is packed with the issue text as ``--query``, at each budget, and
scored:

- file recall: the gold file (the file the fix changed) is in the pack whole;
- span recall: every gold function/class named in ``expected_spans`` has its whole body in the
  pack (found with the tree-sitter index by qualified name; its numbered lines are all there).

Printed per repository and overall, with each miss's cause: excluded by the scan, outlined or
listed and at which rank, or bigger than the budget. The instances fall in two halves by a hash
of their id (``--half A`` or ``B`` runs one): tune on one, check on the other; the summary gives
both. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewer.config import Settings
from reviewer.index import index_text
from reviewer.pack import Pack, build_pack


def block_lines(pack: Pack, path: str) -> set[int]:
    """Line numbers shown in the pack for ``path`` (whole or outline)."""
    f = pack.file(path)
    if f is None or f.tier == "listed":
        return set()
    head = f'<file path="{path}" tier="{f.tier}"'
    at = pack.text.find(head)
    if at < 0:
        return set()
    body = pack.text[at:pack.text.find("</file>", at)]
    return {int(m) for m in re.findall(r"^(\d+)\|", body, re.M)}


def find_span(text: str, path: str, span: str) -> tuple[int, int] | None:
    """(first, last) line of the definition named ``span`` (``Class.method`` or ``name``)."""
    ix = index_text(path, text)
    exact = [d for d in ix.definitions if d.qualname == span]
    if not exact:
        last, first = span.split(".")[-1], span.split(".")[0]
        exact = [d for d in ix.definitions if d.qualname.endswith("." + span) or (d.name == last and first in d.qualname)]
    if not exact:
        return None
    d = exact[0]
    return d.start_line, d.end_line


def score_instance(pack: Pack, root: Path, spans: dict[str, list[str]], rank_of: dict[str, int]) -> dict[str, Any]:
    files_ok: list[bool] = []
    spans_ok: list[bool] = []
    causes: list[str] = []
    excluded = {e.path: e.reason for e in pack.excluded}
    for path, names in spans.items():
        f = pack.file(path)
        whole = f is not None and f.tier == "full"
        files_ok.append(whole)
        if not whole:
            if path in excluded:
                causes.append(f"{path}: excluded by the scan ({excluded[path]})")
            elif f is None:
                causes.append(f"{path}: not in the repository")
            else:
                causes.append(f"{path}: {f.tier}, rank {rank_of.get(path, 0)} of {len(pack.files)}, "
                              f"{'focused' if 'focused' in f.reason else 'not focused'}; {f.reason[:90]}")
        shown = block_lines(pack, path)
        try:
            text = (root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        for name in names or [""]:
            if not name:
                spans_ok.append(whole)
                continue
            where = find_span(text, path, name)
            if where is None:
                spans_ok.append(whole)  # a module-level change: the whole file is what counts
                continue
            lines = set(range(where[0], where[1] + 1))
            blank = {i + 1 for i, line in enumerate(text.split("\n")) if not line.strip()}
            spans_ok.append((lines - blank) <= shown)
    return {"file": all(files_ok), "spans": sum(spans_ok), "n_spans": len(spans_ok), "causes": causes}


def half_of(instance_id: str) -> str:
    """``A`` or ``B``: a fixed split of the instances, by a hash of the id."""
    return "AB"[hashlib.sha256(instance_id.encode()).digest()[0] & 1]


def checkout(wt: Path, commit: str) -> list[str]:
    """Check ``commit`` out in the worktree. Clones made from partial mirrors may lack a few big
    blobs: those paths are left out (sparse checkout) and returned."""
    missing: list[str] = []
    for _ in range(50):
        proc = subprocess.run(["git", "-C", str(wt), "checkout", "-q", "--detach", "-f", commit], capture_output=True,
                              text=True)
        if proc.returncode == 0:
            subprocess.run(["git", "-C", str(wt), "clean", "-qfdx"], check=True, capture_output=True)
            return missing
        m = re.search(r"invalid object \d+ [0-9a-f]+ for '([^']+)'", proc.stderr)
        if not m:
            raise RuntimeError(proc.stderr)
        missing.append(m.group(1))
        subprocess.run(["git", "-C", str(wt), "sparse-checkout", "set", "--no-cone", "/*",
                        *(f"!/{p}" for p in missing)], check=True, capture_output=True)
    raise RuntimeError(f"too many missing blobs at {commit}")


def forget_runs(cache: Path) -> None:
    """Drop the cache's remembered pack choices: they are keyed by the files and the task, not by
    the ranking code, and this benchmark is run to compare versions of that code."""
    db = cache / "index.sqlite3"
    if db.exists():
        with sqlite3.connect(db, timeout=30) as con:
            con.execute("DELETE FROM entries WHERE key LIKE 'j:%:run%'")


def worktree(repo: Path, tmp: Path) -> Path:
    wt = tmp / repo.name
    if not wt.exists():
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(wt)], check=True,
                       capture_output=True)
    return wt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("eval")
    ap.add_argument("--repo", action="append", default=[], metavar="OWNER/NAME=PATH")
    ap.add_argument("--budget", action="append", type=int, default=[])
    ap.add_argument("--limit", type=int, default=0, help="at most this many instances per repository")
    ap.add_argument("--json", help="write every instance's result here")
    ap.add_argument("--only", action="append", default=[], metavar="INSTANCE_ID", help="just these instances")
    ap.add_argument("--half", choices=["A", "B"], help="only the instances of this half (see half_of)")
    ap.add_argument("--cache", help="index cache directory kept between runs (default: a fresh one, removed after)")
    args = ap.parse_args()
    budgets = args.budget or [1_048_576 - 49_152, 128_000]
    repos = {k: Path(v).resolve() for k, v in (r.split("=", 1) for r in args.repo)}
    data = [x for x in json.loads(Path(args.eval).read_text()) if x["repo"] in repos]
    if args.only:
        data = [x for x in data if x["instance_id"] in set(args.only)]
    if args.half:
        data = [x for x in data if half_of(x["instance_id"]) == args.half]
    if args.limit:
        per: dict[str, int] = defaultdict(int)
        kept = []
        for x in data:
            if per[x["repo"]] < args.limit:
                per[x["repo"]] += 1
                kept.append(x)
        data = kept
    tmp = Path(tempfile.mkdtemp(prefix="recall-bench-"))
    cache = Path(args.cache).resolve() if args.cache else tmp / "cache"
    forget_runs(cache)
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        for n, inst in enumerate(sorted(data, key=lambda x: (x["repo"], x["instance_id"])), 1):
            wt = worktree(repos[inst["repo"]], tmp)
            missing = checkout(wt, inst["base_commit"])
            for budget in budgets:
                t = time.perf_counter()
                pack = build_pack(wt, Settings(budget=budget, cache_dir=str(cache), cache_max_mb=8192), query=inst["problem_statement"])
                ordered = sorted(pack.files, key=lambda f: (-f.rank, f.path))
                rank_of = {f.path: i for i, f in enumerate(ordered, 1)}
                score = score_instance(pack, wt, inst["expected_spans"], rank_of)
                results.append({"instance": inst["instance_id"], "repo": inst["repo"], "budget": budget,
                                "half": half_of(inst["instance_id"]),
                                "missing_blobs": missing,
                                "seconds": round(time.perf_counter() - t, 2), "tokens": pack.total_tokens, **score})
            last = results[-len(budgets):]
            print(f"[{n}/{len(data)}] {inst['instance_id']}: " + ", ".join(
                f"{r['budget'] // 1000}K file={'y' if r['file'] else 'n'} spans={r['spans']}/{r['n_spans']}" for r in last),
                flush=True)
    finally:
        for repo in repos.values():
            subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"\n{len(data)} instances, {time.perf_counter() - started:.0f} s")
    print(f"{'repository':<22}{'n':>4}" + "".join(f"{f'file@{b // 1000}K':>12}{f'spans@{b // 1000}K':>12}" for b in budgets))
    by_repo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_repo[r["repo"]].append(r)
    halves = sorted({r["half"] for r in results})
    for repo in [*sorted(by_repo), "all", *(f"half {h}" for h in halves if len(halves) > 1)]:
        rows = (results if repo == "all" else [r for r in results if r["half"] == repo[-1]] if repo.startswith("half ")
                else by_repo[repo])
        line = f"{repo:<22}{len(rows) // len(budgets):>4}"
        for b in budgets:
            at = [r for r in rows if r["budget"] == b]
            files = statistics.mean(r["file"] for r in at)
            spans = sum(r["spans"] for r in at) / max(1, sum(r["n_spans"] for r in at))
            line += f"{files:>12.2f}{spans:>12.2f}"
        print(line)
    print("\nmisses:")
    for r in results:
        for cause in r["causes"]:
            print(f"  {r['budget'] // 1000}K {r['instance']}: {cause}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
