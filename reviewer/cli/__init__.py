"""The command line: a thin click layer. Each command lives in its own module, turns flags into
options, calls the stage that does the work, and renders the result for the terminal."""

from __future__ import annotations

import importlib
import os
import sys

import click

from reviewer import __version__

# command name -> "module:function"; imported only when that command runs, so --help stays fast.
COMMANDS: dict[str, str] = {
    "pack": "reviewer.cli.pack_cmd:pack",
    "review": "reviewer.cli.review_cmd:review",
    "ask": "reviewer.cli.ask_cmd:ask",
    "pr": "reviewer.cli.pr_cmd:pr",
    "fim": "reviewer.cli.fim_cmd:fim",
    "fim-server": "reviewer.cli.fim_cmd:fim_server",
    "serve": "reviewer.cli.serve_cmd:serve",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        return getattr(module, attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reviewer")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error (or set REVIEWER_DEBUG=1).")
@click.option("--safe-directory", "safe_directories", multiple=True, metavar="DIR",
              help="Read git repositories in DIR even when they belong to another user (git's safe.directory; "
                   "also REVIEWER_SAFE_DIRECTORIES or safe_directories in the user configuration).")
def cli(debug: bool, safe_directories: tuple[str, ...]) -> None:
    """Pack a whole repository into an exact token budget and review it with DeepSeek V4.

    \b
    Start here:
      reviewer pack .                 what the model would see, and its exact token count
      reviewer review .               findings (offline analyzers if no model is configured)
      reviewer review . --diff main   review your branch, the whole repository as context
      reviewer ask . --trace crash.txt

    \b
    Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage or input error,
    3 backend error, 4 internal error (run with --debug and report it).
    """
    from reviewer.repo.git import allow_directories

    if debug:
        os.environ["REVIEWER_DEBUG"] = "1"
    allow_directories(safe_directories)


def main() -> None:
    from reviewer.cli.common import run_cli

    sys.exit(run_cli(cli))
