"""reviewdog's rdjson (Reviewdog Diagnostic Format): one diagnostic per finding, with suggestions."""

from __future__ import annotations

import json
from typing import Any

from reviewer.findings import Severity
from reviewer.report.sarif import rule_id
from reviewer.review.model import ReviewResult

_SEV = {Severity.critical: "ERROR", Severity.high: "ERROR", Severity.medium: "WARNING", Severity.low: "INFO",
        Severity.info: "INFO"}


def render(result: ReviewResult) -> str:
    diags = []
    for f in result.findings:
        rng = {"start": {"line": f.start_line}, "end": {"line": f.end_line}}
        d: dict[str, Any] = {
            "message": f"{f.title}: {f.explanation}",
            "location": {"path": f.path, "range": rng},
            "severity": _SEV[f.severity],
            "code": {"value": rule_id(f)},
            "source": {"name": f"reviewer/{f.source}"},
        }
        if f.cwe:
            d["code"]["url"] = f"https://cwe.mitre.org/data/definitions/{f.cwe.split('-')[-1]}.html"
        if f.suggestion is not None:
            # replace whole lines: from the start of start_line to the start of the line after end_line
            d["suggestions"] = [{
                "range": {"start": {"line": f.start_line, "column": 1}, "end": {"line": f.end_line + 1, "column": 1}},
                "text": f.suggestion.rstrip("\n") + "\n",
            }]
        diags.append(d)
    doc = {"source": {"name": "reviewer", "url": "https://pypi.org/project/repo-reviewer/"}, "severity": "WARNING",
           "diagnostics": diags}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
