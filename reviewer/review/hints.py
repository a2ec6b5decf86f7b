"""Analyzer findings shown to the model as hints, and the model's verdicts on them merged back.

``render_hints`` numbers the hints H1..Hn (worst first, then by place) and renders them as one
compact block, with the instructions from ``prompts/hints.md``; it goes after the repository and
before the task. The model answers ``"hints": [{"id", "verdict", "reason"}]`` beside its
``"findings"``; ``apply_verdicts`` then returns

- kept: the model's findings, with every confirmed hint merged into the model finding on the same
  place (one finding, the hint's fingerprint, status "confirmed"), confirmed hints the model did
  not report themselves (status "confirmed") and hints it gave no verdict on (status "unreviewed");
- rejected: the hints the model rejected (status "rejected"), shown only with ``--show-rejected``.

Both functions number the hints the same way from the same list, so the engine passes the same
list to both. The model's verdicts are untrusted input: anything malformed is ignored, and a hint
whose verdict is unusable stays "unreviewed".
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from reviewer.findings import Finding, sort_findings

MAX_HINTS = 300
MAX_MESSAGE = 160
MAX_REASON = 400
PLACEHOLDER = "{{HINTS}}"

_CONFIRMED = {"confirmed", "confirm", "true_positive", "true positive", "valid", "real", "yes"}
_REJECTED = {"rejected", "reject", "false_positive", "false positive", "invalid", "not real", "no"}
_ID = re.compile(r"^\s*H?\s*(\d{1,6})\s*$", re.IGNORECASE)


def hints_template() -> str:
    """prompts/hints.md: from the wheel (``reviewer/_shipped/prompts``) or the source tree."""
    shipped = resources.files("reviewer").joinpath("_shipped", "prompts", "hints.md")
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "prompts" / "hints.md").read_text(encoding="utf-8")


def number_hints(hints: list[Finding]) -> list[tuple[str, Finding]]:
    """(id, hint) pairs, H1 first: worst severity first, then by place, so the order is the same
    whatever order the analyzers finished in."""
    ordered = sorted(
        hints,
        key=lambda f: (
            -f.severity.rank,
            f.path,
            f.start_line,
            f.end_line,
            f.source,
            f.rule or "",
            f.fingerprint,
        ),
    )
    return [(f"H{i}", f) for i, f in enumerate(ordered, start=1)]


def render_hints(findings: list[Finding], *, template: str | None = None, limit: int = MAX_HINTS) -> str:
    """The hints block for the prompt; empty when there are no hints. ``template`` overrides
    prompts/hints.md (a repository's own prompt); it must contain ``{{HINTS}}`` or the list is
    appended after it. At most ``limit`` hints are listed; the rest stay unreviewed."""
    if not findings:
        return ""
    numbered = number_hints(findings)
    lines = [_hint_line(hid, f) for hid, f in numbered[:limit]]
    if len(numbered) > limit:
        lines.append(f"({len(numbered) - limit} more hints not listed)")
    block = "\n".join(lines)
    text = hints_template() if template is None else template
    if PLACEHOLDER in text:
        return text.replace(PLACEHOLDER, block).rstrip() + "\n"
    return f"{text.rstrip()}\n\n<analyzer_hints>\n{block}\n</analyzer_hints>\n"


def _hint_line(hid: str, f: Finding) -> str:
    place = (
        f"{f.path}:{f.start_line}" if f.end_line == f.start_line else f"{f.path}:{f.start_line}-{f.end_line}"
    )
    rule = f"{f.source} {f.rule}" if f.rule else f.source
    cwe = f" {f.cwe}" if f.cwe else ""
    return f"{hid} {place} [{rule}] {f.category.value}/{f.severity.value}{cwe}: {_one_line(f.title, MAX_MESSAGE)}"


def _one_line(text: str, limit: int) -> str:
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def parse_verdicts(verdicts: Any) -> dict[str, tuple[str, str]]:
    """``{"H1": ("confirmed", reason), ...}`` from the model's ``"hints"`` value; the first usable
    verdict for an id wins, anything malformed is skipped."""
    out: dict[str, tuple[str, str]] = {}
    if not isinstance(verdicts, list):
        return out
    for item in verdicts:
        if not isinstance(item, dict):
            continue
        raw_id = item.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            continue
        match = _ID.match(str(raw_id))
        verdict = item.get("verdict")
        if not match or not isinstance(verdict, str):
            continue
        word = verdict.strip().lower().replace("-", "_")
        kind = "confirmed" if word in _CONFIRMED else "rejected" if word in _REJECTED else None
        hid = f"H{int(match.group(1))}"
        if kind is None or hid in out:
            continue
        reason = item.get("reason")
        out[hid] = (kind, _one_line(reason, MAX_REASON) if isinstance(reason, str) else "")
    return out


def apply_verdicts(
    hints: list[Finding], verdicts: list[dict[str, Any]], model_findings: list[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """(kept, rejected): see the module docstring."""
    decided = parse_verdicts(verdicts)
    remaining = list(model_findings)
    kept: list[Finding] = []
    rejected: list[Finding] = []
    for hid, hint in number_hints(hints):
        kind, reason = decided.get(hid, ("unreviewed", ""))
        if kind == "rejected":
            note = f"Rejected by the model: {reason}" if reason else "Rejected by the model."
            rejected.append(_with(hint, status="rejected", note=note))
            continue
        match = _take_match(hint, remaining)
        if match is not None:
            why = reason or "the model reported the same issue"
            kept.append(_merge(hint, match, why))
        elif kind == "confirmed":
            note = f"Confirmed by the model: {reason}" if reason else "Confirmed by the model."
            kept.append(_with(hint, status="confirmed", note=note))
        else:
            kept.append(_with(hint, status="unreviewed", note=None))
    kept.extend(remaining)
    return sort_findings(kept), sort_findings(rejected)


def _take_match(hint: Finding, candidates: list[Finding]) -> Finding | None:
    """Remove and return the model finding on the same issue: the same fingerprint, else the same
    path and category on overlapping lines."""
    for i, f in enumerate(candidates):
        if f.fingerprint == hint.fingerprint:
            return candidates.pop(i)
    for i, f in enumerate(candidates):
        if (
            f.path == hint.path
            and f.category == hint.category
            and f.start_line <= hint.end_line
            and hint.start_line <= f.end_line
        ):
            return candidates.pop(i)
    return None


def _merge(hint: Finding, found: Finding, reason: str) -> Finding:
    """The model's finding (its lines, explanation, fix and severity) under the hint's identity:
    the analyzer's fingerprint, source and rule, so the finding is recognised on the next run
    whether or not a model looks at it."""
    explanation = f"{found.explanation}\n\nFlagged by {hint.source} {hint.rule or ''}".rstrip()
    explanation += f"; confirmed by the model: {reason}"
    return found.model_copy(
        update={
            "fingerprint": hint.fingerprint,
            "source": hint.source,
            "rule": hint.rule,
            "cwe": found.cwe or hint.cwe,
            "confidence": max(found.confidence, hint.confidence),
            "status": "confirmed",
            "explanation": explanation,
        }
    )


def _with(hint: Finding, *, status: str, note: str | None) -> Finding:
    update: dict[str, Any] = {"status": status}
    if note:
        update["explanation"] = f"{hint.explanation}\n\n{note}"
    return hint.model_copy(update=update)
