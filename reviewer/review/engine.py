"""The review engine. ``review`` and ``ask`` read as the data flow:

    pack -> analyzers -> ask the model -> parse -> ground -> merge hints -> result

With no backend configured, ``review`` stops after the analyzers and says how to add a model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from reviewer.config import Settings
from reviewer.errors import ConfigError, InputError
from reviewer.findings import Finding, sort_findings
from reviewer.llm.backends import NO_BACKEND_HELP, Backend, resolve_backend
from reviewer.pack.model import Pack
from reviewer.pack.packer import DEFAULT_WINDOW, build_pack
from reviewer.pack.tokens import get_tokenizer
from reviewer.repo.policy import PathPolicy
from reviewer.repo.scan import resolve_root
from reviewer.review.call import Task, prompt_root, run_model
from reviewer.review.chunks import assign_hints, chunk_notes, chunk_packs, combine
from reviewer.review.diffs import ChangeDiff, change_diff
from reviewer.review.ground import merge
from reviewer.review.inputs import prepare_question, prepare_trace
from reviewer.review.model import ReviewResult, Usage
from reviewer.review.prompts import fill, load_prompt, override_path
from reviewer.review.schema import answer_schema

Progress = Callable[[str, int, int], None]
MAX_FINDINGS = 50


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
    change = _change(root, settings, backend, diff_base, head) if diff_base else None
    if change is not None and not change.text.strip():
        if not change.left_out:
            raise InputError(f"no changes between {diff_base} and {head or 'the work tree'}")
        return ReviewResult(backend=backend.name if backend else None,
                            notes=[f"nothing to review: every changed file is left out of the diff ({_reasons(change)})",
                                   change.note() or ""])
    pack = _pack(root, settings, backend, diff_base=diff_base, progress=progress,
                 room_taken=change.tokens if change else 0)
    result = _result_for(pack, backend)
    if change is not None and change.left_out:
        result.notes.append(change.note() or "")
    changed = change.paths if change else []
    analyzer_findings = [] if dry_run else _run_analyzers(root, pack, settings, result, progress, only=changed or None)
    if backend is None:
        result.findings = sort_findings(analyzer_findings)
        result.notes.insert(0, f"no model was used: {NO_BACKEND_HELP}")
        return result
    def pack_without(globs: list[str]) -> Pack:
        rest = settings.model_copy(update={"exclude": [*settings.exclude, *globs]})
        return _pack(root, rest, backend, progress=progress)

    packs = [pack] if diff_base else chunk_packs(pack, settings.max_chunks, pack_without)
    result.notes += chunk_notes(packs, settings.max_chunks)
    result.notes += _secret_note(packs, len(change.secrets) if change else 0)
    result.notes += _prompt_notes(root, settings, ("system", "review_diff" if diff_base else "review"))
    shown_anywhere = set().union(*(set(p.shown) for p in packs))
    passthrough = [f for f in analyzer_findings if f.path not in shown_anywhere]
    hints_by_pack = assign_hints(packs, [f for f in analyzer_findings if f.path in shown_anywhere])
    plan = [(p, _review_task(root, settings, hints, diff_base, change, extra_context), hints)
            for p, hints in zip(packs, hints_by_pack, strict=True)]
    if settings.max_cost is not None and len(plan) > 1 and not dry_run:
        total = 0.0
        for p, task, hints in plan:
            est = _result_for(p, backend)
            run_model(root, settings.model_copy(update={"max_cost": None}), backend, p, task, hints, est, None,
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
        run_model(root, settings, backend, p, task, hints, part, progress, dry_run)
        merged_result = part if merged_result is None else combine(merged_result, part)
    assert merged_result is not None
    final = combine(result, merged_result, files_from_first=True)
    findings, dups = merge(final.findings + passthrough)
    final.findings = findings
    final.dropped.extend(dups)
    final.chunks = len(packs)
    return final


def _review_task(root: Path, settings: Settings, hints: list[Finding], diff_base: str | None,
                 change: ChangeDiff | None, extra_context: str | None) -> Task:
    """The task that follows the pack: the change (if any), the rules and the answer's schema."""
    hints_field = (
        ', plus "hints": [{"id": "H1", "verdict": "confirmed" or "rejected", "reason": "..."}] for every hint'
        if hints
        else ""
    )
    answer = answer_schema(with_hints=bool(hints))
    common = {"FOCUS": _focus_text(settings.focus), "SCHEMA": json.dumps(answer, indent=1),
              "MAX_FINDINGS": str(MAX_FINDINGS), "HINTS_FIELD": hints_field}
    where = prompt_root(root, settings)
    if diff_base and change is not None:
        name = "review_diff"
        omitted = (f"({len(change.left_out)} more changed file(s) are not in this diff: the review's rules leave "
                   "them out, as lock files, vendored, generated, binary or too large, or excluded by the user.)\n"
                   if change.left_out else "")
        text = fill(load_prompt(name, where), BASE=diff_base, DIFF=change.text.rstrip("\n"), OMITTED=omitted, **common)
    else:
        name = "review"
        text = fill(load_prompt(name, where), **common)
    if extra_context:
        text = f"{extra_context.rstrip()}\n\n{text}"
    return Task(name, text, answer)












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
        raise ConfigError("reviewer ask needs a model", hint=NO_BACKEND_HELP)
    policy = PathPolicy(settings)
    trace_in = prepare_trace(trace_text, root, policy, redact_secrets=settings.redact_secrets) if trace_text else None
    question_in = prepare_question(question, redact_secrets=settings.redact_secrets) if question else None
    trace_clean = trace_in.text if trace_in else None
    question = question_in.text if question_in else None
    pack = _pack(root, settings, backend, query=question, trace=trace_clean, progress=progress)
    result = _result_for(pack, backend)
    for item in (trace_in, question_in):
        result.notes += item.notes if item else []
    result.notes += _secret_note([pack], sum(item.secrets for item in (trace_in, question_in) if item))
    result.notes += _prompt_notes(root, settings, ("system", "ask"))
    if trace_clean:
        what = f"A program crashed with this report:\n\n<trace>\n{trace_clean.rstrip()}\n</trace>"
        if question:
            what += f"\n\nThe user adds: {question}"
    else:
        what = f"The user asks:\n\n<question>\n{question}\n</question>"
    answer = answer_schema(with_answer=True)
    task = fill(load_prompt("ask", prompt_root(root, settings)), TASK=what, SCHEMA=json.dumps(answer, indent=1))
    return run_model(root, settings, backend, pack, Task("ask", task, answer), [], result, progress, dry_run)


# -- stages ----------------------------------------------------------------------------------


def _window(settings: Settings, backend: Backend | None) -> int:
    if backend is None:
        return DEFAULT_WINDOW
    return settings.model_info(backend.model).context_window or DEFAULT_WINDOW


def _window_budget(settings: Settings, backend: Backend | None, room_taken: int = 0) -> int | None:
    """The pack budget: --budget if given, else the model's window minus the reserve and what
    the task already takes (the diff)."""
    if settings.budget:
        return settings.budget
    if backend is None:
        return None
    return max(1024, _window(settings, backend) - settings.reserve - room_taken)


def _pack(root: Path, settings: Settings, backend: Backend | None, *, progress: Progress | None = None,
          room_taken: int = 0, **focus: str | None) -> Pack:
    budget = _window_budget(settings, backend, room_taken)
    s = settings.model_copy(update={"budget": budget}) if budget else settings
    return build_pack(root, s, progress=progress, **focus)


def _change(root: Path, settings: Settings, backend: Backend | None, base: str, head: str | None) -> ChangeDiff:
    """The change under review, under the pack's rules; it may take at most half of what the
    window leaves after the reserve, and the pack gets the rest."""
    cap = max(1024, (_window(settings, backend) - settings.reserve) // 2)
    tok = get_tokenizer(settings.tokenizer)
    return change_diff(root, base, head, settings, count=tok.count, token_cap=cap)


def _reasons(change: ChangeDiff) -> str:
    counts: dict[str, int] = {}
    for e in change.left_out:
        counts[e.reason] = counts.get(e.reason, 0) + 1
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))


def _result_for(pack: Pack, backend: Backend | None) -> ReviewResult:
    return ReviewResult(
        files_full=[f.path for f in pack.files if f.tier == "full"],
        files_outline=[f.path for f in pack.files if f.tier == "outline"],
        files_listed=[f.path for f in pack.files if f.tier == "listed"],
        backend=backend.name if backend else None,
        chunks=1,
        notes=list(pack.notes),
    )


def _run_analyzers(root: Path, pack: Pack, settings: Settings, result: ReviewResult, progress: Progress | None,
                   only: list[str] | None) -> list[Finding]:
    names = settings.analyzers
    if not names or names == ["none"]:
        return []
    try:
        from reviewer.analyzers import run_analyzers
    except ImportError as exc:
        result.notes.append(f"offline analyzers unavailable: {exc}")
        return []
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




def _prompt_notes(root: Path, settings: Settings, names: tuple[str, ...]) -> list[str]:
    where = prompt_root(root, settings)
    return [f"prompt {name!r} comes from the repository's .reviewer/prompts/{name}.md"
            for name in names if override_path(name, where) is not None]


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














__all__ = ["Usage", "ask", "review"]
