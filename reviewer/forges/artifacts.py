"""The review as files, for when it cannot be posted (a fork's read-only token, ``--no-post``) or
should also be kept: SARIF 2.1.0 (code scanning), Markdown (people), results.json (the second
stage of the fork workflow), and the Markdown in ``$GITHUB_STEP_SUMMARY`` (the run's page)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.errors import InputError
from reviewer.forges.bundle import Bundle
from reviewer.forges.scrub import Scrubber
from reviewer.report.markdown import render as render_markdown
from reviewer.report.sarif import render as render_sarif

STEP_SUMMARY_CAP = 1_000_000  # GitHub accepts up to 1 MiB per step
RESULTS = "results.json"


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    step_summary: bool = False


def markdown_report(bundle: Bundle, heading_note: str = "") -> str:
    title = f"Review of pull request #{bundle.number} at {bundle.head_sha[:12]}"
    text = render_markdown(bundle.result(), title=title)
    if heading_note:
        first, _, rest = text.partition("\n")
        text = f"{first}\n\n> {heading_note}\n{rest}"
    return text


def write_artifacts(bundle: Bundle, out_dir: Path, scrub: Scrubber, *, note: str = "",
                    environ: dict[str, str] | None = None) -> Written:
    env = os.environ if environ is None else environ
    written = Written()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        md = scrub(markdown_report(bundle, note))
        for name, text in (("review.sarif", scrub(render_sarif(bundle.result()))), ("review.md", md),
                           (RESULTS, scrub(bundle.to_json()))):
            path = out_dir / name
            path.write_text(text, encoding="utf-8")
            written.files.append(path)
    except OSError as exc:
        raise InputError(f"cannot write the review files to {out_dir}: {exc.strerror}") from exc
    step = env.get("GITHUB_STEP_SUMMARY")
    if step:
        try:
            with open(step, "a", encoding="utf-8") as fh:
                fh.write(md if len(md) <= STEP_SUMMARY_CAP else md[:STEP_SUMMARY_CAP] + "\n\n… (cut)\n")
            written.step_summary = True
        except OSError:
            pass
    return written
