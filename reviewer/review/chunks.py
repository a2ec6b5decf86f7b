"""A repository larger than one window: more packs, one review each, and their results combined."""

from __future__ import annotations

from collections.abc import Callable

from reviewer.errors import InputError
from reviewer.findings import Finding
from reviewer.pack.model import Pack
from reviewer.review.model import ReviewResult


def chunk_packs(first: Pack, max_chunks: int, pack_without: Callable[[list[str]], Pack]) -> list[Pack]:
    """When the repository does not fit one window: further packs, each within the window, of the
    files not yet shown whole (a file only outlined in one pack may be shown whole in a later
    one), up to ``max_chunks`` packs in all; stops when a pack adds nothing. ``pack_without(globs)``
    packs the repository with those extra exclude patterns."""
    packs = [first]
    whole = {f.path for f in first.files if f.tier == "full"}
    seen = set(first.shown)
    while len(packs) < max_chunks and any(f.path not in whole for f in packs[-1].files):
        try:
            nxt = pack_without([anchored(p) for p in sorted(whole)])
        except InputError:
            break
        new_whole = {f.path for f in nxt.files if f.tier == "full"} - whole
        if not new_whole and not set(nxt.shown) - seen:
            break  # nothing this pack would show that an earlier one did not
        packs.append(nxt)
        whole |= new_whole
        seen |= set(nxt.shown)
    return packs


def chunk_notes(packs: list[Pack], max_chunks: int) -> list[str]:
    notes = []
    if len(packs) > 1:
        notes.append(f"the repository does not fit one window: reviewed in {len(packs)} packs")
    whole = {f.path for p in packs for f in p.files if f.tier == "full"}
    seen = {path for p in packs for path in p.shown}
    every = {f.path for f in packs[0].files}
    outlined, unseen = len(seen - whole), len(every - seen)
    if outlined or unseen:
        limit = f" (--max-chunks {max_chunks})" if len(packs) >= max_chunks else ""
        notes.append(f"not reviewed whole{limit}: {outlined} file(s) seen only as an outline, "
                     f"{unseen} by name only")
    return notes


def assign_hints(packs: list[Pack], hints: list[Finding]) -> list[list[Finding]]:
    """Each analyzer hint goes to one pack only: the first that shows its file whole, else the
    first that shows it at all, so the model judges it once, with the most code in view."""
    out: list[list[Finding]] = [[] for _ in packs]
    for h in hints:
        full = [i for i, p in enumerate(packs) if (pf := p.shown.get(h.path)) is not None and pf.tier == "full"]
        shown = [i for i, p in enumerate(packs) if h.path in p.shown]
        target = (full or shown or [0])[0]
        out[target].append(h)
    return out


def anchored(path: str) -> str:
    """A gitignore pattern that matches exactly ``path``."""
    escaped = "".join("\\" + ch if ch in "[]*?!#\\ " else ch for ch in path)
    return "/" + escaped


def combine(a: ReviewResult, b: ReviewResult, *, files_from_first: bool = False) -> ReviewResult:
    """``a`` with ``b``'s findings, drops, notes, usage and estimate added; the file lists become
    their union (``files_from_first``: ``b``'s lists replace ``a``'s)."""
    a.findings = a.findings + b.findings
    a.rejected = a.rejected + b.rejected
    a.dropped = a.dropped + b.dropped
    a.notes = a.notes + [n for n in b.notes if n not in a.notes]
    a.usage.add(b.usage)
    a.model_used = a.model_used or b.model_used
    a.truncated = a.truncated or b.truncated
    a.answer = a.answer or b.answer
    if b.estimate is not None:
        if a.estimate is None:
            a.estimate = dict(b.estimate)
        else:
            for key in ("prompt_tokens", "pack_tokens", "cost_usd_cache_miss", "cost_usd_cache_hit"):
                a.estimate[key] = a.estimate[key] + b.estimate[key]  # type: ignore[operator]
    if not files_from_first:
        shown_b = set(b.files_full) | set(b.files_outline)
        a.files_full = sorted(set(a.files_full) | set(b.files_full))
        a.files_outline = sorted((set(a.files_outline) | set(b.files_outline)) - set(a.files_full))
        a.files_listed = sorted(set(a.files_listed) - shown_b - set(a.files_full) - set(a.files_outline))
    else:
        a.files_full, a.files_outline, a.files_listed = b.files_full, b.files_outline, b.files_listed
    return a
