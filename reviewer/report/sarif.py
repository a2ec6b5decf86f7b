"""SARIF 2.1.0: one rule per category (and per analyzer rule), CWE tags, partialFingerprints,
so code-scanning services track a finding across pushes."""

from __future__ import annotations

import json
from typing import Any

from reviewer import __version__
from reviewer.findings import Finding, Severity
from reviewer.review.model import ReviewResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.critical: "error",
    Severity.high: "error",
    Severity.medium: "warning",
    Severity.low: "note",
    Severity.info: "note",
}
_SCORE = {Severity.critical: "9.5", Severity.high: "8.0", Severity.medium: "5.5", Severity.low: "3.0", Severity.info: "1.0"}


def rule_id(f: Finding) -> str:
    if f.source != "model" and getattr(f, "rule", None):
        return f"{f.source}/{f.rule}"
    return f"reviewer/{f.category.value}"


def _rule(f: Finding) -> dict[str, Any]:
    rid = rule_id(f)
    tags = [f.category.value]
    if f.cwe:
        tags.append(f"external/cwe/{f.cwe.lower()}")
    return {
        "id": rid,
        "name": rid.replace("/", "-"),
        "shortDescription": {"text": f"{f.category.value} finding" if rid.startswith("reviewer/") else f.title[:200]},
        "properties": {"tags": tags, "precision": "medium", "security-severity": _SCORE[f.severity]}
        if f.category.value == "security"
        else {"tags": tags},
    }


def render(result: ReviewResult) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in result.findings:
        rid = rule_id(f)
        rules.setdefault(rid, _rule(f))
        message = f"{f.title}\n\n{f.explanation}"
        if f.suggestion:
            message += f"\n\nSuggested change:\n{f.suggestion}"
        res: dict[str, Any] = {
            "ruleId": rid,
            "level": _LEVEL[f.severity],
            "message": {"text": message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.start_line, "endLine": f.end_line,
                                   "snippet": {"text": f.evidence}},
                    }
                }
            ],
            "partialFingerprints": {"reviewerFingerprint/v1": f.fingerprint},
            "properties": {
                "category": f.category.value,
                "severity": f.severity.value,
                "confidence": f.confidence,
                "source": f.source,
            },
        }
        if f.cwe:
            res["properties"]["cwe"] = f.cwe
        results.append(res)
    ordered = sorted(rules)
    index = {rid: i for i, rid in enumerate(ordered)}
    for res in results:
        res["ruleIndex"] = index[res["ruleId"]]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "reviewer",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/repo-reviewer/",
                        "rules": [rules[r] for r in ordered],
                    }
                },
                "results": results,
                "invocations": [{"executionSuccessful": True,
                                 "toolExecutionNotifications": [{"message": {"text": n}} for n in result.notes]}],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
