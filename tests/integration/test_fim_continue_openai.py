"""Continue's ``openai`` provider (integrations/editors/continue/config.json): it has no FIM of its
own, so it renders its template for the model's name into ``prompt`` and posts it to
``{apiBase}completions`` without ``suffix``. fim-server takes the FIM tokens apart, adds its
context and sends the upstream a clean prefix and suffix."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from reviewer.fim.protocol import split_fim_prompt
from tests.integration import test_fim_server
from tests.integration.test_fim_server import EDITORS, MAIN, sse
from tests.servers.infill_fake import InfillReply

make_server = test_fim_server.make_server  # the fixture: fim-server in front of a llama.cpp stand-in

# Continue's templates (core/autocomplete/templating), by model name
TEMPLATES = {
    "deepseek-coder": "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
    "qwen2.5-coder": "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    "starcoder2": "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
}


@pytest.mark.parametrize("model", sorted(TEMPLATES))
def test_split_every_continue_template(model: str) -> None:
    prefix, suffix = "def f(x):\n    return ", "\n\nprint(f(1))\n"
    prompt = TEMPLATES[model].format(prefix=prefix, suffix=suffix)
    assert split_fim_prompt(prompt) == (prefix, suffix)
    assert split_fim_prompt("<｜begin▁of▁sentence｜>" + prompt) == (prefix, suffix)


def test_plain_prompts_are_left_alone() -> None:
    assert split_fim_prompt("def f(x):\n    return ") is None
    assert split_fim_prompt("x = '<fim_prefix>'\ny = ") is None  # no end token at the end


def test_continue_openai_provider_through_fim_server(make_server) -> None:  # type: ignore[no-untyped-def]
    cfg = json.loads((EDITORS / "continue" / "config.json").read_text())["tabAutocompleteModel"]
    assert cfg["provider"] == "openai" and cfg["useLegacyCompletionsEndpoint"] is True
    s = make_server(default=InfillReply("req.send()\n", pieces=2))
    parts = urlsplit(urljoin(cfg["apiBase"], "completions"))  # what Continue's openai provider does
    assert parts.hostname == "127.0.0.1" and parts.port == 8012 and parts.path == "/v1/completions"
    lines = MAIN.split("\n")
    prefix, suffix = "\n".join(lines[:5]) + "\n    return ", "\n"
    body = {"model": cfg["model"], "prompt": TEMPLATES["deepseek-coder"].format(prefix=prefix, suffix=suffix),
            "max_tokens": 256, "temperature": 0.01, "stop": ["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "\n\n"],
            "stream": True}
    with httpx.stream("POST", s.url + parts.path, json=body, headers={"Authorization": f"Bearer {cfg['apiKey']}"},
                      timeout=10) as r:
        assert r.status_code == 200
        events = sse(r.iter_lines())
    assert events[-1] == "[DONE]"
    assert "".join(json.loads(e)["choices"][0]["text"] for e in events[:-1]) == "req.send()\n"
    sent = s.upstream.requests[-1].body
    assert sent["input_prefix"] + sent["prompt"] == prefix and sent["input_suffix"] == suffix
    assert "fim" not in sent["input_prefix"] + sent["prompt"] + sent["input_suffix"]
    # the repository context came from fim-server: the definition of Request from pkg/models.py
    extra = {c["filename"]: c["text"] for c in sent["input_extra"]}
    assert "class Request" in extra.get("pkg/models.py", ""), extra


def test_shipped_continue_json_is_valid(tmp_path: Path) -> None:
    cfg = json.loads((EDITORS / "continue" / "config.json").read_text())
    assert cfg["tabAutocompleteModel"]["apiBase"].endswith("/v1/")  # Continue joins "completions" to it
