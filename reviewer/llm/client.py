"""One chat client over the ``openai`` SDK for every backend.

- Thinking and effort are sent the way each backend takes them: DeepSeek ``thinking`` +
  ``reasoning_effort``; vLLM ``chat_template_kwargs``; nothing for a generic server.
- JSON mode is ``response_format={"type": "json_object"}``. With a schema and a ``schema_style``
  the answer's JSON Schema rides along for servers that constrain output with it: "json_object"
  (``{"type": "json_object", "schema": ...}``, llama.cpp) or "json_schema" (OpenAI structured
  outputs, vLLM and SGLang). Never for DeepSeek, which takes json_object only.
- 429, 500, 502, 503, 504 and connection errors are retried with exponential backoff and jitter,
  honouring Retry-After, within ``max_retries``; 400, 401, 402, 403, 404 and 422 fail at once with
  a message that says what to do. A blank answer is retried too.
- One absolute deadline covers the whole call, retries included: the request runs in a worker
  thread and is aborted when time is up, so keep-alive blank lines cannot stretch it.
- Usage is recorded (prompt, cache hit and miss, completion, reasoning tokens, the model id the
  server reports) and priced from the model table at the time of the answer (peak or off-peak).
- The reasoning text is read from ``reasoning_content`` (DeepSeek, older vLLM) or ``reasoning``
  (newer vLLM).
"""

from __future__ import annotations

import functools
import importlib
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

import openai

from reviewer.config import ModelInfo
from reviewer.errors import BackendError
from reviewer.llm.backends import Backend
from reviewer.llm.capped import capped_http_client, too_large
from reviewer.llm.pricing import price
from reviewer.review.model import Usage

RETRY_STATUS = {429, 500, 502, 503, 504}
_FINAL_HELP = {
    400: "the server rejected the request as malformed",
    401: "authentication failed: check the API key (DEEPSEEK_API_KEY for the DeepSeek API)",
    402: "insufficient balance: top up your DeepSeek account at https://platform.deepseek.com/top_up",
    403: "the server refused the request (permission denied)",
    404: "not found: check --base-url (it usually ends in /v1) and --model",
    422: "the server rejected a parameter: check --model, --effort and the backend kind",
}

Progress = Callable[[str, int, int], None]


# What is read of an answer: its text is kept up to MAX_ANSWER_CHARS (then the answer counts as cut
# off at the limit, and reading stops), its thinking up to MAX_REASONING_CHARS (the rest is read but
# not kept); and no answer is read past these many bytes off the wire (see reviewer.llm.capped).
MAX_ANSWER_CHARS = 256_000
MAX_REASONING_CHARS = 512_000
MAX_STREAM_BYTES = 256 * 1024 * 1024  # thinking streamed a token per event is ~250 bytes a token
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass
class ChatAnswer:
    content: str
    reasoning: str
    finish_reason: str
    model: str
    usage: Usage = field(default_factory=Usage)
    capped: bool = False  # the answer was longer than the tool reads: cut at MAX_ANSWER_CHARS


class ChatClient:
    def __init__(
        self,
        backend: Backend,
        model_info: ModelInfo,
        *,
        timeout: float = 1200.0,
        max_retries: int = 5,
        stream: bool = True,
        json_schema: dict[str, Any] | None = None,
        schema_style: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 1.0,
    ) -> None:
        self.backend = backend
        self.info = model_info
        self.timeout = timeout
        self.max_retries = max_retries
        self.stream = stream
        self.json_schema = json_schema
        self.schema_style = schema_style if json_schema is not None else None
        self._sleep = sleep
        self._backoff_base = backoff_base

    # -- request shaping -------------------------------------------------------------------
    def request_body(self, messages: list[dict[str, str]], *, effort: str, json_mode: bool, max_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.backend.model, "messages": messages, "max_tokens": max_tokens}
        extra: dict[str, Any] = {}
        thinking = effort != "none"
        if self.backend.kind == "deepseek":
            extra["thinking"] = {"type": "enabled" if thinking else "disabled"}
            if thinking:
                extra["reasoning_effort"] = effort
        elif self.backend.kind == "vllm":
            kwargs: dict[str, Any] = {"thinking": thinking}
            if thinking:
                kwargs["reasoning_effort"] = effort
            extra["chat_template_kwargs"] = kwargs
        if json_mode:
            body["response_format"] = self._response_format()
        if self.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if extra:
            body["extra_body"] = extra
        return body

    def _response_format(self) -> dict[str, Any]:
        style = None if self.backend.kind == "deepseek" else self.schema_style
        if style == "json_object":
            return {"type": "json_object", "schema": self.json_schema}
        if style == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "answer", "schema": self.json_schema}}
        return {"type": "json_object"}

    # -- the call ----------------------------------------------------------------------------
    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        effort: str = "high",
        json_mode: bool = True,
        max_tokens: int = 32_768,
        progress: Progress | None = None,
    ) -> ChatAnswer:
        deadline = time.monotonic() + self.timeout
        body = self.request_body(messages, effort=effort, json_mode=json_mode, max_tokens=max_tokens)
        retries = 0
        blank_retries = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._deadline_error()
            try:
                answer = self._one_call(body, remaining, progress)
            except _Retryable as exc:
                if retries >= self.max_retries:
                    raise BackendError(
                        f"{self.backend.name}: {exc.message} (gave up after {retries + 1} attempts)",
                        hint="the server is overloaded or down; try again later or raise --timeout",
                    ) from None
                wait = exc.retry_after if exc.retry_after is not None else self._backoff(retries)
                if time.monotonic() + wait >= deadline:
                    raise self._deadline_error() from None
                retries += 1
                self._sleep(wait)
                continue
            if not answer.content.strip() and blank_retries < 2:
                blank_retries += 1
                retries += 1
                continue
            answer.usage.retries = retries
            return answer

    def _deadline_error(self) -> BackendError:
        return BackendError(
            f"{self.backend.name}: no complete answer within the deadline of {self.timeout:.0f} s",
            hint="raise --timeout, lower --effort, or review less with --budget",
        )

    def _backoff(self, attempt: int) -> float:
        return self._backoff_base * (2**attempt) * (0.5 + random.random() / 2)

    def _one_call(self, body: dict[str, Any], remaining: float, progress: Progress | None) -> ChatAnswer:
        client = openai.OpenAI(
            api_key=self.backend.api_key,
            base_url=self.backend.base_url,
            max_retries=0,
            timeout=openai.Timeout(remaining, connect=min(30.0, remaining)),
            http_client=capped_http_client(MAX_STREAM_BYTES if body.get("stream") else MAX_BODY_BYTES),
        )
        pool = ThreadPoolExecutor(max_workers=1)
        cancelled = threading.Event()
        future = pool.submit(self._request, client, body, progress, cancelled)
        try:
            return future.result(timeout=remaining)
        except FutureTimeout:
            cancelled.set()
            client.close()  # aborts the connection: the worker's read fails and it ends
            raise self._deadline_error() from None
        finally:
            pool.shutdown(wait=False)

    def _request(
        self, client: openai.OpenAI, body: dict[str, Any], progress: Progress | None, cancelled: threading.Event
    ) -> ChatAnswer:
        try:
            if body.get("stream"):
                return self._streamed(client, body, progress, cancelled)
            resp = client.chat.completions.create(**body)
            choice = resp.choices[0]
            msg = choice.message
            reasoning = (_reasoning(msg) or "")[:MAX_REASONING_CHARS]
            usage = self._usage(resp.usage, resp.model)
            content = msg.content or ""
            capped = len(content) > MAX_ANSWER_CHARS
            return ChatAnswer(content[:MAX_ANSWER_CHARS], reasoning, "length" if capped else choice.finish_reason or "",
                              resp.model or "", usage, capped)
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            self._check_size(exc)
            if cancelled.is_set():
                raise BackendError("cancelled") from None
            raise _Retryable(f"connection failed: {type(exc).__name__}") from None
        except openai.APIResponseValidationError as exc:
            raise _Retryable(f"unreadable response: {exc.message}") from None
        except openai.APIError as exc:  # an error event inside a streamed answer
            raise _Retryable(f"the server failed mid-answer: {exc.message[:300]}") from None
        except ValueError as exc:  # a cut-off JSON body
            raise _Retryable(f"unreadable response: {exc}") from None
        except Exception as exc:
            self._check_size(exc)
            # A connection dropped while a streamed answer is read surfaces as the SDK's HTTP
            # library's own error (httpx in openai 1.x/2.x, httpx2 in 3.x), not an openai one.
            if cancelled.is_set():
                raise BackendError("cancelled") from None
            if isinstance(exc, _transport_errors()):
                raise _Retryable(f"connection failed: {type(exc).__name__}") from None
            raise

    def _check_size(self, exc: BaseException) -> None:
        """A non-streamed answer past MAX_BODY_BYTES: final, not retried."""
        big = too_large(exc)
        if big is not None:
            raise BackendError(f"{self.backend.name}: {big}: not read",
                               hint="the server's answer is far larger than any review; check the server") from None

    def _streamed(
        self, client: openai.OpenAI, body: dict[str, Any], progress: Progress | None, cancelled: threading.Event
    ) -> ChatAnswer:
        content: list[str] = []
        reasoning: list[str] = []
        finish = ""
        model = ""
        usage_obj = None
        received = 0
        kept = kept_reasoning = 0
        capped = False
        stream = client.chat.completions.create(**body)
        finished = False
        try:
            for chunk in stream:
                if cancelled.is_set():
                    break
                model = chunk.model or model
                if chunk.usage is not None:
                    usage_obj = chunk.usage
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta.content:
                        content.append(delta.content[:MAX_ANSWER_CHARS - kept])
                        kept += len(content[-1])
                        received += len(delta.content)
                        capped = capped or kept >= MAX_ANSWER_CHARS
                    r = _reasoning(delta)
                    if r:
                        if kept_reasoning < MAX_REASONING_CHARS:
                            reasoning.append(r[:MAX_REASONING_CHARS - kept_reasoning])
                            kept_reasoning += len(reasoning[-1])
                        received += len(r)
                    if choice.finish_reason:
                        finish = choice.finish_reason
                        finished = True
                if progress is not None:
                    progress("answer", received, 0)
                if capped:
                    break
        except Exception as exc:
            if too_large(exc) is None:
                raise
            capped = True  # past MAX_STREAM_BYTES on the wire: what came is kept
        finally:
            stream.close()
        if capped:
            finish, finished = "length", True
        if not finished:
            raise _Retryable("the stream ended before the answer did")
        return ChatAnswer("".join(content), "".join(reasoning), finish, model, self._usage(usage_obj, model), capped)

    def _usage(self, u: Any, model: str) -> Usage:
        usage = Usage(model=model or self.backend.model, calls=1)
        if u is None:
            return usage
        extra = getattr(u, "model_extra", None) or {}
        usage.prompt_tokens = int(getattr(u, "prompt_tokens", 0) or 0)
        usage.completion_tokens = int(getattr(u, "completion_tokens", 0) or 0)
        hit = extra.get("prompt_cache_hit_tokens")
        miss = extra.get("prompt_cache_miss_tokens")
        if hit is None:
            details = getattr(u, "prompt_tokens_details", None)
            hit = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
        usage.cache_hit_tokens = int(hit or 0)
        usage.cache_miss_tokens = int(miss) if miss is not None else max(0, usage.prompt_tokens - usage.cache_hit_tokens)
        cdetails = getattr(u, "completion_tokens_details", None)
        usage.reasoning_tokens = int(getattr(cdetails, "reasoning_tokens", 0) or 0) if cdetails is not None else 0
        usage.cost_usd = price(self.info, usage)
        return usage

    def _status_error(self, exc: openai.APIStatusError) -> Exception:
        status = exc.status_code
        detail = _error_message(exc)
        if status in RETRY_STATUS:
            return _Retryable(f"HTTP {status}: {detail}", _retry_after(exc.response))
        hint = _FINAL_HELP.get(status, "the server refused the request")
        return BackendError(f"{self.backend.name} answered HTTP {status}: {detail}", hint=hint)


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _reasoning(message: Any) -> str | None:
    """The thinking text of a message or delta: ``reasoning_content`` or vLLM's ``reasoning``."""
    extra = getattr(message, "model_extra", None) or {}
    for key in ("reasoning_content", "reasoning"):
        value = extra.get(key) or getattr(message, key, None)
        if isinstance(value, str) and value:
            return value
    return None


@functools.cache
def _transport_errors() -> tuple[type[BaseException], ...]:
    """The transport and stream errors of the HTTP library the installed openai SDK is built on,
    found from the SDK's own public client class (httpx for openai 1.x/2.x, httpx2 for 3.x)."""
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for cls in openai.DefaultHttpxClient.__mro__:
        root = cls.__module__.split(".")[0]
        if root.startswith("httpx"):
            module = importlib.import_module(root)
            found += [getattr(module, n) for n in ("HTTPError", "StreamError") if isinstance(getattr(module, n, None), type)]
            break
    return tuple(found)


def _retry_after(response: Any) -> float | None:
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return max(0.0, min(float(value), 120.0)) if value is not None else None
    except ValueError:
        return None


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"][:300]
    return (exc.message or "")[:300]
