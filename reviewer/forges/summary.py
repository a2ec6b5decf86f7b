"""The one summary comment: found again by its hidden marker and edited in place on every run.

It says what this run found and where it went (inline, outside the diff, over the inline limit,
refused by the forge), what is still open from earlier runs, what was resolved, which files were
reviewed in full, as outline or not at all, and what the review cost. Its last line is the hidden
state the next run reads. It always fits the forge's body limit: details are shortened, then
lists are cut, before anything is lost silently (the cut is said).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewer.findings import Finding
from reviewer.forges.bodies import MAX_BODY, location
from reviewer.forges.bundle import Bundle
from reviewer.forges.markers import SUMMARY_MARKER, OpenItem, State, write_state
from reviewer.report.summary import usage_line
from reviewer.report.untrusted import NO_LINKS, Links, code_block, code_span, one_line, prose

# room left for the scrubber, whose replacements can be longer than what they replace
LIMIT = MAX_BODY - 2_000
_ICON = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "info": "⚪"}


@dataclass
class SummaryInput:
    bundle: Bundle
    forge_label: str
    inline: list[Finding] = field(default_factory=list)  # posted inline this run
    outside: list[tuple[Finding, str]] = field(default_factory=list)  # not on a changed line: reason
    over_limit: list[Finding] = field(default_factory=list)
    refused: list[tuple[Finding, str]] = field(default_factory=list)  # the forge refused the anchor
    already: list[Finding] = field(default_factory=list)  # reported again, posted before
    carried: list[OpenItem] = field(default_factory=list)  # open from earlier runs, not reported this time
    resolved: list[OpenItem] = field(default_factory=list)
    max_comments: int = 30
    state: State = field(default_factory=State)
    links: Links = NO_LINKS  # where the model's text may link: this repository's files


def _sev(f: Finding | OpenItem) -> str:
    sev = f.severity.value if isinstance(f, Finding) else f.severity
    cat = f.category.value if isinstance(f, Finding) else f.category
    return f"{_ICON.get(sev, '')} {sev.capitalize()} · {cat}"


def _detail(f: Finding, reason: str | None, links: Links) -> str:
    summary = one_line(f"{_sev(f)} — {' '.join(f.title.split())[:200]} — {location(f)}", links)
    parts = [f"<details><summary>{summary}</summary>", ""]
    if reason:
        parts += [f"<sub>{one_line(reason)}</sub>", ""]
    parts += [prose(f.explanation.strip()[:3000], links), "", code_block(f.evidence[:4000])]
    if f.suggestion and f.suggestion.strip():
        parts += ["", "Suggested change:", "", code_block(f.suggestion[:4000])]
    parts += ["", "</details>"]
    return "\n".join(parts)


def _bullet(f: Finding | OpenItem, links: Links, struck: bool = False) -> str:
    where = location(f) if isinstance(f, Finding) else f"{f.path}:{f.line}"
    title = one_line(f.title, links, limit=200)
    if struck:
        title = f"~~{title}~~"
    return f"- {_sev(f)} — {title} — {code_span(where)}"


def _section(title: str, items: list[str], cap: int | None) -> list[str]:
    if not items:
        return []
    shown = items if cap is None else items[:cap]
    out = [f"### {title} ({len(items)})", "", *shown]
    if len(shown) < len(items):
        out.append(f"- … and {len(items) - len(shown)} more (all of them are in the SARIF and Markdown reports)")
    return [*out, ""]


def _files_block(b: Bundle, cap: int) -> list[str]:
    full, outline, listed = b.files_full, b.files_outline, b.files_listed
    line = (f"**Files:** {len(full)} reviewed in full, {len(outline)} as outline (signatures only), "
            f"{len(listed)} not at all.")
    out = [line]
    for label, paths in (("as outline", outline), ("not reviewed", listed)):
        if paths:
            shown = paths[:cap]
            more = f"\n- … and {len(paths) - len(shown)} more" if len(shown) < len(paths) else ""
            out += ["", f"<details><summary>{len(paths)} file(s) {label}</summary>", "",
                    "\n".join(f"- {code_span(p)}" for p in shown) + more, "", "</details>"]
    return out


def render_summary(s: SummaryInput) -> str:
    """The summary body, at most ``MAX_BODY`` characters, marker first and state last."""
    state = write_state(s.state)
    for level in range(5):
        body = _render(s, level) + "\n" + state
        if len(body) <= LIMIT:
            return body
    # the state alone is bounded; the text at its shortest is small
    return (_render(s, 5)[: LIMIT - len(state) - 1] + "\n" + state)[:LIMIT]


def _render(s: SummaryInput, level: int) -> str:
    b = s.bundle
    detail = level == 0
    cap = None if level <= 1 else {2: 100, 3: 30, 4: 10}.get(level, 3)
    file_cap = {0: 300, 1: 300, 2: 100, 3: 30, 4: 10}.get(level, 0)
    head = b.head_sha[:12]
    if b.mode == "incremental" and b.since:
        what = (f"the new commits {code_span(b.since[:12] + '..' + head)}, with the whole pull request as context")
    else:
        what = f"the whole pull request ({code_span(b.merge_base[:12] + '..' + head)})"
    new_total = len(s.inline) + len(s.outside) + len(s.over_limit) + len(s.refused)
    below = new_total - len(s.inline)
    out = [
        SUMMARY_MARKER,
        "## reviewer",
        "",
        f"Reviewed {what}.",
        "",
        f"**{new_total} new finding{'s' if new_total != 1 else ''}** this run: {len(s.inline)} as inline comments, "
        f"{below} below. **{len(s.already) + len(s.carried)}** still open from earlier runs, "
        f"**{len(s.resolved)}** resolved.",
        "",
    ]
    if not b.model_used:
        out += ["> No model was used: these findings come from the offline analyzers only.", ""]

    def items(fs: list[tuple[Finding, str | None]]) -> list[str]:
        return [_detail(f, r, s.links) if detail else _bullet(f, s.links) for f, r in fs]

    # "outside the diff" is the section's own title: only other reasons are worth a line
    out += _section("Outside the diff", items([(f, None if r == "outside the diff" else r) for f, r in s.outside]), cap)
    out += _section(f"Over the limit of {s.max_comments} inline comments", items([(f, None) for f in s.over_limit]), cap)
    out += _section(f"Could not be placed inline ({s.forge_label} refused the position)",
                    items([(f, r) for f, r in s.refused]), cap)
    earlier = [_bullet(f, s.links) for f in s.already] + [_bullet(i, s.links) for i in s.carried]
    out += _section("Still open from earlier runs", earlier, cap if cap is not None else 200)
    out += _section("Resolved since the last run", [_bullet(i, s.links, struck=True) for i in s.resolved],
                    cap if cap is not None else 200)
    out += ["### What was reviewed", "", *_files_block(b, file_cap), ""]
    if b.model_used:
        out.append(f"**Cost:** {usage_line(b.result())}")
    else:
        out.append("**Cost:** nothing (no model call).")
    if b.dropped:
        out.append(f"{b.dropped} model finding(s) were dropped: not grounded in the code that was sent, or duplicates.")
    if b.truncated:
        out.append("The model's answer was cut off at its output limit: the review may be incomplete.")
    notes = [n for n in b.notes if n][: (20 if level < 3 else 5)]
    if notes:
        out += ["", "<details><summary>Notes</summary>", "", *(f"- {one_line(n)}" for n in notes), "", "</details>"]
    if level >= 2:
        out += ["", "<sub>Shortened to fit the comment size limit.</sub>"]
    return "\n".join(out).rstrip() + "\n"
