"""fim-server over real HTTP, in front of a llama.cpp stand-in: the exact requests llama.vim,
llama.vscode and Continue send, streaming, 20 requests at once, supersession, the deadline, the
cache, authentication, and every bad input a client can send, after which it still serves."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from reviewer.config import load_settings
from reviewer.errors import ConfigError
from reviewer.fim.engine import FimOptions
from reviewer.fim.providers import make_provider
from reviewer.fim.server import FimHTTPServer, ServerConfig, check_bind
from reviewer.fim.service import Service, start
from tests.conftest import MakeRepo
from tests.servers.infill_fake import FakeLlamaServer, InfillReply

MAIN = (
    "from pkg.models import Request\n\n\n"
    "def fetch(url):\n"
    "    req = Request(url)\n"
    "    return req.send()\n"
)
FILES = {
    "pkg/__init__.py": "",
    "pkg/models.py": "class Request:\n    def __init__(self, url):\n        self.url = url\n\n    def send(self):\n        return 200\n",
    "app/main.py": MAIN,
    "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
    "data/big.py": "x = 1\n" * 300_000,
}

# what llama.vim (autoload/llama.vim, llama#fim) sends, field for field
LLAMA_VIM_FIELDS = ["content", "timings/prompt_n", "timings/prompt_ms", "timings/prompt_per_token_ms",
                    "timings/prompt_per_second", "timings/predicted_n", "timings/predicted_ms",
                    "timings/predicted_per_token_ms", "timings/predicted_per_second", "truncated", "tokens_cached"]


def llama_vim_request(prefix: str, middle: str, suffix: str, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "input_prefix": prefix,
        "input_suffix": suffix,
        "input_extra": [{"text": "def helper():\n    pass\n", "time": [1700000000, 1], "filename": "app/util.py"}],
        "prompt": middle,
        "n_predict": 128,
        "stop": [],
        "n_indent": 4,
        "top_k": 40,
        "top_p": 0.90,
        "stream": False,
        "samplers": ["top_k", "top_p", "infill"],
        "cache_prompt": True,
        "t_max_prompt_ms": 500,
        "t_max_predict_ms": 1000,
        "response_fields": LLAMA_VIM_FIELDS,
    }
    body.update(over)
    return body


def main_request(**over: object) -> dict[str, object]:
    lines = MAIN.split("\n")
    # cursor at the end of "    req = Request(url)" ... on the next line, after the indentation
    return llama_vim_request("\n".join(lines[:5]) + "\n", "    ", "\n" + "\n".join(lines[5:]) + "\n", **over)


@dataclass
class Running:
    server: FimHTTPServer
    upstream: FakeLlamaServer
    service: Service
    root: Path

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def make_server(make_repo: MakeRepo, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    running: list[Running] = []

    def make(options: FimOptions | None = None, token: str | None = None, default: InfillReply | None = None) -> Running:
        root = make_repo(FILES)
        upstream = FakeLlamaServer(default=default or InfillReply("return req.send()\n")).start()
        provider = make_provider("infill", upstream.root_url, model="fake-fim")
        settings = load_settings(root, {"cache_dir": str(tmp_path / "cache")})
        service = start(root, settings, provider, options or FimOptions())
        server = FimHTTPServer(ServerConfig(port=0, token=token, max_file_bytes=settings.max_file_bytes),
                               service.engine)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        r = Running(server, upstream, service, root)
        running.append(r)
        return r

    yield make
    for r in running:
        r.server.shutdown()
        r.server.server_close()
        r.service.engine.close()
        r.upstream.stop()


def wait_for(cond, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_llama_vim_request_and_response_fields(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server()
    r = httpx.post(s.url + "/infill", json=main_request(), timeout=10)
    assert r.status_code == 200, r.text
    data = r.json()
    assert set(data) == set(LLAMA_VIM_FIELDS)  # exactly the fields asked for, keyed by path
    assert data["content"] == "return req.send()\n"
    assert data["timings/prompt_n"] > 0 and data["truncated"] is False
    sent = s.upstream.requests[-1].body
    assert sent["input_prefix"].endswith("    req = Request(url)\n") and sent["prompt"] == "    "
    assert sent["input_suffix"].startswith("\n    return req.send()")
    extra = sent["input_extra"]
    assert extra[0]["filename"] == "pkg/models.py" and "class Request:" in extra[0]["text"]  # repository context
    assert extra[-1] == {"filename": "app/util.py", "text": "def helper():\n    pass\n"}  # the editor's, last
    assert sent["n_indent"] == 4 and sent["samplers"] == ["top_k", "top_p", "infill"] and sent["top_k"] == 40


def test_llama_vim_ring_update_is_answered_without_the_upstream(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server()
    body = {"input_prefix": "", "input_suffix": "", "input_extra": [{"text": "x\n", "time": [1, 2], "filename": "a.py"}],
            "prompt": "", "n_predict": 0, "temperature": 0.0, "stream": False, "samplers": [], "cache_prompt": True,
            "t_max_prompt_ms": 1, "t_max_predict_ms": 1, "response_fields": [""]}
    r = httpx.post(s.url + "/infill", json=body, timeout=10)
    assert r.status_code == 200 and r.json() == {}
    assert s.upstream.requests == []


def test_llama_vscode_request(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server()
    lines = MAIN.split("\n")
    body = {"input_prefix": "\n".join(lines[:5]) + "\n", "input_suffix": "\n", "input_extra": [],
            "prompt": "    ", "n_predict": 128, "top_k": 40, "top_p": 0.99, "stream": False,
            "samplers": ["top_k", "top_p", "infill"], "cache_prompt": True, "n_indent": 4,
            "t_max_prompt_ms": 500, "t_max_predict_ms": 2500}
    r = httpx.post(s.url + "/infill", json=body, timeout=10)
    assert r.status_code == 200
    data = r.json()
    assert data["content"] == "return req.send()\n" and data["stop"] is True
    for key in ("tokens_cached", "truncated", "timings", "generation_settings", "tokens_predicted", "tokens_evaluated"):
        assert key in data
    assert data["reviewer"]["file"] == "app/main.py" and data["reviewer"]["file_recognised"] is True


def sse(lines: Iterator[str]) -> list[str]:
    return [line[6:] for line in lines if line.startswith("data: ")]


def test_infill_streaming(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(default=InfillReply("return req.send()\n", pieces=4, gap=0.01))
    body = main_request(stream=True)
    del body["response_fields"]
    with httpx.stream("POST", s.url + "/infill", json=body, timeout=10) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
        events = sse(r.iter_lines())
    assert "[DONE]" not in events  # llama.cpp's own streams have none
    objs = [json.loads(e) for e in events]
    assert all(o["stop"] is False for o in objs[:-1]) and objs[-1]["stop"] is True
    assert "".join(o["content"] for o in objs[:-1]) == "return req.send()\n" and objs[-1]["content"] == ""
    assert len(objs) >= 3  # pieces went out as they came


def test_openai_completions_for_continue(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(default=InfillReply("return req.send()\n", pieces=3))
    lines = MAIN.split("\n")
    body = {"model": "fim", "prompt": "\n".join(lines[:5]) + "\n    ", "suffix": "\n", "max_tokens": 64,
            "temperature": 0.01, "top_p": 0.9, "frequency_penalty": 0, "presence_penalty": 0, "stop": ["\n\n"],
            "stream": False}
    r = httpx.post(s.url + "/v1/completions", json=body, timeout=10)
    assert r.status_code == 200
    data = r.json()
    assert data["object"] == "text_completion" and data["choices"][0]["text"] == "return req.send()\n"
    assert data["choices"][0]["finish_reason"] == "stop" and data["usage"]["completion_tokens"] > 0
    # streamed, on the path Continue's DeepSeek provider uses
    with httpx.stream("POST", s.url + "/beta/completions", json={**body, "stream": True, "prompt": body["prompt"] + " "},
                      timeout=10) as r:
        assert r.status_code == 200
        events = sse(r.iter_lines())
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["text"] for c in chunks) == "return req.send()\n"
    assert all(c["choices"][0]["delta"]["content"] == c["choices"][0]["text"] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_twenty_parallel_requests(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(default=InfillReply("return req.send()\n", delay=0.05))
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        r = httpx.post(s.url + "/infill", json=main_request(prompt=f"    x{i} = "),
                       headers={"X-Client-Id": f"editor-{i}"}, timeout=20)
        with lock:
            results.append((r.status_code, r.json().get("content", "")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 20
    assert all(code == 200 and text == "return req.send()\n" for code, text in results)
    assert len(s.upstream.requests) == 20
    prompts = {r.body["prompt"] for r in s.upstream.requests}
    assert len(prompts) == 20  # each request went out as itself


def test_newer_request_from_the_same_client_supersedes(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server()
    s.upstream.script(InfillReply(hang=True), InfillReply("second\n"))
    first: dict[str, object] = {}

    def old() -> None:
        r = httpx.post(s.url + "/infill", json=main_request(prompt="    a"), timeout=20)
        first["status"], first["body"] = r.status_code, r.json()

    t = threading.Thread(target=old)
    t.start()
    wait_for(lambda: len(s.upstream.requests) == 1)
    r = httpx.post(s.url + "/infill", json=main_request(prompt="    ab"), timeout=20)
    t.join(20)
    assert r.status_code == 200 and r.json()["content"] == "second\n"
    assert first["status"] == 409 and "superseded" in first["body"]["error"]["message"]  # type: ignore[index]
    wait_for(lambda: s.upstream.disconnects >= 1)  # the old upstream request was closed, not left running
    assert s.service.engine.supersession.count == 1


def test_other_clients_do_not_supersede(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(default=InfillReply("ok\n", delay=0.3))
    codes: list[int] = []
    threads = [threading.Thread(target=lambda i=i: codes.append(httpx.post(
        s.url + "/infill", json=main_request(prompt=f"    c{i}"), headers={"X-Client-Id": f"c{i}"}, timeout=20).status_code))
        for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert codes == [200, 200, 200]


def test_deadline(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(options=FimOptions(deadline=0.5), default=InfillReply("late\n", delay=5.0))
    started = time.monotonic()
    r = httpx.post(s.url + "/infill", json=main_request(), timeout=20)
    assert r.status_code == 504 and "no completion within 0.5 s" in r.json()["error"]["message"]
    assert time.monotonic() - started < 3.0
    # a slow stream keeps what arrived by the deadline
    s.upstream.script(InfillReply("line one\nline two\nline three\n", pieces=3, gap=0.4))
    body = main_request(n_indent=0)
    del body["response_fields"]
    r = httpx.post(s.url + "/infill", json=body, timeout=20)
    # pieces of 10 characters, 0.4 s apart: two arrived before the 0.5 s deadline
    assert r.status_code == 200 and r.json()["content"] == "line one\nline two\nli"
    assert r.json()["stop_type"] == "limit" and r.json()["reviewer"]["finish"] == "deadline"


def test_t_max_predict_ms_cuts_after_a_complete_line(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(default=InfillReply("a = 1\nb = 2\nc = 3\nd = 4\n", pieces=4, gap=0.15))
    body = main_request(t_max_predict_ms=200, n_indent=0)
    r = httpx.post(s.url + "/infill", json=body, timeout=20)
    text = r.json()["content"]
    assert r.status_code == 200 and text.startswith("a = 1\n") and text != "a = 1\nb = 2\nc = 3\nd = 4\n"


def test_cache_and_lru(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(options=FimOptions(cache_entries=1))
    a, b = main_request(prompt="    a"), main_request(prompt="    b")
    assert httpx.post(s.url + "/infill", json=a, timeout=10).status_code == 200
    assert httpx.post(s.url + "/infill", json=a, timeout=10).json()["content"] == "return req.send()\n"
    assert len(s.upstream.requests) == 1  # the second was a cache hit
    httpx.post(s.url + "/infill", json=b, timeout=10)
    httpx.post(s.url + "/infill", json=a, timeout=10)  # evicted by b: asked again
    assert len(s.upstream.requests) == 3


def test_bad_inputs_get_4xx_and_the_server_keeps_serving(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server()
    url = s.url + "/infill"
    cases = [
        (dict(content=b'{"input_prefix": "x", ', headers={"Content-Type": "application/json"}), 400, "malformed JSON"),
        (dict(content=b"\xff\xfe", headers={"Content-Type": "application/json"}), 400, "not UTF-8"),
        (dict(json=["not", "an", "object"]), 400, "JSON object"),
        (dict(json={"input_prefix": 42}), 400, '"input_prefix" must be a string'),
        (dict(json={"filename": "../../etc/passwd", "line": 1}), 403, "outside the repository"),
        (dict(json={"filename": "/etc/passwd", "line": 1}), 403, "outside the repository"),
        (dict(json={"filename": "assets/logo.png", "line": 1}), 415, "binary"),
        (dict(json={"filename": "data/big.py", "line": 1}), 413, "too large"),
        (dict(json={"filename": "app/main.py", "line": 999, "column": 1}), 400, "past the end of the file"),
        (dict(json={"filename": "app/main.py", "line": 1, "column": 500}), 400, "past the end of line 1"),
        (dict(json={"filename": "nope.py", "line": 1}), 404, "no such file"),
        (dict(content=b"x" * (9 * 1024 * 1024), headers={"Content-Type": "application/json"}), 413, "too large"),
    ]
    for kwargs, status, message in cases:
        r = httpx.post(url, timeout=20, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == status, (kwargs.get("json"), r.text)
        assert message in r.json()["error"]["message"]
        assert r.json()["error"]["code"] == status
    assert httpx.post(s.url + "/nowhere", json={}, timeout=10).status_code == 404
    assert httpx.put(url, json={}, timeout=10).status_code == 405
    assert httpx.post(s.url + "/v1/completions", json={"prompt": "x", "n": 3}, timeout=10).status_code == 400
    assert s.upstream.requests == []  # nothing bad reached the upstream
    # still serving, and a file named by the client works
    r = httpx.post(url, json={"filename": "app/main.py", "line": 6, "column": 5}, timeout=10)
    assert r.status_code == 200 and r.json()["content"] == "return req.send()\n"
    assert s.upstream.requests[-1].body["input_prefix"].endswith("req = Request(url)\n")
    assert httpx.get(s.url + "/health", timeout=10).json()["status"] == "ok"


def test_upstream_failure_is_a_502(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(default=InfillReply(status=500))
    r = httpx.post(s.url + "/infill", json=main_request(), timeout=10)
    assert r.status_code == 502 and "HTTP 500" in r.json()["error"]["message"]
    s.upstream.default = InfillReply("fine\n")
    assert httpx.post(s.url + "/infill", json=main_request(prompt="  "), timeout=10).status_code == 200


def test_token_and_loopback(make_server) -> None:  # type: ignore[no-untyped-def]
    s = make_server(token="s3cret")
    assert httpx.post(s.url + "/infill", json=main_request(), timeout=10).status_code == 401
    bad = httpx.post(s.url + "/infill", json=main_request(), headers={"Authorization": "Bearer nope"}, timeout=10)
    assert bad.status_code == 401 and "token" in bad.json()["error"]["message"]
    ok = httpx.post(s.url + "/infill", json=main_request(), headers={"Authorization": "Bearer s3cret"}, timeout=10)
    assert ok.status_code == 200
    assert httpx.get(s.url + "/health", timeout=10).status_code == 200  # health stays open
    assert httpx.get(s.url + "/v1/models", timeout=10).status_code == 401
    with pytest.raises(ConfigError, match="refusing"):
        check_bind(ServerConfig(host="0.0.0.0"))
    with pytest.raises(ConfigError, match="needs a token"):
        check_bind(ServerConfig(host="0.0.0.0", allow_remote=True))
    check_bind(ServerConfig(host="0.0.0.0", allow_remote=True, token="t"))


EDITORS = Path(__file__).resolve().parents[2] / "integrations" / "editors"


def test_shipped_editor_configurations_reach_the_server(make_server) -> None:  # type: ignore[no-untyped-def]
    """Every configuration in integrations/editors names an endpoint fim-server serves, on its
    default port, and a request of that editor's shape sent there is answered."""
    import re
    from urllib.parse import urljoin, urlsplit

    import yaml

    from reviewer.cli.fim_cmd import fim_server

    default_port = next(p.default for p in fim_server.params if p.name == "port")
    s = make_server(default=InfillReply("return req.send()\n", pieces=2))
    lines = MAIN.split("\n")
    prefix, suffix = "\n".join(lines[:5]) + "\n    ", "\n"

    def local(url: str) -> str:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.port == default_port, url
        return s.url + parts.path

    vimrc = (EDITORS / "vim" / "llama.vim.vimrc").read_text()
    for key in ("endpoint", "endpoint_fim"):
        url = re.search(rf"'{key}':\s*'([^']+)'", vimrc).group(1)  # type: ignore[union-attr]
        assert httpx.post(local(url), json=main_request(), timeout=10).status_code == 200
    lua = (EDITORS / "neovim" / "llama.lua").read_text()
    base = re.search(r'or "(http://[^"]+)"', lua).group(1)  # type: ignore[union-attr]
    assert '.. "/infill"' in lua and httpx.post(local(base + "/infill"), json=main_request(), timeout=10).status_code == 200

    settings = (EDITORS / "vscode" / "settings.json").read_text()
    settings = re.sub(r"(?m)^\s*//.*$|,\s*//[^\n]*", lambda m: "," if m.group(0).lstrip().startswith(",") else "", settings)
    endpoint = json.loads(settings)["llama-vscode.endpoint"]
    body = {"input_prefix": "\n".join(lines[:5]) + "\n", "input_suffix": "\n", "input_extra": [], "prompt": "    ",
            "n_predict": 128, "top_k": 40, "top_p": 0.99, "stream": False, "samplers": ["top_k", "top_p", "infill"],
            "cache_prompt": True, "t_max_prompt_ms": 500, "t_max_predict_ms": 2500}
    r = httpx.post(local(endpoint + "/infill"), json=body, timeout=10)  # llama.vscode appends /infill
    assert r.status_code == 200 and r.json()["content"] == "return req.send()\n"

    cont = yaml.safe_load((EDITORS / "continue" / "config.yaml").read_text())
    model = cont["models"][0]
    assert model["provider"] == "deepseek" and "autocomplete" in model["roles"]
    url = urljoin(model["apiBase"], "beta/completions")  # what Continue's deepseek provider does
    body = {"model": model["model"], "prompt": prefix, "suffix": suffix, "max_tokens": 256, "temperature": 0.01,
            "top_p": None, "frequency_penalty": None, "presence_penalty": None, "stop": ["\n\n"], "stream": True}
    with httpx.stream("POST", local(url), json=body, headers={"Authorization": f"Bearer {model['apiKey']}"},
                      timeout=10) as r:
        assert r.status_code == 200
        events = sse(r.iter_lines())
    assert "".join(json.loads(e)["choices"][0]["text"] for e in events[:-1]) == "return req.send()\n"

    minuet = (EDITORS / "neovim" / "minuet.lua").read_text()
    end_point = re.search(r'end_point = "([^"]+)"', minuet).group(1)  # type: ignore[union-attr]
    body = {"model": "fim", "prompt": prefix, "suffix": suffix, "stream": True, "max_tokens": 128, "stop": ["\n\n\n"]}
    with httpx.stream("POST", local(end_point), json=body, timeout=10) as r:
        assert r.status_code == 200
        assert sse(r.iter_lines())[-1] == "[DONE]"
