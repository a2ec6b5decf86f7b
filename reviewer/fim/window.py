"""The text around the cursor, cut by whole lines to a token budget: the lines nearest the
cursor are kept, the farthest dropped. The partial line the cursor is on always stays. Lines are
counted one by one (``reviewer.fim.counting``: remembered, and estimated at first sight when the
counter counts in the background)."""

from __future__ import annotations

from reviewer.fim.counting import quick
from reviewer.pack.tokens import Tokenizer

_STEP = 48  # lines counted per batch while walking away from the cursor


def cut_prefix(text: str, tokenizer: Tokenizer, budget: int) -> tuple[str, int]:
    """The end of ``text`` that fits ``budget`` tokens, cut before a whole line; and its count."""
    head, sep, current = text.rpartition("\n")
    lines = (head + sep).splitlines(keepends=True) if sep else []
    used = quick(tokenizer, [current])[0] if current else 0
    kept = 0
    i = len(lines)
    while i > 0 and used <= budget:
        batch = lines[max(0, i - _STEP) : i]
        counts = quick(tokenizer, batch)
        for n in reversed(counts):
            if used + n > budget:
                i = -1
                break
            used += n
            kept += 1
        if i == -1:
            break
        i -= len(batch)
    return "".join(lines[len(lines) - kept :]) + current, used


def cut_suffix(text: str, tokenizer: Tokenizer, budget: int) -> tuple[str, int]:
    """The start of ``text`` that fits ``budget`` tokens, cut after a whole line; and its count."""
    current, sep, tail = text.partition("\n")
    lines = tail.splitlines(keepends=True) if sep else []
    used = quick(tokenizer, [current + sep])[0] if current or sep else 0
    kept = 0
    i = 0
    while i < len(lines) and used <= budget:
        batch = lines[i : i + _STEP]
        counts = quick(tokenizer, batch)
        stop = False
        for n in counts:
            if used + n > budget:
                stop = True
                break
            used += n
            kept += 1
        if stop:
            break
        i += len(batch)
    return current + sep + "".join(lines[:kept]), used
