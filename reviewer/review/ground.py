"""Grounding: nothing reaches the user that is not anchored in real code.

A finding survives only when its path is a file that was shown to the model (whole or as an
outline), its lines exist in that file, and its quoted evidence is found in the file near the
cited lines, compared without whitespace. The lines are then snapped to where the evidence is, the
evidence becomes the file's own text of those lines, and the fingerprint is computed from it, so
the same problem keeps the same fingerprint when lines shift. Duplicates merge.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from reviewer.findings import Finding, fingerprint, sort_findings
from reviewer.review.model import Dropped

_PREFIX = re.compile(r"^\s*\d+\s*\|\s?")
_WS = re.compile(r"\s+")
NEAR = 40  # lines: how far evidence may sit from the cited lines
MIN_EVIDENCE = 4  # non-blank characters: "}" or "if" quotes nothing in particular


@dataclass
class Grounded:
    findings: list[Finding] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)


def _clean_evidence(evidence: str) -> list[str]:
    lines = []
    for line in evidence.replace("\r\n", "\n").split("\n"):
        line = _PREFIX.sub("", line, count=1)
        if line.strip() in ("", "⋮", "...", "…"):
            continue
        lines.append(_WS.sub("", line))
    return lines


def normalize_lines(lines: list[str]) -> list[str]:
    return [_WS.sub("", line) for line in lines]


def locate(evidence: str, lines: list[str], near: int, norm: list[str] | None = None) -> tuple[int, int] | None:
    """1-based (start, end) of the occurrence of ``evidence`` in ``lines`` closest to line
    ``near``, comparing without whitespace; evidence may start or end mid-line. ``norm`` is
    ``normalize_lines(lines)`` when the caller already has it."""
    wanted = _clean_evidence(evidence)
    if not wanted:
        return None
    if norm is None:
        norm = normalize_lines(lines)
    best: tuple[int, int] | None = None
    n = len(wanted)
    for i in range(len(norm) - n + 1):
        if n == 1:
            ok = wanted[0] in norm[i]
        else:
            ok = (
                norm[i].endswith(wanted[0])
                and all(norm[i + k] == wanted[k] for k in range(1, n - 1))
                and norm[i + n - 1].startswith(wanted[-1])
            )
        if ok and (best is None or abs(i + 1 - near) < abs(best[0] - near)):
            best = (i + 1, i + n)
    if best is None:
        # the joined text may still be there when the model re-wrapped or joined lines
        joined = "".join(wanted)
        for i in range(len(norm)):
            acc = ""
            for j in range(i, min(len(norm), i + max(n * 3, 4))):
                acc += norm[j]
                if joined in acc:
                    if best is None or abs(i + 1 - near) < abs(best[0] - near):
                        best = (i + 1, j + 1)
                    break
                if len(acc) > len(joined) * 2 + 200:
                    break
    return best


def ground(findings: list[Finding], shown: set[str], read_lines: Callable[[str], list[str] | None]) -> Grounded:
    """``shown``: paths whose content was in the pack; ``read_lines(path)``: the file's real
    (redacted) lines, or None when it cannot be read."""
    out = Grounded()
    cache: dict[str, list[str] | None] = {}
    normalized: dict[str, list[str]] = {}
    for f in findings:
        path = f.path.strip().removeprefix("./")
        if path not in shown:
            out.dropped.append(Dropped(f.title, f.path, f.start_line, "unknown-path"))
            continue
        if path not in cache:
            cache[path] = read_lines(path)
        lines = cache[path]
        if lines is None:
            out.dropped.append(Dropped(f.title, path, f.start_line, "unreadable"))
            continue
        if f.start_line > len(lines):
            out.dropped.append(Dropped(f.title, path, f.start_line, "line-out-of-range"))
            continue
        if len("".join(_clean_evidence(f.evidence))) < MIN_EVIDENCE:
            out.dropped.append(Dropped(f.title, path, f.start_line, "evidence-too-short"))
            continue
        if path not in normalized:
            normalized[path] = normalize_lines(lines)
        span = locate(f.evidence, lines, f.start_line, normalized[path])
        if span is None:
            out.dropped.append(Dropped(f.title, path, f.start_line, "evidence-not-found"))
            continue
        if abs(span[0] - f.start_line) > NEAR:
            out.dropped.append(Dropped(f.title, path, f.start_line, "evidence-far-from-lines"))
            continue
        start, end = span
        evidence = "\n".join(lines[start - 1 : end])
        g = f.model_copy(
            update={
                "path": path,
                "start_line": start,
                "end_line": end,
                "evidence": evidence,
                "fingerprint": fingerprint(f.category, path, evidence),
            }
        )
        out.findings.append(g)
    merged, dups = merge(out.findings)
    out.findings = merged
    out.dropped.extend(dups)
    return out


def merge(findings: list[Finding]) -> tuple[list[Finding], list[Dropped]]:
    """One finding per fingerprint: the most severe, then most confident, is kept."""
    best: dict[str, Finding] = {}
    dropped: list[Dropped] = []
    for f in sort_findings(findings):
        if f.fingerprint in best:
            dropped.append(Dropped(f.title, f.path, f.start_line, "duplicate"))
        else:
            best[f.fingerprint] = f
    return sort_findings(list(best.values())), dropped
