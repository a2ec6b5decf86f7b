"""Read each file once, redact its secrets as the packer does, and quote its lines as evidence.

Evidence is quoted from the redacted text, which is exactly what the pack shows the model: a
finding on a line that holds a secret then matches the pack (grounding finds its quote), and no
secret value ever reaches a finding, a report or a prompt.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from reviewer.analyzers.base import Hit, one_line
from reviewer.findings import Finding
from reviewer.pack.model import SecretHit
from reviewer.repo.textio import decode, looks_binary, split_lines
from reviewer.security.secrets import redact

MAX_FILE_BYTES = 2_000_000
MAX_EVIDENCE_LINES = 8


@dataclass
class SourceFile:
    lines: list[str]  # redacted, numbered from 1 as lines[n - 1]
    secrets: list[SecretHit]


class Sources:
    """Files of one root, read, decoded and redacted at most once; safe to share between threads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._real_root = Path(os.path.realpath(root))
        self._files: dict[str, SourceFile | None] = {}
        self._lock = threading.Lock()

    def __call__(self, path: str) -> SourceFile | None:
        with self._lock:
            if path in self._files:
                return self._files[path]
        loaded = self._load(path)
        with self._lock:
            self._files.setdefault(path, loaded)
            return self._files[path]

    def _load(self, path: str) -> SourceFile | None:
        full = safe_path(self._real_root, path)
        if full is None:
            return None
        try:
            with full.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError:
            return None
        if len(data) > MAX_FILE_BYTES or looks_binary(data):
            return None
        redacted = redact(path, decode(data))
        return SourceFile(split_lines(redacted.text), redacted.hits)


def safe_path(real_root: Path, path: str) -> Path | None:
    """``root/path`` when ``path`` is a relative path to a regular file that stays inside the root
    once symlinks are resolved; None otherwise."""
    if not path or "\x00" in path or Path(path).is_absolute() or ".." in Path(path).parts:
        return None
    full = Path(os.path.realpath(real_root / path))
    if not full.is_relative_to(real_root) or not full.is_file():
        return None
    return full


def to_finding(hit: Hit, source: str, sources: Sources) -> Finding | None:
    """A Finding for ``hit`` with its evidence quoted from the file; None when the hit names lines
    the file does not have (or only blank ones)."""
    file = sources(hit.path)
    if file is None or not file.lines:
        return None
    last = len(file.lines)
    start = hit.start_line
    if start < 1 or start > last:
        return None
    end = min(max(hit.end_line, start), last, start + MAX_EVIDENCE_LINES - 1)
    # a tool may point at a blank line (end of a block, end of file): quote the nearest code above
    while start > 1 and not file.lines[start - 1].strip():
        start -= 1
    end = max(end, start)
    while end > start and not file.lines[end - 1].strip():
        end -= 1
    evidence = "\n".join(file.lines[start - 1 : end]).strip()
    if not evidence:
        return None
    message = hit.message or hit.title
    explanation = f"{message}\n\nReported by {source} rule {hit.rule}."
    if hit.url:
        explanation += f" More: {hit.url}"
    return Finding(
        category=hit.category,
        severity=hit.severity,
        confidence=hit.confidence,
        path=hit.path,
        start_line=start,
        end_line=end,
        title=one_line(hit.title or message, 200),
        explanation=explanation,
        evidence=evidence,
        cwe=hit.cwe,
        source=source,
        rule=hit.rule,
    )
