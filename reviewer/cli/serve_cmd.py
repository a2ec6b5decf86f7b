"""``reviewer serve``: the bundled self-hosted stack (vLLM, SGLang, or llama.cpp on CPU), checked and started."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table

from reviewer.cli.common import stderr_console
from reviewer.errors import EXIT_USAGE, InputError
from reviewer.serve import runner
from reviewer.serve.command import Placement, placement_for, review_command
from reviewer.serve.machine import MachineReport, profiles_that_fit
from reviewer.serve.profiles import ENGINE_LABELS, Profile, get_profile, load_profiles
from reviewer.serve.session import Prepared, prepare, require_fit, run

HEAD_PLACEHOLDER = "HEAD_ADDR"


@click.command()
@click.option("--profile", "name", metavar="NAME", help="Serving profile (see --list).")
@click.option("--list", "list_profiles", is_flag=True, help="List the profiles with the hardware each needs.")
@click.option("--dry-run", is_flag=True, help="Check the machine and print the command; start nothing.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to serve on (default: the profile's).")
@click.option("--host", help="Address to bind (default: the profile's; 0.0.0.0 for GPU profiles).")
@click.option("--node-rank", type=click.IntRange(min=0), help="Multi-node profiles: this node's rank (0 = head).")
@click.option("--head", metavar="ADDR", help="Multi-node profiles: the head node's address, reachable from every node.")
@click.option("--timeout", type=click.FloatRange(min=1), help="Seconds to wait for the server to answer (default: the profile's).")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Engine log file (default: serve-NAME.log in the user log directory).")
def serve(name: str | None, list_profiles: bool, dry_run: bool, port: int | None, host: str | None,
          node_rank: int | None, head: str | None, timeout: float | None, log_path: Path | None) -> int:
    """Check this machine, then start a DeepSeek V4 server for `reviewer review`.

    \b
    The machine is checked first (GPU count, type and memory via nvidia-smi, the engine and
    its version, disk for the weights, the port); what is missing is said exactly.
    Ctrl-C stops the server and everything it started.

    \b
    Examples:
      reviewer serve --list
      reviewer serve --profile v4-flash-4xh200
      reviewer serve --profile v4-pro-2x8xh200 --node-rank 0 --head 10.0.0.1     (head)
      reviewer serve --profile v4-pro-2x8xh200 --node-rank 1 --head 10.0.0.1     (follower)
      reviewer serve --profile tiny-cpu --port 8080            small model on CPU, for a smoke test
      reviewer serve --profile v4-pro-8xb200 --dry-run         print the command only
    """
    profiles = load_profiles()
    if list_profiles:
        _print_list(Console(highlight=False), profiles)
        return 0
    if not name:
        raise InputError("pass --profile NAME or --list", hint=f"profiles: {', '.join(sorted(profiles))}")
    profile = get_profile(name, profiles)
    err = stderr_console()
    if dry_run and profile.nodes > 1 and not head:
        ranks = [node_rank] if node_rank is not None else list(range(profile.nodes))
        for rank in ranks:
            placement = placement_for(profile, host=host, port=port, node_rank=rank, head=HEAD_PLACEHOLDER)
            prepared = prepare(profile, placement)
            if rank == ranks[0]:
                _print_checks(err, prepared.report, profile, profiles)
            click.echo(f"# node {rank} of {profile.nodes}{' (head)' if rank == 0 else ''}; "
                       f"replace {HEAD_PLACEHOLDER} with the head node's address")
            click.echo(prepared.plan.shell())
        return 0 if prepared.report.ok else EXIT_USAGE
    placement = placement_for(profile, host=host, port=port, node_rank=node_rank, head=head)
    prepared = prepare(profile, placement)
    _print_checks(err, prepared.report, profile, profiles)
    if dry_run:
        click.echo(prepared.plan.shell())
        if prepared.plan.serves_http:
            err.print(f"[dim]then:[/] {escape(review_command(profile, prepared.base_url))}")
        if not prepared.report.ok:
            err.print(f"[red]this machine cannot run {escape(profile.name)} as it is:[/] "
                      f"{len(prepared.report.problems)} check(s) above are MISSING (exit {EXIT_USAGE})")
        return 0 if prepared.report.ok else EXIT_USAGE
    require_fit(prepared)
    log = log_path or _default_log(profile, placement)
    return run(prepared, log, TerminalView(err), timeout=timeout)


def _default_log(profile: Profile, placement: Placement) -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("reviewer", appauthor=False)) / f"serve-{profile.name}-{placement.port}.log"


def _print_list(console: Console, profiles: dict[str, Profile]) -> None:
    table = Table(title="Serving profiles (reviewer serve --profile NAME)", title_justify="left")
    for col in ("profile", "engine", "model", "hardware", "description"):
        table.add_column(col, overflow="fold")
    for p in profiles.values():
        engine = f"{ENGINE_LABELS[p.engine].split(' ')[0]} ≥ {p.min_engine_version}"
        table.add_row(p.name, engine, p.model, p.describe_hardware(), p.description)
    console.print(table)


def _print_checks(console: Console, report: MachineReport, profile: Profile, profiles: dict[str, Profile]) -> None:
    console.print(f"[bold]{escape(profile.name)}[/]: {escape(profile.description)}")
    for check in report.checks:
        mark = "[green]ok[/]  " if check.ok else "[red]MISSING[/]"
        console.print(f"  {mark} {check.name:<7} {escape(check.detail)}")
    if report.gpus and not report.ok:
        fits = [n for n in profiles_that_fit(profiles, report.gpus) if n != profile.name]
        if fits:
            console.print(f"  [dim]profiles this machine's GPUs fit: {escape(', '.join(fits))}[/]")


class TerminalView:
    """Progress on stderr (a spinner and the engine's log when stderr is a terminal); the
    endpoint and the review command on stdout, for people and scripts."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.status: Status | None = None
        self.is_ready = False

    def started(self, engine: runner.EngineProcess) -> None:
        argv0 = Path(engine.proc.args[0]).name if isinstance(engine.proc.args, list) else "engine"  # type: ignore[index]
        self.console.print(f"started {escape(argv0)} (pid {engine.pid}, process group {engine.pgid}); "
                           f"log: {escape(str(engine.log_path))}")
        if self.live:
            self.status = self.console.status("starting the engine", spinner="dots")
            self.status.start()

    def log_lines(self, lines: list[str]) -> None:
        if not self.live:
            return
        for line in lines[-200:]:
            self.console.print(escape(line), style="dim", highlight=False)

    def waiting(self, stage: str) -> None:
        if self.status is not None:
            self.status.update(f"waiting for the server: {stage}")

    def _stop_spinner(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def ready(self, prepared: Prepared, models: list[str]) -> None:
        self._stop_spinner()
        self.is_ready = True
        profile = prepared.profile
        click.echo(f"ready: {prepared.base_url} serves {', '.join(models)}")
        if prepared.placement.host in ("0.0.0.0", "::"):
            click.echo(f"  (bound to {prepared.placement.host}: from other machines use this host's address)")
        click.echo("review with:")
        click.echo("  " + review_command(profile, prepared.base_url))
        click.echo("Ctrl-C stops the server.")

    def follower(self, prepared: Prepared) -> None:
        self._stop_spinner()
        rank = prepared.placement.node_rank
        click.echo(f"follower node {rank} of {prepared.profile.nodes} is running headless; "
                   f"the endpoint is on the head ({shlex.quote(prepared.placement.head or '')}). Ctrl-C stops it.")

    def stopping(self) -> None:
        self._stop_spinner()
        self.console.print("stopping the server ...")

    def stopped(self, clean: bool, engine: runner.EngineProcess) -> None:
        if clean:
            self.console.print(f"stopped: no process left in group {engine.pgid}")
        else:
            self.console.print(f"[red]warning:[/] processes of group {engine.pgid} are still running; "
                               f"kill them with: kill -9 -{engine.pgid}")
