"""A rich progress display for long stages, on stderr, silent when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reviewer.cli.common import stderr_console

_LABELS = {
    "scan": "Scanning files",
    "redact": "Checking for secrets",
    "count": "Counting tokens",
    "index": "Indexing",
    "rank": "Ranking",
    "fit": "Fitting the budget",
    "snapshot": "Packing the snapshot",
    "render": "Rendering",
    "analyze": "Running analyzers",
    "answer": "Receiving the answer",
}


@contextmanager
def stage_progress(enabled: bool = True) -> Iterator[object]:
    """Yields a ``progress(stage, done, total)`` callback for the packer and other stages."""
    console = stderr_console()
    if not enabled or not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            # total 0: a count of unknown size (characters of the model's answer so far)
            if stage not in tasks:
                tasks[stage] = bar.add_task(_LABELS.get(stage, stage.capitalize()), total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield update
