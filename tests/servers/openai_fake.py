"""A real HTTP server on 127.0.0.1 that speaks the OpenAI protocol, with scripted replies.

It stands in for the DeepSeek API, vLLM or llama.cpp at the network boundary: our client talks
to it over real sockets with the real ``openai`` SDK.

    with FakeOpenAI() as server:
        server.script(Reply(content='{"findings": []}'), Reply(status=429, retry_after=0))
        ...  # point the client at server.base_url ("http://127.0.0.1:PORT/v1")
        server.requests[0].body["messages"]

Endpoints: ``POST /v1/chat/completions`` (plain JSON, or SSE when the request says
``"stream": true``), ``POST /v1/completions`` and ``POST /beta/completions`` (FIM: the request's
``prompt`` and ``suffix`` are in the recorded body; the reply's ``content`` is the completion
text), ``POST /infill`` (llama.cpp: ``input_prefix``/``input_suffix`` in, ``{"content": ...}``
out), ``GET /v1/models`` (ids from ``models``). Paths may also be used without the ``/v1`` prefix.

Each request takes the next scripted ``Reply``: first from its endpoint's own script
(``script(..., endpoint="chat" | "completions" | "infill")``), else from the shared script;
when both are empty the ``default`` reply is used (a 500 unless set).

Faults a ``Reply`` can inject: any status with an OpenAI-shaped error body and ``Retry-After``;
``delay`` seconds of silence before anything is sent; ``keepalive`` blank lines (``": keep-alive"``
comments when streaming) sent ``keepalive_interval`` apart before the body, as DeepSeek does on long
requests; ``truncate`` (the body is cut in half and the connection closed); ``reset`` (the whole
length announced, half the body sent, the connection dropped); blank content;
``finish_reason="length"``; ``stream_error`` (an error event in the middle of an SSE answer, as
vLLM and others send when generation fails); any ``usage`` (DeepSeek's ``prompt_cache_hit_tokens`` /
``prompt_cache_miss_tokens`` and ``completion_tokens_details.reasoning_tokens`` by default).
The thinking text goes in ``reasoning_content`` (DeepSeek) or, with
``reasoning_field="reasoning"``, where newer vLLM puts it.
Every request is recorded (method, path, headers with lower-cased names, parsed JSON body) in
``requests``; ``chat_requests()`` and ``completion_requests()`` filter them.

As a pytest fixture (a fresh server per test), made visible to a test module by binding it
there (or for every test with ``pytest_plugins = ["tests.servers.openai_fake"]`` in the root
conftest)::

    from tests.servers import openai_fake
    openai_server = openai_fake.openai_server

    def test_x(openai_server):
        openai_server.script(Reply(content="..."))
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Reply:
    content: str | None = '{"findings": []}'
    status: int = 200
    reasoning: str | None = None
    reasoning_field: str = "reasoning_content"  # or "reasoning" (newer vLLM)
    finish_reason: str = "stop"
    model: str = "fake-model"
    usage: dict[str, Any] | None = None
    delay: float = 0.0
    keepalive: int = 0
    keepalive_interval: float = 0.0
    truncate: bool = False
    # the full length is announced, half the body sent, the connection closed: the client's HTTP
    # library raises its own transport error (not a parse error)
    reset: bool = False
    stream_error: str | None = None  # streaming: an SSE error event after the first half of the answer
    retry_after: float | None = None
    error_message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any


def default_usage(reply: Reply) -> dict[str, Any]:
    completion = max(1, len(reply.content or "") // 4)
    return {
        "prompt_tokens": 1000,
        "completion_tokens": completion,
        "total_tokens": 1000 + completion,
        "prompt_cache_hit_tokens": 600,
        "prompt_cache_miss_tokens": 400,
        "completion_tokens_details": {"reasoning_tokens": 5 if reply.reasoning else 0},
    }


ENDPOINTS = ("chat", "completions", "infill")


class FakeOpenAI:
    def __init__(self, *replies: Reply, default: Reply | None = None, models: tuple[str, ...] = ("fake-model",)) -> None:
        self._queue: deque[Reply] = deque(replies)
        self._endpoint_queues: dict[str, deque[Reply]] = {name: deque() for name in ENDPOINTS}
        self.default = default
        self.models = models
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------------
    def script(self, *replies: Reply, endpoint: str | None = None) -> None:
        """Queue replies, for any endpoint or only for ``endpoint`` (chat | completions | infill)."""
        with self._lock:
            (self._queue if endpoint is None else self._endpoint_queues[endpoint]).extend(replies)

    def next_reply(self, endpoint: str | None = None) -> Reply:
        with self._lock:
            own = self._endpoint_queues.get(endpoint or "")
            if own:
                return own.popleft()
            if self._queue:
                return self._queue.popleft()
        return self.default or Reply(status=500, error_message="no scripted reply left")

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.split("?")[0].rstrip("/").endswith("/chat/completions")]

    def completion_requests(self) -> list[Recorded]:
        """``/completions`` (FIM) and ``/infill`` requests."""
        paths = [(r, r.path.split("?")[0].rstrip("/")) for r in self.requests if r.method == "POST"]
        return [r for r, p in paths if p.endswith(("/completions", "/infill")) and not p.endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._record(self, None)
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "owned_by": "fake"} for m in fake.models]
                    self._json(200, {"object": "list", "data": data})
                elif self.path.rstrip("/").endswith("/health"):
                    self._json(200, {"status": "ok"})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                fake._record(self, body)
                path = self.path.split("?")[0].rstrip("/")
                if path.endswith("/chat/completions"):
                    fake._chat(self, body if isinstance(body, dict) else {})
                elif path.endswith("/completions"):
                    fake._completion(self, body if isinstance(body, dict) else {})
                elif path.endswith("/infill"):
                    fake._infill(self)
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def _json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour -----------------------------------------------------------------------
    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        with self._lock:
            self.requests.append(Recorded(handler.command, handler.path, {k.lower(): v for k, v in handler.headers.items()}, body))

    def _wait(self, seconds: float) -> bool:
        """Sleep, unless the server is stopping; False when it is."""
        return not self._stopping.wait(seconds) if seconds > 0 else True

    def _error(self, h: Any, reply: Reply) -> None:
        extra = dict(reply.headers)
        if reply.retry_after is not None:
            extra["Retry-After"] = str(reply.retry_after)
        h._json(reply.status, {"error": {"message": reply.error_message, "type": "scripted", "code": reply.status}}, extra)

    def _begin(self, h: Any, endpoint: str) -> Reply | None:
        """The next reply after its delay; None when it was an error (already answered) or the
        server is stopping."""
        reply = self.next_reply(endpoint)
        if not self._wait(reply.delay):
            return None
        if reply.status != 200:
            self._error(h, reply)
            return None
        return reply

    def _chat(self, h: Any, body: dict[str, Any]) -> None:
        reply = self._begin(h, "chat")
        if reply is None:
            return
        usage = reply.usage if reply.usage is not None else default_usage(reply)
        if body.get("stream"):
            self._stream_chat(h, reply, usage, bool((body.get("stream_options") or {}).get("include_usage")))
            return
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.reasoning is not None:
            message[reply.reasoning_field] = reply.reasoning
        payload = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model,
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": usage,
        }
        self._send_body(h, json.dumps(payload).encode(), reply, "application/json")

    def _send_body(self, h: Any, data: bytes, reply: Reply, ctype: str) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        prefix = b"\n" * reply.keepalive
        if reply.truncate:
            data = data[: len(data) // 2]
            h.send_header("Connection", "close")
        else:
            h.send_header("Content-Length", str(len(prefix) + len(data)))
        if reply.reset:
            data = data[: len(data) // 2]
            h.close_connection = True
        h.end_headers()
        try:
            for _ in range(reply.keepalive):
                h.wfile.write(b"\n")
                h.wfile.flush()
                if not self._wait(reply.keepalive_interval):
                    return
            h.wfile.write(data)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        if reply.truncate:
            h.close_connection = True

    def _stream_chat(self, h: Any, reply: Reply, usage: dict[str, Any], include_usage: bool) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.close_connection = True

        def chunk(delta: dict[str, Any], finish: str | None = None, with_usage: bool = False) -> bytes:
            obj: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": reply.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if with_usage:
                obj["choices"] = []
                obj["usage"] = usage
            return f"data: {json.dumps(obj)}\n\n".encode()

        events: list[bytes] = [chunk({"role": "assistant", "content": ""})]
        if reply.reasoning:
            events += [chunk({reply.reasoning_field: reply.reasoning})]
        text = reply.content or ""
        for i in range(0, len(text), 40):
            events.append(chunk({"content": text[i : i + 40]}))
        events.append(chunk({}, reply.finish_reason))
        if include_usage:
            events.append(chunk({}, with_usage=True))
        events.append(b"data: [DONE]\n\n")
        if reply.truncate:
            events = events[: max(1, len(events) // 2)]
        if reply.reset:
            whole = b"".join(events)
            h.send_header("Content-Length", str(len(whole)))
            events = [whole[: len(whole) // 2]]
        h.end_headers()
        if reply.stream_error is not None:
            err = {"error": {"message": reply.stream_error, "type": "server_error", "code": 500}}
            events = [*events[: max(1, len(events) // 2)], f"data: {json.dumps(err)}\n\n".encode()]
        try:
            for _ in range(reply.keepalive):
                h.wfile.write(b": keep-alive\n\n")
                h.wfile.flush()
                if not self._wait(reply.keepalive_interval):
                    return
            for e in events:
                h.wfile.write(e)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _completion(self, h: Any, body: dict[str, Any]) -> None:
        reply = self._begin(h, "completions")
        if reply is None:
            return
        payload = {
            "id": "cmpl-fake",
            "object": "text_completion",
            "created": int(time.time()),
            "model": reply.model,
            "choices": [{"index": 0, "text": reply.content or "", "finish_reason": reply.finish_reason}],
            "usage": reply.usage if reply.usage is not None else default_usage(reply),
        }
        self._send_body(h, json.dumps(payload).encode(), reply, "application/json")

    def _infill(self, h: Any) -> None:
        reply = self._begin(h, "infill")
        if reply is None:
            return
        payload = {
            "content": reply.content or "",
            "model": reply.model,
            "stop": True,
            "stopped_limit": reply.finish_reason == "length",
            "tokens_predicted": max(1, len(reply.content or "") // 4),
        }
        self._send_body(h, json.dumps(payload).encode(), reply, "application/json")


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A started ``FakeOpenAI`` for one test, stopped after it."""
    with FakeOpenAI() as server:
        yield server
