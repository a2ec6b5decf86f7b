"""What every command shares: error handling, consoles, common options."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from reviewer.errors import EXIT_BACKEND, EXIT_INTERNAL, EXIT_USAGE, ReviewerError

# Modules whose errors mean the model server or the network failed (the openai SDK and the HTTP
# libraries under it, whichever it is built on).
_BACKEND_MODULES = ("openai", "httpx", "httpx2", "httpcore", "httpcore2", "ssl", "socket", "urllib3")


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
    except Exception as exc:  # a failure nothing above expected: one line, never exit 1
        return unexpected(exc)
    return rv if isinstance(rv, int) else 0


def debug_enabled() -> bool:
    return os.environ.get("REVIEWER_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def unexpected(exc: BaseException) -> int:
    """An exception no stage turned into a ReviewerError: one line on stderr (the traceback
    too with --debug or REVIEWER_DEBUG=1) and an exit code that says whose failure it was."""
    console = stderr_console()
    code = exit_code_for(exc)
    what = {EXIT_BACKEND: "the model server or the network failed",
            EXIT_USAGE: "a file or directory could not be used"}.get(code, "internal error (a bug in reviewer)")
    detail = " ".join(str(exc).split())[:300]
    console.print(f"[bold red]error:[/] {escape(what)}: {type(exc).__name__}" + (f": {escape(detail)}" if detail else ""))
    if debug_enabled():
        traceback.print_exception(exc, file=sys.stderr)
    else:
        console.print("[dim]hint:[/] run again with --debug (or REVIEWER_DEBUG=1) for the traceback"
                      + (", and report it" if code == EXIT_INTERNAL else ""))
    return code


def exit_code_for(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls.__module__.split(".")[0] in _BACKEND_MODULES:
            return EXIT_BACKEND
    if isinstance(exc, ConnectionError | TimeoutError):
        return EXIT_BACKEND
    if isinstance(exc, OSError):
        return EXIT_USAGE
    return EXIT_INTERNAL


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
