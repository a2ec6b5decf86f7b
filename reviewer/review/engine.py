"""The review engine. ``review`` and ``ask`` read as the data flow:

    pack -> analyzers -> ask the model -> parse -> ground -> merge hints -> result

With no backend configured, ``review`` stops after the analyzers and says how to add a model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewer.config import ModelInfo, Settings
from reviewer.errors import BackendError, InputError
from reviewer.findings import Finding, sort_findings
from reviewer.llm import pricing
from reviewer.llm.backends import NO_BACKEND_HELP, Backend, resolve_backend, schema_style
from reviewer.llm.client import ChatAnswer, ChatClient
from reviewer.pack.model import Pack
from reviewer.pack.packer import DEFAULT_WINDOW, build_pack
from reviewer.pack.tokens import get_tokenizer
from reviewer.repo.scan import resolve_root
from reviewer.repo.textio import decode, split_lines
from reviewer.review.diffs import change_diff
from reviewer.review.ground import ground, merge
from reviewer.review.model import Dropped, ReviewResult, Usage
from reviewer.review.parse import ParseError, parse_answer
from reviewer.review.prompts import fill, load_prompt, override_path
from reviewer.review.schema import answer_schema
from reviewer.security.secrets import redact

Progress = Callable[[str, int, int], None]
MAX_FINDINGS = 50
ANSWER_RESERVE = 8_192  # tokens assumed for the answer when estimating cost


@dataclass
class _Task:
    name: str  # review | review_diff | ask
    text: str  # the filled task prompt (after the pack)
    schema: dict[str, object] | None = None  # the answer's JSON Schema (shown, and sent where taken)


def review(
    root: Path,
    settings: Settings,
    *,
    diff_base: str | None = None,
    head: str | None = None,
    extra_context: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> ReviewResult:
    root = resolve_root(root)
    backend = resolve_backend(settings, for_estimate=dry_run)
    diff_text, changed, diff_secrets = change_diff(root, diff_base, head) if diff_base else ("", [], 0)
    if diff_base and not diff_text.strip():
        raise InputError(f"no changes between {diff_base} and {head or 'the work tree'}")
    pack = _pack(root, settings, backend, diff_base=diff_base, progress=progress)
    result = _result_for(pack, backend)
    analyzer_findings = [] if dry_run else _run_analyzers(root, pack, settings, result, progress, only=changed or None)
    if backend is None:
        result.findings = sort_findings(analyzer_findings)
        result.notes.insert(0, f"no model was used: {NO_BACKEND_HELP}")
        return result
    packs = [pack] if diff_base else _chunks(root, settings, backend, pack, progress)
    result.notes += _chunk_notes(packs, settings)
    result.notes += _secret_note(packs, diff_secrets)
    result.notes += _prompt_notes(root, settings, ("system", "review_diff" if diff_base else "review"))
    shown_anywhere = set().union(*(set(p.shown) for p in packs))
    passthrough = [f for f in analyzer_findings if f.path not in shown_anywhere]
    hints_by_pack = _assign_hints(packs, [f for f in analyzer_findings if f.path in shown_anywhere])
    plan = [(p, _review_task(root, settings, hints, diff_base, diff_text, extra_context), hints)
            for p, hints in zip(packs, hints_by_pack, strict=True)]
    if settings.max_cost is not None and len(plan) > 1 and not dry_run:
        total = 0.0
        for p, task, hints in plan:
            est = _result_for(p, backend)
            _run_model(root, settings.model_copy(update={"max_cost": None}), backend, p, task, hints, [], est, None,
                       True)
            total += float(est.estimate["cost_usd_cache_miss"]) if est.estimate else 0.0  # type: ignore[arg-type]
        if total > settings.max_cost:
            raise InputError(
                f"estimated cost ${total:.4f} for {len(plan)} packs is over --max-cost ${settings.max_cost:.4f}",
                hint="lower --max-chunks or --budget, narrow with --include/--exclude, or raise --max-cost",
            )
    merged_result: ReviewResult | None = None
    for p, task, hints in plan:
        part = _result_for(p, backend)
        _run_model(root, settings, backend, p, task, hints, [], part, progress, dry_run)
        merged_result = part if merged_result is None else _combine(merged_result, part)
    assert merged_result is not None
    final = _combine(result, merged_result, files_from_first=True)
    findings, dups = merge(final.findings + passthrough)
    final.findings = findings
    final.dropped.extend(dups)
    final.chunks = len(packs)
    return final


def _review_task(root: Path, settings: Settings, hints: list[Finding], diff_base: str | None, diff_text: str,
                 extra_context: str | None) -> _Task:
    """The task that follows the pack: the change (if any), the rules and the answer's schema."""
    hints_field = (
        ', plus "hints": [{"id": "H1", "verdict": "confirmed" or "rejected", "reason": "..."}] for every hint'
        if hints
        else ""
    )
    answer = answer_schema(with_hints=bool(hints))
    common = {"FOCUS": _focus_text(settings.focus), "SCHEMA": json.dumps(answer, indent=1),
              "MAX_FINDINGS": str(MAX_FINDINGS), "HINTS_FIELD": hints_field}
    prompt_root = _prompt_root(root, settings)
    if diff_base:
        name = "review_diff"
        text = fill(load_prompt(name, prompt_root), BASE=diff_base, DIFF=diff_text.rstrip("\n"), **common)
    else:
        name = "review"
        text = fill(load_prompt(name, prompt_root), **common)
    if extra_context:
        text = f"{extra_context.rstrip()}\n\n{text}"
    return _Task(name, text, answer)


def _chunks(root: Path, settings: Settings, backend: Backend, first: Pack, progress: Progress | None) -> list[Pack]:
    """When the repository does not fit one window: further packs, each within the window, of the
    files not yet shown whole (a file only outlined in one pack may be shown whole in a later
    one), up to ``max_chunks`` packs in all; stops when a pack shows no new file whole."""
    packs = [first]
    whole = {f.path for f in first.files if f.tier == "full"}
    seen = set(first.shown)
    while len(packs) < settings.max_chunks and any(f.path not in whole for f in packs[-1].files):
        rest = settings.model_copy(update={"exclude": [*settings.exclude, *(_anchored(p) for p in sorted(whole))]})
        try:
            nxt = _pack(root, rest, backend, progress=progress)
        except InputError:
            break
        new_whole = {f.path for f in nxt.files if f.tier == "full"} - whole
        if not new_whole and not set(nxt.shown) - seen:
            break  # nothing this pack would show that an earlier one did not
        packs.append(nxt)
        whole |= new_whole
        seen |= set(nxt.shown)
    return packs


def _chunk_notes(packs: list[Pack], settings: Settings) -> list[str]:
    notes = []
    if len(packs) > 1:
        notes.append(f"the repository does not fit one window: reviewed in {len(packs)} packs")
    whole = {f.path for p in packs for f in p.files if f.tier == "full"}
    seen = {path for p in packs for path in p.shown}
    every = {f.path for f in packs[0].files}
    outlined, unseen = len(seen - whole), len(every - seen)
    if outlined or unseen:
        limit = f" (--max-chunks {settings.max_chunks})" if len(packs) >= settings.max_chunks else ""
        notes.append(f"not reviewed whole{limit}: {outlined} file(s) seen only as an outline, "
                     f"{unseen} by name only")
    return notes


def _assign_hints(packs: list[Pack], hints: list[Finding]) -> list[list[Finding]]:
    """Each analyzer hint goes to one pack only: the first that shows its file whole, else the
    first that shows it at all, so the model judges it once, with the most code in view."""
    out: list[list[Finding]] = [[] for _ in packs]
    for h in hints:
        full = [i for i, p in enumerate(packs) if (pf := p.shown.get(h.path)) is not None and pf.tier == "full"]
        shown = [i for i, p in enumerate(packs) if h.path in p.shown]
        target = (full or shown or [0])[0]
        out[target].append(h)
    return out


def _anchored(path: str) -> str:
    """A gitignore pattern that matches exactly ``path``."""
    escaped = "".join("\\" + ch if ch in "[]*?!#\\ " else ch for ch in path)
    return "/" + escaped


def _combine(a: ReviewResult, b: ReviewResult, *, files_from_first: bool = False) -> ReviewResult:
    """``a`` with ``b``'s findings, drops, notes and usage added."""
    a.findings = a.findings + b.findings
    a.rejected = a.rejected + b.rejected
    a.dropped = a.dropped + b.dropped
    a.notes = a.notes + [n for n in b.notes if n not in a.notes]
    a.usage.add(b.usage)
    a.model_used = a.model_used or b.model_used
    a.truncated = a.truncated or b.truncated
    a.answer = a.answer or b.answer
    if b.estimate is not None:
        if a.estimate is None:
            a.estimate = dict(b.estimate)
        else:
            for key in ("prompt_tokens", "pack_tokens", "cost_usd_cache_miss", "cost_usd_cache_hit"):
                a.estimate[key] = a.estimate[key] + b.estimate[key]  # type: ignore[operator]
    if not files_from_first:
        shown_b = set(b.files_full) | set(b.files_outline)
        a.files_full = sorted(set(a.files_full) | set(b.files_full))
        a.files_outline = sorted((set(a.files_outline) | set(b.files_outline)) - set(a.files_full))
        a.files_listed = sorted(set(a.files_listed) - shown_b - set(a.files_full) - set(a.files_outline))
    else:
        a.files_full, a.files_outline, a.files_listed = b.files_full, b.files_outline, b.files_listed
    return a


def ask(
    root: Path,
    settings: Settings,
    *,
    question: str | None = None,
    trace_text: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> ReviewResult:
    root = resolve_root(root)
    if not (question or trace_text):
        raise InputError("ask needs a question or --trace FILE")
    backend = resolve_backend(settings, for_estimate=dry_run)
    if backend is None:
        raise BackendError("reviewer ask needs a model", hint=NO_BACKEND_HELP)
    trace_red = redact("trace.txt", trace_text) if trace_text else None
    question_red = redact("question.txt", question) if question else None
    trace_clean = trace_red.text if trace_red else None
    question = question_red.text if question_red else None
    pack = _pack(root, settings, backend, query=question, trace=trace_clean, progress=progress)
    result = _result_for(pack, backend)
    result.notes += _secret_note([pack], len(trace_red.hits if trace_red else []) + len(question_red.hits if question_red else []))
    result.notes += _prompt_notes(root, settings, ("system", "ask"))
    if trace_clean:
        what = f"A program crashed with this report:\n\n<trace>\n{trace_clean.rstrip()}\n</trace>"
        if question:
            what += f"\n\nThe user adds: {question}"
    else:
        what = f"The user asks:\n\n<question>\n{question}\n</question>"
    answer = answer_schema(with_answer=True)
    task = fill(load_prompt("ask", _prompt_root(root, settings)), TASK=what, SCHEMA=json.dumps(answer, indent=1))
    return _run_model(root, settings, backend, pack, _Task("ask", task, answer), [], [], result, progress, dry_run)


# -- stages ----------------------------------------------------------------------------------


def _window_budget(settings: Settings, backend: Backend | None) -> int | None:
    """The pack budget: --budget if given, else the model's window minus the reserve."""
    if settings.budget:
        return settings.budget
    if backend is None:
        return None
    window = settings.model_info(backend.model).context_window or DEFAULT_WINDOW
    return max(1024, window - settings.reserve)


def _pack(root: Path, settings: Settings, backend: Backend | None, *, progress: Progress | None = None,
          **focus: str | None) -> Pack:
    budget = _window_budget(settings, backend)
    s = settings.model_copy(update={"budget": budget}) if budget else settings
    return build_pack(root, s, progress=progress, **focus)


def _result_for(pack: Pack, backend: Backend | None) -> ReviewResult:
    return ReviewResult(
        files_full=[f.path for f in pack.files if f.tier == "full"],
        files_outline=[f.path for f in pack.files if f.tier == "outline"],
        files_listed=[f.path for f in pack.files if f.tier == "listed"],
        backend=backend.name if backend else None,
        chunks=1,
    )


def _run_analyzers(root: Path, pack: Pack, settings: Settings, result: ReviewResult, progress: Progress | None,
                   only: list[str] | None) -> list[Finding]:
    names = settings.analyzers
    if not names or names == ["none"]:
        return []
    from reviewer.analyzers import run_analyzers

    paths = [f.path for f in pack.files]
    if only is not None:
        wanted = set(only)
        paths = [p for p in paths if p in wanted]
    if not paths:
        return []
    run = run_analyzers(root, paths, names, progress=progress)
    result.notes.extend(run.notes)
    return run.findings


def _focus_text(focus: list[str]) -> str:
    if not focus:
        return ""
    return f"Focus on these categories above all: {', '.join(focus)}.\n"


def _prompt_root(root: Path, settings: Settings) -> Path | None:
    return root if settings.prompt_overrides else None


def _prompt_notes(root: Path, settings: Settings, names: tuple[str, ...]) -> list[str]:
    prompt_root = _prompt_root(root, settings)
    return [f"prompt {name!r} comes from the repository's .reviewer/prompts/{name}.md"
            for name in names if override_path(name, prompt_root) is not None]


def _secret_note(packs: list[Pack], elsewhere: int = 0) -> list[str]:
    """One line on what was redacted: in the files sent, and in the diff, trace or question."""
    hits = {(h.path, h.line, h.kind) for p in packs for h in p.secrets}
    if not hits and not elsewhere:
        return []
    kinds = sorted({k for _, _, k in hits})
    parts = []
    if hits:
        parts.append(f"{len(hits)} in {len({p for p, _, _ in hits})} file(s) ({', '.join(kinds)})")
    if elsewhere:
        parts.append(f"{elsewhere} in the diff, trace or question")
    return [f"secrets redacted before anything was sent: {'; '.join(parts)}"]


def _messages(prompt_root: Path | None, pack: Pack, hints_block: str, task: _Task) -> list[dict[str, str]]:
    # Stable first, task last: the system prompt and the pack form the longest shared prefix
    # between consecutive reviews, which the provider's prefix cache bills at a fraction.
    user = pack.text + ("\n" + hints_block if hints_block else "") + "\n" + task.text
    return [{"role": "system", "content": load_prompt("system", prompt_root)}, {"role": "user", "content": user}]


def _estimate(settings: Settings, backend: Backend, info: ModelInfo, messages: list[dict[str, str]],
              pack: Pack) -> dict[str, object]:
    tok = get_tokenizer(settings.tokenizer)
    prompt = sum(tok.count_batch([m["content"] for m in messages]))
    out = min(ANSWER_RESERVE, _max_tokens(settings, info))
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


def _max_tokens(settings: Settings, info: ModelInfo) -> int:
    return settings.max_output_tokens or min(info.max_output, 32_768)


def _run_model(
    root: Path,
    settings: Settings,
    backend: Backend,
    pack: Pack,
    task: _Task,
    hints: list[Finding],
    passthrough: list[Finding],
    result: ReviewResult,
    progress: Progress | None,
    dry_run: bool,
) -> ReviewResult:
    from reviewer.review.hints import apply_verdicts, render_hints

    hints_block = render_hints(hints) if hints else ""
    messages = _messages(_prompt_root(root, settings), pack, hints_block, task)
    info = settings.model_info(backend.model)
    estimate = _estimate(settings, backend, info, messages, pack)
    result.estimate = estimate
    if dry_run:
        return result
    if settings.max_cost is not None and float(estimate["cost_usd_cache_miss"]) > settings.max_cost:  # type: ignore[arg-type]
        raise InputError(
            f"estimated cost ${estimate['cost_usd_cache_miss']:.4f} is over --max-cost ${settings.max_cost:.4f}",
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
    answer = client.chat(messages, effort=settings.effort, max_tokens=_max_tokens(settings, info), progress=progress)
    result.usage.add(answer.usage)
    result.model_used = True
    if answer.usage.prompt_tokens == 0 and answer.usage.completion_tokens == 0:
        result.notes.append(f"{backend.name} reported no token usage: cost not known")
    parsed = _parse_with_retry(client, messages, answer, settings, info, result, progress)
    if parsed is None:
        unreviewed = apply_verdicts(hints, [], [])[0] if hints else []
        result.findings = sort_findings(passthrough + unreviewed)
        return result
    result.answer = parsed.answer
    result.dropped.extend(parsed.dropped)
    grounded = ground(parsed.findings, set(pack.shown), _line_reader(root, pack))
    result.dropped.extend(grounded.dropped)
    kept, rejected = apply_verdicts(hints, parsed.hints, grounded.findings) if hints else (grounded.findings, [])
    merged, dups = merge(kept + passthrough)
    result.dropped.extend(dups)
    result.findings = merged
    result.rejected = rejected
    if grounded.dropped:
        result.notes.append(f"{sum(1 for d in grounded.dropped if d.reason != 'duplicate')} model finding(s) "
                            "dropped: not grounded in the code that was sent")
    return result


def _parse_with_retry(client: ChatClient, messages: list[dict[str, str]], answer: ChatAnswer, settings: Settings,
                      info: ModelInfo, result: ReviewResult, progress: Progress | None):  # type: ignore[no-untyped-def]
    if answer.finish_reason == "length":
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
        second = client.chat(retry, effort=settings.effort, max_tokens=_max_tokens(settings, info), progress=progress)
        result.usage.add(second.usage)
        result.usage.retries += 1
        try:
            return parse_answer(second.content)
        except ParseError as exc2:
            result.notes.append(f"the model's answer could not be read as JSON twice: {exc2}")
            result.dropped.append(Dropped("(whole answer)", "", 0, "unparseable"))
            return None


def _line_reader(root: Path, pack: Pack) -> Callable[[str], list[str] | None]:
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


__all__ = ["Usage", "ask", "review"]
