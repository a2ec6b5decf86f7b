"""How well grounding separates real findings from invented ones, on a real repository.

    python bench/ground_bench.py PATH [--n 2000] [--seed 1]

Builds findings from the repository's own files, the way a model gets them right and wrong:

- real (should be kept): a quoted line or block, with the cited line off by up to 10, the quote
  re-indented or with whitespace collapsed, line-number prefixes copied from the pack, or a
  wrapped statement quoted on one line;
- invented (should be dropped): code not in the file, a real line with one identifier changed,
  real code of another file, real code of the same file far from the cited lines, a path that
  does not exist, lines past the end of the file.

Prints, per kind, how many were kept and dropped, then recall on the real ones, precision of what
was kept, the share of kept findings snapped to the exact lines, and findings grounded per second.
Each finding is grounded alone (the file is normalized every time: the worst case). Not part of
the test suite.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

from reviewer.config import load_settings
from reviewer.findings import Finding
from reviewer.repo.scan import scan
from reviewer.repo.textio import split_lines
from reviewer.review.ground import NEAR, ground

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")


def candidates(lines: list[str]) -> list[int]:
    """1-based lines worth quoting: long enough, not blank, and unique in the file."""
    counts = Counter(line.strip() for line in lines)
    return [i + 1 for i, line in enumerate(lines) if len(line.strip()) >= 20 and counts[line.strip()] == 1]


def make(path: str, start: int, end: int, evidence: str, kind: str, truth: tuple[int, int] | None) -> tuple[Finding, str, tuple[int, int] | None]:
    f = Finding(category="bug", severity="medium", confidence=0.5, path=path, start_line=max(1, start),
                end_line=max(1, end), title=kind, explanation=kind, evidence=evidence or "x")
    return f, kind, truth


def build(files: dict[str, list[str]], n: int, rng: random.Random) -> list[tuple[Finding, str, tuple[int, int] | None]]:
    paths = [p for p, ls in files.items() if len(candidates(ls)) >= 3]
    out = []
    for _ in range(n):
        path = rng.choice(paths)
        lines = files[path]
        cand = candidates(lines)
        line = rng.choice(cand)
        text = lines[line - 1]
        kind = rng.choice(["real-exact", "real-shifted", "real-reindented", "real-prefixed", "real-block",
                           "invented-code", "invented-mutated", "invented-other-file", "invented-far",
                           "invented-path", "invented-past-end"])
        if kind == "real-exact":
            out.append(make(path, line, line, text, kind, (line, line)))
        elif kind == "real-shifted":  # within the file: a line past its end is dropped by rule
            cited = min(len(lines), max(1, line + rng.randint(-10, 10)))
            out.append(make(path, cited, cited, text.strip(), kind, (line, line)))
        elif kind == "real-reindented":
            out.append(make(path, line, line, "  " + re.sub(r"\s+", " ", text.strip()), kind, (line, line)))
        elif kind == "real-prefixed":
            out.append(make(path, line, line, f"{line:>5}| {text}", kind, (line, line)))
        elif kind == "real-block":
            end = min(len(lines), line + 2)
            while end > line and not lines[end - 1].strip():
                end -= 1  # blank lines at the edge of a quote carry nothing: grounding trims them
            out.append(make(path, line, end, "\n".join(lines[line - 1 : end]), kind, (line, end)))
        elif kind == "invented-code":
            out.append(make(path, line, line, f"os.system(request.args['{rng.randint(0, 10**6)}'])", kind, None))
        elif kind == "invented-mutated":
            words = _IDENT.findall(text)
            if not words:
                continue
            w = rng.choice(words)
            out.append(make(path, line, line, text.replace(w, w[:-1] + ("Q" if w[-1] != "Q" else "Z"), 1), kind, None))
        elif kind == "invented-other-file":
            other = rng.choice([p for p in paths if p != path])
            o_line = rng.choice(candidates(files[other]))
            quote = files[other][o_line - 1]
            if any(quote.strip() in x for x in lines):
                continue
            out.append(make(path, o_line, o_line, quote, kind, None))
        elif kind == "invented-far":
            far = [c for c in cand if abs(c - line) > NEAR + 5]
            if not far:
                continue
            out.append(make(path, line, line, lines[rng.choice(far) - 1], kind, None))
        elif kind == "invented-path":
            out.append(make(path.replace("/", "/_x_", 1) if "/" in path else "_x_" + path, line, line, text, kind, None))
        else:
            out.append(make(path, len(lines) + 5, len(lines) + 5, text, kind, None))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    root = Path(args.path).resolve()
    scanned = scan(root, load_settings(root, {"analyzers": ["none"]}))
    files = {f.path: split_lines(f.text) for f in scanned.files if f.path.endswith(".py")}
    if len(files) < 3:
        print("need a repository with at least 3 Python files", file=sys.stderr)
        return 2
    cases = build(files, args.n, random.Random(args.seed))
    t = time.perf_counter()
    per = {}
    for f, kind, truth in cases:  # one at a time, so a merge never hides a result
        g = ground([f], set(files), files.get)
        per.setdefault(kind, []).append((g.findings[0] if g.findings else None, truth))
    seconds = time.perf_counter() - t
    print(f"{root.name}: {len(files)} Python files, {len(cases)} findings, seed {args.seed}")
    print(f"{'kind':<22}{'n':>6}{'kept':>7}{'dropped':>9}")
    tp = fp = fn = snapped = 0
    for kind in sorted(per):
        rows = per[kind]
        kept = sum(1 for g, _ in rows if g is not None)
        print(f"{kind:<22}{len(rows):>6}{kept:>7}{len(rows) - kept:>9}")
        for g, truth in rows:
            if kind.startswith("real"):
                if g is None:
                    fn += 1
                else:
                    tp += 1
                    snapped += (g.start_line, g.end_line) == truth
            elif g is not None:
                fp += 1
    print(f"recall on real findings: {tp / max(1, tp + fn):.3f}   precision of kept: {tp / max(1, tp + fp):.3f}   "
          f"snapped to the exact lines: {snapped / max(1, tp):.3f}   {len(cases) / seconds:,.0f} findings/s")
    print(f"without grounding every finding would be kept: precision {(tp + fn) / len(cases):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
