"""The one Finding schema used everywhere: terminal, JSON, SARIF, PR comments, analyzers.

The model answers ``{"findings": [...]}`` with the fields of ``ModelFinding``; the tool adds
``fingerprint`` and ``source`` itself, so the model never has to compute either.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Category(StrEnum):
    security = "security"
    bug = "bug"
    performance = "performance"
    refactor = "refactor"
    style = "style"
    docs = "docs"
    test = "test"


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 4 ... info 0."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.critical: 4,
    Severity.high: 3,
    Severity.medium: 2,
    Severity.low: 1,
    Severity.info: 0,
}


class ModelFinding(BaseModel):
    """What the model is asked to produce for each finding (its JSON Schema is shown to it)."""

    model_config = ConfigDict(extra="ignore", use_enum_values=False)

    category: Category
    severity: Severity
    confidence: float = Field(ge=0.0, le=1.0, description="0..1: how sure the finding is real")
    path: str = Field(description="repository-relative path exactly as shown in the pack")
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    explanation: str = Field(min_length=1)
    evidence: str = Field(min_length=1, description="the offending code quoted verbatim from the file")
    suggestion: str | None = Field(default=None, description="replacement code for the cited lines")
    cwe: str | None = Field(default=None, description="e.g. CWE-89, security findings only")

    @field_validator("cwe", mode="before")
    @classmethod
    def _normalize_cwe(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, int):
            return f"CWE-{value}"
        match = re.search(r"(\d+)", str(value))
        return f"CWE-{match.group(1)}" if match else None

    @field_validator("end_line")
    @classmethod
    def _end_after_start(cls, value: int, info: Any) -> int:
        start = info.data.get("start_line")
        return max(value, start) if isinstance(start, int) else value


class Finding(ModelFinding):
    """A finding as the tool keeps it: the model's fields plus fingerprint, source and status."""

    fingerprint: str = ""
    source: str = "model"
    # hint status for analyzer findings shown to a model: confirmed | rejected | unreviewed
    status: str | None = None
    # the analyzer's rule id (ruff "S608", bandit "B105", ...); None for the model's own findings
    rule: str | None = None

    def model_post_init(self, _context: Any) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.category, self.path, self.evidence)


_WS = re.compile(r"\s+")


def normalize_evidence(text: str) -> str:
    """Whitespace-insensitive form of quoted code: what survives re-indentation and line shifts."""
    return _WS.sub("", text)


def fingerprint(category: Category | str, path: str, evidence: str) -> str:
    """Stable identity of a finding: category + path + normalized evidence, not line numbers."""
    key = f"{Category(category).value}\x00{path}\x00{normalize_evidence(evidence)}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Worst first, then most confident, then by place, for a stable order."""
    return sorted(
        findings,
        key=lambda f: (-f.severity.rank, -f.confidence, f.path, f.start_line, f.title),
    )


def findings_json_schema() -> dict[str, Any]:
    """The JSON Schema of the answer the model must give: ``{"findings": [ModelFinding, ...]}``."""

    class Answer(BaseModel):
        findings: list[ModelFinding]

    return Answer.model_json_schema()
