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


def merge_same(findings: list[Finding]) -> list[Finding]:
    """One finding per fingerprint (fingerprints name findings across runs and in pull requests,
    so they must not repeat): the worst severity wins (ties: the earlier one). The others are
    named in its explanation: the tools on the same lines, or the other lines where the same code
    stands in the same file."""
    best: dict[str, Finding] = {}
    tools: dict[str, list[str]] = {}
    lines: dict[str, list[int]] = {}
    for f in findings:
        kept = best.get(f.fingerprint)
        if kept is None:
            best[f.fingerprint] = f
            tools[f.fingerprint], lines[f.fingerprint] = [], []
            continue
        winner, loser = (f, kept) if f.severity.rank > kept.severity.rank else (kept, f)
        best[f.fingerprint] = winner.model_copy(
            update={"cwe": winner.cwe or loser.cwe, "confidence": max(winner.confidence, loser.confidence)}
        )
        if loser.start_line == winner.start_line:
            tools[f.fingerprint].append(f"{loser.source} {loser.rule}")
        else:
            lines[f.fingerprint].append(loser.start_line)
    out = []
    for fp, f in best.items():
        explanation = f.explanation
        if tools[fp]:
            explanation += f"\nAlso reported by {', '.join(sorted(set(tools[fp])))}."
        if lines[fp]:
            where = ", ".join(str(n) for n in sorted(set(lines[fp]) - {f.start_line}))
            explanation += f"\nThe same code also stands at line {where} of this file."
        out.append(f.model_copy(update={"explanation": explanation}) if explanation != f.explanation else f)
    return out
