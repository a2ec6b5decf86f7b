"""Read each file once, redact its secrets as the packer does, and quote its lines as evidence.

Evidence is quoted from the redacted text, which is exactly what the pack shows the model: a
finding on a line that holds a secret then matches the pack (grounding finds its quote), and no
secret value ever reaches a finding, a report or a prompt. While a file is read, each secret the
scanner found is judged (credentials.placeholder_reason) and only the verdict is kept.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.analyzers.base import Hit, one_line
from reviewer.analyzers.credentials import placeholder_reason, secret_values
from reviewer.analyzers.statements import Span, python_units
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
    # (line, kind) of each secret that looks like a placeholder or an example -> why
    placeholders: dict[tuple[int, str], str] = field(default_factory=dict)
    python: bool = False
    _units: list[Span | None] | None = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)
    _text: str | None = field(default=None, repr=False)

    def unit(self, line: int) -> Span | None:
        """The statement that holds ``line`` (Python files that parse), else None."""
        if not self.python:
            return None
        if not self._parsed:
            self._units = python_units(self.lines)
            self._parsed = True
        if self._units is None or not 0 < line < len(self._units):
            return None
        return self._units[line]

    def text(self) -> str:
        """The whole redacted file as one string."""
        if self._text is None:
            self._text = "\n".join(self.lines)
        return self._text

    def real_secret(self, start: int, end: int) -> bool:
        """A secret that looks real on one of the lines ``start``..``end``."""
        return any(
            start <= s.line <= end and (s.line, s.kind) not in self.placeholders for s in self.secrets
        )


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
        text = decode(data)
        redacted = redact(path, text)
        lines = split_lines(redacted.text)
        return SourceFile(
            lines,
            redacted.hits,
            placeholders=_judge_secrets(split_lines(text), lines, redacted.hits) if redacted.hits else {},
            python=path.endswith(".py"),
        )


def _judge_secrets(raw: list[str], redacted: list[str], hits: list[SecretHit]) -> dict[tuple[int, str], str]:
    """(line, kind) -> why, for each secret whose every value on its line looks like a placeholder."""
    out: dict[tuple[int, str], str] = {}
    for line in sorted({h.line for h in hits}):
        if not 0 < line <= min(len(raw), len(redacted)):
            continue
        values = secret_values(raw[line - 1], redacted[line - 1])
        if values is None:  # cannot tell which text was replaced: keep the finding
            continue
        reasons: dict[str, list[str | None]] = {}
        for kind, value in values:
            reasons.setdefault(kind, []).append(placeholder_reason(kind, value, raw[line - 1]))
        for kind, why in reasons.items():
            if all(w is not None for w in why):
                out[(line, kind)] = str(why[0])
    return out


def safe_path(real_root: Path, path: str) -> Path | None:
    """``root/path`` when ``path`` is a relative path to a regular file that stays inside the root
    once symlinks are resolved; None otherwise."""
    if not path or "\x00" in path or Path(path).is_absolute() or ".." in Path(path).parts:
        return None
    full = Path(os.path.realpath(real_root / path))
    if not full.is_relative_to(real_root) or not full.is_file():
        return None
    return full


def to_finding(
    hit: Hit,
    source: str,
    sources: Sources,
    *,
    lines: tuple[int, int] | None = None,
    note: str | None = None,
) -> Finding | None:
    """A Finding for ``hit`` with its evidence quoted from the file (``lines``, its statement, when
    given; else the hit's own lines); None when the hit names lines the file does not have (or
    only blank ones). ``note`` is added to the explanation."""
    file = sources(hit.path)
    if file is None or not file.lines:
        return None
    last = len(file.lines)
    if hit.start_line < 1 or hit.start_line > last:
        return None
    start, end = lines or (hit.start_line, hit.end_line)
    end = min(max(end, start), last, start + MAX_EVIDENCE_LINES - 1)
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
    if hit.cwe and hit.related_cwe:
        explanation += f" {hit.cwe}; related: {', '.join(hit.related_cwe)}."
    if hit.url:
        explanation += f" More: {hit.url}"
    if note:
        explanation += f"\n{note}"
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
