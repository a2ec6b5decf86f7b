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
        click.option("--snapshot-every", type=click.IntRange(min=0), metavar="N",
                     help="Cache-friendly layout: the tree at a commit every N commits, then the commits since as "
                          "diffs, so runs on the next commits reuse the provider's cached prefix (0: off)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def backend_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options that pick and tune the model backend."""
    options = [
        click.option("--backend", help="Backend profile: deepseek (default with DEEPSEEK_API_KEY), vllm, openai, or one from config."),
        click.option("--model", help="Model id (default: the backend's; e.g. deepseek-v4-pro)."),
        click.option("--base-url", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1 (env REVIEWER_BASE_URL)."),
        click.option("--effort", type=click.Choice(["none", "high", "max"]), help="Thinking effort (default: high; none turns thinking off)."),
        click.option("--timeout", type=click.FloatRange(min=1), help="Absolute deadline for the model call in seconds, retries included (default 1200)."),
        click.option("--max-cost", type=click.FloatRange(min=0), help="Refuse to start when the estimated cost in USD is higher."),
        click.option("--json-schema", is_flag=True, default=None, help="Also send the Finding JSON Schema in response_format (llama.cpp, vLLM)."),
        click.option("--no-stream", is_flag=True, help="Do not stream the answer."),
        click.option("--dry-run", is_flag=True, help="Show tokens, model, window and cost; call nothing."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def settings_overrides(opts: dict[str, Any]) -> dict[str, Any]:
    """Flag values as settings overrides (only the flags that were given)."""
    out: dict[str, Any] = {}
    for key in ("budget", "reserve", "tokenizer", "snapshot_every", "backend", "model", "base_url", "effort", "timeout", "max_cost", "fail_on"):
        if opts.get(key) is not None:
            out[key] = opts[key]
    if opts.get("include"):
        out["include"] = list(opts["include"])
    if opts.get("exclude"):
        out["exclude"] = list(opts["exclude"])
    if opts.get("no_cache"):
        out["cache"] = False
    if opts.get("json_schema"):
        out["json_schema"] = True
    if opts.get("no_stream"):
        out["stream"] = False
    return out
