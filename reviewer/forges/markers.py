"""Hidden markers in comment bodies: how a later run recognises what an earlier run posted.

- every inline comment ends with ``<!-- reviewer:fp=<16 hex> -->`` (the finding's fingerprint);
- the summary comment starts with ``<!-- reviewer:summary -->`` and ends with
  ``<!-- reviewer:state:v1 <base64 JSON> -->``: the open findings (fingerprint, place, title, and a
  hash of their evidence) and the head commit that was reviewed.

Comment text is untrusted (anyone can write a comment, the model's words and the repository's code
go into ours). Text we did not write goes through ``reviewer.report.untrusted`` (which escapes
HTML, so no ``<!--`` of its own survives); a marker is read only where our code puts it, as the
last line of the body, so one shaped like ours inside quoted code is never taken for ours; and
``read_state`` validates everything it decodes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from reviewer.findings import normalize_evidence

SUMMARY_MARKER = "<!-- reviewer:summary -->"
_FP = re.compile(r"(?:^|\n)<!-- reviewer:fp=([0-9a-f]{16}) -->\s*\Z")
_STATE = re.compile(r"(?:^|\n)<!-- reviewer:state:v1 ([A-Za-z0-9+/=]{0,200000}) -->\s*\Z")
MAX_STATE_ITEMS = 300
_SHA = re.compile(r"^[0-9a-f]{7,64}$")


def fp_marker(fingerprint: str) -> str:
    return f"<!-- reviewer:fp={fingerprint} -->"


def fingerprints_in(body: str) -> list[str]:
    """The fingerprint of an inline comment of ours: its last line (none elsewhere counts)."""
    return _FP.findall(body or "")


def is_summary(body: str) -> bool:
    return (body or "").lstrip().startswith(SUMMARY_MARKER)


def evidence_hash(evidence: str) -> str:
    return hashlib.sha256(normalize_evidence(evidence).encode("utf-8")).hexdigest()[:16]


@dataclass
class OpenItem:
    """A finding still open on the pull request, as remembered between runs."""

    fp: str
    path: str
    line: int
    title: str
    severity: str
    category: str
    ev: str  # evidence_hash of the finding's evidence
    n: int  # how many lines the evidence spans
    inline: bool  # posted as an inline comment (else: listed in the summary)


@dataclass
class State:
    head: str | None = None  # the head commit the last run reviewed
    items: list[OpenItem] = field(default_factory=list)

    def by_fp(self) -> dict[str, OpenItem]:
        return {i.fp: i for i in self.items}


def write_state(state: State, budget: int = 24_000) -> str:
    """The state as a hidden marker of at most ``budget`` characters: when too many findings are
    open, the last ones (least severe) are left out of it."""
    items = [asdict(i) for i in state.items[:MAX_STATE_ITEMS]]
    while True:
        raw = json.dumps({"head": state.head, "items": items}, separators=(",", ":"), ensure_ascii=True).encode()
        marker = f"<!-- reviewer:state:v1 {base64.b64encode(raw).decode()} -->"
        if len(marker) <= budget or not items:
            return marker
        items = items[: max(0, int(len(items) * budget / len(marker)) - 1)]


def read_state(body: str) -> State | None:
    """The state in a summary body (its last line), or None when absent or malformed (never an
    exception)."""
    m = _STATE.search(body or "")
    if not m:
        return None
    try:
        data = json.loads(base64.b64decode(m.group(1), validate=True))
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: nested too deeply
        return None
    if not isinstance(data, dict):
        return None
    head = data.get("head")
    state = State(head=head if isinstance(head, str) and _SHA.match(head) else None)
    items = data.get("items")
    if not isinstance(items, list):
        return state
    for raw in items[:MAX_STATE_ITEMS]:
        item = _item(raw)
        if item is not None:
            state.items.append(item)
    return state


def _item(raw: Any) -> OpenItem | None:
    if not isinstance(raw, dict):
        return None
    try:
        item = OpenItem(
            fp=str(raw["fp"]),
            path=str(raw["path"])[:1000],
            line=int(raw["line"]),
            title=str(raw["title"])[:200],
            severity=str(raw["severity"]),
            category=str(raw["category"]),
            ev=str(raw["ev"]),
            n=int(raw["n"]),
            inline=bool(raw["inline"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    if not re.fullmatch(r"[0-9a-f]{16}", item.fp) or not re.fullmatch(r"[0-9a-f]{16}", item.ev):
        return None
    if item.severity not in ("critical", "high", "medium", "low", "info") or not 1 <= item.n <= 10_000:
        return None
    return item
