"""``reviewer review``: findings for a repository or a change, grounded in the real code."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from reviewer.cli.common import backend_options, pack_options, settings_overrides, stderr_console
from reviewer.cli.progress import stage_progress
from reviewer.config import load_settings
from reviewer.errors import EXIT_FINDINGS, EXIT_OK, InputError
from reviewer.findings import Severity
from reviewer.repo.scan import resolve_root
from reviewer.report import FORMATS, render
from reviewer.review.model import ReviewResult

CATEGORIES = ("security", "bug", "performance", "refactor", "style", "docs", "test")


_SUFFIX_FORMATS = {".json": "json", ".sarif": "sarif", ".md": "markdown", ".markdown": "markdown",
                   ".rdjson": "rdjson", ".rdjsonl": "rdjson"}


def output_format(fmt: str | None, output: Path | None) -> str | None:
    """The format to write: --format, or else the one the output file's name says."""
    if fmt is not None or output is None:
        return fmt
    name = output.name.lower()
    if name.endswith(".sarif.json"):
        return "sarif"
    found = _SUFFIX_FORMATS.get(output.suffix.lower())
    if found is None:
        raise InputError(f"cannot tell which format to write to {output} from its name",
                         hint=f"add --format {'|'.join(FORMATS)}, or name the file *.json, *.sarif, *.md or *.rdjson")
    return found


def output_options(func):  # type: ignore[no-untyped-def]
    for option in reversed([
        click.option("--format", "fmt", type=click.Choice(FORMATS), help="Write the findings in this format (to --output or stdout)."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="File for the findings (default: stdout with --format). Without --format, the format "
                          "comes from the name: .json, .sarif, .md, .rdjson."),
        click.option("--fail-on", type=click.Choice([s.value for s in Severity]), help="Exit 1 when a finding is at or above this severity."),
        click.option("--show-rejected", is_flag=True, help="Also show analyzer findings the model rejected."),
        click.option("--all", "show_all", is_flag=True,
                     help="Print every finding in full in the terminal (default: counts by kind, the worst in full, "
                          "and where the rest is)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress and no terminal report (files and exit code only)."),
    ]):
        func = option(func)
    return func


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--diff", "diff_base", metavar="BASE", help="Review the change from BASE (branch, tag or commit) to HEAD, with the whole repository as context.")
@click.option("--focus", metavar="LIST", help=f"Categories to weigh most, comma-separated: {','.join(CATEGORIES)}.")
@click.option("--max-chunks", type=click.IntRange(min=1), help="When the repository exceeds one window, review it in up to N packs (default 4).")
@click.option("--analyzers", metavar="LIST", help="Offline analyzers: all (default), none, or a list such as ruff,bandit,secrets.")
@pack_options
@backend_options
@output_options
def review(path: Path, diff_base: str | None, focus: str | None, max_chunks: int | None, analyzers: str | None, fmt: str | None,
           output: Path | None, show_rejected: bool, show_all: bool, quiet: bool, dry_run: bool, **opts: object) -> int:
    """Review the repository at PATH and report grounded findings.

    \b
    Every finding the model gives must name a file and lines that were sent and quote code
    found there; the rest is dropped and counted. With no model configured, the offline
    analyzers (ruff, bandit, ast-grep, secrets) run alone and the report says so.

    \b
    Examples:
      reviewer review .                              whole repository
      reviewer review . --diff main                  your branch against main
      reviewer review . --focus security --fail-on high
      reviewer review . --format sarif -o review.sarif
      reviewer review . --all                        every finding in full here
      reviewer review . --dry-run                    tokens and cost, nothing sent
      reviewer review . --backend vllm --base-url http://gpu-box:8000/v1
    """
    root = resolve_root(path)
    fmt = output_format(fmt, output)
    overrides = settings_overrides(dict(opts))
    if focus:
        items = [f.strip() for f in focus.split(",") if f.strip()]
        bad = [f for f in items if f not in CATEGORIES]
        if bad:
            raise InputError(f"unknown --focus categor{'y' if len(bad) == 1 else 'ies'}: {', '.join(bad)}",
                             hint=f"choose from {', '.join(CATEGORIES)}")
        overrides["focus"] = items
    if max_chunks:
        overrides["max_chunks"] = max_chunks
    if analyzers:
        overrides["analyzers"] = [a.strip() for a in analyzers.split(",") if a.strip()]
    if show_rejected:
        overrides["show_rejected"] = True
    settings = load_settings(root, overrides)

    from reviewer.review.engine import review as run_review

    with stage_progress(not quiet) as progress:
        result = run_review(root, settings, diff_base=diff_base, progress=progress, dry_run=dry_run)  # type: ignore[arg-type]
    return finish(result, settings.fail_on, fmt, output, show_rejected or settings.show_rejected, quiet, dry_run,
                  show_all=show_all)


def finish(result: ReviewResult, fail_on: str | None, fmt: str | None, output: Path | None, show_rejected: bool,
           quiet: bool, dry_run: bool, *, show_all: bool = False) -> int:
    """Report (terminal and/or file) and choose the exit code."""
    from reviewer.report.terminal import print_estimate, print_report

    console = stderr_console() if (fmt and output is None) else Console(highlight=False)
    if dry_run:
        if result.estimate is not None:
            print_estimate(console, result.estimate)
        if fmt:
            _emit(render(result, fmt, show_rejected=show_rejected), output)
        return EXIT_OK
    if fmt:
        _emit(render(result, fmt, show_rejected=show_rejected), output)
    if not quiet:
        written = str(output) if output is not None else f"the {fmt} on stdout" if fmt else None
        print_report(console, result, show_rejected=show_rejected, show_all=show_all, written=written)
        if output is not None:
            console.print(f"[dim]wrote {fmt} to {output}[/]")
    if fail_on is not None:
        threshold = Severity(fail_on)
        if any(f.severity.at_least(threshold) for f in result.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from exc
