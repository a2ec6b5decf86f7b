"""The review as Markdown: a summary line, a table, then each finding with its evidence.

The model's words (titles, explanations, the answer, notes) are untrusted text
(``reviewer.report.untrusted``): this file is shown as a job summary and may be posted by a
later workflow, so nothing in it may act: no images, no raw HTML, no links, no mentions."""

from __future__ import annotations

from reviewer.findings import Finding
from reviewer.repo.own_output import MARKDOWN_REPORT_MARK
from reviewer.report.summary import count_line, usage_line
from reviewer.report.untrusted import code_block, code_span, one_line, prose
from reviewer.review.model import ReviewResult

_ICON = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "info": "⚪"}


def _cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")


def finding_md(f: Finding, heading: str = "###") -> str:
    lines = f"{f.start_line}" if f.start_line == f.end_line else f"{f.start_line}-{f.end_line}"
    parts = [
        f"{heading} {_ICON.get(f.severity.value, '')} {one_line(f.title)}",
        f"{code_span(f'{f.path}:{lines}')} · {f.category.value} · {f.severity.value} · confidence {f.confidence:.2f}"
        + (f" · {f.cwe}" if f.cwe else "")
        + (f" · {one_line(f.source)}" if f.source != "model" else ""),
        "",
        prose(f.explanation.strip()),
        "",
        code_block(f.evidence),
    ]
    if f.suggestion:
        parts += ["", "Suggested change:", "", code_block(f.suggestion)]
    return "\n".join(parts)


def render(result: ReviewResult, *, title: str = "Review") -> str:
    out = [f"# {title}", "", count_line(result), ""]
    if not result.model_used:
        out += ["> No model was used: these findings come from the offline analyzers.", ""]
    if result.answer:
        out += ["## Answer", "", prose(result.answer.strip()), ""]
    if result.findings:
        out += ["| severity | category | location | title |", "|---|---|---|---|"]
        for f in result.findings:
            where = code_span(f"{f.path}:{f.start_line}").replace("|", "\\|")
            out.append(f"| {f.severity.value} | {f.category.value} | {where} | {_cell(f.title)} |")
        out.append("")
        for f in result.findings:
            out += [finding_md(f), ""]
    if result.dropped:
        reasons: dict[str, int] = {}
        for d in result.dropped:
            reasons[d.reason] = reasons.get(d.reason, 0) + 1
        out += ["## Dropped", "", ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())), ""]
    if result.notes:
        out += ["## Notes", ""] + [f"- {one_line(n, limit=2000)}" for n in result.notes] + [""]
    if result.model_used:
        out += [usage_line(result), ""]
    out.append(MARKDOWN_REPORT_MARK)  # invisible when rendered; keeps this report out of later packs
    return "\n".join(out).rstrip() + "\n"
