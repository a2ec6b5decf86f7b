"""Where completions come from, behind one interface.

- ``deepseek-beta``: the DeepSeek API, ``POST {base}/beta/completions`` with ``prompt`` + ``suffix``
  (non-thinking; at most 4,096 output tokens).
- ``raw``: ``POST {base}/completions`` with a raw prompt built from a family's FIM tokens
  (templates.toml) and no ``suffix`` field; this is how vLLM serves FIM.
- ``suffix``: ``POST {base}/completions`` with ``prompt`` + ``suffix`` (SGLang with a completion
  template, and other servers that accept it).
- ``infill``: a llama.cpp server's ``POST {base}/infill``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import httpx

from reviewer.errors import BackendError, ConfigError

DEEPSEEK_MAX_TOKENS = 4096


@dataclass
class FimRequest:
    prefix: str
    suffix: str
    context: list[tuple[str, str]] = field(default_factory=list)  # (filename, text), stable first
    max_tokens: int = 128
    temperature: float = 0.0


@cache
def templates() -> dict[str, dict[str, Any]]:
    text = resources.files("reviewer.fim").joinpath("templates.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def context_block(context: list[tuple[str, str]], comment: str = "#") -> str:
    """Repository context as it goes in front of the prefix for prompt-based providers."""
    parts = [f"{comment} file: {name}\n{text.rstrip()}\n" for name, text in context]
    return "\n".join(parts) + ("\n" if parts else "")


class Provider:
    name = "base"

    def __init__(self, base_url: str, *, model: str, api_key: str = "", path: str | None = None,
                 family: str = "deepseek") -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.path = path
        self.family = family

    def build(self, req: FimRequest) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def parse(self, data: dict[str, Any]) -> str:
        choices = data.get("choices") or []
        return str(choices[0].get("text") or "") if choices else ""

    def complete(self, client: httpx.Client, req: FimRequest, timeout: float) -> str:
        url, body = self.build(req)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            resp = client.post(url, json=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise BackendError(f"{self.name}: no completion within {timeout:.1f} s") from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"{self.name}: {type(exc).__name__} talking to {self.base_url}") from exc
        if resp.status_code != 200:
            raise BackendError(f"{self.name}: HTTP {resp.status_code} from {url}: {resp.text[:200]}")
        try:
            return self.parse(resp.json())
        except ValueError as exc:
            raise BackendError(f"{self.name}: unreadable response") from exc


class DeepSeekBeta(Provider):
    name = "deepseek-beta"

    def build(self, req: FimRequest) -> tuple[str, dict[str, Any]]:
        root = self.base_url.removesuffix("/v1")
        return f"{root}{self.path or '/beta/completions'}", {
            "model": self.model,
            "prompt": context_block(req.context) + req.prefix,
            "suffix": req.suffix,
            "max_tokens": min(req.max_tokens, DEEPSEEK_MAX_TOKENS),
            "temperature": req.temperature,
        }


class RawTemplate(Provider):
    name = "raw"

    def build(self, req: FimRequest) -> tuple[str, dict[str, Any]]:
        fam = templates().get(self.family)
        if fam is None:
            raise ConfigError(f"unknown FIM family {self.family!r}", hint=f"known: {', '.join(sorted(templates()))}")
        prompt = fam["template"].replace("{prefix}", context_block(req.context) + req.prefix, 1).replace(
            "{suffix}", req.suffix, 1
        )
        return f"{self.base_url}/completions", {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "stop": fam.get("stop", []),
        }


class SuffixCompletions(Provider):
    name = "suffix"

    def build(self, req: FimRequest) -> tuple[str, dict[str, Any]]:
        return f"{self.base_url}/completions", {
            "model": self.model,
            "prompt": context_block(req.context) + req.prefix,
            "suffix": req.suffix,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
        }


class LlamaInfill(Provider):
    name = "infill"

    def build(self, req: FimRequest) -> tuple[str, dict[str, Any]]:
        return f"{self.base_url.removesuffix('/v1')}/infill", {
            "input_prefix": req.prefix,
            "input_suffix": req.suffix,
            "input_extra": [{"filename": name, "text": text} for name, text in req.context],
            "n_predict": req.max_tokens,
            "temperature": req.temperature,
            "stream": False,
            "cache_prompt": True,
        }

    def parse(self, data: dict[str, Any]) -> str:
        return str(data.get("content") or "")


PROVIDERS: dict[str, type[Provider]] = {
    p.name: p for p in (DeepSeekBeta, RawTemplate, SuffixCompletions, LlamaInfill)
}


def provider_for_kind(kind: str) -> str:
    """The default provider for a backend kind."""
    return {"deepseek": "deepseek-beta", "vllm": "raw"}.get(kind, "suffix")
