"""``reviewer pr``: review a pull request (GitHub) or merge request (GitLab) and post the result."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.markup import escape

from reviewer.cli.common import backend_options, pack_options, settings_overrides, stderr_console
from reviewer.cli.progress import stage_progress
from reviewer.errors import EXIT_FINDINGS, EXIT_OK, InputError
from reviewer.findings import Severity
from reviewer.forges.scrub import Scrubber

CATEGORIES = ("security", "bug", "performance", "refactor", "style", "docs", "test")


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--forge", type=click.Choice(["github", "gitlab"]), help="Where the pull request lives (default: gitlab inside GitLab CI, else github).")
@click.option("--repo", metavar="OWNER/NAME", help="Repository (GitHub) or project path or id (GitLab); default: from the CI environment.")
@click.option("--pr", "number", type=click.IntRange(min=1), metavar="N", help="Pull request number (GitLab: merge request IID); default: from the CI event.")
@click.option("--api-url", metavar="URL", help="API root, e.g. https://ghe.example.com/api/v3 (default: GITHUB_API_URL or CI_API_V4_URL).")
@click.option("--event", "event_path", type=click.Path(dir_okay=False), help="Webhook payload to act on (default: GITHUB_EVENT_PATH).")
@click.option("--full", is_flag=True, help="Review the whole pull request even when only new commits were pushed.")
@click.option("--no-post", is_flag=True, help="Review and write the files (SARIF, Markdown, results.json); post nothing.")
@click.option("--post-from", type=click.Path(path_type=Path), metavar="DIR", help="Post a review saved by an earlier --no-post run (second stage of the fork workflow).")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Also write the review files here (default when not posting: reviewer-results/).")
@click.option("--max-comments", type=click.IntRange(min=0, max=100), default=30, show_default=True, help="Inline comments per run; the rest go to the summary.")
@click.option("--max-wait", type=click.FloatRange(min=0), default=120.0, show_default=True, help="Seconds to wait out forge rate limits, in total.")
@click.option("--bot-login", metavar="LOGIN", help="Author of our earlier comments (default in GitHub Actions: github-actions[bot]; '*' for any).")
@click.option("--fail-on", type=click.Choice([s.value for s in Severity]), help="Exit 1 when a finding is at or above this severity.")
@click.option("--focus", metavar="LIST", help=f"Categories to weigh most, comma-separated: {','.join(CATEGORIES)}.")
@click.option("--analyzers", metavar="LIST", help="Offline analyzers: all (default), none, or a list such as ruff,bandit,secrets.")
@click.option("-q", "--quiet", is_flag=True, help="Only the final line.")
@pack_options
@backend_options
def pr(path: Path, forge: str | None, repo: str | None, number: int | None, api_url: str | None,
       event_path: str | None, full: bool, no_post: bool, post_from: Path | None, output_dir: Path | None,
       max_comments: int, max_wait: float, bot_login: str | None, fail_on: str | None, focus: str | None,
       analyzers: str | None, quiet: bool, dry_run: bool, **opts: object) -> int:
    """Review a pull request and post one review with inline comments and one summary.

    \b
    In GitHub Actions it reads the event (pull_request, or a /review comment from someone with
    write access) and GITHUB_TOKEN; in GitLab CI the merge request pipeline's variables and
    REVIEWER_GITLAB_TOKEN. The review configuration is read from the base branch, never from
    the pull request. Comments already posted are not posted again; the summary comment is
    edited in place. A read-only token (a fork's) gets the review as files instead.

    \b
    Examples:
      reviewer pr                                   inside GitHub Actions or GitLab CI
      reviewer pr --repo octo/app --pr 42           locally, GITHUB_TOKEN set, PR head checked out
      reviewer pr --no-post -o out/                 review only: out/review.sarif, review.md, results.json
      reviewer pr --post-from out/                  post what a --no-post run saved
      reviewer pr --forge gitlab --repo grp/app --pr 7 --api-url https://gitlab.example.com/api/v4
    """
    if dry_run:
        raise InputError("reviewer pr has no --dry-run", hint="see the cost first with: reviewer review . --diff BASE --dry-run")
    if post_from is not None and no_post:
        raise InputError("--post-from posts a saved review; it cannot be combined with --no-post")
    from reviewer.forges.context import detect_forge
    from reviewer.forges.runner import PrRequest, run_pr

    overrides = settings_overrides(dict(opts))
    if fail_on:
        overrides["fail_on"] = fail_on
    if focus:
        items = [f.strip() for f in focus.split(",") if f.strip()]
        bad = [f for f in items if f not in CATEGORIES]
        if bad:
            raise InputError(f"unknown --focus categor{'y' if len(bad) == 1 else 'ies'}: {', '.join(bad)}",
                             hint=f"choose from {', '.join(CATEGORIES)}")
        overrides["focus"] = items
    if analyzers:
        overrides["analyzers"] = [a.strip() for a in analyzers.split(",") if a.strip()]
    scrub = Scrubber.from_env()
    console = stderr_console()

    def log(msg: str) -> None:
        if not quiet:
            console.print(f"[dim]pr:[/] {escape(scrub(msg))}")

    request = PrRequest(
        root=path, forge=forge or detect_forge(), repo=repo, number=number, api_url=api_url, event_path=event_path,
        overrides=overrides, max_comments=max_comments, max_wait=max_wait, output_dir=output_dir,
        post=not no_post, post_from=post_from, full=full, bot_login=bot_login,
    )
    with stage_progress(not quiet) as progress:
        outcome = run_pr(request, progress=progress, log=log)  # type: ignore[arg-type]
    click.echo(scrub(f"reviewer pr: {outcome.status}: {outcome.message}"))
    if outcome.written is not None and not quiet:
        for f in outcome.written.files:
            console.print(f"[dim]wrote {escape(str(f))}[/]")
        if outcome.written.step_summary:
            console.print("[dim]added the report to the job summary[/]")
    if outcome.failing(fail_on or os.environ.get("REVIEWER_FAIL_ON") or None):
        return EXIT_FINDINGS
    return EXIT_OK
