"""The text a task brings besides the repository (a crash report, a question), held to the rules
the files are held to before it is sent: a size limit (cut, and said so), the source lines a
trace quotes from files the pack leaves out replaced by a marker, and secrets redacted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reviewer.pack.model import Excluded
from reviewer.repo.policy import PathPolicy
from reviewer.security.secrets import redact

MAX_TRACE_CHARS = 200_000
MAX_QUESTION_CHARS = 50_000
_PY_FRAME = re.compile(r'^(?P<indent>[ \t]*)File "(?P<path>[^"\n]+)", line \d+')


@dataclass
class TaskInput:
    text: str
    notes: list[str] = field(default_factory=list)
    secrets: int = 0
    left_out: list[Excluded] = field(default_factory=list)


def prepare_trace(text: str, root: Path, policy: PathPolicy, *, redact_secrets: bool = True) -> TaskInput:
    out = TaskInput(_cut(text, MAX_TRACE_CHARS, "the trace"))
    if len(text) > MAX_TRACE_CHARS:
        out.notes.append(f"the trace was cut to its first {MAX_TRACE_CHARS:,} characters (of {len(text):,})")
    out.text, out.left_out = elide_excluded_sources(out.text, root, policy)
    if out.left_out:
        names = ", ".join(sorted({f"{e.path} ({e.reason})" for e in out.left_out}))
        out.notes.append(f"source lines the trace quotes from files the review leaves out were not sent: {names}")
    return _redacted(out, "trace.txt", redact_secrets)


def prepare_question(text: str, *, redact_secrets: bool = True) -> TaskInput:
    out = TaskInput(_cut(text, MAX_QUESTION_CHARS, "the question"))
    if len(text) > MAX_QUESTION_CHARS:
        out.notes.append(f"the question was cut to its first {MAX_QUESTION_CHARS:,} characters (of {len(text):,})")
    return _redacted(out, "question.txt", redact_secrets)


def _cut(text: str, limit: int, what: str) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({what} was cut here)\n"


def _redacted(item: TaskInput, name: str, enabled: bool) -> TaskInput:
    if enabled:
        clean = redact(name, item.text)
        item.text = clean.text
        item.secrets = len(clean.hits)
    return item


def elide_excluded_sources(trace: str, root: Path, policy: PathPolicy) -> tuple[str, list[Excluded]]:
    """``trace`` with the source lines a Python traceback prints under a frame replaced by a
    marker when that frame's file is in the repository and the pack leaves it out."""
    lines = trace.split("\n")
    out: list[str] = []
    left: list[Excluded] = []
    hiding: str | None = None  # the indentation of the frame line whose source is being hidden
    for line in lines:
        m = _PY_FRAME.match(line)
        if m:
            hiding = None
            reason = _frame_reason(m["path"], root, policy)
            if reason is not None:
                left.append(Excluded(reason[0], reason[1]))
                hiding = m["indent"]
            out.append(line)
            continue
        if hiding is not None and line.startswith(hiding) and len(line) - len(line.lstrip()) > len(hiding):
            if not out[-1].endswith("[source line not sent: the review leaves this file out]"):
                out.append(f"{hiding}    [source line not sent: the review leaves this file out]")
            continue
        hiding = None
        out.append(line)
    return "\n".join(out), left


def _frame_reason(path: str, root: Path, policy: PathPolicy) -> tuple[str, str] | None:
    """(repository path, why it is left out) for a frame whose file is in the repository and may
    not be shown; None otherwise. The frame's path is matched by its longest suffix that is a
    file below the root (a trace from another machine has other leading directories)."""
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("/", "")]
    for i in range(len(parts)):
        rel = "/".join(parts[i:])
        if ".." in parts[i:] or not rel:
            continue
        candidate = root / rel
        try:
            if not candidate.is_file() and not candidate.is_symlink():
                continue
        except OSError:
            continue
        reason = policy.file_reason(root, rel, gitignore=True)
        return (rel, reason) if reason is not None else None
    return None
