"""Where completions come from, behind one interface.

- ``deepseek-beta``: the DeepSeek API, ``POST {base}/beta/completions`` with ``prompt`` + ``suffix``
  (a non-thinking completion; at most 4,096 output tokens).
- ``raw``: ``POST {base}/completions`` with a raw prompt built from a family's FIM tokens
  (``templates.toml``) and no ``suffix`` field: how vLLM serves FIM (it rejects ``suffix``).
- ``suffix``: ``POST {base}/completions`` with ``prompt`` + ``suffix`` (SGLang with a completion
  template, and other servers that accept it).
- ``infill``: a llama.cpp server's ``POST {base}/infill`` (``input_prefix``, ``input_suffix``,
  ``input_extra``, ``prompt``), which applies the model's own FIM tokens.

Every provider streams (server-sent events) so that a completion can be cut short the moment the
editor no longer wants it; a server that answers a streamed request with plain JSON is read too.
"""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import httpx

from reviewer.errors import BackendError, ConfigError

DEEPSEEK_MAX_TOKENS = 4096

# llama.cpp sampling options an editor may send that are passed on to a llama.cpp upstream as is
INFILL_PASSTHROUGH = (
    "top_k", "top_p", "min_p", "typical_p", "samplers", "n_indent", "t_max_prompt_ms", "t_max_predict_ms",
    "repeat_penalty", "repeat_last_n", "presence_penalty", "frequency_penalty", "seed", "n_probs",
    "cache_prompt", "id_slot", "dry_multiplier",
)
# OpenAI completion options passed on to an OpenAI-protocol upstream
OPENAI_PASSTHROUGH = ("top_p", "seed", "presence_penalty", "frequency_penalty")


@dataclass
class FimRequest:
    prefix: str  # everything before the cursor, the cursor's own line included
    suffix: str
    context: list[tuple[str, str]] = field(default_factory=list)  # (filename, text), stable first
    max_tokens: int = 128
    temperature: float = 0.0
    stop: list[str] = field(default_factory=list)
    language: str | None = None  # of the file being edited: the comment syntax of the context
    path: str | None = None  # the file being edited, repository-relative, when known
    repo: str = ""  # the repository's name, for families with a repository header
    options: dict[str, Any] = field(default_factory=dict)  # sampling options passed through


@dataclass
class Delta:
    text: str = ""
    finish: str | None = None  # "stop" | "length" when the upstream says it is done
    usage: dict[str, Any] | None = None


@cache
def _tables() -> dict[str, Any]:
    text = resources.files("reviewer.fim").joinpath("templates.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def templates() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in _tables().items() if k != "comments"}


def comment_for(language: str | None) -> str:
    return str(_tables().get("comments", {}).get(language or "", "//"))


def context_block(context: list[tuple[str, str]], language: str | None = None, path: str | None = None) -> str:
    """Context as plain text in front of the prefix: each file under a comment naming it, and
    the edited file's own name last, so the prefix reads as that file's beginning."""
    if not context:
        return ""
    c = comment_for(language)
    parts = [f"{c} {name}\n{text.rstrip()}\n" for name, text in context]
    if path:
        parts.append(f"{c} {path}\n")
    return "".join(parts)


class Provider:
    name = "base"
    default_path = "/completions"

    def __init__(self, base_url: str, *, model: str, api_key: str = "", path: str | None = None,
                 family: str = "deepseek") -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.path = path
        self.family = family

    def url(self) -> str:
        return f"{self.base_url}{self.path or self.default_path}"

    def build(self, req: FimRequest, stream: bool) -> dict[str, Any]:
        raise NotImplementedError

    def prompt_text(self, req: FimRequest) -> str:
        """The text the model reads before the hole, as sent (for reports and tests)."""
        return str(self.build(req, False).get("prompt", ""))

    # -- answers --------------------------------------------------------------------------

    def parse(self, data: dict[str, Any]) -> Delta:
        choices = data.get("choices") or []
        if not choices:
            return Delta(usage=data.get("usage"))
        c = choices[0]
        text = c.get("text")
        if text is None:
            text = (c.get("delta") or {}).get("content") or ""
        return Delta(str(text), c.get("finish_reason"), data.get("usage"))

    def stream(self, client: httpx.Client, req: FimRequest, timeout: float, *,
               cancel: threading.Event | None = None,
               on_open: Callable[[httpx.Response], None] | None = None) -> Iterator[Delta]:
        """The completion as it arrives. Setting ``cancel`` (checked at every line) or closing the
        response handed to ``on_open`` (from another thread) ends it and closes the connection,
        which is how a superseded request stops the upstream's work."""
        body = self.build(req, True)
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        t = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        try:
            with client.stream("POST", self.url(), json=body, headers=headers, timeout=t) as resp:
                if on_open is not None:
                    on_open(resp)
                if resp.status_code != 200:
                    raw = _read_capped(resp, MAX_ERROR_BYTES, self.name, truncate=True)
                    raise BackendError(f"{self.name}: HTTP {resp.status_code} from {self.url()}: {_error_text(raw)}")
                if "text/event-stream" not in resp.headers.get("content-type", ""):
                    raw = _read_capped(resp, MAX_ANSWER_BYTES, self.name)
                    try:
                        yield self.parse(json.loads(raw))
                    except (ValueError, RecursionError, AttributeError) as exc:
                        raise BackendError(f"{self.name}: unreadable response from {self.url()}") from exc
                    return
                for line in _capped_lines(resp, MAX_ANSWER_BYTES, self.name):
                    if cancel is not None and cancel.is_set():
                        return
                    if line.startswith("error:"):
                        raise BackendError(f"{self.name}: {line[6:].strip()[:200]}")
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    try:
                        obj = json.loads(payload)
                    except (ValueError, RecursionError) as exc:
                        raise BackendError(f"{self.name}: unreadable event from {self.url()}") from exc
                    if isinstance(obj, dict) and "error" in obj and not obj.get("choices"):
                        err = obj["error"]
                        raise BackendError(f"{self.name}: {err.get('message', err) if isinstance(err, dict) else err}")
                    delta = self.parse(obj)
                    yield delta
                    if delta.finish is not None and self.name == "infill":
                        return
        except httpx.TimeoutException as exc:
            raise BackendError(f"{self.name}: no answer from {self.url()} within {timeout:.1f} s") from exc
        except httpx.HTTPError as exc:
            if cancel is not None and cancel.is_set():
                return  # closed on purpose
            raise BackendError(f"{self.name}: {type(exc).__name__} talking to {self.url()}") from exc

    def complete(self, client: httpx.Client, req: FimRequest, timeout: float) -> str:
        return "".join(d.text for d in self.stream(client, req, timeout))


# what is read of an upstream's answer: a completion is a few hundred tokens, so an answer larger
# than this is broken or hostile, and is not read further
MAX_ANSWER_BYTES = 4 * 1024 * 1024
MAX_ERROR_BYTES = 64 * 1024


def _read_capped(resp: httpx.Response, limit: int, name: str, *, truncate: bool = False) -> bytes:
    """The body, at most ``limit`` bytes: past it, the first ``limit`` bytes (``truncate``) or an error."""
    parts: list[bytes] = []
    seen = 0
    for chunk in resp.iter_bytes():
        seen += len(chunk)
        if seen > limit:
            if truncate:
                parts.append(chunk[: len(chunk) - (seen - limit)])
                break
            raise BackendError(f"{name}: the answer is larger than {limit:,} bytes: not read")
        parts.append(chunk)
    return b"".join(parts)


def _capped_lines(resp: httpx.Response, limit: int, name: str) -> Iterator[str]:
    """The body's lines, reading at most ``limit`` bytes in all (a line is never held longer)."""
    pending = b""
    seen = 0
    for chunk in resp.iter_bytes():
        seen += len(chunk)
        if seen > limit:
            raise BackendError(f"{name}: the answer is larger than {limit:,} bytes: not read")
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.rstrip(b"\r").decode("utf-8", "replace")
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", "replace")


def _error_text(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        err = data.get("error", data)
        msg = err.get("message", err) if isinstance(err, dict) else err
        return str(msg)[:200]
    except (ValueError, RecursionError, AttributeError):
        return raw[:200].decode("utf-8", "replace")


class DeepSeekBeta(Provider):
    name = "deepseek-beta"
    default_path = "/beta/completions"

    def url(self) -> str:
        return f"{self.base_url.removesuffix('/v1')}{self.path or self.default_path}"

    def build(self, req: FimRequest, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": context_block(req.context, req.language, req.path) + req.prefix,
            "suffix": req.suffix,
            "max_tokens": max(1, min(req.max_tokens, DEEPSEEK_MAX_TOKENS)),
            "temperature": req.temperature,
            "stream": stream,
        }
        if req.stop:
            body["stop"] = req.stop[:16]
        body.update({k: v for k, v in req.options.items() if k in OPENAI_PASSTHROUGH})
        return body


class RawTemplate(Provider):
    name = "raw"

    def build(self, req: FimRequest, stream: bool) -> dict[str, Any]:
        fam = templates().get(self.family)
        if fam is None:
            raise ConfigError(f"unknown FIM family {self.family!r}", hint=f"known: {', '.join(sorted(templates()))}")
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": render_template(fam, req),
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "stop": list(dict.fromkeys([*fam.get("stop", []), *req.stop])),
            "stream": stream,
        }
        body.update({k: v for k, v in req.options.items() if k in OPENAI_PASSTHROUGH})
        return body


def render_template(fam: dict[str, Any], req: FimRequest) -> str:
    """A family's raw FIM prompt. Placeholders are filled in one pass, so text that happens to
    contain ``{suffix}`` is never substituted again."""
    context = ""
    if req.context:
        comment = comment_for(req.language)
        item = fam.get("context_item", "{comment} {filename}\n{text}\n")
        context = _fill(fam.get("context_head", ""), repo=req.repo or "repository")
        context += "".join(_fill(item, filename=n, text=t.rstrip(), comment=comment) for n, t in req.context)
        if req.path:
            context += _fill(fam.get("context_tail", ""), path=req.path, comment=comment)
    return _fill(fam["template"], context=context, prefix=req.prefix, suffix=req.suffix)


def _fill(template: str, **values: str) -> str:
    out = []
    i = 0
    while i < len(template):
        j = template.find("{", i)
        if j == -1:
            out.append(template[i:])
            break
        k = template.find("}", j)
        key = template[j + 1 : k] if k != -1 else ""
        if key in values:
            out.append(template[i:j])
            out.append(values[key])
            i = k + 1
        else:
            out.append(template[i : j + 1])
            i = j + 1
    return "".join(out)


class SuffixCompletions(Provider):
    name = "suffix"

    def build(self, req: FimRequest, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": context_block(req.context, req.language, req.path) + req.prefix,
            "suffix": req.suffix,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "stream": stream,
        }
        if req.stop:
            body["stop"] = req.stop
        body.update({k: v for k, v in req.options.items() if k in OPENAI_PASSTHROUGH})
        return body


class LlamaInfill(Provider):
    name = "infill"
    default_path = "/infill"

    def url(self) -> str:
        return f"{self.base_url.removesuffix('/v1')}{self.path or self.default_path}"

    def build(self, req: FimRequest, stream: bool) -> dict[str, Any]:
        head, sep, line = req.prefix.rpartition("\n")
        body: dict[str, Any] = {
            "input_prefix": head + sep,
            "input_suffix": req.suffix,
            "input_extra": [{"filename": name, "text": text} for name, text in req.context],
            "prompt": line,
            "n_predict": req.max_tokens,
            "temperature": req.temperature,
            "stream": stream,
            "cache_prompt": True,
        }
        if req.stop:
            body["stop"] = req.stop
        body.update({k: v for k, v in req.options.items() if k in INFILL_PASSTHROUGH})
        return body

    def prompt_text(self, req: FimRequest) -> str:
        return req.prefix

    def parse(self, data: dict[str, Any]) -> Delta:
        finish = None
        if data.get("stop"):
            finish = "length" if data.get("stop_type") == "limit" else "stop"
        return Delta(str(data.get("content") or ""), finish, None)


PROVIDERS: dict[str, type[Provider]] = {
    p.name: p for p in (DeepSeekBeta, RawTemplate, SuffixCompletions, LlamaInfill)
}


def provider_for_kind(kind: str) -> str:
    """The default provider for a backend kind."""
    return {"deepseek": "deepseek-beta", "vllm": "raw"}.get(kind, "suffix")


def make_provider(name: str, base_url: str, *, model: str, api_key: str = "", path: str | None = None,
                  family: str = "deepseek") -> Provider:
    cls = PROVIDERS.get(name)
    if cls is None:
        raise ConfigError(f"unknown FIM provider {name!r}", hint=f"known: {', '.join(sorted(PROVIDERS))}")
    if name == "raw" and family not in templates():
        raise ConfigError(f"unknown FIM family {family!r}", hint=f"known: {', '.join(sorted(templates()))}")
    return cls(base_url, model=model, api_key=api_key, path=path, family=family)
