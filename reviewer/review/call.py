"""One round with the model: the messages (pack first, task last), the estimate, the call, then
parse and ground what came back. Shared by ``review`` (once per pack) and ``ask``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewer.config import ModelInfo, Settings
from reviewer.errors import InputError
from reviewer.findings import Finding, sort_findings
from reviewer.llm import pricing
from reviewer.llm.backends import Backend, schema_style
from reviewer.llm.client import MAX_ANSWER_CHARS, ChatAnswer, ChatClient
from reviewer.pack.model import Pack
from reviewer.pack.tokens import get_tokenizer
from reviewer.repo.textio import decode, split_lines
from reviewer.review.ground import ground, merge
from reviewer.review.model import Dropped, ReviewResult
from reviewer.review.parse import Parsed, ParseError, parse_answer
from reviewer.review.prompts import load_prompt
from reviewer.security.secrets import redact

Progress = Callable[[str, int, int], None]
ANSWER_RESERVE = 8_192  # tokens assumed for the answer when estimating cost


@dataclass
class Task:
    name: str  # review | review_diff | ask
    text: str  # the filled task prompt (after the pack)
    schema: dict[str, object] | None = None  # the answer's JSON Schema (shown, and sent where taken)


def prompt_root(root: Path, settings: Settings) -> Path | None:
    """Where prompt overrides may come from: the repository, unless they are switched off."""
    return root if settings.prompt_overrides else None


def messages_for(prompt_root: Path | None, pack: Pack, hints_block: str, task: Task) -> list[dict[str, str]]:
    # Stable first, task last: the system prompt and the pack form the longest shared prefix
    # between consecutive reviews, which the provider's prefix cache bills at a fraction.
    user = pack.text + ("\n" + hints_block if hints_block else "") + "\n" + task.text
    return [{"role": "system", "content": load_prompt("system", prompt_root)}, {"role": "user", "content": user}]


def estimate(settings: Settings, backend: Backend, info: ModelInfo, messages: list[dict[str, str]],
              pack: Pack) -> dict[str, object]:
    tok = get_tokenizer(settings.tokenizer)
    prompt = sum(tok.count_batch([m["content"] for m in messages]))
    out = min(ANSWER_RESERVE, max_tokens(settings, info, prompt))
    cached = min(pack.total_tokens, prompt)
    miss = pricing.cost(info, miss=prompt, output=out)
    hit = pricing.cost(info, hit=cached, miss=prompt - cached, output=out)
    return {
        "backend": backend.name,
        "model": backend.model,
        "context_window": info.context_window,
        "prompt_tokens": prompt,
        "pack_tokens": pack.total_tokens,
        "answer_tokens_assumed": out,
        "cost_usd_cache_miss": round(miss, 6),
        "cost_usd_cache_hit": round(hit, 6),
        "priced": pricing.priced(info),
        "price_tier": pricing.tier(info),
    }


# Output tokens asked for by thinking effort (thinking counts against the same limit).
_OUTPUT_BY_EFFORT = {"none": 32_768, "high": 65_536, "max": 393_216}
_TEMPLATE_MARGIN = 512  # chat-template tokens the server adds around the messages
MIN_ANSWER = 1_024  # an answer needs at least this much room


def max_tokens(settings: Settings, info: ModelInfo, prompt_tokens: int = 0) -> int:
    """``max_output_tokens`` if set, else by effort; never more than the model's maximum output,
    nor than the window leaves after the prompt (servers reject prompt + max_tokens > window)."""
    wanted = settings.max_output_tokens or _OUTPUT_BY_EFFORT.get(settings.effort, 32_768)
    room = info.context_window - prompt_tokens - _TEMPLATE_MARGIN
    return max(MIN_ANSWER, min(wanted, info.max_output, room))


def run_model(
    root: Path,
    settings: Settings,
    backend: Backend,
    pack: Pack,
    task: Task,
    hints: list[Finding],
    result: ReviewResult,
    progress: Progress | None,
    dry_run: bool,
) -> ReviewResult:
    """Fill ``result`` from one model call on ``pack`` + ``task`` (with analyzer ``hints`` shown
    after the pack): the estimate always; unless ``dry_run``, usage, grounded findings, hint
    verdicts, what was dropped and why."""
    from reviewer.review.hints import apply_verdicts, render_hints

    hints_block = render_hints(hints) if hints else ""
    messages = messages_for(prompt_root(root, settings), pack, hints_block, task)
    info = settings.model_info(backend.model)
    est = estimate(settings, backend, info, messages, pack)
    result.estimate = est
    prompt_tokens = int(est["prompt_tokens"])  # type: ignore[call-overload]
    if prompt_tokens + _TEMPLATE_MARGIN + MIN_ANSWER > info.context_window:
        message = (f"the prompt ({prompt_tokens:,} tokens) leaves no room for an answer in the "
                   f"{info.context_window:,}-token window of {backend.model}")
        if not dry_run:
            raise InputError(message, hint="raise --reserve, or lower --budget")
        result.notes.append(message)
    if dry_run:
        return result
    if settings.max_cost is not None and float(est["cost_usd_cache_miss"]) > settings.max_cost:  # type: ignore[arg-type]
        raise InputError(
            f"estimated cost ${est['cost_usd_cache_miss']:.4f} is over --max-cost ${settings.max_cost:.4f}",
            hint="lower --budget, narrow with --include/--exclude, or raise --max-cost",
        )
    style = schema_style(backend, settings.json_schema)
    client = ChatClient(
        backend,
        info,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        stream=settings.stream,
        json_schema=task.schema if style else None,
        schema_style=style,
        backoff_base=settings.backoff,
    )
    limit = max_tokens(settings, info, prompt_tokens)
    answer = client.chat(messages, effort=settings.effort, max_tokens=limit, progress=progress)
    result.usage.add(answer.usage)
    result.model_used = True
    if answer.usage.prompt_tokens == 0 and answer.usage.completion_tokens == 0:
        result.notes.append(f"{backend.name} reported no token usage: cost not known")
    parsed = parse_with_retry(client, messages, answer, settings, limit, result, progress)
    if parsed is None:
        unreviewed = apply_verdicts(hints, [], [])[0] if hints else []
        result.findings = sort_findings(unreviewed)
        return result
    result.answer = parsed.answer
    result.notes += parsed.notes
    result.dropped.extend(parsed.dropped)
    grounded = ground(parsed.findings, set(pack.shown), line_reader(root, pack))
    result.dropped.extend(grounded.dropped)
    kept, rejected = apply_verdicts(hints, parsed.hints, grounded.findings) if hints else (grounded.findings, [])
    merged, dups = merge(kept)
    result.dropped.extend(dups)
    result.findings = merged
    result.rejected = rejected
    if grounded.dropped:
        result.notes.append(f"{sum(1 for d in grounded.dropped if d.reason != 'duplicate')} model finding(s) "
                            "dropped: not grounded in the code that was sent")
    return result


def parse_with_retry(client: ChatClient, messages: list[dict[str, str]], answer: ChatAnswer, settings: Settings,
                     limit: int, result: ReviewResult, progress: Progress | None) -> Parsed | None:
    """The parsed answer; a cut-off answer keeps what parsed; an unreadable one gets one retry
    that quotes the error; None when nothing could be read."""
    if answer.capped:
        result.truncated = True
        result.notes.append(f"the model's answer was longer than the {MAX_ANSWER_CHARS:,} characters the tool reads: "
                            "cut there; what parsed is kept")
    elif answer.finish_reason == "length":
        result.truncated = True
        result.notes.append("the model's answer was cut off at the output limit; what parsed is kept")
    try:
        return parse_answer(answer.content)
    except ParseError as exc:
        if result.truncated:
            result.notes.append(f"the truncated answer could not be read: {exc}")
            return None
        retry = [
            *messages,
            {"role": "assistant", "content": answer.content[:20_000]},
            {"role": "user", "content": f"Your answer could not be read as JSON ({exc}). Answer again with only the "
                                        "JSON object, nothing before or after it."},
        ]
        added = (len(retry[-2]["content"]) + len(retry[-1]["content"])) // 2  # at least 2 characters a token
        second = client.chat(retry, effort=settings.effort, max_tokens=max(MIN_ANSWER, limit - added),
                             progress=progress)
        result.usage.add(second.usage)
        result.usage.retries += 1
        try:
            return parse_answer(second.content)
        except ParseError as exc2:
            result.notes.append(f"the model's answer could not be read as JSON twice: {exc2}")
            result.dropped.append(Dropped("(whole answer)", "", 0, "unparseable"))
            return None


def line_reader(root: Path, pack: Pack) -> Callable[[str], list[str] | None]:
    """Real, redacted lines of a shown file: the pack's own text for whole files, the file on
    disk (inside the root only) for outlines."""

    def read(path: str) -> list[str] | None:
        pf = pack.file(path)
        if pf is None:
            return None
        if pf.tier == "full":
            return split_lines(pf.text)
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None
        try:
            with open(target, "rb", opener=lambda p, f: os.open(p, f | getattr(os, "O_NOFOLLOW", 0))) as fh:
                data = fh.read(50_000_000)
        except OSError:
            return None
        return split_lines(redact(path, decode(data)).text)

    return read
