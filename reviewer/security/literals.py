"""String literals joined into the value a program would build from them.

A secret split over several literals (``"sk_live_" + "4eC3..."``, Python's implicit
concatenation over several lines, ``['glpat-', '...'].join('')``) or written into an f-string or
a template literal around a placeholder (``f"ghp_{x}..."``) is found by reading the chain of
literals that starts where a secret's prefix was seen: their contents joined, with each
``{...}`` / ``${...}`` field left out, and a map from every character of the joined value back to
the literal it came from, so each literal holding part of a secret is redacted in place.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# one single-line literal: an optional prefix (f, r, b, u, rb, fr, @, $), then "...", '...' or `...`
_LITERAL = re.compile(r"""(?<![\w"'`])(?:[rRbBuUfF]{1,2}|[@$])?(?P<q>["'`])(?P<body>(?:\\.|(?!(?P=q))[^\\\n])*)(?P=q)""")
# what may stand between two literals of one value: nothing (implicit concatenation), +, . or
# .. (PHP, Lua), || (SQL), a comma (a list that is joined), line breaks and a backslash
_BETWEEN = re.compile(r"""(?:\s|\\\n)*(?:\+|\.\.?|\|\||,)?(?:\s|\\\n)*""")
_BETWEEN_NO_LISTS = re.compile(r"""(?:\s|\\\n)*(?:\+|\.\.?|\|\|)?(?:\s|\\\n)*""")
_FIELD = re.compile(r"\$?\{[^{}\n]*\}")
_MAX_PARTS = 32
_WINDOW = 4096


@dataclass(frozen=True)
class Literal:
    start: int  # offset of the first character of the contents
    end: int  # offset just past the last character of the contents
    templated: bool  # f-string or template literal: {fields} are not part of the value


def literal_at(text: str, offset: int) -> Literal | None:
    """The single-line literal whose contents hold ``offset``: of the quotes before ``offset`` on
    its line, one that opens a literal (an even number of the same quote before it) and is closed
    after ``offset``; the outermost such one. Only a window of the line around ``offset`` is
    read, so a minified line of a megabyte costs no more per token than an ordinary one."""
    lo = text.rfind("\n", max(0, offset - _WINDOW), offset) + 1 or max(0, offset - _WINDOW)
    hi = text.find("\n", offset, offset + _WINDOW)
    hi = min(len(text), offset + _WINDOW) if hi == -1 else hi
    best: tuple[int, int] | None = None
    for quote in "\"'`":
        left = text.rfind(quote, lo, offset)
        if left == -1 or text.count(quote, lo, left) % 2 or (best is not None and left > best[0]):
            continue
        right = text.find(quote, offset, hi)
        if right != -1:
            best = (left, right)
    if best is None:
        return None
    left, right = best
    prefix = text[max(lo, left - 2) : left].lower()
    return Literal(left + 1, right, "f" in prefix or "$" in prefix or text[left] == "`")


def _literal(m: re.Match[str]) -> Literal:
    prefix = m.group(0)[: m.start("q") - m.start()].lower()
    return Literal(m.start("body"), m.end("body"), "f" in prefix or "$" in prefix or m.group("q") == "`")


def chain_from(text: str, first: Literal, *, lists: bool = True) -> list[Literal]:
    """``first`` and the literals that follow it as parts of one value (with ``lists``, also
    the next items of a list, which a program may join)."""
    between = _BETWEEN if lists else _BETWEEN_NO_LISTS
    parts = [first]
    pos = first.end + 1  # past the closing quote
    while len(parts) < _MAX_PARTS:
        gap = between.match(text, pos)
        nxt = gap.end() if gap else pos
        if nxt == pos:  # two quotes touching ('a''b') are one SQL/Pascal literal, not a chain
            break
        m = _LITERAL.match(text, nxt)
        if m is None:
            break
        parts.append(_literal(m))
        pos = m.end()
    return parts


@dataclass
class Joined:
    value: str
    pieces: list[tuple[int, int, int]]  # (offset in value, offset in text, literal index), in order

    def where(self, j: int) -> tuple[int, int]:
        """(offset in the text, literal index) of ``value[j]``."""
        k = bisect.bisect_right(self.pieces, (j, float("inf"), 0)) - 1
        at, text_at, part = self.pieces[k]
        return text_at + j - at, part

    def find(self, offset: int) -> int | None:
        """The index in ``value`` of the text's character at ``offset``, if it is part of it."""
        for k, (at, text_at, _) in enumerate(self.pieces):
            end = self.pieces[k + 1][0] if k + 1 < len(self.pieces) else len(self.value)
            if text_at <= offset < text_at + end - at:
                return at + offset - text_at
        return None


def join(text: str, parts: list[Literal]) -> Joined:
    value: list[str] = []
    pieces: list[tuple[int, int, int]] = []
    size = 0
    for i, lit in enumerate(parts):
        keep = [(lit.start, lit.end)]
        if lit.templated and "{" in text[lit.start : lit.end]:
            keep, at = [], lit.start
            for f in _FIELD.finditer(text, lit.start, lit.end):
                keep.append((at, f.start()))
                at = f.end()
            keep.append((at, lit.end))
        for a, b in keep:
            if b > a:
                pieces.append((size, a, i))
                value.append(text[a:b])
                size += b - a
    return Joined("".join(value), pieces)
