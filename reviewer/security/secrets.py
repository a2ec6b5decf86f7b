"""Find secrets and redact them in place before anything leaves the machine.

One engine for every path that sends text (pack files and outlines, diffs, the trace and the
question, snapshot diffs, FIM context): ``redact(path, text)``. ``path`` says how to read the text
(code, where only quoted values are values; or configuration, where ``NAME=value`` is); a unified
diff (``*.diff`` / ``*.patch``, or text starting with ``diff --git``) is read file section by file
section, each hunk line without its ``+``/``-``/`` `` marker, as the file it belongs to.

Each secret value is replaced whole by ``[REDACTED:<type>]`` on its own line, so line numbers never
move: a token to its natural end, a JWT with its signature, the whole value of a secret
assignment (with every literal it is concatenated with), a private key block line by line from
BEGIN to END, a base64 blob that decodes to a secret. The report keeps path, line and type, never
the value. Nothing is verified against a remote service.

Detectors: ``tokens`` (shapes with a known prefix), ``assignments`` (names that say a value is a
secret; URLs with credentials; Authorization headers), ``blocks`` (private keys; base64).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from reviewer.pack.model import SecretHit
from reviewer.security import assignments, blocks, tokens
from reviewer.security.found import Span, is_code

_MAX_DEPTH = 2  # base64 inside base64 inside the text, and no deeper


@dataclass
class Redacted:
    text: str
    hits: list[SecretHit]


def redact(path: str, text: str) -> Redacted:
    """Return ``text`` with every secret found replaced in place, and where each one was."""
    if not text:
        return Redacted(text, [])
    spans = _diff_spans(path, text) if is_diff(path, text) else find_spans(path, text)
    if not spans:
        return Redacted(text, [])
    return _apply(path, text, spans)


def find_spans(path: str, text: str, depth: int = 0) -> list[Span]:
    """Where the secrets in ``text`` (the contents of ``path``) are."""
    lowered = text.lower()
    config = not is_code(path)
    spans = list(blocks.private_keys(text))
    spans += tokens.find(text)
    spans += assignments.find(text, lowered, config)
    spans += assignments.urls_and_headers(text, lowered)
    if depth < _MAX_DEPTH:
        spans += blocks.base64_blobs(text, lambda decoded: _first_kind(decoded, depth + 1))
    return spans


def _first_kind(text: str, depth: int) -> str | None:
    found = find_spans("decoded.env", text, depth)
    # the most telling kind: a token's shape says more than the name it was given
    return min(found, key=lambda s: (s.kind == assignments.KIND, s.start)).kind if found else None


def is_diff(path: str, text: str) -> bool:
    return path.endswith((".diff", ".patch")) or text.startswith("diff --git ")


# -- diffs ---------------------------------------------------------------------------------------

def _diff_spans(label: str, text: str) -> list[Span]:
    """The secrets of a unified diff: each file section's lines, without their diff markers, read
    as that file; each span moved back to where its line sits in the diff."""
    lines = text.split("\n")
    starts: list[int] = []  # offset of each line in ``text``
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    cut: list[int] = []  # how many marker characters each line's content starts after
    sections: list[list] = []  # [path, first line index]
    in_hunk = header = False
    for i, line in enumerate(lines):
        if line.startswith("diff --git "):
            sections.append([_path_of(line), i])
            in_hunk, header = False, True
            cut.append(0)
        elif line.startswith("@@ "):
            in_hunk, header = True, False
            close = line.find(" @@", 3)
            cut.append(min(close + 4, len(line)) if close != -1 else len(line))
        elif in_hunk and line[:1] in (" ", "+", "-"):
            cut.append(1)
        else:
            in_hunk = in_hunk and line.startswith("\\")
            if not in_hunk and not header and line.startswith("--- "):
                sections.append(["", i])  # a unified diff without git's header
                header = True
            elif header and line.startswith("+++ ") and sections and _path_of(line) not in ("", "/dev/null"):
                sections[-1][0] = _path_of(line)
            cut.append(0)
    if not sections or sections[0][1] != 0:
        sections.insert(0, [label, 0])
    spans: list[Span] = []
    bounds = [*(s[1] for s in sections[1:]), len(lines)]
    for (path, first), last in zip(sections, bounds, strict=True):
        content = [lines[i][cut[i]:] for i in range(first, last)]
        body = "\n".join(content)
        local: list[int] = []
        at = 0
        for c in content:
            local.append(at)
            at += len(c) + 1
        for s in find_spans(path if path else label, body):
            k = bisect.bisect_right(local, s.start) - 1
            shift = starts[first + k] + cut[first + k] - local[k]
            spans.append(Span(s.start + shift, s.end + shift, s.kind))
    return spans


def _path_of(header: str) -> str:
    """``diff --git a/P b/P`` or ``+++ b/P``: P (the new side)."""
    if header.startswith("+++ "):
        name = header[4:].split("\t")[0].strip()
        return name[2:] if name.startswith("b/") else name
    _, sep, tail = header.rpartition(" b/")
    return tail if sep else ""


# -- replacing -----------------------------------------------------------------------------------

def _apply(path: str, text: str, spans: list[Span]) -> Redacted:
    newlines = _newlines(text)
    merged: list[Span] = []
    for s in sorted(_per_line(text, spans)):
        if merged and s.start <= merged[-1].end and _line(newlines, s.start) == _line(newlines, merged[-1].start):
            last = merged[-1]
            kind = s.kind if last.kind == assignments.KIND else last.kind  # a token's shape says more
            merged[-1] = Span(last.start, max(last.end, s.end), kind)
        else:
            merged.append(s)
    out: list[str] = []
    pos = 0
    hits: set[tuple[int, str]] = set()
    for s in merged:
        out.append(text[pos : s.start])
        out.append(f"[REDACTED:{s.kind}]")
        pos = s.end
        hits.add((_line(newlines, s.start), s.kind))
    out.append(text[pos:])
    # a private key block is one secret, reported on its BEGIN line
    keys = {line for line, kind in hits if kind == blocks.KIND}
    kept = sorted((line, kind) for line, kind in hits if kind != blocks.KIND or line - 1 not in keys)
    return Redacted("".join(out), [SecretHit(path, line, kind) for line, kind in kept])


def _newlines(text: str) -> list[int]:
    out = []
    at = text.find("\n")
    while at != -1:
        out.append(at)
        at = text.find("\n", at + 1)
    return out


def _line(newlines: list[int], offset: int) -> int:
    return bisect.bisect_left(newlines, offset) + 1


def _per_line(text: str, spans: list[Span]) -> list[Span]:
    """Spans cut at line ends (a replacement never removes a line), empty ones dropped."""
    out = []
    for s in spans:
        start = s.start
        while start < s.end:
            nl = text.find("\n", start, s.end)
            end = s.end if nl == -1 else nl
            if end > start:
                out.append(Span(start, end, s.kind))
            start = end + 1
    return out
