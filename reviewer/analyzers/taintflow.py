"""Whether a taint flow semgrep reports is certain, or passes through a call nobody looked into.

semgrep's open-source engine analyses one function at a time and assumes that whatever a call
returns carries the taint of its arguments: ``output = dump_csv(name=table)`` makes ``output``
request data, although ``dump_csv`` returns a CSV buffer it built itself, and
``next_path = get_next_path(unsafe)`` keeps the taint although the helper's job is to make the
URL safe. Such a flow is plausible, not certain. This module reads the flow semgrep reports (the
source, the variables it passes, the sink) against the file's syntax tree and names the first
call whose result is not known to carry its input: a function or method that is neither a
known string, path or container operation nor a helper of the same module that visibly builds
its result from its parameters. The analyzer then reports such a flow at a lower severity, with
the call named, instead of as a certain flaw.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

# Calls whose result holds the content of their arguments (by the called name's last part or
# its full dotted name): text, bytes, paths, URLs, containers and decoders.
CARRY_ARGS = frozenset(
    {
        "str", "bytes", "bytearray", "repr", "format", "ascii", "list", "tuple", "set", "frozenset",
        "dict", "sorted", "reversed", "iter", "next", "min", "max", "filter", "map", "zip", "enumerate",
        "cast", "deepcopy", "copy", "join", "abspath", "normpath", "realpath", "expanduser",
        "expandvars", "dirname", "relpath", "Path", "PurePath", "PosixPath", "WindowsPath", "PurePosixPath",
        "urljoin", "urlunparse", "urlunsplit", "unquote", "unquote_plus", "unquote_to_bytes",
        "b64decode", "urlsafe_b64decode", "b32decode", "b16decode", "a85decode", "b85decode",
        "decodebytes", "unhexlify", "a2b_base64", "fromhex", "decode", "loads", "literal_eval",
        "decompress", "BytesIO", "StringIO", "dedent", "sub", "subn", "fspath", "fsdecode", "fsencode",
        "dumps", "encode", "quote", "quote_plus", "escape", "text",
    }
)  # fmt: skip
# Methods whose result holds the content of the object they are called on: a string, a dict of
# request data, a file, a path.
CARRY_METHODS = frozenset(
    {
        "get", "getlist", "getall", "getone", "get_all", "pop", "popitem", "setdefault", "items", "values",
        "keys", "copy", "to_dict", "dict", "lists", "listvalues", "strip", "lstrip", "rstrip", "lower",
        "upper", "casefold", "title", "capitalize", "swapcase", "replace", "split", "rsplit", "splitlines",
        "partition", "rpartition", "removeprefix", "removesuffix", "format", "format_map", "join",
        "encode", "decode", "zfill", "ljust", "rjust", "center", "expandtabs", "translate", "read",
        "readline", "readlines", "getvalue", "json", "get_json", "get_data", "body", "text", "resolve",
        "absolute", "joinpath", "with_name", "with_suffix", "with_stem", "expanduser", "as_posix",
        "relative_to", "geturl", "_replace", "substitute", "safe_substitute", "group", "groups",
        "groupdict", "as_string", "as_bytes", "tobytes", "hex", "form", "stream", "chunks",
    }
)  # fmt: skip
# Methods whose result holds the content of their arguments: ``"{}".format(x)``, ``", ".join(xs)``.
CARRY_ARG_METHODS = frozenset(
    {
        "format", "format_map", "join", "joinpath", "replace", "substitute", "safe_substitute", "with_name",
        "with_suffix", "with_stem", "_replace",
    }
)  # fmt: skip
HELPER_DEPTH = 2  # helpers of helpers followed this deep


@dataclass(frozen=True)
class Step:
    """One place of a flow: the byte offsets of its expression in the file, and its text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Opaque:
    """Where a flow passes a call whose result is not known to carry the data (``dump_csv()``),
    or a lookup by the data (``handlers[...]``)."""

    what: str
    line: int


class Module:
    """A parsed Python file: its tree, the parent of each node and each node's byte offsets."""

    def __init__(self, data: bytes) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.tree = ast.parse(data)
        self.line_starts = [0]
        for line in data.split(b"\n")[:-1]:
            self.line_starts.append(self.line_starts[-1] + len(line) + 1)
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    def span(self, node: ast.AST) -> tuple[int, int] | None:
        lineno, end_lineno = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        if lineno is None or end_lineno is None or end_lineno > len(self.line_starts):
            return None
        return (self.line_starts[lineno - 1] + node.col_offset, self.line_starts[end_lineno - 1] + node.end_col_offset)

    @cached_property
    def expressions(self) -> list[tuple[int, int, ast.expr]]:
        found = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.expr):
                span = self.span(node)
                if span is not None:
                    found.append((*span, node))
        return found

    @cached_property
    def functions(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        """The module's own functions by name (top level, and methods by their name)."""
        defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                defs.setdefault(node.name, node)
        return defs

    def at(self, start: int, end: int) -> ast.expr | None:
        """The outermost expression exactly at ``start``..``end``, else the smallest one holding it."""
        exact = [n for s, e, n in self.expressions if s == start and e == end]
        if exact:
            return next(n for n in exact if self.parent.get(n) not in exact)
        holding = [(e - s, n) for s, e, n in self.expressions if s <= start and end <= e]
        return min(holding, key=lambda pair: pair[0])[1] if holding else None


def parse(data: bytes) -> Module | None:
    try:
        return Module(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def first_opaque(module: Module, source: Step | None, through: list[Step], sink: Step) -> Opaque | None:
    """The first call on the flow ``source`` → ``through`` → ``sink`` whose result is not known to
    carry its input; None when every step is known to carry the data (or cannot be judged)."""
    previous: Step | None = source
    for var in through:
        value = _bound_value(module, var)
        if value is not None and previous is not None:
            opaque = _step(module, value, previous)
            if opaque is not None:
                return opaque
        previous = var
    target = module.at(sink.start, sink.end)
    if target is None or previous is None:
        return None
    return _step(module, target, previous)


def _bound_value(module: Module, var: Step) -> ast.expr | None:
    """The expression a variable of the flow is bound to at that place (the right-hand side of
    an assignment, the iterable of a ``for``, a ``with``'s context), or None (a parameter, a
    place that is no binding)."""
    node: ast.AST | None = module.at(var.start, var.end)
    while node is not None:
        parent = module.parent.get(node)
        if isinstance(parent, ast.Assign) and node in parent.targets:
            return parent.value
        if isinstance(parent, ast.AugAssign | ast.AnnAssign) and node is parent.target:
            return parent.value
        if isinstance(parent, ast.For | ast.AsyncFor | ast.comprehension) and node is parent.target:
            return parent.iter
        if isinstance(parent, ast.withitem) and node is parent.optional_vars:
            return parent.context_expr
        if isinstance(parent, ast.NamedExpr) and node is parent.target:
            return parent.value
        if not isinstance(parent, ast.Tuple | ast.List | ast.Starred):
            return None
        node = parent
    return None


def _step(module: Module, value: ast.expr, previous: Step, depth: int = 0) -> Opaque | None:
    """Opaque when every place ``previous`` occurs in ``value`` reaches it only through an
    opaque call; None when one of them reaches it plainly, or when it does not occur (a flow
    semgrep follows by other means, such as ``items.append(x)``)."""
    found: Opaque | None = None
    for occurrence in _occurrences(module, value, previous):
        opaque = _path_up(module, occurrence, value, depth)
        if opaque is None:
            return None
        found = found or opaque
    return found


def _occurrences(module: Module, value: ast.expr, previous: Step) -> Iterator[ast.expr]:
    inside = module.span(value)
    if inside is None:
        return
    if inside[0] <= previous.start and previous.end <= inside[1]:
        node = module.at(previous.start, previous.end)
        if node is not None:
            yield node
            return
    for node in ast.walk(value):
        if isinstance(node, ast.Name | ast.Attribute) and _dotted(node) == previous.text:
            yield node


def _path_up(module: Module, node: ast.AST, top: ast.AST, depth: int) -> Opaque | None:
    """The opaque call between ``node`` and ``top`` (its ancestor), if any."""
    while node is not top:
        parent = module.parent.get(node)
        if parent is None:
            return None
        if isinstance(parent, ast.Call) and not _carries(module, parent, node, depth):
            return Opaque(f"{_callee(parent.func)}()", parent.lineno)
        if isinstance(parent, ast.Subscript) and node is parent.slice:  # the data picks an entry
            return Opaque(f"{_callee(parent.value)}[...]", parent.lineno)
        node = parent
    return None


def _carries(module: Module, call: ast.Call, part: ast.AST, depth: int) -> bool:
    """Whether ``call``'s result carries the data of ``part`` (its function, or an argument)."""
    func = call.func
    if part is func:
        # the data is the callee itself (a class picked by the request): what it builds is its own
        if isinstance(func, ast.Attribute):
            return func.attr in CARRY_METHODS
        return False
    if isinstance(func, ast.Attribute) and func.attr in CARRY_ARG_METHODS:
        return True
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in CARRY_ARGS:
        return True
    helper = module.functions.get(name) if isinstance(func, ast.Name) or _on_self(func) else None
    return helper is not None and depth < HELPER_DEPTH and _returns_its_input(module, helper, depth + 1)


def _returns_its_input(module: Module, func: ast.FunctionDef | ast.AsyncFunctionDef, depth: int) -> bool:
    """Whether a function of this module visibly builds what it returns from its parameters:
    a parameter, or a local assigned from one, reaches a ``return`` without an opaque call."""
    args = func.args
    carrying = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg not in ("self", "cls")}
    if args.vararg:
        carrying.add(args.vararg.arg)
    if args.kwarg:
        carrying.add(args.kwarg.arg)
    body = [n for n in ast.walk(func) if n is not func]
    for _ in range(5):  # locals assigned from the parameters, a few assignments deep
        grown = set(carrying)
        for node in body:
            assigned = isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and node.value is not None
            if assigned and _holds_plainly(module, node.value, carrying, depth):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                grown |= {t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)}
        if grown == carrying:
            break
        carrying = grown
    return any(
        isinstance(node, ast.Return) and node.value is not None and _holds_plainly(module, node.value, carrying, depth)
        for node in body
    )


def _holds_plainly(module: Module, value: ast.expr, names: set[str], depth: int) -> bool:
    return any(
        isinstance(node, ast.Name) and node.id in names and _path_up(module, node, value, depth) is None
        for node in ast.walk(value)
    )


def _on_self(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls")


def _callee(func: ast.expr) -> str:
    text = _dotted(func)
    return text or (f"….{func.attr}" if isinstance(func, ast.Attribute) else "…")


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""
