"""Short sentences about a result, shared by the terminal, Markdown and PR reports."""

from __future__ import annotations

from reviewer.findings import Category, Severity
from reviewer.review.model import ReviewResult


def count_line(result: ReviewResult) -> str:
    """"5 security, 12 performance, 3 refactor, 23 style" (in category order), or "No findings."."""
    if not result.findings:
        return "No findings."
    counts = {c: 0 for c in Category}
    for f in result.findings:
        counts[f.category] += 1
    parts = [f"{n} {c.value}" for c, n in counts.items() if n]
    sev = {s: 0 for s in Severity}
    for f in result.findings:
        sev[f.severity] += 1
    sev_parts = [f"{n} {s.value}" for s, n in sev.items() if n]
    total = len(result.findings)
    return f"{total} finding{'s' if total != 1 else ''}: {', '.join(parts)} ({', '.join(sev_parts)})."


def usage_line(result: ReviewResult) -> str:
    u = result.usage
    return (
        f"Model {u.model or '?'}: {u.calls} call(s), {u.prompt_tokens:,} prompt tokens "
        f"({u.cache_hit_tokens:,} cache hit, {u.cache_miss_tokens:,} miss), {u.completion_tokens:,} completion "
        f"({u.reasoning_tokens:,} reasoning), {u.retries} retr{'y' if u.retries == 1 else 'ies'}, cost ${u.cost_usd:.4f}."
    )
