"""The local OpenAI-protocol server used by the review, PR and FIM tests: its own behaviour,
checked with plain HTTP and with the real openai SDK."""

from __future__ import annotations

import http.client
import json

import openai
import pytest

from tests.servers import openai_fake
from tests.servers.openai_fake import FakeOpenAI, Reply

openai_server = openai_fake.openai_server  # the fixture, visible to this module's tests


def post(server: FakeOpenAI, path: str, body: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", "Authorization": "Bearer k"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def test_chat_plain_with_deepseek_usage_and_reasoning(openai_server: FakeOpenAI) -> None:
    openai_server.script(Reply(content='{"findings": []}', reasoning="thinking..."))
    status, _, data = post(openai_server, "/v1/chat/completions", {"model": "m", "messages": []})
    assert status == 200
    doc = json.loads(data)
    msg = doc["choices"][0]["message"]
    assert msg["content"] == '{"findings": []}' and msg["reasoning_content"] == "thinking..."
    usage = doc["usage"]
    assert usage["prompt_cache_hit_tokens"] + usage["prompt_cache_miss_tokens"] == usage["prompt_tokens"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 5
    (rec,) = openai_server.requests
    assert rec.headers["authorization"] == "Bearer k" and rec.body == {"model": "m", "messages": []}


def test_streamed_chat_through_the_sdk(openai_server: FakeOpenAI) -> None:
    text = '{"findings": [' + '"x", ' * 30 + '"y"]}'
    openai_server.script(Reply(content=text, reasoning="why", reasoning_field="reasoning", keepalive=3))
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="k", max_retries=0)
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True,
                                            stream_options={"include_usage": True})
    content, reasoning, finish, usage = [], [], None, None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            content.append(choice.delta.content or "")
            reasoning.append((choice.delta.model_extra or {}).get("reasoning") or "")
            finish = choice.finish_reason or finish
    assert "".join(content) == text and "".join(reasoning) == "why"
    assert finish == "stop" and usage is not None and usage.prompt_tokens == 1000


def test_errors_carry_an_openai_body_and_retry_after(openai_server: FakeOpenAI) -> None:
    openai_server.script(Reply(status=429, retry_after=2, error_message="slow down"), Reply(status=402))
    status, headers, data = post(openai_server, "/v1/chat/completions", {})
    assert status == 429 and headers["retry-after"] == "2"
    assert json.loads(data)["error"]["message"] == "slow down"
    assert post(openai_server, "/v1/chat/completions", {})[0] == 402
    assert post(openai_server, "/v1/chat/completions", {})[0] == 500  # script empty: the default


def test_keepalive_lines_precede_the_body_and_truncation_cuts_it(openai_server: FakeOpenAI) -> None:
    openai_server.script(Reply(keepalive=4), Reply(truncate=True))
    _, _, data = post(openai_server, "/v1/chat/completions", {})
    assert data.startswith(b"\n\n\n\n{") and json.loads(data)["choices"]
    with pytest.raises((ValueError, http.client.HTTPException)):
        _, _, data = post(openai_server, "/v1/chat/completions", {})
        json.loads(data)


def test_fim_endpoints_and_their_own_scripts(openai_server: FakeOpenAI) -> None:
    openai_server.script(Reply(content="chat answer"))
    openai_server.script(Reply(content="    return a + b\n"), endpoint="completions")
    openai_server.script(Reply(content="x = 1"), endpoint="infill")
    status, _, data = post(openai_server, "/beta/completions", {"model": "m", "prompt": "def add(a, b):\n", "suffix": "\n"})
    assert status == 200 and json.loads(data)["choices"][0]["text"] == "    return a + b\n"
    _, _, data = post(openai_server, "/infill", {"input_prefix": "a", "input_suffix": "b"})
    assert json.loads(data)["content"] == "x = 1"
    _, _, data = post(openai_server, "/v1/chat/completions", {"messages": []})
    assert json.loads(data)["choices"][0]["message"]["content"] == "chat answer"
    fim = openai_server.completion_requests()
    assert [r.path for r in fim] == ["/beta/completions", "/infill"]
    assert fim[0].body["suffix"] == "\n" and fim[1].body["input_prefix"] == "a"
    assert len(openai_server.chat_requests()) == 1


def test_models_list() -> None:
    with FakeOpenAI(models=("a", "b")) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        assert [m.id for m in client.models.list()] == ["a", "b"]
