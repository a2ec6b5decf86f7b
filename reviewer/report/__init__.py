"""Reporters: the terminal (rich) and files (JSON, SARIF 2.1.0, Markdown, reviewdog rdjson)."""

from __future__ import annotations

from reviewer.review.model import ReviewResult

FORMATS = ("json", "sarif", "markdown", "rdjson")


def render(result: ReviewResult, fmt: str, *, show_rejected: bool = False) -> str:
    if fmt == "json":
        from reviewer.report.json_out import render as r

        return r(result, show_rejected=show_rejected)
    if fmt == "sarif":
        from reviewer.report.sarif import render as r

        return r(result)
    if fmt == "markdown":
        from reviewer.report.markdown import render as r

        return r(result)
    if fmt == "rdjson":
        from reviewer.report.rdjson import render as r

        return r(result)
    raise ValueError(f"unknown format {fmt!r}")
