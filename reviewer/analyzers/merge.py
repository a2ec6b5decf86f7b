"""One finding per statement: what several tools (or several rules) report on one statement of
one category becomes one finding that names them all.

ruff's S608, bandit's B608 and an ast-grep rule on the same ``cursor.execute(...)`` spread over
four lines are one finding; so are a cookie set without Secure and without HttpOnly. The worst
severity leads (ties: the analyzer listed first, then the rule id); its explanation then names the others, and
any other weakness (another CWE) found on the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.findings import Finding


@dataclass
class Placed:
    finding: Finding
    unit: tuple[int, int]  # the statement holding it (Python), else the finding's own lines
    rank: int  # the analyzer's place in the order of preference: lower leads a tie


def one_per_statement(placed: list[Placed]) -> list[Finding]:
    """Findings of one path and category whose statements overlap, merged (see the module
    docstring); every other finding as it is. Order: by path, then line."""
    groups: dict[tuple[str, str], list[Placed]] = {}
    for p in placed:
        groups.setdefault((p.finding.path, p.finding.category.value), []).append(p)
    out: list[Finding] = []
    for members in groups.values():
        members.sort(key=lambda p: (p.unit, p.rank, p.finding.start_line))
        cluster: list[Placed] = []
        reach = 0
        for p in members:
            if cluster and p.unit[0] > reach:
                out.append(_combine(cluster))
                cluster = []
            reach = max(reach, p.unit[1]) if cluster else p.unit[1]
            cluster.append(p)
        if cluster:
            out.append(_combine(cluster))
    out.sort(key=lambda f: (f.path, f.start_line, f.end_line, f.category.value))
    return out


def _combine(cluster: list[Placed]) -> Finding:
    lead = min(cluster, key=lambda p: (-p.finding.severity.rank, p.rank, p.finding.start_line, p.finding.rule or ""))
    others = [p.finding for p in cluster if p is not lead]
    f = lead.finding
    if not others:
        return f
    names = sorted({f"{o.source} {o.rule}" for o in others} - {f"{f.source} {f.rule}"})
    explanation = f.explanation
    if names:
        explanation += f"\nAlso reported by {', '.join(names)}."
    extra = []
    for o in others:
        where = "" if (o.start_line, o.end_line) == (f.start_line, f.end_line) else f", line {o.start_line}"
        if o.cwe and o.cwe != f.cwe:
            extra.append(f"{o.title} ({o.cwe}{where})")
        elif where and o.title != f.title:
            extra.append(f"{o.title} ({where[2:]})")
    if extra:
        explanation += f"\nAlso on this statement: {'; '.join(dict.fromkeys(extra))}."
    return f.model_copy(
        update={
            "explanation": explanation,
            "cwe": f.cwe or next((o.cwe for o in others if o.cwe), None),
            "confidence": max(o.confidence for o in [f, *others]),
        }
    )
