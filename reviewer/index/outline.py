"""Turn a set of kept rows into outline lines: each kept line at its original number, every run
of elided lines that holds any text marked once as ``(0, "")``. Runs of blank lines are left out
without a mark: the numbering shows the gap and nothing was hidden."""

from __future__ import annotations

from collections.abc import Iterable

ELISION = "⋮"
MAX_LINE = 400  # characters of a kept line; a longer one is cut and ends with "…"


def build_outline(lines: list[str], keep: Iterable[int]) -> list[tuple[int, str]]:
    """``lines`` are the file's lines; ``keep`` holds 0-based row numbers."""
    rows = sorted(r for r in set(keep) if 0 <= r < len(lines))
    out: list[tuple[int, str]] = []
    prev = -1
    for row in rows:
        if row > prev + 1 and _has_text(lines, prev + 1, row):
            out.append((0, ""))
        line = lines[row]
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + "…"
        out.append((row + 1, line))
        prev = row
    if prev + 1 < len(lines) and _has_text(lines, prev + 1, len(lines)):
        out.append((0, ""))
    return out


def _has_text(lines: list[str], start: int, end: int) -> bool:
    return any(lines[i].strip() for i in range(start, end))


def outline_text(outline: list[tuple[int, str]]) -> str:
    return "".join((text if n else ELISION) + "\n" for n, text in outline)
