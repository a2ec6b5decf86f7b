"""The review as Markdown: a summary line, a table, then each finding with its evidence."""

from __future__ import annotations

import re

from reviewer.findings import Finding
from reviewer.repo.own_output import MARKDOWN_REPORT_MARK
from reviewer.report.summary import count_line, usage_line
from reviewer.review.model import ReviewResult

_ICON = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "info": "⚪"}


def fence(text: str, lang: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    f = "`" * max(3, longest + 1)
    return f"{f}{lang}\n{text.rstrip()}\n{f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def finding_md(f: Finding, heading: str = "###") -> str:
    lines = f"{f.start_line}" if f.start_line == f.end_line else f"{f.start_line}-{f.end_line}"
    parts = [
        f"{heading} {_ICON.get(f.severity.value, '')} {f.title}",
        f"`{f.path}:{lines}` · {f.category.value} · {f.severity.value} · confidence {f.confidence:.2f}"
        + (f" · {f.cwe}" if f.cwe else "")
        + (f" · {f.source}" if f.source != "model" else ""),
        "",
        f.explanation.strip(),
        "",
        fence(f.evidence),
    ]
    if f.suggestion:
        parts += ["", "Suggested change:", "", fence(f.suggestion)]
    return "\n".join(parts)


def render(result: ReviewResult, *, title: str = "Review") -> str:
    out = [f"# {title}", "", count_line(result), ""]
    if not result.model_used:
        out += ["> No model was used: these findings come from the offline analyzers.", ""]
    if result.answer:
        out += ["## Answer", "", result.answer.strip(), ""]
    if result.findings:
        out += ["| severity | category | location | title |", "|---|---|---|---|"]
        for f in result.findings:
            out.append(f"| {f.severity.value} | {f.category.value} | `{_cell(f.path)}:{f.start_line}` | {_cell(f.title)} |")
        out.append("")
        for f in result.findings:
            out += [finding_md(f), ""]
    if result.dropped:
        reasons: dict[str, int] = {}
        for d in result.dropped:
            reasons[d.reason] = reasons.get(d.reason, 0) + 1
        out += ["## Dropped", "", ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())), ""]
    if result.notes:
        out += ["## Notes", ""] + [f"- {n}" for n in result.notes] + [""]
    if result.model_used:
        out += [usage_line(result), ""]
    out.append(MARKDOWN_REPORT_MARK)  # invisible when rendered; keeps this report out of later packs
    return "\n".join(out).rstrip() + "\n"
