"""``reviewer ask``: locate a bug from a crash report, or answer a question about the code."""

from __future__ import annotations

from pathlib import Path

import click

from reviewer.cli.common import backend_options, pack_options, settings_overrides
from reviewer.cli.progress import stage_progress
from reviewer.cli.review_cmd import finish, output_format, output_options
from reviewer.config import load_settings
from reviewer.errors import InputError
from reviewer.repo.scan import resolve_root

MAX_TRACE_BYTES = 1_000_000  # read at most this much; the engine keeps what it may send and says so


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("question", required=False)
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="A crash report or stack trace ('-' reads stdin).")
@pack_options
@backend_options
@output_options
def ask(path: Path, question: str | None, trace_file: Path | None, fmt: str | None, output: Path | None,
        show_rejected: bool, show_all: bool, quiet: bool, dry_run: bool, **opts: object) -> int:
    """Find where a problem is in the repository at PATH and why.

    \b
    Files named in the trace (and their neighbours in the code graph) are packed first.
    The answer comes with locations as findings, grounded in the code like a review's.

    \b
    Examples:
      reviewer ask . --trace crash.txt
      pytest 2>&1 | reviewer ask . --trace -
      reviewer ask . "why does login fail when the password has a colon?"
    """
    if trace_file is None and not question:
        raise InputError("give a QUESTION or --trace FILE", hint="reviewer ask . --trace crash.txt")
    fmt = output_format(fmt, output)
    trace_text = None
    if trace_file is not None:
        stream = click.open_file(str(trace_file), "rb")
        try:
            with stream as fh:
                data = fh.read(MAX_TRACE_BYTES)
        except OSError as exc:
            raise InputError(f"cannot read trace {trace_file}: {exc.strerror}") from exc
        trace_text = data.decode("utf-8", "replace")
        if not trace_text.strip():
            raise InputError("the trace is empty")
    root = resolve_root(path)
    settings = load_settings(root, settings_overrides(dict(opts)))

    from reviewer.review.engine import ask as run_ask

    with stage_progress(not quiet) as progress:
        result = run_ask(root, settings, question=question, trace_text=trace_text, progress=progress,  # type: ignore[arg-type]
                         dry_run=dry_run)
    return finish(result, settings.fail_on, fmt, output, show_rejected, quiet, dry_run, show_all=show_all)
