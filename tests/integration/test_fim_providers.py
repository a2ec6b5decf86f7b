"""Each FIM provider against a real local HTTP server standing in for its upstream, with the
request bodies recorded: the DeepSeek beta endpoint's ``suffix``, vLLM's raw prompt (BOS and FIM
tokens, no ``suffix``), servers that take ``suffix``, llama.cpp's ``/infill``; streamed and not;
errors, timeouts, unreachable servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reviewer.errors import BackendError
from reviewer.fim.providers import FimRequest, make_provider
from tests.conftest import MakeRepo
from tests.servers.infill_fake import FakeLlamaServer, InfillReply
from tests.servers.openai_fake import FakeOpenAI, Reply

BOS = "<｜begin▁of▁sentence｜>"
REQ = FimRequest(prefix="def add(a, b):\n    return ", suffix="\n\nprint(add(1, 2))\n",
                 context=[("lib/math.py", "def mul(a, b): ...")], language="python", path="app.py", max_tokens=64)


@pytest.fixture
def http() -> httpx.Client:
    with httpx.Client() as c:
        yield c


def test_deepseek_beta_sends_prompt_and_suffix(http: httpx.Client) -> None:
    with FakeOpenAI(Reply(content="a + b")) as up:
        p = make_provider("deepseek-beta", up.root_url, model="deepseek-v4-flash", api_key="sk-test")
        assert p.complete(http, FimRequest(**{**REQ.__dict__, "max_tokens": 9000}), 5.0) == "a + b"
        rec = up.requests[-1]
    assert rec.path == "/beta/completions"
    assert rec.headers["authorization"] == "Bearer sk-test"
    assert rec.body["suffix"] == "\n\nprint(add(1, 2))\n"
    assert rec.body["prompt"] == "# lib/math.py\ndef mul(a, b): ...\n# app.py\ndef add(a, b):\n    return "
    assert rec.body["max_tokens"] == 4096 and rec.body["model"] == "deepseek-v4-flash"


def test_vllm_raw_prompt_has_bos_and_fim_tokens_and_no_suffix(http: httpx.Client) -> None:
    with FakeOpenAI(Reply(content="a + b")) as up:
        p = make_provider("raw", up.base_url, model="deepseek-ai/DeepSeek-V4-Flash", family="deepseek")
        assert p.complete(http, REQ, 5.0) == "a + b"
        rec = up.requests[-1]
    assert rec.path == "/v1/completions"
    assert "suffix" not in rec.body
    assert rec.body["prompt"] == (
        BOS + "<｜fim▁begin｜># lib/math.py\ndef mul(a, b): ...\n# app.py\ndef add(a, b):\n    return "
        "<｜fim▁hole｜>\n\nprint(add(1, 2))\n<｜fim▁end｜>"
    )
    assert "authorization" not in rec.headers  # no key configured, none sent


def test_suffix_servers(http: httpx.Client) -> None:
    with FakeOpenAI(Reply(content="a + b")) as up:
        p = make_provider("suffix", up.base_url, model="sglang-model")
        assert p.complete(http, REQ, 5.0) == "a + b"
        body = up.requests[-1].body
    assert up.requests[-1].path == "/v1/completions"
    assert body["suffix"] == REQ.suffix and body["prompt"].endswith("def add(a, b):\n    return ")


def test_llama_cpp_infill_streamed(http: httpx.Client) -> None:
    with FakeLlamaServer(InfillReply("a + b\n", pieces=3)) as up:
        p = make_provider("infill", up.root_url, model="local")
        pieces = [d.text for d in p.stream(http, REQ, 5.0)]
        body = up.requests[-1].body
    assert "".join(pieces) == "a + b\n" and len([x for x in pieces if x]) == 3
    assert up.requests[-1].path == "/infill"
    assert body["input_prefix"] == "def add(a, b):\n" and body["prompt"] == "    return "
    assert body["input_extra"] == [{"filename": "lib/math.py", "text": "def mul(a, b): ..."}]
    assert body["stream"] is True and body["n_predict"] == 64


def test_openai_style_stream(http: httpx.Client) -> None:
    with FakeLlamaServer(InfillReply("return a + b\n", pieces=4)) as up:
        p = make_provider("suffix", up.base_url, model="m")
        deltas = list(p.stream(http, REQ, 5.0))
    assert "".join(d.text for d in deltas) == "return a + b\n"
    assert deltas[-1].finish == "stop"


def test_upstream_errors_are_backend_errors(http: httpx.Client) -> None:
    with FakeLlamaServer(InfillReply(status=500), InfillReply(delay=2.0)) as up:
        p = make_provider("infill", up.root_url, model="local")
        with pytest.raises(BackendError, match="HTTP 500"):
            p.complete(http, REQ, 5.0)
        with pytest.raises(BackendError, match=r"within 0\.3 s"):
            p.complete(http, REQ, 0.3)
    dead = make_provider("suffix", "http://127.0.0.1:9/v1", model="m")
    with pytest.raises(BackendError, match="talking to"):
        dead.complete(http, REQ, 1.0)


def test_reviewer_fim_cli_through_a_vllm_stand_in(make_repo: MakeRepo, tmp_path: Path) -> None:
    """The command as a user runs it: the raw DeepSeek template with repository context."""
    root = make_repo({
        "lib/geometry.py": "def area(width: float, height: float) -> float:\n    return width * height\n",
        "app.py": "from lib.geometry import area\n\n\ndef report(w, h):\n    value = \n    return value\n",
    })
    env = {k: v for k, v in os.environ.items() if k != "DEEPSEEK_API_KEY" and not k.startswith("REVIEWER_")}
    env["REVIEWER_CACHE_DIR"] = str(tmp_path / "cache")
    with FakeOpenAI(Reply(content="area(w, h)")) as up:
        proc = subprocess.run(
            [sys.executable, "-m", "reviewer", "fim", str(root / "app.py"), "--line", "5", "--col", "13",
             "--backend", "vllm", "--base-url", up.base_url, "--model", "deepseek-ai/DeepSeek-V4-Flash"],
            capture_output=True, text=True, env=env, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "area(w, h)"
        prompt = up.requests[-1].body["prompt"]
    assert up.requests[-1].path == "/v1/completions" and "suffix" not in up.requests[-1].body
    assert prompt.startswith(BOS + "<｜fim▁begin｜># lib/geometry.py\ndef area(width: float, height: float) -> float:")
    assert prompt.endswith("# app.py\nfrom lib.geometry import area\n\n\ndef report(w, h):\n    value = "
                           "<｜fim▁hole｜>\n    return value\n<｜fim▁end｜>")
    # a cursor past the end is a usage error: exit 2, one line, no traceback
    proc = subprocess.run([sys.executable, "-m", "reviewer", "fim", str(root / "app.py"), "--line", "99",
                           "--dry-run"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "past the end of the file" in proc.stderr and "Traceback" not in proc.stderr
