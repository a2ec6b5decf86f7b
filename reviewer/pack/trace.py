"""Stack traces: which files, lines and functions a crash report names.

Understands Python tracebacks, JavaScript/Node stacks, Java (and Kotlin/Scala) stack traces, Go
panics and Rust panics and backtraces; any other ``path.ext:line`` is taken too. Frames come out
innermost (the crash site) first, and are matched to repository files by the longest path suffix,
so absolute paths from another machine still find their file."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Frame:
    path: str  # as written in the trace
    line: int
    function: str  # "" when the trace does not say
    qualifier: str = ""  # class or module named with the function, when the trace says


_PY = re.compile(r'File "(?P<path>[^"\n]+)", line (?P<line>\d+)(?:, in (?P<func>[^\s\n]+))?')
_JS = re.compile(
    r"^\s*at (?:(?:async |new )?(?P<func>[^\s(]+?)(?: \[as [^\]]+\])? \()?(?P<path>(?:file://)?[^\s():]+(?::\\[^\s():]+)?):(?P<line>\d+):\d+\)?\s*$",
    re.M,
)
_JAVA = re.compile(r"^\s*at (?P<qual>[\w$.<>/]+)\((?P<file>[\w$.-]+\.(?:java|kt|kts|scala|groovy|clj)):(?P<line>\d+)\)", re.M)
_GO_FUNC = re.compile(r"^(?P<func>[\w./*()\[\]-]+)\(.*\)\s*$")
_GO_LOC = re.compile(r"^\s+(?P<path>\S+\.go):(?P<line>\d+)(?: \+0x[0-9a-f]+)?\s*$")
_RUST_PANIC = re.compile(r"panicked at (?:'[^'\n]*', )?(?P<path>[^\s:]+\.rs):(?P<line>\d+):\d+")
_RUST_FUNC = re.compile(r"^\s*\d+: (?P<func>[\w:<>$ ]+?)(?:::h[0-9a-f]{16})?\s*$")
_RUST_AT = re.compile(r"^\s+at (?P<path>\S+\.rs):(?P<line>\d+)(?::\d+)?\s*$")
_GENERIC = re.compile(
    r"(?P<path>(?:[A-Za-z]:)?[\w./\\-]*[\w-]\.(?:py|pyx|js|mjs|cjs|jsx|ts|tsx|go|rs|java|kt|scala|c|cc|cpp|h|hpp|cs|rb|php|swift|lua)):(?P<line>\d+)"
)


def parse_trace(text: str) -> list[Frame]:
    """Every frame found in ``text``, innermost first, without repeats."""
    frames: list[Frame] = []
    py = [Frame(m["path"], int(m["line"]), _clean_func(m["func"] or "")) for m in _PY.finditer(text)]
    frames += reversed(py)  # Python prints the innermost frame last
    for m in _JAVA.finditer(text):
        qual = m["qual"].split("$")[0]
        parts = qual.split(".")
        func = parts[-1] if len(parts) > 1 else ""
        cls = parts[-2] if len(parts) > 1 else ""
        package = "/".join(p for p in parts[:-2] if p and p[0].islower())
        path = f"{package}/{m['file']}" if package else m["file"]
        frames.append(Frame(path, int(m["line"]), _clean_func(func), cls))
    for m in _JS.finditer(text):
        path = m["path"].removeprefix("file://")
        if path.endswith((".rs", ".go", ".java", ".py", ".kt", ".scala")):
            continue  # another language's frame that happens to read "at path:line:col"
        func = (m["func"] or "").split(".")[-1]
        qual = (m["func"] or "").split(".")[-2] if "." in (m["func"] or "") else ""
        frames.append(Frame(path, int(m["line"]), _clean_func(func), qual))
    frames += _go_frames(text)
    frames += _rust_frames(text)
    if not frames:
        frames = [Frame(m["path"], int(m["line"]), "") for m in _GENERIC.finditer(text)]
    # the same place named twice (a Rust panic line and its backtrace frame): keep the first,
    # with the function name if either has one
    out: list[Frame] = []
    index: dict[tuple[str, int], int] = {}
    for f in frames:
        f = Frame(f.path.removeprefix("./"), f.line, f.function, f.qualifier)
        key = (f.path, f.line)
        if key not in index:
            index[key] = len(out)
            out.append(f)
        elif f.function and not out[index[key]].function:
            out[index[key]] = Frame(f.path, f.line, f.function, f.qualifier)
    return out


def _go_frames(text: str) -> list[Frame]:
    lines = text.split("\n")
    out: list[Frame] = []
    for i in range(1, len(lines)):
        loc = _GO_LOC.match(lines[i])
        if not loc:
            continue
        func = ""
        qual = ""
        fm = _GO_FUNC.match(lines[i - 1])
        if fm:
            name = fm["func"].rsplit("/", 1)[-1]  # pkg.(*Type).Method or pkg.Func
            parts = [p.strip("()*") for p in name.split(".")]
            func = parts[-1]
            qual = parts[-2] if len(parts) > 2 else ""
        out.append(Frame(loc["path"], int(loc["line"]), _clean_func(func), qual))
    return out


def _rust_frames(text: str) -> list[Frame]:
    out = [Frame(m["path"], int(m["line"]), "") for m in _RUST_PANIC.finditer(text)]
    lines = text.split("\n")
    for i in range(1, len(lines)):
        at = _RUST_AT.match(lines[i])
        if not at:
            continue
        fm = _RUST_FUNC.match(lines[i - 1])
        parts = fm["func"].split("::") if fm else []
        func = parts[-1].strip() if parts else ""
        qual = parts[-2].strip("<> ") if len(parts) > 1 else ""
        out.append(Frame(at["path"], int(at["line"]), _clean_func(func), qual))
    return out


def _clean_func(name: str) -> str:
    name = name.strip().strip("<>")
    if name in ("module", "lambda", "listcomp", "genexpr", "dictcomp", "setcomp", "anonymous", "main", "init", "clinit"):
        return ""
    return name if re.fullmatch(r"[A-Za-z_$][\w$]*", name) else ""


class PathMatcher:
    """Match paths written elsewhere (absolute, another machine's, ``./``-relative, Windows) to
    repository files by the longest common suffix of whole components."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.by_name: dict[str, list[str]] = {}
        for p in paths:
            self.by_name.setdefault(PurePosixPath(p).name, []).append(p)

    def match(self, written: str) -> str | None:
        written = written.replace("\\", "/").removeprefix("file://")
        parts = [p for p in written.split("/") if p not in ("", ".")]
        if not parts:
            return None
        candidates = self.by_name.get(parts[-1])
        if not candidates:
            return None
        best: tuple[int, str] | None = None
        for cand in candidates:
            cparts = cand.split("/")
            n = 0
            while n < min(len(cparts), len(parts)) and cparts[-1 - n] == parts[-1 - n]:
                n += 1
            score = (n, -len(cparts))
            if best is None or score > (best[0], -len(best[1].split("/"))):
                best = (n, cand)
        if best is None:
            return None
        # a bare file name that several files share says nothing
        if best[0] == 1 and len(candidates) > 1 and len(parts) == 1:
            return None
        return best[1]
