"""The two wire protocols fim-server speaks, read and written exactly as their clients expect.

llama.cpp ``POST /infill`` (what llama.vim and llama.vscode send): ``input_prefix``,
``input_suffix``, ``input_extra`` ``[{filename, text}]``, ``prompt`` (the cursor line's text
before the cursor, which llama.cpp places after the middle token), ``n_predict``, ``stream``,
``stop``, ``n_indent``, ``t_max_prompt_ms``, ``t_max_predict_ms``, ``response_fields`` and the
sampling options. The answer is llama.cpp's: ``content``, ``stop``, ``stop_type``,
``tokens_predicted``, ``tokens_evaluated``, ``timings`` {...}, ``truncated``,
``tokens_cached``...; with ``response_fields`` only the named paths, keyed by the path itself
(``"timings/prompt_n"``), as llama.cpp does. Streaming is server-sent events of partial results,
the last one with ``"stop": true``, and no ``[DONE]``. Errors are
``{"error": {"code", "message", "type"}}``.

OpenAI ``POST /v1/completions`` (Continue, and anything OpenAI-shaped): ``prompt``, ``suffix``,
``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``stream``; the answer is a
``text_completion`` (streamed: chunks, then ``data: [DONE]``). Each streamed choice carries the
text both as ``text`` and as ``delta.content``: Continue reads the first from DeepSeek-style
providers and the second from its OpenAI provider.

A ``/v1/completions`` prompt that already carries a family's FIM tokens and no ``suffix`` (what
Continue's ``openai`` provider sends for autocomplete: its own template for the model's name,
e.g. ``<｜fim▁begin｜>PREFIX<｜fim▁hole｜>SUFFIX<｜fim▁end｜>``) is taken apart into prefix and suffix
by the families of ``templates.toml``, so the upstream gets a clean request with our context.

Beyond both protocols, a request may name its file (``filename``, repository-relative): with
``line`` and ``column`` (1-based) and no text, fim-server reads the file and splits it there.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from reviewer.fim.cursor import FileGate, RequestError, read_source, repo_path, split_at
from reviewer.fim.engine import Outcome, Prepared, Query
from reviewer.fim.providers import INFILL_PASSTHROUGH, OPENAI_PASSTHROUGH, templates

MAX_CONTEXT_CHUNKS = 256

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 409: "conflict_error", 413: "invalid_request_error",
                415: "invalid_request_error", 429: "unavailable_error", 500: "server_error",
                501: "not_supported_error", 502: "server_error", 503: "unavailable_error", 504: "timeout_error"}


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "type": _ERROR_TYPES.get(status, "invalid_request_error")}}


@dataclass
class Wire:
    """How the answer must be written."""

    stream: bool = False
    response_fields: list[str] = field(default_factory=list)
    warmup: bool = False  # n_predict 0: llama.vim and llama.vscode only send context ahead


# ------------------------------------------------------------------------------ reading


def _str(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise RequestError(f'"{name}" must be a string')
    return value


def _int(body: dict[str, Any], name: str, default: int | None) -> int | None:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise RequestError(f'"{name}" must be an integer')
    return int(value)


def _float(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RequestError(f'"{name}" must be a number')
    return float(value)


def _stops(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return [s for s in value if s]
    raise RequestError(f'"{name}" must be a string or a list of strings')


def _file_cursor(body: dict[str, Any], root: Path, max_bytes: int,
                 gate: FileGate | None) -> tuple[str | None, str | None, str | None]:
    """(path, prefix, suffix) from ``filename`` [+ ``line``, ``column``]; prefix and suffix are
    None unless the request asked the server to read the file, which ``gate`` must let through.
    A file named only to say where the client's text is from counts as no file when the gate
    would refuse it."""
    name = body.get("filename")
    if name is None:
        return None, None, None
    if not isinstance(name, str):
        raise RequestError('"filename" must be a string')
    line = _int(body, "line", None)
    column = _int(body, "column", None)
    if line is None:
        rel, _ = repo_path(root, name)
        return (None if gate is not None and gate.reason(rel) is not None else rel), None, None
    rel, text = read_source(root, name, max_bytes, gate)
    prefix, suffix = split_at(text, line, column if column is not None else 1)
    return rel, prefix, suffix


def parse_infill(body: Any, root: Path, max_bytes: int, default_max: int,
                 gate: FileGate | None = None) -> tuple[Query, Wire]:
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    path, file_prefix, file_suffix = _file_cursor(body, root, max_bytes, gate)
    if file_prefix is not None:
        prefix, suffix = file_prefix, file_suffix or ""
    else:
        prefix = _str(body, "input_prefix") + _str(body, "prompt")
        suffix = _str(body, "input_suffix")
    extra = body.get("input_extra", [])
    if extra is None:
        extra = []
    if not isinstance(extra, list):
        raise RequestError('"input_extra" must be an array of {"filename": string, "text": string} objects')
    if len(extra) > MAX_CONTEXT_CHUNKS:
        raise RequestError(f'"input_extra" holds {len(extra)} chunks; at most {MAX_CONTEXT_CHUNKS}', 413)
    chunks: list[tuple[str, str]] = []
    for chunk in extra:
        if not isinstance(chunk, dict) or not isinstance(chunk.get("text"), str):
            raise RequestError('each "input_extra" chunk must be an object with a "text" string')
        fname = chunk.get("filename", "")
        if not isinstance(fname, str):
            raise RequestError('an "input_extra" chunk\'s "filename" must be a string')
        chunks.append((fname, chunk["text"]))
    n_predict = _int(body, "n_predict", None)
    if n_predict is not None and n_predict < 0:
        n_predict = None  # llama.cpp: -1 is "until done"; ours is the configured default
    fields = body.get("response_fields") or []
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise RequestError('"response_fields" must be a list of strings')
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError('"stream" must be true or false')
    q = Query(
        prefix=prefix,
        suffix=suffix,
        path=path,
        client_context=chunks,
        max_tokens=default_max if n_predict is None else n_predict,
        temperature=_float(body, "temperature", 0.0),
        stop=_stops(body, "stop"),
        n_indent=_int(body, "n_indent", 0) or 0,
        t_max_predict_ms=_int(body, "t_max_predict_ms", 0) or 0,
        options={k: body[k] for k in INFILL_PASSTHROUGH if body.get(k) is not None},
    )
    return q, Wire(stream=stream, response_fields=list(fields), warmup=n_predict == 0)


@cache
def _fim_markers() -> list[tuple[str, str, str]]:
    """(begin, hole, end) of every prefix-suffix-middle family in templates.toml, longest first."""
    out = []
    for fam in templates().values():
        tpl = str(fam.get("template", ""))
        if "{prefix}" not in tpl or "{suffix}" not in tpl or tpl.index("{prefix}") > tpl.index("{suffix}"):
            continue
        before, rest = tpl.split("{prefix}", 1)
        hole, end = rest.split("{suffix}", 1)
        tokens = re.findall(r"<[^<>]+> ?", before.replace("{context}", ""))
        if tokens and hole and end:
            out.append((tokens[-1], hole, end))
    return sorted(out, key=lambda m: -len(m[0]))


def split_fim_prompt(prompt: str) -> tuple[str, str] | None:
    """(prefix, suffix) from a prompt written in a known family's FIM tokens, else None. Text
    before the first token (a BOS, the client's own file headers) is dropped."""
    for begin, hole, end in _fim_markers():
        if not prompt.endswith(end):
            continue
        i = prompt.find(begin)
        if i == -1:
            continue
        body = prompt[i + len(begin) : len(prompt) - len(end)]
        j = body.find(hole)
        if j == -1:
            continue
        return body[:j], body[j + len(hole) :]
    return None


def parse_openai(body: Any, root: Path, max_bytes: int, default_max: int,
                 gate: FileGate | None = None) -> tuple[Query, Wire]:
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    path, file_prefix, file_suffix = _file_cursor(body, root, max_bytes, gate)
    prompt = body.get("prompt", "")
    if isinstance(prompt, list):
        if len(prompt) != 1 or not isinstance(prompt[0], str):
            raise RequestError('"prompt" must be a string (or a list of exactly one string)')
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise RequestError('"prompt" must be a string')
    suffix = _str(body, "suffix")
    if not suffix and file_prefix is None:
        split = split_fim_prompt(prompt)
        if split is not None:
            prompt, suffix = split
    if file_prefix is not None:
        prompt, suffix = file_prefix, file_suffix or ""
    n = _int(body, "n", 1)
    if n != 1:
        raise RequestError('"n" must be 1: one completion per request')
    if body.get("echo"):
        raise RequestError('"echo" is not supported', 400)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError('"stream" must be true or false')
    max_tokens = _int(body, "max_tokens", None)
    if max_tokens is not None and max_tokens < 1:
        raise RequestError('"max_tokens" must be at least 1')
    q = Query(
        prefix=prompt,
        suffix=suffix,
        path=path,
        max_tokens=default_max if max_tokens is None else max_tokens,
        temperature=_float(body, "temperature", 0.0),
        stop=_stops(body, "stop"),
        options={k: body[k] for k in OPENAI_PASSTHROUGH if body.get(k) is not None},
    )
    return q, Wire(stream=stream)


# ------------------------------------------------------------------------------ writing


def _stop_type(out: Outcome) -> str:
    return {"word": "word", "length": "limit", "deadline": "limit"}.get(out.finish, "eos")


def timings(out: Outcome, prompt_n: int, predicted_n: int) -> dict[str, float]:
    prompt_ms = out.first_ms or out.total_ms
    predicted_ms = max(0.0, out.total_ms - prompt_ms)
    return {
        "prompt_n": prompt_n,
        "prompt_ms": round(prompt_ms, 3),
        "prompt_per_token_ms": round(prompt_ms / prompt_n, 3) if prompt_n else 0.0,
        "prompt_per_second": round(prompt_n / prompt_ms * 1000, 3) if prompt_ms else 0.0,
        "predicted_n": predicted_n,
        "predicted_ms": round(predicted_ms, 3),
        "predicted_per_token_ms": round(predicted_ms / predicted_n, 3) if predicted_n else 0.0,
        "predicted_per_second": round(predicted_n / predicted_ms * 1000, 3) if predicted_ms else 0.0,
    }


def infill_final(out: Outcome, p: Prepared | None, *, model: str, predicted_n: int, stream: bool,
                 fields: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    prompt_n = p.prompt_tokens if p else 0
    res: dict[str, Any] = {
        "index": 0,
        "content": "" if stream else out.text,
        "tokens": [],
        "id_slot": 0,
        "stop": True,
        "model": model,
        "tokens_predicted": predicted_n,
        "tokens_evaluated": prompt_n,
        "generation_settings": {"n_predict": p.request.max_tokens if p else 0,
                                "temperature": p.request.temperature if p else 0.0},
        "prompt": p.request.prefix if p else "",
        "has_new_line": "\n" in out.text,
        "truncated": out.truncated,
        "stop_type": _stop_type(out),
        "stopping_word": out.stopping_word,
        "tokens_cached": prompt_n if out.cached else 0,
        "timings": timings(out, prompt_n, predicted_n),
    }
    if extra:
        res["reviewer"] = extra
    return select_fields(res, fields) if fields else res


def select_fields(res: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """llama.cpp's ``response_fields``: each path (``a/b``) that exists, keyed by the path."""
    out: dict[str, Any] = {}
    for path in fields:
        cur: Any = res
        ok = True
        for key in path.split("/"):
            if isinstance(cur, dict) and key in cur:
                cur = cur[key]
            else:
                ok = False
                break
        if ok:
            out[path] = cur
    return out


def infill_partial(text: str, predicted_n: int, prompt_n: int) -> dict[str, Any]:
    return {"index": 0, "content": text, "tokens": [], "stop": False, "id_slot": 0,
            "tokens_predicted": predicted_n, "tokens_evaluated": prompt_n}


def openai_id() -> str:
    return "cmpl-" + uuid.uuid4().hex[:24]


def _finish_reason(out: Outcome) -> str:
    return "length" if out.finish in ("length", "deadline") else "stop"


def openai_final(out: Outcome, p: Prepared | None, *, model: str, cid: str, predicted_n: int,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    prompt_n = p.prompt_tokens if p else 0
    res: dict[str, Any] = {
        "id": cid,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"text": out.text, "index": 0, "logprobs": None, "finish_reason": _finish_reason(out)}],
        "usage": {"prompt_tokens": prompt_n, "completion_tokens": predicted_n, "total_tokens": prompt_n + predicted_n},
    }
    if extra:
        res["reviewer"] = extra
    return res


def openai_chunk(text: str, *, model: str, cid: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"text": text, "delta": {"content": text}, "index": 0, "logprobs": None, "finish_reason": finish}],
    }
