"""The model's answer, untrusted, into validated findings.

Tolerates Markdown fences and prose around the JSON, repairs broken JSON with json-repair, and
validates each finding against the schema on its own: one bad finding never sinks the others.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import json_repair
from pydantic import ValidationError

from reviewer.findings import Finding, ModelFinding
from reviewer.review.model import Dropped

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)\n?```", re.DOTALL)

# What is kept of a model's answer (the rest is cut, or dropped, and said so): more would only be
# copied into every report, the terminal and pull-request comments.
MAX_MODEL_FINDINGS = 200
FIELD_LIMITS = {"explanation": 4_000, "evidence": 4_000}  # characters; cut at the limit
MAX_SUGGESTION = 8_000  # a longer suggestion is dropped (cut code would be wrong code)
MAX_ANSWER = 20_000  # ask's answer


class ParseError(Exception):
    """No JSON object could be read from the answer."""


@dataclass
class Parsed:
    findings: list[Finding] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    hints: list[Any] = field(default_factory=list)
    answer: str | None = None
    repaired: bool = False
    notes: list[str] = field(default_factory=list)  # what was cut or dropped for its size


def extract_object(text: str) -> tuple[dict[str, Any], bool]:
    """The JSON object in ``text`` and whether it needed repair."""
    if not text or not text.strip():
        raise ParseError("the answer was empty")
    candidates = [m.group(1) for m in _FENCE.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start : end + 1])
    candidates.append(text)
    for cand in candidates:
        try:
            obj = json.loads(cand)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            continue
        if isinstance(obj, dict):
            return obj, False
    tail = text[start:] if start != -1 else text
    try:
        obj = json_repair.loads(tail)
    except RecursionError:
        raise ParseError("the answer is nested too deeply to read") from None
    except Exception as exc:  # json_repair raises assorted errors on garbage
        raise ParseError(f"no JSON object could be read: {exc}") from None
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        obj = obj[0]
    if not isinstance(obj, dict) or not obj:
        raise ParseError("the answer holds no JSON object")
    return obj, True


def parse_answer(text: str) -> Parsed:
    obj, repaired = extract_object(text)
    raw = obj.get("findings")
    if raw is None and isinstance(obj.get("issues"), list):
        raw = obj["issues"]
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise ParseError('"findings" is not a list')
    out = Parsed(repaired=repaired)
    if len(raw) > MAX_MODEL_FINDINGS:
        out.notes.append(f"the model gave {len(raw):,} findings: only the first {MAX_MODEL_FINDINGS} were read")
        raw = raw[:MAX_MODEL_FINDINGS]
    cut = 0
    for item in raw:
        if not isinstance(item, dict):
            out.dropped.append(Dropped("(not an object)", "", 0, "invalid-schema"))
            continue
        item, was_cut = _within_limits(item)
        cut += was_cut
        item = _lenient_lines(item)
        try:
            model = ModelFinding.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            out.dropped.append(
                Dropped(str(item.get("title", "(untitled)"))[:120], str(item.get("path", ""))[:300],
                        _int(item.get("start_line")), f"invalid-schema: {where}")
            )
            continue
        out.findings.append(Finding(**model.model_dump(), source="model"))
    if cut:
        out.notes.append(f"{cut} finding(s) had an explanation, evidence or suggestion longer than the tool keeps: "
                         f"cut (suggestions over {MAX_SUGGESTION:,} characters dropped)")
    hints = obj.get("hints")
    out.hints = hints[:MAX_MODEL_FINDINGS * 2] if isinstance(hints, list) else []
    answer = obj.get("answer")
    out.answer = answer.strip() if isinstance(answer, str) and answer.strip() else None
    if out.answer is not None and len(out.answer) > MAX_ANSWER:
        out.notes.append(f"the model's answer text was cut to {MAX_ANSWER:,} characters (of {len(out.answer):,})")
        out.answer = out.answer[:MAX_ANSWER] + " … (cut)"
    return out


def _within_limits(item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``item`` with its long text fields cut (a long suggestion dropped), and whether any was."""
    out = dict(item)
    cut = False
    for name, limit in FIELD_LIMITS.items():
        value = out.get(name)
        if isinstance(value, str) and len(value) > limit:
            out[name] = value[:limit] + (" … (cut)" if name == "explanation" else "")
            cut = True
    suggestion = out.get("suggestion")
    if isinstance(suggestion, str) and len(suggestion) > MAX_SUGGESTION:
        out["suggestion"] = None
        cut = True
    return out, cut


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _lenient_lines(item: dict[str, Any]) -> dict[str, Any]:
    """An ``end_line`` missing, zero or before ``start_line`` becomes ``start_line``: the lines
    are only a hint (grounding snaps them to the quoted evidence), so a sloppy end should not
    cost a finding whose start and evidence are fine."""
    start, end = item.get("start_line"), item.get("end_line")
    if not isinstance(start, int) or isinstance(start, bool) or start < 1:
        return item  # a bad start stays bad: validation drops it
    bad_end = not isinstance(end, int) or isinstance(end, bool) or end < start
    return {**item, "end_line": start} if bad_end else item
