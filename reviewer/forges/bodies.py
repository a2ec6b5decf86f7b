"""The text of one inline comment: what is wrong, the suggested change, the hidden fingerprint.

Rules every body keeps:
- at most ``MAX_BODY`` characters (GitHub refuses longer bodies);
- a ``suggestion`` block only on new-side lines whose range was not clipped (a suggestion
  replaces exactly the commented lines), fenced with more backticks than the code contains;
- the model's words go through ``reviewer.report.untrusted``: no images, no raw HTML, links only
  to this repository's files, no mentions, references or commands; code stays in fences;
- our hidden fingerprint marker is the last line, and only our code writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewer.findings import Finding
from reviewer.forges.anchors import Anchor
from reviewer.forges.markers import fp_marker
from reviewer.report.untrusted import NO_LINKS, Links, code_block, code_span, one_line, prose

MAX_BODY = 65_536
_ICON = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "info": "⚪"}
_EXPLANATION_CAP = 6_000
_CODE_CAP = 20_000


@dataclass(frozen=True)
class SuggestionStyle:
    """How a forge spells a suggestion block."""

    info: str  # "suggestion" (GitHub) or "suggestion:-{above}+0" (GitLab)

    def opener(self, anchor: Anchor) -> str:
        above = anchor.line - anchor.first
        return self.info.replace("{above}", str(above))


GITHUB_SUGGESTION = SuggestionStyle("suggestion")
GITLAB_SUGGESTION = SuggestionStyle("suggestion:-{above}+0")


def heading(f: Finding, links: Links = NO_LINKS) -> str:
    sev = f.severity.value
    return f"**{_ICON.get(sev, '')} {sev.capitalize()} · {f.category.value}** — {one_line(f.title, links)}"


def location(f: Finding) -> str:
    lines = f"{f.start_line}" if f.start_line == f.end_line else f"{f.start_line}-{f.end_line}"
    return f"{f.path}:{lines}"


def _cap(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def inline_body(f: Finding, a: Anchor, style: SuggestionStyle = GITHUB_SUGGESTION, links: Links = NO_LINKS) -> str:
    parts = [heading(f, links), "", prose(_cap(f.explanation.strip(), _EXPLANATION_CAP), links)]
    where = code_span(location(f))
    if a.clipped:
        parts += ["", f"<sub>The finding covers {where}; this comment sits on the part inside one diff hunk.</sub>"]
    if a.moved_to_deleted:
        parts += ["", f"<sub>This comment sits on the removed line(s) the finding quotes; it was reported at {where}.</sub>"]
    suggestion = (f.suggestion or "").rstrip("\n")
    if suggestion.strip():
        if a.side == "RIGHT" and not a.clipped and len(suggestion) <= _CODE_CAP:
            parts += ["", code_block(suggestion, style.opener(a))]
        elif len(suggestion) <= _CODE_CAP:
            parts += ["", "Suggested change:", "", code_block(suggestion)]
        else:
            parts += ["", f"<sub>A suggested change of {len(suggestion):,} characters was left out.</sub>"]
    meta = [f"confidence {f.confidence:.2f}"]
    if f.cwe:
        meta.append(f.cwe)
    if f.source != "model":
        meta.append(one_line(f.source + (f" {f.rule}" if f.rule else ""), limit=120))
    parts += ["", f"<sub>reviewer · {' · '.join(meta)}</sub>", fp_marker(f.fingerprint)]
    return fit("\n".join(parts), fp_marker(f.fingerprint))


def fit(body: str, tail: str = "") -> str:
    """``body`` cut to ``MAX_BODY`` characters, keeping ``tail`` (a marker) at the end."""
    if len(body) <= MAX_BODY:
        return body
    note = "\n\n… (cut to fit the forge's limit)\n"
    keep = MAX_BODY - len(note) - len(tail) - 12
    head = body[:keep]
    # never leave a code fence open: close it if the cut falls inside one
    opened = ""
    for m in re.finditer(r"^(`{3,}|~{3,})", head, re.M):
        fence = m.group(1)
        if not opened:
            opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and head[m.end():].split("\n", 1)[0].strip() == "":
            opened = ""
    if opened:
        head += "\n" + opened
    return (head + note + tail)[:MAX_BODY]
