"""Secret redaction: recall on planted secrets, false redactions, and time, for one or more trees.

    python bench/secrets_bench.py [--tree NAME=DIR ...] [--repo NAME=PATH ...] [--pack PATH]
        [--runs 3] [--show] [--peer]

Each ``--tree`` is a directory holding a ``reviewer`` package (default: this checkout, as
``now``; give an exported older version, e.g. ``git archive main reviewer | tar -x -C DIR``, to
compare). Each tree is measured in its own process:

- recall on the planted corpus (``tests/integration/hostile/secrets_corpus.py``): for each kind,
  is any form of a planted value (itself, 12+ characters of it, its base64) still in the
  redacted text? Measured on the file, on a real ``git diff`` adding the files (redacted whole,
  as the review's diff is, and per file section, as the snapshot's diffs are), and on bare hunk
  lines (``+KEY=value``) as a question or trace could carry them;
- false redactions on the near-miss files (lines changed, file and diff forms);
- on each ``--repo``: lines redacted and the time to redact every tracked text file (under 1 MB),
  best of ``--runs``, trees interleaved;
- with ``--pack PATH``: ``reviewer pack PATH --no-cache`` wall and CPU time (user + system, worker
  processes included) per tree, interleaved, median of ``--runs``.

``--peer`` adds detect-secrets' own scan (all its default plugins) on the corpus, as the peer
(``pip install detect-secrets``: the tool itself does not use it).
``--show`` prints each line one tree redacts and another does not (the original line: use it on
public code only). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


# -- child: one tree ---------------------------------------------------------------------------

def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env).stdout.decode()


def _diff_of(files: dict[str, str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "r"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "commit", "-q", "--allow-empty", "-m", "base")
        for rel, text in files.items():
            p = repo / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "change")
        return _git(repo, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "HEAD~1", "HEAD")


def _sections(diff: str) -> list[tuple[str, str]]:
    out = []
    for part in diff.split("\ndiff --git ")[0:]:
        part = part if part.startswith("diff --git ") else "diff --git " + part
        head = part.partition("\n")[0]
        path = head.rpartition(" b/")[2]
        out.append((path, part if part.endswith("\n") else part + "\n"))
    return out


def _child_corpus(peer: bool) -> dict:
    from reviewer.security.secrets import redact
    from tests.integration.hostile.secrets_corpus import NEAR_MISSES, PLANTED, leaks

    rows = []
    diff = _diff_of({p.path: p.text for p in PLANTED})
    whole = redact("change.diff", diff).text
    sections = {path: redact(path, text).text for path, text in _sections(diff)}
    for p in PLANTED:
        hunk = "".join("+" + line + "\n" for line in p.text.splitlines())
        row = {
            "kind": p.kind,
            "file": not leaks(redact(p.path, p.text).text, p.values),
            "diff": not leaks(whole, p.values),
            "section": not leaks(sections.get(p.path, ""), p.values),
            "hunk": not leaks(redact("question.txt", hunk).text, p.values),
        }
        if peer:
            row["peer"] = not leaks(_peer_redact(p.path, p.text), p.values)
        rows.append(row)
    false: dict[str, dict[str, int]] = {}
    ndiff = _diff_of(NEAR_MISSES)
    nwhole = redact("change.diff", ndiff).text
    for path, text in NEAR_MISSES.items():
        out = redact(path, text).text
        changed = sum(a != b for a, b in zip(text.splitlines(), out.splitlines(), strict=False))
        false[path] = {"lines": text.count("\n"), "file": changed}
    before, after = ndiff.splitlines(), nwhole.splitlines()
    false["(diff of all)"] = {"lines": len(before), "file": sum(a != b for a, b in zip(before, after, strict=False))}
    if peer:
        for path, text in NEAR_MISSES.items():
            out = _peer_redact(path, text)
            false[path]["peer"] = sum(a != b for a, b in zip(text.splitlines(), out.splitlines(), strict=False))
    return {"planted": rows, "false": false}


def _peer_redact(path: str, text: str) -> str:
    """detect-secrets' scan with its default plugins: each secret it reports is cut out."""
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import default_settings

    with default_settings():
        lines = text.splitlines()
        found = list(_process_line_based_plugins(list(enumerate(lines, 1)), filename=path))
    for secret in found:
        if secret.secret_value:
            text = text.replace(secret.secret_value, "[REDACTED]")
    return text


def _child_repo(path: str, runs: int) -> dict:
    from reviewer.security.secrets import redact

    root = Path(path)
    names = subprocess.run(["git", "-C", path, "ls-files", "-z"], capture_output=True, check=True).stdout.split(b"\0")
    texts = []
    for raw in names:
        if not raw:
            continue
        rel = raw.decode("utf-8", "surrogateescape")
        p = root / rel
        try:
            if not p.is_file() or p.is_symlink() or p.stat().st_size > 1_000_000:
                continue
            data = p.read_bytes()
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue
        texts.append((rel, data.decode("utf-8", "replace")))
    best = cpu = float("inf")
    hits: list[tuple[str, int, str, str]] = []
    for i in range(runs):
        t, c = time.perf_counter(), time.process_time()
        out = [(rel, text, redact(rel, text)) for rel, text in texts]
        best, cpu = min(best, time.perf_counter() - t), min(cpu, time.process_time() - c)
        if i == 0:
            for rel, text, red in out:
                lines = text.split("\n")
                for h in red.hits:
                    original = lines[h.line - 1] if 0 < h.line <= len(lines) else ""
                    hits.append((rel, h.line, h.kind, original.strip()[:120]))
    mb = sum(len(t.encode()) for _, t in texts) / 1e6
    return {"files": len(texts), "mb": mb, "seconds": best, "cpu": cpu, "hits": hits}


# -- parent ------------------------------------------------------------------------------------

def _run_child(tree: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tree, str(ROOT)])}
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env,
                         cwd=str(ROOT), check=False)
    if out.returncode != 0:
        raise SystemExit(f"child failed for {tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def _load() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=DIR")
    ap.add_argument("--repo", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--pack", metavar="PATH")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--peer", action="store_true")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        task = args.child[0]
        if task == "corpus":
            print(json.dumps(_child_corpus(args.child[1:] == ["peer"])))
        else:
            print(json.dumps(_child_repo(args.child[1], int(args.child[2]))))
        return 0

    trees = [t.split("=", 1) for t in args.tree] or [["now", str(ROOT)]]
    names = [n for n, _ in trees]
    corpus = {n: _run_child(d, "corpus", *(["peer"] if args.peer and i == 0 else [])) for i, (n, d) in enumerate(trees)}

    forms = ["file", "diff", "section", "hunk"]
    print("## Planted secrets: redacted whole? (every form of every value absent)\n")
    cols = [f"{n} {f}" for n in names for f in forms] + (["detect-secrets file"] if args.peer else [])
    print("| kind | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    kinds = [r["kind"] for r in corpus[names[0]]["planted"]]
    totals = {c: 0 for c in cols}
    for i, kind in enumerate(kinds):
        cells = []
        for n in names:
            row = corpus[n]["planted"][i]
            for f in forms:
                cells.append("yes" if row[f] else "**no**")
                totals[f"{n} {f}"] += row[f]
        if args.peer:
            ok = corpus[names[0]]["planted"][i]["peer"]
            cells.append("yes" if ok else "**no**")
            totals["detect-secrets file"] += ok
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print("| **recall** | " + " | ".join(f"{totals[c]}/{len(kinds)}" for c in cols) + " |\n")

    print("## Near-misses: lines changed (must be 0)\n")
    fcols = names + (["detect-secrets"] if args.peer else [])
    print("| file | lines | " + " | ".join(fcols) + " |")
    print("|---" * (len(fcols) + 2) + "|")
    for path, row in corpus[names[0]]["false"].items():
        cells = [str(corpus[n]["false"][path]["file"]) for n in names]
        if args.peer:
            cells.append(str(row.get("peer", "")))
        print(f"| {path} | {row['lines']} | " + " | ".join(cells) + " |")
    print()

    for spec in args.repo:
        rname, rpath = spec.split("=", 1)
        results: dict[str, list[dict]] = {n: [] for n in names}
        for _ in range(max(1, args.runs)):  # interleaved, each child best of one pass
            for n, d in trees:
                results[n].append(_run_child(d, "repo", rpath, "1"))
        print(f"## {rname}: {results[names[0]][0]['files']} files, {results[names[0]][0]['mb']:.1f} MB "
              f"(load {_load()})\n")
        print("| tree | lines redacted | wall (median of runs) | CPU (median) | MB/s (CPU) |")
        print("|---|---|---|---|---|")
        ref = ref_cpu = None
        for n in names:
            secs = statistics.median(r["seconds"] for r in results[n])
            cpu = statistics.median(r["cpu"] for r in results[n])
            ref, ref_cpu = ref or secs, ref_cpu or cpu
            hits = results[n][0]["hits"]
            print(f"| {n} | {len({(h[0], h[1]) for h in hits})} | {secs:.2f} s ({secs / ref:.2f}x) | "
                  f"{cpu:.2f} s ({cpu / ref_cpu:.2f}x) | {results[n][0]['mb'] / cpu:.1f} |")
        if len(names) > 1 and args.show:
            sets = {n: {(h[0], h[1]): h for h in results[n][0]["hits"]} for n in names}
            for a in names:
                for b in names:
                    if a == b:
                        continue
                    only = sorted(set(sets[a]) - set(sets[b]))
                    print(f"\nredacted by {a}, not by {b}: {len(only)}")
                    for key in only[:200]:
                        h = sets[a][key]
                        print(f"  {h[0]}:{h[1]} {h[2]}: {h[3]}")
        elif args.show:
            for h in results[names[0]][0]["hits"][:200]:
                print(f"  {h[0]}:{h[1]} {h[2]}: {h[3]}")
        print()

    if args.pack:
        from measure import measure

        walls: dict[str, list[float]] = {n: [] for n in names}
        cpus: dict[str, list[float]] = {n: [] for n in names}
        loads = []
        for _ in range(max(1, args.runs)):
            for n, d in trees:
                cmd = ["env", f"PYTHONPATH={d}", sys.executable, "-m", "reviewer", "pack", args.pack, "--no-cache", "-q",
                       "-o", os.devnull]
                m = measure(cmd)
                if m.rc != 0:
                    raise SystemExit(f"pack failed with {n}: {m.stderr}")
                walls[n].append(m.wall)
                cpus[n].append(m.cpu)
                loads.append(_load())
        print(f"## reviewer pack {args.pack} --no-cache (loads {', '.join(loads)})\n")
        print("| tree | wall runs (s) | wall median | CPU runs (s) | CPU median |")
        print("|---|---|---|---|---|")
        ref, ref_cpu = statistics.median(walls[names[0]]), statistics.median(cpus[names[0]])
        for n in names:
            med, cpu = statistics.median(walls[n]), statistics.median(cpus[n])
            print(f"| {n} | {', '.join(f'{w:.2f}' for w in walls[n])} | {med:.2f} s ({med / ref:.2f}x) | "
                  f"{', '.join(f'{c:.2f}' for c in cpus[n])} | {cpu:.2f} s ({cpu / ref_cpu:.2f}x) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
