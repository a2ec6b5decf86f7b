"""``reviewer fim`` (one completion, for scripts and tests) and ``reviewer fim-server`` (editors)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reviewer.cli.common import stderr_console
from reviewer.config import load_settings
from reviewer.errors import InputError
from reviewer.repo.scan import resolve_root


def _fim_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--backend", help="Backend profile: deepseek (default with DEEPSEEK_API_KEY), vllm, openai, or one from config."),
        click.option("--model", help="Model id (default: the backend's)."),
        click.option("--base-url", help="Server URL: http://HOST:8000/v1 for vLLM/OpenAI-style servers, http://HOST:8080 for llama.cpp."),
        click.option("--provider", type=click.Choice(["deepseek-beta", "raw", "suffix", "infill"]),
                     help="How to ask for FIM: deepseek-beta (DeepSeek API), raw (FIM tokens in the prompt: vLLM), "
                          "suffix (prompt + suffix: SGLang), infill (llama.cpp /infill). Default: from the backend."),
        click.option("--family", help="FIM token family for --provider raw (deepseek, qwen, starcoder, codellama)."),
        click.option("--context-tokens", type=click.IntRange(min=0), default=2048, show_default=True,
                     help="Token budget for repository context."),
        click.option("--prefix-tokens", type=click.IntRange(min=1), default=1536, show_default=True,
                     help="Token budget for the text before the cursor (cut by whole lines)."),
        click.option("--suffix-tokens", type=click.IntRange(min=0), default=512, show_default=True,
                     help="Token budget for the text after the cursor (cut by whole lines)."),
        click.option("--max-tokens", type=click.IntRange(min=1), default=128, show_default=True,
                     help="Longest completion, when a request does not say."),
        click.option("--deadline", type=click.FloatRange(min=0.05), default=5.0, show_default=True,
                     help="Seconds per completion, context and model together."),
        click.option("--tokenizer", help="Tokenizer to count with (default: deepseek-v4)."),
        click.option("--no-cache", is_flag=True, help="Do not read or write the on-disk index cache."),
        click.option("--no-redact", is_flag=True,
                     help="Send text as it is: no secret redaction (only for a model on this machine you trust)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(root: Path, opts: dict[str, Any]):  # type: ignore[no-untyped-def]
    overrides: dict[str, Any] = {k: opts[k] for k in ("backend", "model", "base_url", "tokenizer") if opts.get(k)}
    if opts.get("no_cache"):
        overrides["cache"] = False
    return load_settings(root, overrides)


def _options(opts: dict[str, Any], **more: Any):  # type: ignore[no-untyped-def]
    from reviewer.fim.engine import FimOptions

    return FimOptions(context_tokens=opts["context_tokens"], prefix_tokens=opts["prefix_tokens"],
                      suffix_tokens=opts["suffix_tokens"], max_tokens=opts["max_tokens"],
                      deadline=opts["deadline"], redact=not opts.get("no_redact"), **more)


def _repo_for(file: Path) -> Path:
    from reviewer.repo import git

    start = file.resolve().parent if file.exists() else Path.cwd()
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    cwd = Path.cwd().resolve()
    return cwd if git.is_work_tree(cwd) or start.is_relative_to(cwd) else start


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--line", "line", type=int, required=True, help="Cursor line, 1-based.")
@click.option("--col", "column", type=int, default=1, show_default=True,
              help="Cursor column, 1-based (1: before the first character).")
@click.option("--repo", type=click.Path(path_type=Path), help="Repository root (default: the git work tree holding FILE).")
@_fim_options
@click.option("--show-context", is_flag=True, help="Also print the repository context on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the completion, context and timings as JSON.")
@click.option("--dry-run", is_flag=True, help="Print the request that would be sent; call nothing.")
def fim(file: Path, line: int, column: int, repo: Path | None, show_context: bool, as_json: bool, dry_run: bool,
        **opts: Any) -> int:
    """Complete the code at a position of FILE and print the completion.

    \b
    The text before and after the cursor goes to the model with repository context: the
    definitions of names used near the cursor that live in other files, outlines of imported
    modules, recent edits.

    \b
    Examples:
      reviewer fim src/app.py --line 42 --col 9
      reviewer fim src/app.py --line 42 --dry-run        # the exact request, no model needed
      reviewer fim src/app.py --line 42 --backend vllm --base-url http://gpu:8000/v1
    """
    from reviewer.fim.service import complete_file, start, upstream

    root = resolve_root(repo) if repo is not None else resolve_root(_repo_for(file))
    target = file if file.is_absolute() else (Path.cwd() / file)
    try:
        name = str(target.resolve().relative_to(root))
    except (ValueError, OSError):
        name = str(file)
    settings = _settings(root, opts)
    provider = upstream(settings, provider=opts.get("provider"), family=opts.get("family"), for_estimate=dry_run)
    service = start(root, settings, provider, _options(opts))
    try:
        prepared, out = complete_file(service, name, line, column, settings, dry_run=dry_run)
    finally:
        service.engine.close()
    ctx = prepared.context
    if show_context:
        err = stderr_console()
        for item in ctx.items:
            err.rule(f"{item.filename} ({item.kind}, {item.tokens} tokens)", style="dim")
            err.print(item.text, markup=False, highlight=False)
    if dry_run:
        body = provider.build(prepared.request, False)
        click.echo(json.dumps({"url": provider.url(), "body": body}, indent=2, ensure_ascii=False))
        return 0
    assert out is not None
    if as_json:
        click.echo(json.dumps({
            "completion": out.text,
            "finish": out.finish,
            "file": ctx.path,
            "context": [{"filename": i.filename, "kind": i.kind, "tokens": i.tokens} for i in ctx.items],
            "context_tokens": ctx.tokens,
            "prompt_tokens": prepared.prompt_tokens,
            "redactions": prepared.redactions,
            "ms": {"context": round(ctx.ms, 2), "upstream": round(out.upstream_ms, 2), "total": round(out.total_ms, 2)},
        }, indent=2, ensure_ascii=False))
        return 0
    if out.finish == "deadline" and not out.text:
        raise InputError(f"no completion within {opts['deadline']:.1f} s", hint="raise --deadline")
    sys.stdout.write(out.text)
    if out.text and not out.text.endswith("\n") and sys.stdout.isatty():
        sys.stdout.write("\n")
    return 0


@click.command("fim-server")
@click.option("--repo", type=click.Path(path_type=Path), default=".", show_default=True, help="Repository root.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8012, show_default=True,
              help="Port (8012 is llama.vim's and llama.vscode's default endpoint).")
@click.option("--allow-remote", is_flag=True, help="Listen on a non-loopback address (needs --token).")
@click.option("--token", help="Require Authorization: Bearer TOKEN (env REVIEWER_FIM_TOKEN).")
@_fim_options
@click.option("--cache-size", type=click.IntRange(min=0), default=512, show_default=True,
              help="Recent completions kept (LRU).")
@click.option("--poll", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between checks for changed files.")
@click.option("--verbose", "-v", is_flag=True, help="Log one line per request on stderr.")
def fim_server(repo: Path, host: str, port: int, allow_remote: bool, token: str | None, cache_size: int, poll: float,
               verbose: bool, **opts: Any) -> int:
    """Serve fill-in-the-middle completion with repository context to editors.

    \b
    Speaks llama.cpp's /infill (llama.vim and llama.vscode work unchanged: point them at
    http://127.0.0.1:8012) and OpenAI's /v1/completions with suffix (Continue). The repository
    index stays in memory and follows file changes; a newer request from the same editor
    supersedes an older one; recent completions are cached.

    \b
    Examples:
      reviewer fim-server --repo .                                   # DeepSeek API (DEEPSEEK_API_KEY)
      reviewer fim-server --repo . --backend vllm --base-url http://gpu:8000/v1
      reviewer fim-server --repo . --provider infill --base-url http://127.0.0.1:8080 --model local
    """
    from reviewer.fim.server import ServerConfig
    from reviewer.fim.service import serve, upstream

    root = resolve_root(repo)
    settings = _settings(root, opts)
    provider = upstream(settings, provider=opts.get("provider"), family=opts.get("family"))
    cfg = ServerConfig(host=host, port=port, token=token, allow_remote=allow_remote,
                       max_file_bytes=settings.max_file_bytes, verbose=verbose)
    err = stderr_console()

    def ready(server, service) -> None:  # type: ignore[no-untyped-def]
        err.print(f"fim-server: {server.url}  repository {root}  upstream {provider.name} {provider.url()} "
                  f"model {provider.model}", markup=False, highlight=False)
        err.print("fim-server: indexing in the background; requests are served meanwhile", markup=False)

    serve(root, settings, provider, _options(opts, cache_entries=cache_size), cfg, on_ready=ready, poll=poll)
    return 0
