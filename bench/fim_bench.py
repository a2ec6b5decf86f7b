"""Completion (FIM) benchmarks: context quality, context speed, and what fim-server adds.

    python bench/fim_bench.py quality REPO [REPO ...] [--budget 2048] [--json OUT]
    python bench/fim_bench.py latency REPO [--requests 300] [--json OUT]
    python bench/fim_bench.py latency --generate 2000 [--requests 300] [--json OUT]

quality: the RepoBench "cross_file_first" construction on Python repositories. For every name a
file imports from another file of the same repository (``from .models import Request``,
``import pkg.util as u`` then ``u.quote``), the first line that uses it is masked; the cursor
sits at the start of that line, with the lines before it as prefix and the lines after it as
suffix, as an editor plugin sends them (llama.vim: 256 lines before, 64 after, no file name).
A sample counts as a hit when the context holds the line that defines the name. Where the name
is defined is found independently of the tool, with Python's ``ast`` and the import's own path
(following re-exports through package ``__init__`` files); names defined outside the repository
are not samples. Reported: hit rate, how often the file was recognised from its text, tokens.

latency: a real fim-server (in this process, on 127.0.0.1, with its file watcher running) in
front of a local upstream that answers at once (a llama.cpp ``/infill`` stand-in), driven with
requests in the JSON shape llama.vim sends (256 lines before the cursor, 64 after, its sampling
fields), one at a time on a new connection each, as llama.vim's curl does, at random cursors in
the repository's source files. Each request is also sent straight to the upstream; what
fim-server adds is the difference. Two passes: "first" (a cursor never seen: nothing cached but
the index) and "keystroke" (the same cursors, one character typed). Reported as p50/p95/max, with
the context retrieval time the server measured, the index build and a watcher pass.

Not part of the test suite; it prints figures.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import socket
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


# ------------------------------------------------------------------------------ latency


class _Instant(BaseHTTPRequestHandler):
    """A llama.cpp /infill stand-in that answers at once."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = json.dumps({"index": 0, "content": "return value\n", "tokens": [], "stop": True, "stop_type": "eos",
                           "tokens_predicted": 3, "tokens_evaluated": 100, "truncated": False,
                           "timings": {"prompt_n": 100, "prompt_ms": 0.0}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self._headers_buffer.append(b"\r\n" + data)
        self.flush_headers()


def _cursors(files: dict[str, str], n: int, seed: int) -> list[tuple[str, int, int]]:
    rng = random.Random(seed)
    code = sorted(p for p, t in files.items() if p.endswith((".py", ".js", ".ts", ".go", ".rs", ".java", ".c", ".cpp"))
                  and t.count("\n") > 20)
    out = []
    while len(out) < n and code:
        path = rng.choice(code)
        lines = files[path].split("\n")
        line = rng.randrange(10, len(lines) - 1)
        text = lines[line - 1]
        if not text.strip():
            continue
        col = len(text) - len(text.lstrip()) + min(len(text.strip()), rng.randrange(0, 12))
        out.append((path, line, col))
    return out


def _vim_body(text: str, line: int, col: int, extra: str = "") -> dict[str, object]:
    lines = text.split("\n")
    cur = lines[line - 1]
    return {
        "input_prefix": "\n".join(lines[max(0, line - 1 - N_PREFIX) : line - 1]) + "\n",
        "input_suffix": cur[col:] + "\n" + "\n".join(lines[line : line + N_SUFFIX]) + "\n",
        "input_extra": [],
        "prompt": cur[:col] + extra,
        "n_predict": 128, "stop": [], "n_indent": len(cur) - len(cur.lstrip()), "top_k": 40, "top_p": 0.90,
        "stream": False, "samplers": ["top_k", "top_p", "infill"], "cache_prompt": True,
        "t_max_prompt_ms": 500, "t_max_predict_ms": 1000,
    }


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p95": round(_pct(values, 95), 2),
            "max": round(max(values), 2), "n": len(values)} if values else {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def latency(repo: Path, n: int, seed: int) -> dict[str, object]:
    import os
    import subprocess

    import httpx

    root = repo.resolve()
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Instant)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    up_url = f"http://127.0.0.1:{upstream.server_address[1]}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "DEEPSEEK_API_KEY" and not k.startswith("REVIEWER_")}
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", "fim-server", "--repo", str(root), "--port", str(port),
         "--provider", "infill", "--base-url", up_url, "--model", "instant"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    try:
        health: dict[str, object] = {}
        ready_index: float | None = None
        while time.perf_counter() - t < 600:
            try:
                health = httpx.get(url + "/health", timeout=2).json()
                if health["index"]["ready"] and ready_index is None:  # type: ignore[index]
                    ready_index = time.perf_counter() - t
                # measured once the background secret pre-scan is over too (steady state)
                if health["index"]["ready"] and health.get("secrets", {}).get("first_pass_done", True):  # type: ignore[index, union-attr]
                    break
            except (httpx.HTTPError, KeyError):
                pass
            if proc.poll() is not None:
                raise SystemExit(f"fim-server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        ready_s = time.perf_counter() - t
        files = {}
        for p in sorted(subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, text=True).stdout.split()):
            try:
                files[p] = (root / p).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        cursors = _cursors(files, n, seed)
        report: dict[str, object] = {"repository": root.name, "files": health["index"]["files"],  # type: ignore[index]
                                     "ready_s": round(ready_s, 2), "index_ready_s": round(ready_index or ready_s, 2),
                                     "index": health["index"],
                                     "load_average": os.getloadavg()}
        for label, extra in (("first", ""), ("keystroke", "x")):
            rows: dict[str, list[float]] = {k: [] for k in ("via", "direct", "added", "context", "prepare", "cpu")}
            recognised = 0
            for path, line, col in cursors:
                body = _vim_body(files[path], line, col, extra)
                with httpx.Client() as c:  # a new connection per request, as llama.vim's curl makes
                    t0 = time.perf_counter()
                    r0 = c.post(up_url + "/infill", json=body, timeout=30)
                    d = (time.perf_counter() - t0) * 1000
                with httpx.Client() as c:
                    t0 = time.perf_counter()
                    r = c.post(url + "/infill", json=body, timeout=30)
                    v = (time.perf_counter() - t0) * 1000
                assert r0.status_code == 200 and r.status_code == 200, r.text
                info = r.json().get("reviewer", {})
                rows["via"].append(v)
                rows["direct"].append(d)
                rows["added"].append(v - d)
                for key, name in (("context", "context_ms"), ("prepare", "prepare_ms"), ("cpu", "cpu_ms")):
                    if name in info:
                        rows[key].append(info[name])
                recognised += info.get("file") == path
                time.sleep(0.02)  # an editor's debounce: requests do not arrive back to back
            report[label] = {k: _summary(v) for k, v in rows.items()}
            report[label]["file_recognised"] = round(recognised / max(1, len(cursors)), 3)  # type: ignore[index]
            a, c_, cpu = rows["added"], rows["context"], rows["cpu"]
            print(f"{root.name} ({len(files)} files) {label}: fim-server adds p50 {statistics.median(a):.1f} ms, "
                  f"p95 {_pct(a, 95):.1f} ms; context retrieval p50 {statistics.median(c_):.1f} ms, "
                  f"p95 {_pct(c_, 95):.1f} ms; server CPU per request p50 {statistics.median(cpu):.1f} ms, "
                  f"p95 {_pct(cpu, 95):.1f} ms; direct to upstream p50 {statistics.median(rows['direct']):.1f} ms")
        health = httpx.get(url + "/health", timeout=5).json()
        report["health_after"] = health
        print(f"fim-server index ready in {ready_index or ready_s:.1f} s, secret pre-scan done at {ready_s:.1f} s; watcher pass {health.get('watch', {}).get('last_ms')} ms; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        return report
    finally:
        proc.terminate()
        proc.wait(10)
        upstream.shutdown()


# ------------------------------------------------------------------------------ generated repository


def generate_repo(dest: Path, n_files: int, seed: int = 0) -> Path:
    """A git repository of ``n_files`` Python modules in 40 packages that import one another
    (classes, methods, functions, constants; 60-250 lines each): the shape of a real code base,
    at a chosen size, for the latency measure."""
    import subprocess

    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    n_pkgs = 40
    names = [(f"pkg{i % n_pkgs:02d}", f"mod{i:04d}") for i in range(n_files)]
    for k in range(n_pkgs):
        (dest / "src" / "app" / f"pkg{k:02d}").mkdir(parents=True, exist_ok=True)
        (dest / "src" / "app" / f"pkg{k:02d}" / "__init__.py").write_text(f'"""Package {k}."""\n')
    (dest / "src" / "app" / "__init__.py").write_text("")
    for i, (pkg, mod) in enumerate(names):
        lines = [f'"""Module {mod}: generated for the latency benchmark."""', "", "from __future__ import annotations", ""]
        deps = rng.sample(range(n_files), k=min(3, n_files)) if i else []
        for d in deps:
            if d == i:
                continue
            dp, dm = names[d]
            lines.append(f"from app.{dp}.{dm} import Service{d:04d}, helper_{d:04d}")
        lines += ["import os", "", f"LIMIT_{i:04d} = {rng.randint(1, 999)}", ""]
        for c in range(rng.randint(1, 3)):
            lines += [f"class Service{i:04d}{'' if c == 0 else f'V{c}'}:", f'    """Service {i}.{c}."""', "",
                      "    def __init__(self, name: str, size: int = 0) -> None:",
                      "        self.name = name", "        self.size = size", ""]
            for m in range(rng.randint(3, 8)):
                lines += [f"    def method_{m}(self, value: int) -> int:",
                          f"        total = value * {rng.randint(2, 9)} + self.size",
                          "        for step in range(value % 7):",
                          "            total += step",
                          f"        return total - LIMIT_{i:04d}", ""]
        for f in range(rng.randint(2, 6)):
            fname = f"helper_{i:04d}" if f == 0 else f"compute_{i:04d}_{f}"
            lines += [f"def {fname}(items: list[int]) -> int:", '    """Sum what is asked."""', "    out = 0",
                      "    for item in items:", "        out += item", ]
            for d in deps[:2]:
                if d != i:
                    lines.append(f"    out += helper_{d:04d}([out]) + Service{d:04d}('x').method_0(out)")
            lines += ["    return out", ""]
        (dest / "src" / "app" / pkg / f"{mod}.py").write_text("\n".join(lines) + "\n")
    subprocess.run(["git", "init", "-q", str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(dest), "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                    "commit", "-q", "-m", "generated"], check=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("repos", nargs="+", type=Path)
    q.add_argument("--budget", type=int, default=2048)
    q.add_argument("--limit", type=int, default=0, help="at most this many samples per repository")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--json", type=Path)
    lat = sub.add_parser("latency")
    lat.add_argument("repo", type=Path, nargs="?", help="a git repository (omit with --generate)")
    lat.add_argument("--generate", type=int, metavar="N", help="measure on a generated repository of N files")
    lat.add_argument("--requests", type=int, default=300)
    lat.add_argument("--seed", type=int, default=0)
    lat.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "quality":
        report = quality(args.repos, args.budget, args.limit, args.seed)
    elif args.generate:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="fim-bench-") as tmp:
            report = latency(generate_repo(Path(tmp) / "generated", args.generate, args.seed), args.requests, args.seed)
    elif args.repo is None:
        ap.error("latency needs a REPO or --generate N")
    else:
        report = latency(args.repo, args.requests, args.seed)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
