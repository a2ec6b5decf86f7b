"""What a file imports, read lexically, and where each import lives in the repository.

``read_imports(language, text)`` lists the import statements of a file (Python, JavaScript and
TypeScript, Go, Java and Kotlin, C and C++ includes, Rust ``use``). ``ModuleMap`` resolves a
module specifier to repository files, so that a name bound by an import can be followed to its
definition. Regular expressions, not a parse: cheap enough to run on every request, and an
import the patterns miss only costs context, never correctness.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Import:
    """One import. ``module`` as written (``.models``, ``./util``, ``net/http``); ``names`` are
    ``(name, alias)`` pairs for imported symbols (``*`` for all); ``alias`` is the name the whole
    module is bound to, if any."""

    module: str
    names: tuple[tuple[str, str], ...] = ()
    alias: str | None = None


# ---------------------------------------------------------------- reading imports

_PY_FROM = re.compile(
    r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n#\\]|\\\n)+)", re.M
)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+((?:[^\n#\\;]|\\\n)+)", re.M)
_JS_FROM = re.compile(
    r"""(?:^|[;\n])[ \t]*(?:import|export)[ \t]+(?:type[ \t]+)?([\w$*{}\s,]+?)[ \t\n]*from[ \t]*['"]([^'"\n]+)['"]"""
)
_JS_SIDE = re.compile(r"""(?:^|[;\n])[ \t]*import[ \t]*['"]([^'"\n]+)['"]""")
_JS_REQUIRE = re.compile(
    r"""(?:const|let|var)[ \t]+([\w$]+|\{[^}]*\})[ \t]*=[ \t]*require\([ \t]*['"]([^'"\n]+)['"][ \t]*\)"""
)
_GO_BLOCK = re.compile(r"^import[ \t]*\(([^)]*)\)", re.M)
_GO_ONE = re.compile(r"""^import[ \t]+(?:([\w.]+)[ \t]+)?"([^"\n]+)\"""", re.M)
_GO_SPEC = re.compile(r"""^[ \t]*(?:([\w.]+)[ \t]+)?"([^"\n]+)\"""", re.M)
_JAVA = re.compile(r"^[ \t]*import[ \t]+(?:static[ \t]+)?(\w+(?:\.\w+)*(?:\.\*)?)[ \t]*;?", re.M)
_INCLUDE = re.compile(r"""^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)\"""", re.M)
_RUST_USE = re.compile(r"^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?use[ \t]+([^;]+);", re.M)
_RUST_MOD = re.compile(r"^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?mod[ \t]+(\w+)[ \t]*;", re.M)

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def read_imports(language: str | None, text: str) -> list[Import]:
    reader = _READERS.get(language or "")
    return reader(text) if reader is not None else []


def _py(text: str) -> list[Import]:
    out: list[Import] = []
    for m in _PY_FROM.finditer(text):
        module, body = m.group(1), m.group(2)
        body = body.strip().strip("()").replace("\\\n", " ")
        names = []
        for part in body.split(","):
            part = part.split("#", 1)[0].strip()
            if not part:
                continue
            bits = part.split()
            name = bits[0]
            alias = bits[2] if len(bits) >= 3 and bits[1] == "as" else name
            if name == "*" or _IDENT.fullmatch(name):
                names.append((name, alias))
        if names:
            out.append(Import(module, tuple(names)))
    for m in _PY_IMPORT.finditer(text):
        for part in m.group(1).replace("\\\n", " ").split(","):
            bits = part.split()
            if not bits or not re.fullmatch(r"[\w.]+", bits[0]):
                continue
            module = bits[0]
            alias = bits[2] if len(bits) >= 3 and bits[1] == "as" else module
            out.append(Import(module, (), alias))
    return out


def _js_clause(clause: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    names: list[tuple[str, str]] = []
    alias: str | None = None
    clause = clause.strip()
    braces = re.search(r"\{([^}]*)\}", clause)
    if braces:
        for part in braces.group(1).split(","):
            bits = part.replace("type ", " ").split()
            if not bits:
                continue
            name = bits[0]
            local = bits[2] if len(bits) >= 3 and bits[1] == "as" else name
            names.append((name, local))
        clause = clause.replace(braces.group(0), "")
    star = re.search(r"\*\s*as\s+([\w$]+)", clause)
    if star:
        alias = star.group(1)
        clause = clause.replace(star.group(0), "")
    default = clause.strip().strip(",").strip()
    if default and _IDENT.fullmatch(default):
        names.append(("default", default))
    return tuple(names), alias


def _js(text: str) -> list[Import]:
    out: list[Import] = []
    for m in _JS_FROM.finditer(text):
        names, alias = _js_clause(m.group(1))
        out.append(Import(m.group(2), names, alias))
    for m in _JS_SIDE.finditer(text):
        out.append(Import(m.group(1)))
    for m in _JS_REQUIRE.finditer(text):
        target, module = m.group(1), m.group(2)
        if target.startswith("{"):
            names = []
            for part in target.strip("{}").split(","):
                bits = [b.strip() for b in part.split(":")]
                if bits and bits[0]:
                    names.append((bits[0], bits[-1] or bits[0]))
            out.append(Import(module, tuple(names)))
        else:
            out.append(Import(module, (), target))
    return out


def _go(text: str) -> list[Import]:
    specs: list[tuple[str | None, str]] = []
    for block in _GO_BLOCK.finditer(text):
        specs += [(m.group(1), m.group(2)) for m in _GO_SPEC.finditer(block.group(1))]
    specs += [(m.group(1), m.group(2)) for m in _GO_ONE.finditer(text)]
    out = []
    for alias, path in specs:
        out.append(Import(path, (), alias if alias not in (None, "_", ".") else path.rsplit("/", 1)[-1]))
    return out


def _java(text: str) -> list[Import]:
    out = []
    for m in _JAVA.finditer(text):
        spec = m.group(1)
        if spec.endswith(".*"):
            out.append(Import(spec[:-2], (("*", "*"),)))
        else:
            module, _, name = spec.rpartition(".")
            out.append(Import(spec, (), name))  # a class is a file of its own
            if module:
                out.append(Import(module, ((name, name),)))
    return out


def _c(text: str) -> list[Import]:
    return [Import(m.group(1), (("*", "*"),)) for m in _INCLUDE.finditer(text)]


def _rust(text: str) -> list[Import]:
    out = [Import(m.group(1), (), m.group(1)) for m in _RUST_MOD.finditer(text)]
    for m in _RUST_USE.finditer(text):
        spec = re.sub(r"\s+", "", m.group(1))
        head, brace, rest = spec.partition("{")
        if brace:
            module = head.rstrip(":")
            items = rest.rstrip("}").split(",")
        else:
            module, _, last = spec.rpartition("::")
            items = [last]
        names = []
        for item in items:
            name, _, alias = item.partition("as")
            name = name.split("::")[-1]
            if name == "self":
                out.append(Import(module, (), alias or module.rsplit("::", 1)[-1]))
            elif name and (name == "*" or _IDENT.fullmatch(name)):
                names.append((name, alias or name))
        out.append(Import(module, tuple(names)))
    return out


_READERS = {
    "python": _py,
    "javascript": _js, "typescript": _js, "tsx": _js,
    "go": _go,
    "java": _java, "kotlin": _java, "scala": _java,
    "c": _c, "cpp": _c,
    "rust": _rust,
}

# ---------------------------------------------------------------- resolving modules

_PY_EXT = (".py", ".pyi")
_JS_EXT = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_JAVA_EXT = (".java", ".kt", ".kts", ".scala")


def _strip_ext(path: str) -> str:
    dot = path.rfind(".")
    return path[:dot] if dot > path.rfind("/") else path


@dataclass
class ModuleMap:
    """Repository paths by the names imports use for them. Keys are every trailing run of a
    path's parts, so ``requests.models`` finds ``src/requests/models.py``."""

    py: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    slash: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # no extension
    dirs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # dir suffix -> files
    paths: set[str] = field(default_factory=set)

    def add(self, path: str) -> None:
        self.paths.add(path)
        stem = _strip_ext(path)
        parts = stem.split("/")
        if path.endswith(_PY_EXT):
            py_parts = parts[:-1] if parts[-1] == "__init__" else parts
            for i in range(len(py_parts)):
                self.py[".".join(py_parts[i:])].add(path)
        for i in range(len(parts)):
            self.slash["/".join(parts[i:])].add(path)
        dparts = parts[:-1]
        for i in range(len(dparts) + 1):
            self.dirs["/".join(dparts[i:])].add(path)

    def remove(self, path: str) -> None:
        if path not in self.paths:
            return
        self.paths.discard(path)
        for table in (self.py, self.slash, self.dirs):
            for key in [k for k, v in table.items() if path in v]:
                table[key].discard(path)
                if not table[key]:
                    del table[key]

    def resolve(self, language: str | None, current: str, module: str) -> list[str]:
        """Repository files that ``module``, imported from the file ``current``, refers to
        (nearest first); empty when it is outside the repository."""
        if language == "python":
            return self._python(current, module)
        if language in ("javascript", "typescript", "tsx"):
            return self._js(current, module)
        if language == "go":
            return self._go(current, module)
        if language in ("java", "kotlin", "scala"):
            return _nearest(current, [p for p in self.slash.get(module.replace(".", "/"), ()) if p.endswith(_JAVA_EXT)])
        if language in ("c", "cpp"):
            here = posixpath.normpath(posixpath.join(posixpath.dirname(current), module))
            if here in self.paths:
                return [here]
            return _nearest(current, [p for p in self.slash.get(_strip_ext(module), ()) if p.endswith(module.rsplit("/", 1)[-1])])
        if language == "rust":
            parts = [p for p in module.split("::") if p not in ("crate", "self", "super")]
            for n in range(len(parts), 0, -1):
                key = "/".join(parts[:n])
                found = [p for p in self.slash.get(key, ()) if p.endswith(".rs")]
                found += [p for p in self.slash.get(key + "/mod", ()) if p.endswith(".rs")]
                if found:
                    return _nearest(current, found)
            return []
        return []

    def _python(self, current: str, module: str) -> list[str]:
        if module.startswith("."):
            dots = len(module) - len(module.lstrip("."))
            base = _strip_ext(current).split("/")[:-1]
            if dots > 1:
                base = base[: len(base) - (dots - 1)]
            rest = module[dots:]
            full = ".".join([*base, *([rest] if rest else [])])
            return sorted(p for p in self.py.get(full, ()) if _strip_ext(p).split("/")[: len(base)] == base)
        # an absolute import names a module from a root on sys.path: the fewer directories the
        # path has beyond the module's own, the likelier (src/flask/__init__.py, not
        # tests/apps/inner/flask.py); among equals, the nearest
        found = _nearest(current, list(self.py.get(module, ())))
        depth = module.count(".") + 1
        return sorted(found, key=lambda p: _strip_ext(p).removesuffix("/__init__").count("/") + 1 - depth)

    def _js(self, current: str, module: str) -> list[str]:
        if module.startswith("."):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(current), module))
            stem = _strip_ext(target) if target.endswith(_JS_EXT) else target
            return sorted(p for p in self.slash.get(stem, set()) | self.slash.get(stem + "/index", set())
                          if p.endswith(_JS_EXT) and (_strip_ext(p) in (stem, stem + "/index")))
        key = module.lstrip("@~/").split("/", 1)[-1] if module.startswith(("@/", "~/")) else module
        found = [p for p in self.slash.get(key, set()) | self.slash.get(key + "/index", set()) if p.endswith(_JS_EXT)]
        return _nearest(current, found)

    def _go(self, current: str, module: str) -> list[str]:
        parts = module.split("/")
        for n in range(min(len(parts), 4), 0, -1):
            found = [p for p in self.dirs.get("/".join(parts[-n:]), ()) if p.endswith(".go")
                     and posixpath.dirname(p).endswith("/".join(parts[-n:]))
                     and not p.endswith("_test.go")]
            if found:
                return sorted(found)
        return []


def _nearest(current: str, paths: list[str]) -> list[str]:
    """``paths`` with the ones sharing the longest leading directory with ``current`` first."""
    here = current.split("/")

    def shared(p: str) -> int:
        n = 0
        for a, b in zip(here, p.split("/"), strict=False):
            if a != b:
                break
            n += 1
        return n

    return sorted(paths, key=lambda p: (-shared(p), len(p), p))
