"""Putting completion together: the upstream from the backend settings, the index, the engine;
then either one completion (``reviewer fim``) or the server (``reviewer fim-server``)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewer.config import Settings
from reviewer.errors import ConfigError
from reviewer.fim.counting import CachedCounter
from reviewer.fim.cursor import FileGate, read_source, split_at
from reviewer.fim.engine import FimEngine, FimOptions, Outcome, Prepared, Query
from reviewer.fim.providers import Provider, make_provider, provider_for_kind
from reviewer.fim.repoindex import RepoIndex
from reviewer.fim.server import FimHTTPServer, ServerConfig, check_bind
from reviewer.fim.watch import Watcher
from reviewer.pack.tokens import get_tokenizer

TOKEN_ENV = "REVIEWER_FIM_TOKEN"


def upstream(settings: Settings, *, provider: str | None, family: str | None, for_estimate: bool = False) -> Provider:
    """The completion server to ask, from the backend settings (``--backend``, ``--base-url``,
    ``--model``, ``DEEPSEEK_API_KEY``) and the FIM flags."""
    from reviewer.llm.backends import NO_BACKEND_HELP, resolve_backend

    backend = resolve_backend(settings, for_estimate=for_estimate)
    if backend is None:
        raise ConfigError("no completion backend configured", hint=NO_BACKEND_HELP)
    name = provider or provider_for_kind(backend.kind)
    key = backend.api_key if backend.api_key != "not-needed" else ""
    # the profile's fim_path is where its own kind of server takes FIM requests
    path = backend.fim_path if name == provider_for_kind(backend.kind) else None
    return make_provider(name, backend.base_url, model=backend.model, api_key=key, path=path,
                         family=family or "deepseek")


@dataclass
class Service:
    index: RepoIndex
    engine: FimEngine
    builder: threading.Thread | None = None

    def wait_ready(self, timeout: float | None = None) -> bool:
        if self.builder is not None:
            self.builder.join(timeout)
        return self.index.stats.ready


def start(root: Path, settings: Settings, provider: Provider, options: FimOptions, *,
          background: bool = False, progress: Callable[[str, int, int], None] | None = None,
          count_later: bool = False) -> Service:
    """An index of ``root`` (built now, or on a thread while requests are already served) and an
    engine over it. ``count_later``: lines never seen before are estimated on the request path
    and counted exactly in the background (the server)."""
    index = RepoIndex(root)
    counter = CachedCounter(get_tokenizer(settings.tokenizer), background=count_later)
    engine = FimEngine(index, provider, counter, options)
    engine.gate = FileGate(root, settings, lambda rel: rel in index.files)
    service = Service(index, engine)

    def build() -> None:
        try:
            index.build(settings, progress)
        except Exception as exc:  # the server still answers, without repository context
            index.stats.notes.append(f"index failed: {type(exc).__name__}: {exc}")
            index.stats.ready = True
            return
        if background and engine.redact:
            # a long-running server scans each file for secrets once, so that context from
            # clean files needs no scan on the request path (until then it is scanned there)
            try:
                index.scan_secrets()
            except Exception as exc:
                index.stats.notes.append(f"secret pre-scan failed: {type(exc).__name__}: {exc}")

    if background:
        service.builder = threading.Thread(target=build, name="fim-index", daemon=True)
        service.builder.start()
    else:
        build()
    return service


def complete_file(service: Service, file: str, line: int, column: int, settings: Settings, *,
                  dry_run: bool = False) -> tuple[Prepared, Outcome | None]:
    """One completion at a position of a file of the repository."""
    rel, text = read_source(service.index.root, file, settings.max_file_bytes, service.engine.gate)
    prefix, suffix = split_at(text, line, column)
    prepared = service.engine.prepare(Query(prefix=prefix, suffix=suffix, path=rel))
    if dry_run:
        return prepared, None
    return prepared, service.engine.run(prepared)


def serve(root: Path, settings: Settings, provider: Provider, options: FimOptions, cfg: ServerConfig, *,
          on_ready: Callable[[FimHTTPServer, Service], None] | None = None, poll: float = 1.0) -> None:
    """Run fim-server until interrupted."""
    if cfg.token is None:
        cfg.token = os.environ.get(TOKEN_ENV) or None
    check_bind(cfg)
    service = start(root, settings, provider, options, background=True, count_later=True)
    watcher = Watcher(service.index, settings, interval=poll)
    try:
        server = FimHTTPServer(cfg, service.engine, watcher)
    except OSError as exc:
        service.engine.close()
        raise ConfigError(f"cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}",
                          hint="is another fim-server or llama-server running there? pass --port") from exc
    watcher.start()
    if on_ready is not None:
        on_ready(server, service)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        print("fim-server: stopped", file=sys.stderr)
    finally:
        watcher.stop()
        server.server_close()
        service.engine.close()
