"""The mapping tables (tables.toml) from each tool's rules to category, severity, confidence, CWE."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from reviewer.findings import Category, Severity


@dataclass(frozen=True)
class Rule:
    category: str
    severity: str
    confidence: float
    cwe: str | None
    title: str | None
    hide_message: bool


@cache
def tables() -> dict[str, Any]:
    text = resources.files("reviewer.analyzers").joinpath("tables.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def section(analyzer: str) -> dict[str, Any]:
    return tables().get(analyzer, {})


def _row(analyzer: str, rule: str) -> dict[str, Any]:
    rows: dict[str, Any] = section(analyzer).get("rules", {})
    if rule in rows:
        return rows[rule]
    for end in range(len(rule) - 1, 0, -1):
        if rule[:end] in rows:
            return rows[rule[:end]]
    return {}


def classify(
    analyzer: str,
    rule: str,
    *,
    native: dict[str, Any] | None = None,
    message: str = "",
) -> Rule:
    """The row for ``rule``, completed with the tool's own values (``native``: any of category,
    severity, confidence, cwe, title), then the analyzer's default row. ``message`` is the
    tool's message, for rows with ``low_when``."""
    row = _row(analyzer, rule)
    if analyzer == "ruff" and rule.startswith("S") and rule[1:].isdigit():
        # flake8-bandit S<n> is bandit's B<n>: one table, so both tools say the same
        row = {**_row("ruff", "S"), **_row("bandit", f"B{rule[1:]}")}
    default: dict[str, Any] = section(analyzer).get("default", {})
    merged = {**default, **{k: v for k, v in (native or {}).items() if v is not None}, **row}
    category = str(merged.get("category", "bug"))
    severity = str(merged.get("severity", "medium"))
    low_when = merged.get("low_when")
    if isinstance(low_when, str) and low_when and low_when.lower() in message.lower():
        severity = "low"
    # a table typo must not produce an invalid Finding
    if category not in Category.__members__:
        category = "bug"
    if severity not in Severity.__members__:
        severity = "medium"
    confidence = min(1.0, max(0.0, float(merged.get("confidence", 0.7))))
    return Rule(
        category=category,
        severity=severity,
        confidence=confidence,
        cwe=merged.get("cwe"),
        title=merged.get("title"),
        hide_message=bool(merged.get("hide_message", False)),
    )
