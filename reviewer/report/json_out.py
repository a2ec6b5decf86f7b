"""The review as one JSON document (the Finding schema, plus what was dropped and spent)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from reviewer import __version__
from reviewer.review.model import ReviewResult


def as_dict(result: ReviewResult, *, show_rejected: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tool": {"name": "reviewer", "version": __version__},
        "model_used": result.model_used,
        "backend": result.backend,
        "findings": [f.model_dump(mode="json") for f in result.findings],
        "counts": counts(result),
        "dropped": [asdict(d) for d in result.dropped],
        "notes": list(result.notes),
        "usage": asdict(result.usage),
        "files": {"full": len(result.files_full), "outline": len(result.files_outline),
                  "listed": len(result.files_listed)},
        "truncated": result.truncated,
        "chunks": result.chunks,
    }
    if result.answer is not None:
        data["answer"] = result.answer
    if result.estimate is not None:
        data["estimate"] = result.estimate
    if show_rejected:
        data["rejected"] = [f.model_dump(mode="json") for f in result.rejected]
    return data


def counts(result: ReviewResult) -> dict[str, dict[str, int]]:
    by_cat: dict[str, int] = {}
    by_sev: dict[str, int] = {}
    for f in result.findings:
        by_cat[f.category.value] = by_cat.get(f.category.value, 0) + 1
        by_sev[f.severity.value] = by_sev.get(f.severity.value, 0) + 1
    return {"category": by_cat, "severity": by_sev}


def render(result: ReviewResult, *, show_rejected: bool = False) -> str:
    return json.dumps(as_dict(result, show_rejected=show_rejected), indent=2, ensure_ascii=False) + "\n"
