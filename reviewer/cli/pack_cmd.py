"""``reviewer pack``: the packed document and its exact token count; no model needed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

from reviewer.cli.common import pack_options, stderr_console
from reviewer.cli.explain_view import explain_rows, print_explain
from reviewer.cli.pack_view import pack_stats, print_summary
from reviewer.cli.progress import stage_progress
from reviewer.config import load_settings
from reviewer.errors import InputError
from reviewer.repo.scan import resolve_root


@click.command()
@click.argument("path", type=click.Path(file_okay=True, dir_okay=True, path_type=Path), default=".")
@pack_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the pack ('-' for stdout). Default: reviewer-pack.xml (.md) in the current directory.")
@click.option("--style", type=click.Choice(["xml", "markdown"]), help="Document style (default: xml).")
@click.option("--stats", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Summary as a table on stderr, or as JSON on stdout for scripts.")
@click.option("--no-redact", is_flag=True, help="Do not redact secrets (the pack stays on this machine).")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary table.")
@click.option("--diff", "diff_base", metavar="BASE", help="Focus on the files changed since BASE (branch, tag or commit).")
@click.option("--query", metavar="TEXT", help="Focus on what a question or issue text names.")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Focus on the files and functions of a stack trace in FILE ('-' for stdin).")
@click.option("--explain", is_flag=True, help="Show each file's tier, rank, tokens and why.")
def pack(path: Path, output: Path | None, style: str | None, stats: str, no_redact: bool, quiet: bool,
         diff_base: str | None, query: str | None, trace_file: Path | None, explain: bool, **opts: object) -> int:
    """Pack the repository at PATH into one document within an exact token budget.

    \b
    Files come from git (tracked and untracked, .gitignore honoured) or, outside git,
    from a walk that honours .gitignore files. Lock files, build output, vendored code,
    binaries and files over 1 MB are left out, each with its reason. Secrets are redacted.
    Tokens are counted with DeepSeek V4's own tokenizer: the total is exact.

    \b
    Examples:
      reviewer pack .                          summary table, pack in reviewer-pack.xml
      reviewer pack . --budget 128000 -o -     pack to stdout, at most 128,000 tokens
      reviewer pack . --stats json             machine-readable totals
      reviewer pack . --exclude 'docs/**' --style markdown
      reviewer pack . --diff main --explain     the branch's changes whole first, and why
      reviewer pack . --query "login fails after password reset" --budget 128000
      reviewer pack . --trace crash.txt        the files and functions of a stack trace first
      reviewer pack . --snapshot-every 64      for runs on every commit: a fixed snapshot plus
                                               the commits since, so the provider's cache hits
    """
    root = resolve_root(path)
    style = style or None
    overrides: dict[str, object] = {
        "budget": opts.get("budget"),
        "reserve": opts.get("reserve"),
        "tokenizer": opts.get("tokenizer"),
        "snapshot_every": opts.get("snapshot_every"),
        "style": style,
    }
    if opts.get("include"):
        overrides["include"] = list(opts["include"])  # type: ignore[arg-type]
    if opts.get("no_cache"):
        overrides["cache"] = False
    if no_redact:
        overrides["redact_secrets"] = False
    settings = load_settings(root, overrides)
    out_path = output if output is not None else Path(f"reviewer-pack.{'md' if settings.style == 'markdown' else 'xml'}")
    if str(out_path) == "-" and stats == "json":
        raise InputError("--stats json and --output - both want stdout", hint="write the pack to a file with -o FILE")
    # (a previous pack left in the repository is recognised by the scan and never packed again)
    settings.exclude = list(settings.exclude) + list(opts.get("exclude") or ())  # type: ignore[arg-type]

    from reviewer.pack import build_pack

    trace = read_trace(trace_file) if trace_file is not None else None
    started = time.perf_counter()
    with stage_progress(not quiet) as progress:
        result = build_pack(root, settings, diff_base=diff_base, query=query, trace=trace,
                            progress=progress)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started

    if str(out_path) == "-":
        click.echo(result.text, nl=False)
    else:
        _write(out_path, result.text)
    data = pack_stats(result, elapsed, None if str(out_path) == "-" else str(out_path))
    if explain:
        data["explain"] = explain_rows(result)
    if stats == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        if explain:
            print_explain(stderr_console(), result)
        if not quiet:
            print_summary(stderr_console(), result, data)
    return 0


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc


_MAX_TRACE = 1_000_000


def read_trace(path: Path) -> str:
    """The stack trace in ``path`` (``-``: stdin), decoded without failing, at most 1 MB."""
    try:
        if str(path) == "-":
            data = click.get_binary_stream("stdin").read(_MAX_TRACE)
        else:
            with path.open("rb") as fh:
                data = fh.read(_MAX_TRACE)
    except OSError as exc:
        raise InputError(f"cannot read the trace {path}: {exc.strerror}") from exc
    return data.decode("utf-8", "replace")
