"""The task's focus: which files and symbols a review diff, a question or a stack trace points at.

- ``--diff BASE``: the files changed between the merge base of BASE and HEAD and the work tree
  (committed, staged, unstaged and new untracked files).
- ``--trace``: the repository files of the trace's frames (the crash site weighs most) and the
  functions named in them.
- ``--query``: paths and modules named in the question, code-like identifiers that a file
  defines, and BM25 over paths, defined names and used identifiers.

The focus seeds personalized PageRank (``reviewer.pack.rank``); its ``focused`` files are packed
whole first."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.errors import InputError
from reviewer.index.tags import Tags, prefer_top_level
from reviewer.index.tags import definers as tag_definers
from reviewer.pack.lexical import STOPWORDS, build_bm25, joined_terms, query_terms
from reviewer.pack.roles import role_of
from reviewer.pack.trace import PathMatcher, parse_trace

_PATHLIKE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z]\w{0,5})(?![\w/])")
_DOTTED = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{2,}\b")
_MAX_DEFINERS = 8  # a name defined in more files than this says little about where to look
_BM25_TOP = 12
_BM25_WHOLE = 6  # the best matches packed whole
_BM25_ROLE = {"test": 0.5, "docs": 0.5, "example": 0.6, "data": 0.4}
_STEM_OWNERS = 4  # a file name shared by more files than this says little
_PACKAGE_WHOLE = 3  # a package named in the question: its modules whole when it has at most this many
# how much a defined name written in the question says, by how it is written (``_name_kind``)
_NAME_WEIGHT = {"code": 1.0, "word": 0.3, "outside": 0.1}


@dataclass
class Focus:
    files: dict[str, float] = field(default_factory=dict)  # path -> personalization weight
    focused: list[str] = field(default_factory=list)  # packed whole first, most important first
    reasons: dict[str, list[str]] = field(default_factory=dict)
    symbols: dict[str, float] = field(default_factory=dict)  # defined names the task names
    # for definition-level packing (reviewer.pack.defrank): each defined name the task writes,
    # with how surely it is meant as code; each repository file's frames (line, weight); the
    # question's terms with their inverse document frequency over the files
    names: dict[str, float] = field(default_factory=dict)
    frames: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    terms: dict[str, float] = field(default_factory=dict)
    lexical: dict[str, float] = field(default_factory=dict)  # every file's BM25 match, relative to the best

    def add(self, path: str, weight: float, reason: str, *, whole: bool = False) -> None:
        self.files[path] = self.files.get(path, 0.0) + weight
        why = self.reasons.setdefault(path, [])
        if reason not in why:
            why.append(reason)
        if whole and path not in self.focused:
            self.focused.append(path)

    def __bool__(self) -> bool:
        return bool(self.files)


def build_focus(
    root: Path,
    paths: Sequence[str],
    tags: Mapping[str, Tags],
    *,
    diff_base: str | None = None,
    query: str | None = None,
    trace: str | None = None,
    is_git: bool = True,
    changed: Sequence[str] | None = None,
) -> Focus:
    """``changed``: the files of ``changed_files(root, diff_base)`` when the caller has them."""
    focus = Focus()
    present = set(paths)
    if diff_base:
        for path in changed if changed is not None else changed_files(root, diff_base, is_git):
            if path in present:
                focus.add(path, 1.0, f"changed since {diff_base}", whole=True)
    if not (trace or query):
        return focus
    items = [(path, tags[path]) for path in sorted(tags)]
    every = tag_definers(items, prefer_top=False)  # for a frame's function, often a method
    definers = prefer_top_level(every, items)
    matcher = PathMatcher(paths)
    if trace:
        _trace_focus(focus, trace, matcher, every)
    if query:
        _query_focus(focus, query, matcher, definers, paths, tags, every)
    # the most important first; ties in path order
    focus.focused.sort(key=lambda p: (-focus.files.get(p, 0.0), p))
    return focus


def changed_files(root: Path, base: str, is_git: bool) -> list[str]:
    from reviewer.repo.git import run_git

    if not is_git:
        raise InputError("--diff needs a git repository", hint=f"{root.name} is not a git work tree")
    ok = run_git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False)
    if ok.returncode != 0:
        raise InputError(f"--diff: unknown revision {base!r}", hint="name a branch, tag or commit, e.g. --diff main")
    mb = run_git(root, "merge-base", base, "HEAD", check=False)
    since = mb.stdout.decode().strip() if mb.returncode == 0 and mb.stdout.strip() else base
    out = run_git(root, "diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", since, "--")
    names = [p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    new = run_git(root, "ls-files", "--others", "--exclude-standard", "-z", check=False)
    names += [p for p in new.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    return sorted(set(names))


def _trace_focus(
    focus: Focus, trace: str, matcher: PathMatcher, definers: dict[str, list[str]], *, scale: float = 1.0,
    whole: int = 12, label: str = "trace frame",
) -> None:
    frames = parse_trace(trace)
    depth = 0
    for frame in frames:
        path = matcher.match(frame.path)
        if path is None:
            continue
        weight = scale * max(0.25, 0.75**depth)
        where = f"line {frame.line}" + (f", in {frame.function}" if frame.function else "")
        focus.add(path, 2.0 * weight, f"{label} ({where})", whole=depth < whole)
        focus.frames.setdefault(path, []).append((frame.line, weight))
        depth += 1
        if frame.function:
            focus.symbols[frame.function] = focus.symbols.get(frame.function, 0.0) + weight
            owners = definers.get(frame.function, [])
            if 0 < len(owners) <= _MAX_DEFINERS:
                for owner in owners:
                    if owner != path:
                        focus.add(owner, 0.5 * weight / len(owners), f"defines {frame.function} (trace)")


def _query_focus(
    focus: Focus,
    query: str,
    matcher: PathMatcher,
    definers: dict[str, list[str]],
    paths: Sequence[str],
    tags: Mapping[str, Tags],
    every: dict[str, list[str]],
) -> None:
    # a stack trace pasted into the question: its frames, a little less than a --trace
    _trace_focus(focus, query, matcher, every, scale=0.7, whole=4, label="trace in the question")
    # paths and modules written out
    for written in _PATHLIKE.findall(query):
        path = matcher.match(written)
        if path is not None:
            focus.add(path, 2.0, f"named in the question ({written})", whole=True)
            _tested_by(focus, path, paths, 1.5, f"tested by {path}, named in the question")
    # a test function named in the question: the module its file tests
    for name in dict.fromkeys(m for m in _IDENT.findall(query) if m.startswith("test_")):
        for owner in definers.get(name, [])[:_MAX_DEFINERS]:
            if role_of(owner) == "test":
                _tested_by(focus, owner, paths, 0.7, f"tested by {name} ({owner}), named in the question")
    present = set(paths)
    by_dir: dict[str, list[str]] = {}
    for p in paths:
        if p.endswith(".py"):
            by_dir.setdefault(p.rpartition("/")[0], []).append(p)
    for dotted in _DOTTED.findall(query):
        parts = dotted.split(".")
        for k in range(len(parts), 1, -1):
            base = "/".join(parts[:k])
            hit = next((c for c in (f"{base}.py", f"{base}/__init__.py", f"src/{base}.py", f"src/{base}/__init__.py")
                        if c in present), None)
            if hit:
                module = ".".join(parts[:k])
                focus.add(hit, 1.5, f"module {module} named in the question", whole=True)
                if hit.endswith("/__init__.py"):
                    # a package: its modules share the weight, whole when they are few
                    members = [p for p in by_dir.get(hit.rpartition("/")[0], []) if p != hit and role_of(p) == "code"]
                    for member in members:
                        focus.add(member, 1.0 / len(members), f"in package {module}, named in the question",
                                  whole=len(members) <= _PACKAGE_WHOLE)
                break
    # a code file's name written in the question as a word ("manpage", "man page" -> manpage.py)
    stems: dict[str, list[str]] = {}
    for p in paths:
        if role_of(p) == "code":
            stem = p.rpartition("/")[2].partition(".")[0].lower().replace("_", "")
            if len(stem) >= 4 and stem not in STOPWORDS and stem not in ("init", "main"):
                stems.setdefault(stem, []).append(p)
    words = {w.lower() for w in _IDENT.findall(query)}
    joined = joined_terms(query, set(stems))
    for stem in joined + sorted(w for w in words if w in stems and w not in joined):
        owners = stems[stem]
        if len(owners) <= _STEM_OWNERS:
            # whole only when written as words run together: a single word is often just a word
            for owner in owners:
                focus.add(owner, 1.0 / len(owners), f"its name is written in the question ({stem})",
                          whole=len(owners) <= 2 and stem in joined)
    # identifiers that some file defines: written as code, they point at their definers
    roots = _package_names(paths)
    names = dict.fromkeys(_IDENT.findall(query))
    for name in names:
        owners = definers.get(name)
        if not owners:
            continue
        kind = _name_kind(name, query, definers, roots)
        focus.names[name] = max(focus.names.get(name, 0.0), _NAME_WEIGHT[kind])
        if len(owners) > _MAX_DEFINERS:
            continue
        # a name that code defines points at that code, not at tests or docs defining it too
        code = [o for o in owners if role_of(o) == "code"]
        owners = code or owners
        weight = _NAME_WEIGHT[kind] / len(owners)
        focus.symbols[name] = focus.symbols.get(name, 0.0) + weight
        for owner in owners:
            focus.add(owner, weight, f"defines {name}" + ("" if kind == "code" else f" ({kind})"),
                      whole=kind == "code" and len(owners) <= 3 and bool(code))
    # BM25 over paths, defined names and used identifiers
    terms = query_terms(query)
    # words the question writes apart that a file or directory is named by written together
    file_names = {piece.partition(".")[0].lower().replace("_", "") for p in paths for piece in p.split("/")}
    terms += [t for t in joined_terms(query, file_names) if t not in terms]
    if not terms:
        return
    vocab = set(terms)
    index = build_bm25(paths, {p: tags[p].defines for p in paths}, {p: tags[p].references for p in paths}, vocab)
    focus.terms = {t: index.idf(t) for t in terms if t in index.postings}
    scores = index.scores(terms)
    if not scores:
        return
    # a question is mostly about the code: tests, docs and data that match it count for less
    scores = {p: s * _BM25_ROLE.get(role_of(p), 1.0) for p, s in scores.items()}
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    top = ranked[0][1] or 1.0
    focus.lexical = {path: score / top for path, score in ranked}
    ranked = ranked[:_BM25_TOP]
    for i, (path, score) in enumerate(ranked):
        rel = score / top
        focus.add(path, 0.8 * rel, f"matches the question (BM25 {rel:.2f})",
                  whole=i < _BM25_WHOLE and rel >= 0.5)


def _tested_by(focus: Focus, test: str, paths: Sequence[str], weight: float, reason: str) -> None:
    """The modules a test file tests: code files named as the test is without ``test_`` (or
    ``_test``, ``.test``, ``.spec``), nearest to it in the tree."""
    if role_of(test) != "test":
        return
    name = test.rpartition("/")[2]
    stem, _, ext = name.partition(".")
    target = stem.removeprefix("test_").removesuffix("_test").removesuffix("_tests")
    if not target or (target == stem and not ext.startswith(("test.", "spec."))):
        return
    found = [p for p in paths if role_of(p) == "code" and p.rpartition("/")[2].partition(".")[0] == target]
    if not found:
        return
    test_dirs = [d for d in test.split("/")[:-1] if d not in ("tests", "test", "testing")]

    def near(p: str) -> int:
        dirs = p.split("/")[:-1]
        n = 0
        while n < min(len(dirs), len(test_dirs)) and dirs[n] == test_dirs[n]:
            n += 1
        return n

    best = max(map(near, found))
    for p in sorted(p for p in found if near(p) == best):
        focus.add(p, weight, reason, whole=True)


def _package_names(paths: Sequence[str]) -> set[str]:
    """Names a dotted expression in the question may start with to mean this repository: its
    directories and the stems of its files (``requests.models`` -> requests, models)."""
    out: set[str] = set()
    for p in paths:
        parts = p.split("/")
        out.update(parts[:-1])
        out.add(parts[-1].partition(".")[0])
    return out


def _name_kind(name: str, query: str, definers: Mapping[str, list[str]], roots: set[str]) -> str:
    """``code`` for a name the question writes as code: a compound name (``register_hook``,
    ``parseURL``), in backquotes, called (``name(``) or used as a qualifier (``Name.attr``), or an
    attribute of something of this repository (``models.Request``). ``outside`` for a plain word
    only seen as an attribute of something this repository does not define (``os.mkdir``,
    ``os.path.join``): another library's. ``word`` otherwise (an ordinary word such as "module")."""
    inner = name.strip("_")
    if "_" in inner or any(c.isupper() for c in inner[1:]) or (any(c.isdigit() for c in inner) and inner[0].isalpha()):
        return "code"
    esc = re.escape(name)
    if re.search(rf"`[^`\n]*\b{esc}\b[^`\n]*`", query):
        return "code"
    outside = False
    for m in re.finditer(rf"(?<![\w.])((?:[A-Za-z_]\w*\.)*){esc}\b(\s*\(|\.[A-Za-z_])?", query):
        chain, after = m.group(1), m.group(2)
        if not chain:
            if after:
                return "code"
            continue
        head = chain.split(".")[0]
        if head in roots or head in definers:
            return "code"
        outside = True
    return "outside" if outside else "word"
