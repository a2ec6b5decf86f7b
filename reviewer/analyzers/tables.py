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
    related: tuple[str, ...] = ()  # further CWE ids worth naming (eval: CWE-95 beside CWE-94)
    needs_secret: bool = False  # kept only where the secret scanner found a real-looking value
    low_when_code: str | None = None  # a regular expression over the statement's code
    low_unless_file: str | None = None  # a regular expression the file must match to stay above low
    not_when_code: str | None = None  # a regular expression over the statement that proves the tool wrong


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
    row = _rule_row(analyzer, rule)
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
    related = merged.get("related") or ()
    low_when_code = _pattern(merged.get("low_when_code"))
    low_unless_file = _pattern(merged.get("low_unless_file"))
    not_when_code = _pattern(merged.get("not_when_code"))
    return Rule(
        category=category,
        severity=severity,
        confidence=confidence,
        cwe=merged.get("cwe"),
        title=merged.get("title"),
        hide_message=bool(merged.get("hide_message", False)),
        related=tuple(str(c) for c in related) if isinstance(related, list | tuple) else (str(related),),
        needs_secret=bool(merged.get("needs_secret", False)),
        low_when_code=low_when_code,
        low_unless_file=low_unless_file,
        not_when_code=not_when_code,
    )


def _pattern(value: object) -> str | None:
    """A regular expression from a row: a name from the ``[patterns]`` table, or the expression."""
    if not isinstance(value, str) or not value:
        return None
    named = tables().get("patterns", {}).get(value)
    return named if isinstance(named, str) else value


def bandit_twin(analyzer: str, rule: str) -> str | None:
    """The other tool's id for the same check: ruff's S608 is bandit's B608 and back."""
    if len(rule) > 1 and rule[1:].isdigit():
        if analyzer == "ruff" and rule[0] == "S":
            return f"B{rule[1:]}"
        if analyzer == "bandit" and rule[0] == "B":
            return f"S{rule[1:]}"
    return None


def _rule_row(analyzer: str, rule: str) -> dict[str, Any]:
    if analyzer == "ruff" and (twin := bandit_twin(analyzer, rule)):
        # flake8-bandit S<n> is bandit's B<n>: one table, so both tools say the same
        return {**_row("ruff", "S"), **_row("bandit", twin)}
    return _row(analyzer, rule)
