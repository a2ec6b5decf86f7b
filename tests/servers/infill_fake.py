"""A real HTTP server on 127.0.0.1 that answers like llama.cpp's server: ``POST /infill`` and
``POST /v1/completions``, streamed (server-sent events) or not, with scripted completions.

    with FakeLlamaServer() as up:
        up.script(InfillReply("    return a + b\\n"))
        ...  # point the provider at up.root_url
        up.requests[0].body["input_extra"]

``/infill`` answers llama.cpp's non-OpenAI shape: ``content``, ``stop``, ``stop_type``,
``tokens_predicted``, ``timings``...; streamed, one event per piece (``"stop": false``) and a last
one with ``"stop": true``, no ``[DONE]``. ``/v1/completions`` answers ``text_completion`` (streamed:
chunks with ``choices[0].text``, then ``data: [DONE]``). A reply can wait before its first byte
(``delay``), between pieces (``gap``), fail with a status, or hang until the client goes away
(``hang``). Every request is recorded; ``disconnects`` counts streams the client closed early.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class InfillReply:
    content: str = "pass\n"
    status: int = 200
    delay: float = 0.0
    gap: float = 0.0
    pieces: int = 0  # stream in this many pieces (0: one per 4 characters)
    hang: bool = False
    stop_type: str = "eos"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


class FakeLlamaServer:
    def __init__(self, *replies: InfillReply, default: InfillReply | None = None) -> None:
        self._queue: deque[InfillReply] = deque(replies)
        self.default = default if default is not None else InfillReply()
        self.requests: list[Recorded] = []
        self.disconnects = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def script(self, *replies: InfillReply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def _next(self) -> InfillReply:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    @property
    def root_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/v1"

    def start(self) -> FakeLlamaServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                self._json(200, {"status": "ok"})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with fake._lock:
                    fake.requests.append(Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                                                  body, time.monotonic()))
                reply = fake._next()
                if reply.delay and fake._stopping.wait(reply.delay):
                    return
                if reply.status != 200:
                    self._json(reply.status, {"error": {"code": reply.status, "message": "scripted error",
                                                        "type": "server_error"}})
                    return
                if reply.hang:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    while not fake._stopping.is_set():
                        try:
                            self._chunk(b": keep-alive\n\n")
                        except OSError:
                            with fake._lock:
                                fake.disconnects += 1
                            return
                        fake._stopping.wait(0.02)
                    return
                infill = self.path.split("?")[0].rstrip("/").endswith("/infill")
                stream = isinstance(body, dict) and bool(body.get("stream"))
                if infill:
                    self._infill(reply, stream)
                else:
                    self._completions(reply, stream)

            def _pieces(self, reply: InfillReply) -> list[str]:
                text = reply.content
                size = max(1, -(-len(text) // reply.pieces)) if reply.pieces else 4
                return [text[i : i + size] for i in range(0, len(text), size)] or [""]

            def _infill(self, reply: InfillReply, stream: bool) -> None:
                final = {
                    "index": 0, "content": "" if stream else reply.content, "tokens": [], "id_slot": 0,
                    "stop": True, "model": "fake-fim", "tokens_predicted": len(reply.content) // 4,
                    "tokens_evaluated": 100, "truncated": False, "stop_type": reply.stop_type,
                    "stopping_word": "", "tokens_cached": 0, "has_new_line": "\n" in reply.content,
                    "timings": {"prompt_n": 100, "prompt_ms": 1.0, "predicted_n": 1, "predicted_ms": 1.0},
                }
                if not stream:
                    self._json(200, final)
                    return
                self._sse(
                    [{"index": 0, "content": p, "tokens": [], "stop": False, "id_slot": 0,
                      "tokens_predicted": i + 1, "tokens_evaluated": 100} for i, p in enumerate(self._pieces(reply))]
                    + [final], reply.gap, done=False,
                )

            def _completions(self, reply: InfillReply, stream: bool) -> None:
                if not stream:
                    self._json(200, {"id": "cmpl-fake", "object": "text_completion", "created": 0, "model": "fake-fim",
                                     "choices": [{"text": reply.content, "index": 0, "logprobs": None,
                                                  "finish_reason": "stop"}],
                                     "usage": {"prompt_tokens": 100, "completion_tokens": 5, "total_tokens": 105}})
                    return
                events = [{"id": "cmpl-fake", "object": "text_completion", "created": 0, "model": "fake-fim",
                           "choices": [{"text": p, "index": 0, "logprobs": None, "finish_reason": None}]}
                          for p in self._pieces(reply)]
                events.append({"id": "cmpl-fake", "object": "text_completion", "created": 0, "model": "fake-fim",
                               "choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}]})
                self._sse(events, reply.gap, done=True)

            def _sse(self, events: list[dict[str, Any]], gap: float, *, done: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for i, e in enumerate(events):
                        if i and gap and fake._stopping.wait(gap):
                            return
                        self._chunk(b"data: " + json.dumps(e).encode() + b"\n\n")
                    if done:
                        self._chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except OSError:
                    with fake._lock:
                        fake.disconnects += 1

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _json(self, status: int, obj: Any) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeLlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
