"""Per-file work done in worker processes (``reviewer.index.batch``): kept apart from the packer
so a worker imports only what it runs (tree-sitter, the secret patterns), not the whole tool."""

from __future__ import annotations

from reviewer.index.indexer import index_text
from reviewer.index.model import FileIndex

Hits = list[tuple[int, str]]  # (line, kind) of each secret found


def _redact(path: str, text: str) -> tuple[str, Hits]:
    from reviewer.security.secrets import redact

    red = redact(path, text)
    return red.text, [(h.line, h.kind) for h in red.hits]


def prepare_file(
    path: str, text: str, redact_full: bool, want_outline: bool, redact_outline: bool
) -> tuple[str | None, Hits, FileIndex | None, list[tuple[int, str]] | None, Hits]:
    """``(redacted text or None if unchanged, its hits, index, redacted outline or None if
    unchanged, the outline's hits)``.

    An outline shows only some lines, so only those are scanned for secrets: the kept lines,
    joined, are what the redactor sees, and each replacement goes back to its own line number.
    The index itself is made from the file as it is (it never leaves this machine)."""
    changed: str | None = None
    hits: Hits = []
    if redact_full:
        red, hits = _redact(path, text)
        changed = red if red != text else None
    index = index_text(path, text) if want_outline else None
    outline: list[tuple[int, str]] | None = None
    outline_hits: Hits = []
    if index is not None and redact_outline:
        outline, outline_hits = redact_outline_lines(path, index.outline_lines)
    return changed, hits, index, outline, outline_hits


def redact_outline_lines(path: str, lines: list[tuple[int, str]]) -> tuple[list[tuple[int, str]] | None, Hits]:
    kept = [(n, t) for n, t in lines if n]
    if not kept:
        return None, []
    joined = "\n".join(t for _, t in kept) + "\n"
    red, hits = _redact(path, joined)
    if red == joined and not hits:
        return None, []
    new = red.split("\n")
    if len(new) < len(kept):  # the redactor keeps line counts; be safe if it ever did not
        return [(n, "[REDACTED]") if n else (0, "") for n, _ in lines], [(n, "unknown") for n, _ in kept]
    mapped = {n: new[i] for i, (n, _) in enumerate(kept)}
    out = [(n, mapped[n]) if n else (0, "") for n, _ in lines]
    return out, [(kept[line - 1][0], kind) for line, kind in hits if 1 <= line <= len(kept)]


_BATCH_CHARS = 1_000_000  # the encoder keeps every token of a batch in memory: count a bounded batch at a time


def count_tokens(tokenizer: str, texts: list[str]) -> list[int]:
    """Exact token counts (``get_tokenizer`` keeps the tokenizer loaded for later calls), in
    batches of about a million characters so memory stays flat however much is counted."""
    from reviewer.pack.tokens import get_tokenizer

    tok = get_tokenizer(tokenizer)
    out: list[int] = []
    batch: list[str] = []
    size = 0
    for text in texts:
        batch.append(text)
        size += len(text)
        if size >= _BATCH_CHARS:
            out += tok.count_batch(batch)
            batch, size = [], 0
    if batch:
        out += tok.count_batch(batch)
    return out
