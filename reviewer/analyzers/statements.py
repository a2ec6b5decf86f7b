"""Which statement each line of a Python file belongs to, so that the findings of several tools on
one statement (a call spread over five lines, a dict literal, a ``def`` with many parameters)
become one finding.

A unit is a simple statement (its first to its last line), the header of a compound statement
(``def``/``class``/``if``/``for``/``with``/``try``/``except``/``case`` up to the line before its
body), or a decorator. Units never overlap: a line inside a body belongs to the innermost
statement there. Lines in no unit (blank lines, comments, ``else:``) belong to none.
"""

from __future__ import annotations

import ast
import warnings

Span = tuple[int, int]  # first and last line, 1-based, inclusive


def python_units(lines: list[str]) -> list[Span | None] | None:
    """For each line number n (index n; index 0 unused), the unit that holds it, or None. None for
    the whole file when it does not parse (a newer syntax, a broken file)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    units: list[Span | None] = [None] * (len(lines) + 1)

    def mark(start: int, end: int) -> None:
        end = min(max(end, start), len(lines))
        for n in range(start, end + 1):
            units[n] = (start, end)

    # parents are marked before the statements in their bodies, so an inner unit overwrites the
    # header line it shares with its parent (``if x: return y``). Statements only ever sit in
    # the statement lists of other statements, so expressions are never walked.
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        start = node.pattern.lineno if isinstance(node, ast.match_case) else getattr(node, "lineno", 0)
        if not start:
            continue
        body = getattr(node, "body", None) or getattr(node, "cases", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt | ast.match_case):
            first = body[0].pattern.lineno if isinstance(body[0], ast.match_case) else body[0].lineno
            mark(start, first - 1)
        else:
            mark(start, getattr(node, "end_lineno", None) or start)
        for decorator in getattr(node, "decorator_list", ()):
            mark(decorator.lineno, decorator.end_lineno or decorator.lineno)
        for name in _BLOCKS:
            children = getattr(node, name, None)
            if isinstance(children, list):
                stack.extend(reversed(children))
    return units


# the fields of statements that hold further statements (or except/case clauses)
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")
