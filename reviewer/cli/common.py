"""What every command shares: error handling, consoles, common options."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from reviewer.errors import EXIT_USAGE, ReviewerError


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(exc: ReviewerError) -> int:
    console = stderr_console()
    console.print(f"[bold red]error:[/] {escape(exc.message)}")
    if exc.hint:
        console.print(f"[dim]hint:[/] {escape(exc.hint)}")
    return exc.exit_code


def run_cli(group: click.Group, args: list[str] | None = None) -> int:
    """Run the click group; expected failures become one line on stderr and their exit code."""
    try:
        rv = group.main(args=args, standalone_mode=False)
    except ReviewerError as exc:
        return fail(exc)
    except click.exceptions.Abort:
        stderr_console().print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code if exc.exit_code else EXIT_USAGE
    except KeyboardInterrupt:
        stderr_console().print("interrupted")
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    return rv if isinstance(rv, int) else 0


def pack_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that builds a pack."""
    options = [
        click.option("--budget", type=click.IntRange(min=1), help="Token budget for the pack (exact, V4 tokenizer)."),
        click.option("--reserve", type=click.IntRange(min=0), help="Tokens kept free for the prompt and answer when no --budget is given."),
        click.option("--include", "include", multiple=True, metavar="GLOB", help="Only files matching GLOB (repeatable)."),
        click.option("--exclude", "exclude", multiple=True, metavar="GLOB", help="Skip files matching GLOB (repeatable)."),
        click.option("--tokenizer", help="Tokenizer to count with (default: deepseek-v4)."),
        click.option("--no-cache", is_flag=True, help="Do not read or write the on-disk index cache."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
