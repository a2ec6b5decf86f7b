"""``reviewer fim-server``: fill-in-the-middle completion over HTTP, with repository context.

Endpoints: ``POST /infill`` (llama.cpp's request and response, streamed or not: llama.vim and
llama.vscode work unchanged), ``POST /v1/completions`` with ``suffix`` (also ``/completions``,
``/beta/completions`` and ``/v1/fim/completions``: Continue's providers), ``GET /health``,
``GET /v1/models``.

A thread per connection (the standard library's ``ThreadingHTTPServer``, HTTP/1.1 keep-alive):
the work per request is a few milliseconds of Python and the rest is waiting on the upstream,
which threads do well; ``bench/fim_bench.py latency`` measures what the server adds. Every
failure a client can cause is answered with a 4xx and a one-line message, and the server keeps
serving. Loopback only unless started with ``allow_remote`` and a token; with a token, every
endpoint but ``/health`` wants ``Authorization: Bearer TOKEN``.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reviewer.errors import BackendError, ConfigError, InputError
from reviewer.fim import protocol
from reviewer.fim.cursor import RequestError
from reviewer.fim.engine import MAX_COMPLETION_CHARS, FimEngine, Outcome, Prepared
from reviewer.fim.watch import Watcher

MAX_BODY = 8 * 1024 * 1024
MAX_DEPTH = 32  # nesting of a request's JSON (the protocols need 3)
INFILL_PATHS = ("/infill", "/v1/infill")
OPENAI_PATHS = ("/v1/completions", "/completions", "/beta/completions", "/v1/fim/completions", "/fim/completions")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8012
    token: str | None = None
    allow_remote: bool = False
    max_file_bytes: int = 1_000_000
    verbose: bool = False


def check_bind(cfg: ServerConfig) -> None:
    if cfg.host not in LOOPBACK and not cfg.allow_remote:
        raise ConfigError(f"refusing to listen on {cfg.host}: fim-server serves this machine only",
                          hint="pass --allow-remote with --token (or REVIEWER_FIM_TOKEN) to serve other machines")
    if cfg.allow_remote and not cfg.token:
        raise ConfigError("--allow-remote needs a token", hint="pass --token or set REVIEWER_FIM_TOKEN")


class FimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, cfg: ServerConfig, engine: FimEngine, watcher: Watcher | None = None) -> None:
        self.cfg = cfg
        self.engine = engine
        self.watcher = watcher
        self.started = time.time()
        self.served = 0
        self.errors = 0
        self._count_lock = threading.Lock()
        self.log: Callable[[str], None] = (lambda line: print(line, file=sys.stderr, flush=True)) if cfg.verbose else (lambda line: None)
        super().__init__((cfg.host, cfg.port), _Handler)

    def tally(self, error: bool) -> None:
        with self._count_lock:
            self.served += 1
            self.errors += error

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def _depth_over(value: Any, limit: int) -> bool:
    """True when ``value`` (parsed JSON) nests lists and objects deeper than ``limit``; walked
    without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack += [(child, depth + 1) for child in children if isinstance(child, (dict, list))]
    return False


class _Aborted(Exception):
    """The client went away."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FimHTTPServer
    server_version = "reviewer-fim"

    def log_message(self, format: str, *args: Any) -> None:  # the server logs its own lines
        pass

    def setup(self) -> None:
        super().setup()
        # answers are small writes: without this, Nagle's algorithm and the client's delayed ACK
        # hold the body of each answer back by about 40 ms
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # ------------------------------------------------------------------ plumbing

    def _send_json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status >= 400 and self.close_connection:
            self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n" + data)  # headers and body in one write
        self.flush_headers()

    def _error(self, status: int, message: str) -> None:
        self._status = status
        self._send_json(status, protocol.error_body(status, message))

    def _authorized(self) -> bool:
        token = self.server.cfg.token
        if not token:
            return True
        given = self.headers.get("Authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode())

    def _read_body(self) -> Any:
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise RequestError("chunked request bodies are not supported: send Content-Length", 411)
        if length_header is None:
            self.close_connection = True
            raise RequestError("a request body with Content-Length is required", 411)
        try:
            length = int(length_header)
        except ValueError as exc:
            self.close_connection = True
            raise RequestError("Content-Length is not a number") from exc
        if length < 0:
            self.close_connection = True
            raise RequestError("Content-Length is negative")
        if length > MAX_BODY:
            self.close_connection = True  # the body is not read: the connection cannot be reused
            raise RequestError(f"request body too large: {length:,} bytes (limit {MAX_BODY:,})", 413)
        raw = self.rfile.read(length)
        if len(raw) < length:
            self.close_connection = True
            raise RequestError("request body shorter than its Content-Length")
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise RequestError("the request body is not UTF-8") from exc
        except ValueError as exc:
            raise RequestError(f"malformed JSON in the request body: {exc}") from exc
        except RecursionError:
            raise RequestError(f"the request body is nested deeper than {MAX_DEPTH} levels") from None
        if _depth_over(body, MAX_DEPTH):
            raise RequestError(f"the request body is nested deeper than {MAX_DEPTH} levels")
        return body

    # ------------------------------------------------------------------ routes

    def do_GET(self) -> None:
        self._status = 200
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        start = time.perf_counter()
        try:
            if path in ("/health", "/v1/health"):
                self._send_json(200, self._health())
            elif not self._authorized():
                self._error(401, "missing or wrong token: send Authorization: Bearer TOKEN")
            elif path in ("/v1/models", "/models"):
                model = self.server.engine.provider.model
                self._send_json(200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "reviewer"}]})
            else:
                self._error(404, f"no such endpoint: GET {path}")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        self._log("GET", path, start)

    def do_POST(self) -> None:
        self._status = 200
        self._note = ""
        path = self.path.split("?", 1)[0].rstrip("/")
        start = time.perf_counter()
        try:
            if not self._authorized():
                self.close_connection = True
                self._error(401, "missing or wrong token: send Authorization: Bearer TOKEN")
            elif path in INFILL_PATHS:
                self._complete(start, infill=True)
            elif path in OPENAI_PATHS:
                self._complete(start, infill=False)
            else:
                self.close_connection = True
                self._error(404, f"no such endpoint: POST {path}")
        except (BrokenPipeError, ConnectionResetError, _Aborted):
            self.close_connection = True
        except Exception as exc:  # never a dead server: a bug answers 500 and is logged
            self.close_connection = True
            print(f"fim-server: internal error on {path}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            with contextlib.suppress(OSError):
                self._error(500, f"internal error: {type(exc).__name__}")
        self._log("POST", path, start)

    def do_PUT(self) -> None:
        self._method_not_allowed()

    do_DELETE = do_PATCH = do_PUT

    def _method_not_allowed(self) -> None:
        self._status = 405
        self.close_connection = True
        self._error(405, f"method {self.command} not allowed")

    def _health(self) -> dict[str, Any]:
        eng = self.server.engine
        st = eng.index.stats
        out: dict[str, Any] = {
            "status": "ok",
            "index": {"ready": st.ready, "files": st.files, "definitions": st.definitions, "updates": st.updates,
                      "build_seconds": round(st.build_seconds, 3)},
            "provider": eng.provider.name,
            "model": eng.provider.model,
            "served": self.server.served,
            "cache": {"hits": eng.cache.hits, "misses": eng.cache.misses},
            "superseded": eng.supersession.count,
            "secrets": {"redacting": eng.redact, "files_scanned": eng.index.secrets.scanned,
                        "first_pass_done": eng.index.secrets.done},
        }
        if self.server.watcher is not None:
            out["watch"] = {"ticks": self.server.watcher.ticks, "last_ms": round(self.server.watcher.last_tick_ms, 2)}
        return out

    def _log(self, method: str, path: str, start: float) -> None:
        self.server.tally(self._status >= 400)
        ms = (time.perf_counter() - start) * 1000
        self.server.log(f"{method} {path} {self._status} {ms:.1f} ms {getattr(self, '_note', '')}".rstrip())

    # ------------------------------------------------------------------ completion

    def _complete(self, start: float, *, infill: bool) -> None:
        eng = self.server.engine
        cfg = self.server.cfg
        self._cpu = time.thread_time()
        try:
            body = self._read_body()
            parse = protocol.parse_infill if infill else protocol.parse_openai
            query, wire = parse(body, eng.index.root, cfg.max_file_bytes, eng.options.max_tokens, eng.gate)
        except RequestError as exc:
            self._error(exc.status, exc.message)
            return
        except InputError as exc:
            self._error(400, exc.message)
            return
        model = eng.provider.model
        if infill and wire.warmup:  # context sent ahead of time: nothing to complete
            out = Outcome("", "length")
            self._send_json(200, protocol.infill_final(out, None, model=model, predicted_n=0, stream=False,
                                                       fields=wire.response_fields))
            self._note = "warm-up"
            return
        hit = eng.cached(query)
        if hit is not None:
            hit.total_ms = (time.perf_counter() - start) * 1000
            self._note = "cached"
            self._finish(hit, None, infill=infill, wire=wire, model=model, cid=protocol.openai_id(),
                         sent={"headers": False, "n": 0}, extra={"cached": True, "total_ms": round(hit.total_ms, 3)})
            return
        try:
            prepared = eng.prepare(query)
        except RequestError as exc:
            self._error(exc.status, exc.message)
            return
        except InputError as exc:
            self._error(400, exc.message)
            return
        query.client = self.headers.get("X-Client-Id") or (
            f"{self.client_address[0]}|{self.headers.get('User-Agent', '')}|{prepared.context.path or ''}"
        )
        cid = protocol.openai_id()
        sent = {"headers": False, "n": 0}
        parts: list[str] = []

        def emit(piece: str) -> None:
            if not wire.stream or not piece:
                return
            if not sent["headers"]:
                self._begin_stream()
                sent["headers"] = True
            parts.append(piece)
            sent["n"] += 1
            if infill:
                obj = protocol.infill_partial(piece, sent["n"], prepared.prompt_tokens)
            else:
                obj = protocol.openai_chunk(piece, model=model, cid=cid)
            self._chunk(b"data: " + json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n\n")

        try:
            out = eng.run(prepared, emit if wire.stream else None, started=start)
        except BackendError as exc:
            status = 504 if "within" in exc.message else 502
            if sent["headers"]:
                self._chunk(b"error: " + json.dumps(protocol.error_body(status, exc.message)).encode() + b"\n\n")
                self._end_stream()
            else:
                self._error(status, exc.message)
            self._note = exc.message
            return
        self._note = (f"{prepared.context.path or '?'} ctx={prepared.context.tokens} "
                      f"{'cached ' if out.cached else ''}{out.finish} up={out.upstream_ms:.0f}ms")
        if not sent["headers"] and out.finish == "superseded":
            self._error(409, "superseded by a newer request from the same client")
            return
        if not sent["headers"] and out.finish == "deadline" and not out.text:
            self._error(504, f"no completion within {eng.options.deadline:.1f} s")
            return
        self._finish(out, prepared, infill=infill, wire=wire, model=model, cid=cid, sent=sent,
                     extra=self._extra(prepared, out))

    def _finish(self, out: Outcome, prepared: Prepared | None, *, infill: bool, wire: protocol.Wire, model: str,
                cid: str, sent: dict[str, Any], extra: dict[str, Any]) -> None:
        predicted = self.server.engine.counter.count(out.text) if out.text else 0
        if infill:
            final = protocol.infill_final(out, prepared, model=model, predicted_n=predicted, stream=wire.stream,
                                          fields=wire.response_fields, extra=extra)
        else:
            final = protocol.openai_final(out, prepared, model=model, cid=cid, predicted_n=predicted, extra=extra)
        if not wire.stream:
            self._send_json(200, final)
            return
        if not sent["headers"]:
            self._begin_stream()
            sent["headers"] = True
            if out.text:  # a cached answer: its text goes out as one piece
                piece = (protocol.infill_partial(out.text, predicted, prepared.prompt_tokens if prepared else 0)
                         if infill else protocol.openai_chunk(out.text, model=model, cid=cid))
                self._chunk(b"data: " + json.dumps(piece, ensure_ascii=False).encode("utf-8") + b"\n\n")
        if infill:
            self._chunk(b"data: " + json.dumps(final, ensure_ascii=False).encode("utf-8") + b"\n\n")
        else:
            last = protocol.openai_chunk("", model=model, cid=cid, finish=final["choices"][0]["finish_reason"])
            self._chunk(b"data: " + json.dumps(last).encode() + b"\n\n")
            self._chunk(b"data: [DONE]\n\n")
        self._end_stream()

    def _extra(self, p: Prepared, out: Outcome) -> dict[str, Any]:
        capped = {"note": f"the upstream's completion was cut at {MAX_COMPLETION_CHARS:,} characters"} if out.capped else {}
        return {
            **capped,
            "file": p.context.path,
            "file_recognised": p.context.identified,
            "context": [{"filename": i.filename, "kind": i.kind, "tokens": i.tokens} for i in p.context.items],
            "context_tokens": p.context.tokens,
            "context_ms": round(p.context.ms, 3),
            "prepare_ms": round(p.ms, 3),
            "upstream_ms": round(out.upstream_ms, 3),
            "total_ms": round(out.total_ms, 3),
            "cached": out.cached,
            "finish": out.finish,
            "redactions": p.redactions,
            "cpu_ms": round((time.thread_time() - self._cpu) * 1000, 3),  # this request's own work
        }

    def _begin_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _Aborted from exc

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _Aborted from exc
