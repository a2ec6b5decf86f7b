"""``build_pack``: the packer's one entry point. It reads as the data flow:

    scan -> redact -> count -> select -> render

Each stage is a function in its own module; this file only wires them and enforces the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewer.config import Settings
from reviewer.errors import InputError
from reviewer.pack.model import Pack, PackedFile, SecretHit, Tier
from reviewer.pack.render import Block, body, get_renderer, number_lines, render_tree
from reviewer.pack.tokens import Tokenizer, get_tokenizer
from reviewer.repo.scan import ScanResult, SourceFile, scan
from reviewer.repo.textio import count_lines
from reviewer.security.secrets import redact

Progress = Callable[[str, int, int], None]

DEFAULT_WINDOW = 1_048_576
_SMALLEST_BLOCK = 16  # tokens: no file block is smaller than this


def default_budget(settings: Settings) -> int:
    return settings.budget if settings.budget else max(1, DEFAULT_WINDOW - settings.reserve)


@dataclass
class Candidate:
    """A readable file after redaction."""

    source: SourceFile
    text: str  # redacted
    lines: int


def build_pack(
    root: Path,
    settings: Settings,
    *,
    diff_base: str | None = None,
    query: str | None = None,
    trace: str | None = None,
    progress: Progress | None = None,
) -> Pack:
    scanned = scan(root, settings, progress)
    if not scanned.files:
        raise InputError(
            f"no text files to pack in {root}",
            hint=_why_empty(scanned),
        )
    candidates, secrets = _redact(scanned, settings, progress)
    tokenizer = get_tokenizer(settings.tokenizer)
    budget = default_budget(settings)
    return _fit_and_render(scanned, candidates, secrets, tokenizer, budget, settings, progress)


def _why_empty(scanned: ScanResult) -> str:
    if not scanned.excluded:
        return "the directory is empty" + (" (no files tracked or untracked in git)" if scanned.is_git else "")
    reasons: dict[str, int] = {}
    for e in scanned.excluded:
        reasons[e.reason] = reasons.get(e.reason, 0) + 1
    listed = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"every file was excluded: {listed}"


def _redact(
    scanned: ScanResult, settings: Settings, progress: Progress | None
) -> tuple[list[Candidate], list[SecretHit]]:
    out: list[Candidate] = []
    secrets: list[SecretHit] = []
    total = len(scanned.files)
    for i, f in enumerate(scanned.files, 1):
        text = f.text
        if settings.redact_secrets:
            red = redact(f.path, text)
            text = red.text
            secrets.extend(red.hits)
        out.append(Candidate(f, text, count_lines(text)))
        if progress is not None and (i % 64 == 0 or i == total):
            progress("redact", i, total)
    return out, secrets


def _fit_and_render(
    scanned: ScanResult,
    candidates: list[Candidate],
    secrets: list[SecretHit],
    tokenizer: Tokenizer,
    budget: int,
    settings: Settings,
    progress: Progress | None,
) -> Pack:
    renderer = get_renderer(settings.style)
    name = scanned.root.name or "repository"
    header = renderer.header(name, {"files": len(candidates)})
    footer = renderer.footer()
    paths = [c.source.path for c in candidates]
    tree = renderer.tree(render_tree(paths))
    fixed = tokenizer.count_batch([header, tree, footer])
    if sum(fixed) > budget:
        for depth in (2, 1, 0):
            tree = renderer.tree(render_tree(paths, collapse_below=depth))
            fixed[1] = tokenizer.count(tree)
            if sum(fixed) <= budget:
                break
    if sum(fixed) > budget:
        raise InputError(
            f"a budget of {budget:,} tokens cannot hold even the repository's header and tree "
            f"({sum(fixed):,} tokens)",
            hint="raise --budget or narrow the files with --include/--exclude",
        )
    remaining = budget - sum(fixed)
    taken: dict[str, tuple[str, int]] = {}  # path -> (rendered block, its tokens)
    body_tokens: dict[str, int] = {}
    # In path order, each file whole while it fits; files are counted in batches only as far as
    # the budget needs (ranking decides the order in a later stage).
    batch = 64
    for start in range(0, len(candidates), batch):
        if remaining < _SMALLEST_BLOCK:
            break
        chunk = candidates[start : start + batch]
        blocks = [Block(c.source.path, "full", c.lines, number_lines(c.text)) for c in chunk]
        bodies = [body(b) for b in blocks]
        counts = tokenizer.count_batch(bodies)
        heads = [renderer.head(b, n, t) for b, n, t in zip(blocks, counts, bodies, strict=True)]
        tails = [renderer.tail(b, t) for b, t in zip(blocks, bodies, strict=True)]
        frame = tokenizer.count_batch(heads + tails)
        for i, c in enumerate(chunk):
            body_tokens[c.source.path] = counts[i]
            cost = frame[i] + counts[i] + frame[len(chunk) + i]
            if cost <= remaining:
                taken[c.source.path] = (heads[i] + bodies[i] + tails[i], cost)
                remaining -= cost
        if progress is not None:
            progress("fit", min(start + batch, len(candidates)), len(candidates))
    document = header + tree + "".join(taken[p][0] for p in paths if p in taken) + footer
    files: list[PackedFile] = []
    for c in candidates:
        path = c.source.path
        if path in taken:
            files.append(PackedFile(path, "full", c.text, taken[path][1], c.lines, reason="fits in path order"))
        else:
            tier: Tier = "listed"
            files.append(PackedFile(path, tier, "", 0, c.lines, reason="over budget"))
    return Pack(
        root=name,
        text=document,
        total_tokens=budget - remaining,
        budget=budget,
        tokenizer=tokenizer.name,
        style=renderer.style,
        files=files,
        excluded=list(scanned.excluded),
        secrets=sorted(secrets, key=lambda s: (s.path, s.line)),
    )
