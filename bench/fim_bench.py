"""Completion (FIM) benchmarks: context quality, context speed, and what fim-server adds.

    python bench/fim_bench.py quality REPO [REPO ...] [--budget 2048] [--json OUT]
    python bench/fim_bench.py latency REPO [--requests 400] [--concurrency 1] [--json OUT]
    python bench/fim_bench.py synth DIR [--files 2000]     # make a synthetic repository

quality: the RepoBench "cross_file_first" construction on Python repositories. For every name a
file imports from another file of the same repository (``from .models import Request``,
``import pkg.util as u`` then ``u.quote``), the first line that uses it is masked; the cursor
sits at the start of that line, with the lines before it as prefix and the lines after it as
suffix, as an editor plugin sends them (llama.vim: 256 lines before, 64 after, no file name).
A sample counts as a hit when the context holds the line that defines the name. Where the name
is defined is found independently of the tool, with Python's ``ast`` and the import's own path
(following re-exports through package ``__init__`` files); names defined outside the repository
are not samples. Reported: hit rate, how often the file was recognised from its text, tokens.

latency: a real ``reviewer fim-server`` (in this process, on 127.0.0.1) in front of a local
upstream that answers at once (a llama.cpp ``/infill`` stand-in), driven with requests in the
exact JSON shape llama.vim sends, at cursors spread over the repository. Reported: the time the
client waits, the upstream's own time, their difference (what fim-server adds), and the context
retrieval time, as p50/p95/max, plus the cold first pass apart from the warm ones.

Not part of the test suite; it prints figures.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_PREFIX = 256  # llama.vim's defaults
N_SUFFIX = 64


# ------------------------------------------------------------------------------ quality


@dataclass
class Sample:
    path: str
    line: int  # 1-based, the masked line
    name: str
    def_path: str
    def_line: int


def _module_file(root: Path, files: set[str], current: str, module: str, level: int) -> str | None:
    """The repository file a Python import names, by the import's own path (no search index)."""
    parts = module.split(".") if module else []
    if level:
        base = current.split("/")[:-1]
        if level > 1:
            base = base[: len(base) - (level - 1)]
        candidates = ["/".join(base + parts)]
    else:
        roots = {""}
        for f in files:  # package roots: directories that hold a top-level package
            top = f.split("/")
            for i in range(len(top)):
                roots.add("/".join(top[:i]))
        candidates = [("/".join([r, *parts]) if r else "/".join(parts)) for r in sorted(roots)]
    for c in candidates:
        for path in (c + ".py", c + "/__init__.py"):
            if path.lstrip("/") in files:
                return path.lstrip("/")
    return None


def _defines(tree: ast.Module, name: str) -> int | None:
    for node in tree.body:
        for n in _top_nodes(node):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name:
                return n.lineno
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
                return n.lineno
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.target.id == name:
                return n.lineno
    return None


def _top_nodes(node: ast.stmt) -> list[ast.stmt]:
    """A top-level statement, or the statements of a top-level if/try (conditional definitions)."""
    if isinstance(node, ast.If):
        return [n for b in (node.body, node.orelse) for s in b for n in _top_nodes(s)]
    if isinstance(node, ast.Try):
        return [n for b in (node.body, node.orelse, node.finalbody) for s in b for n in _top_nodes(s)]
    return [node]


class Gold:
    def __init__(self, root: Path, files: set[str]) -> None:
        self.root = root
        self.files = files
        self.trees: dict[str, ast.Module | None] = {}

    def tree(self, path: str) -> ast.Module | None:
        if path not in self.trees:
            try:
                self.trees[path] = ast.parse((self.root / path).read_text(encoding="utf-8", errors="replace"))
            except (SyntaxError, ValueError, OSError):
                self.trees[path] = None
        return self.trees[path]

    def definition(self, path: str, name: str, depth: int = 0) -> tuple[str, int] | None:
        tree = self.tree(path)
        if tree is None:
            return None
        line = _defines(tree, name)
        if line is not None:
            return path, line
        if depth >= 4:
            return None
        for node in tree.body:
            for n in _top_nodes(node):
                if isinstance(n, ast.ImportFrom):
                    for a in n.names:
                        if (a.asname or a.name) == name or a.name == "*":
                            target = _module_file(self.root, self.files, path, n.module or "", n.level)
                            if target and target != path:
                                found = self.definition(target, a.name if a.name != "*" else name, depth + 1)
                                if found:
                                    return found
        return None


def samples_for(root: Path, files: set[str], gold: Gold, path: str) -> list[Sample]:
    tree = gold.tree(path)
    if tree is None:
        return []
    bound: dict[str, tuple[str, str, int]] = {}  # local name -> (kind, module file, import end line)
    targets: dict[str, tuple[str, int]] = {}
    for node in tree.body:
        for n in _top_nodes(node):
            end = getattr(n, "end_lineno", n.lineno)
            if isinstance(n, ast.ImportFrom):
                mod = _module_file(root, files, path, n.module or "", n.level)
                if mod is None:
                    continue
                for a in n.names:
                    if a.name == "*":
                        continue
                    local = a.asname or a.name
                    sub = _module_file(root, files, path, ((n.module + ".") if n.module else "") + a.name, n.level)
                    if sub is not None and gold.tree(mod) is not None and _defines(gold.tree(mod), a.name) is None:
                        bound[local] = ("module", sub, end)
                        continue
                    found = gold.definition(mod, a.name)
                    if found:
                        bound[local] = ("symbol", mod, end)
                        targets[local] = found
            elif isinstance(n, ast.Import):
                for a in n.names:
                    mod = _module_file(root, files, path, a.name, 0)
                    if mod is not None and a.asname:
                        bound[a.asname] = ("module", mod, end)
    first: dict[str, tuple[int, str, tuple[str, int]]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in bound:
            kind, _, end = bound[node.id]
            if kind == "symbol" and node.lineno > end:
                key = node.id
                if key not in first or node.lineno < first[key][0]:
                    first[key] = (node.lineno, node.id, targets[node.id])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            kind, mod, end = bound[node.value.id]
            if kind == "module" and node.lineno > end:
                found = gold.definition(mod, node.attr)
                key = f"{node.value.id}.{node.attr}"
                if found and (key not in first or node.lineno < first[key][0]):
                    first[key] = (node.lineno, node.attr, found)
    return [Sample(path, line, name, dp, dl) for line, name, (dp, dl) in first.values() if dp != path]


def quality(repos: list[Path], budget: int, limit: int, seed: int) -> dict[str, object]:
    from reviewer.config import load_settings
    from reviewer.fim.context import gather
    from reviewer.fim.counting import CachedCounter
    from reviewer.fim.repoindex import RepoIndex
    from reviewer.pack.tokens import get_tokenizer

    tokenizer = CachedCounter(get_tokenizer())
    report: dict[str, object] = {"budget": budget, "repos": {}}
    total_hits = total = 0
    for root in repos:
        root = root.resolve()
        index = RepoIndex(root)
        index.build(load_settings(root))
        files = set(index.files)
        gold = Gold(root, files)
        samples = [s for p in sorted(files) if p.endswith(".py") for s in samples_for(root, files, gold, p)]
        random.Random(seed).shuffle(samples)
        if limit:
            samples = samples[:limit]
        hits = recognised = 0
        tokens: list[int] = []
        ms: list[float] = []
        misses: list[str] = []
        for s in samples:
            lines = index.files[s.path].text.split("\n")
            before = lines[max(0, s.line - 1 - N_PREFIX) : s.line - 1]
            after = lines[s.line : s.line + N_SUFFIX]
            prefix = "\n".join(before) + "\n"
            suffix = "\n" + "\n".join(after)
            ctx = gather(index, tokenizer, prefix, suffix, budget=budget)
            recognised += ctx.path == s.path
            tokens.append(ctx.tokens)
            ms.append(ctx.ms)
            hit = any(i.filename == s.def_path and s.def_line in i.lines for i in ctx.items)
            hits += hit
            if not hit and len(misses) < 15:
                misses.append(f"{s.path}:{s.line} {s.name} -> {s.def_path}:{s.def_line}")
        n = len(samples)
        total += n
        total_hits += hits
        report["repos"][root.name] = {  # type: ignore[index]
            "samples": n,
            "hit_rate": round(hits / n, 4) if n else None,
            "file_recognised": round(recognised / n, 4) if n else None,
            "context_tokens_p50": statistics.median(tokens) if tokens else 0,
            "context_ms_p50": round(statistics.median(ms), 2) if ms else 0,
            "context_ms_p95": round(_pct(ms, 95), 2) if ms else 0,
            "misses": misses,
        }
        print(f"{root.name}: {hits}/{n} = {hits / max(1, n):.1%} definitions in context "
              f"(file recognised {recognised / max(1, n):.1%}, context p50 {statistics.median(tokens) if tokens else 0} tokens, "
              f"{statistics.median(ms) if ms else 0:.1f} ms p50, {_pct(ms, 95):.1f} ms p95)")
    report["overall_hit_rate"] = round(total_hits / total, 4) if total else None
    print(f"overall: {total_hits}/{total} = {total_hits / max(1, total):.1%}")
    return report


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("repos", nargs="+", type=Path)
    q.add_argument("--budget", type=int, default=2048)
    q.add_argument("--limit", type=int, default=0, help="at most this many samples per repository")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "quality":
        report = quality(args.repos, args.budget, args.limit, args.seed)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
