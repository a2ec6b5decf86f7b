"""``build_pack``: the packer's one entry point. It reads as the data flow:

    scan -> tags -> focus -> rank -> fit (redact, outline, count) -> order -> render

Each stage is a function in its own module; this file only wires them and enforces the budget.
Only the files that may be shown are redacted, outlined and counted; everything is cached by
content hash (``reviewer.index.cache``), so a second run reads instead of recomputing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from reviewer.config import Settings
from reviewer.errors import InputError
from reviewer.index.batch import WorkerPool
from reviewer.index.cache import IndexCache
from reviewer.index.languages import language_for
from reviewer.index.outline import outline_text
from reviewer.pack.defrank import messages, unit_task
from reviewer.pack.defs import DefPlan, plan_definitions, restore_plans
from reviewer.pack.expand import follow_imports, follow_messages
from reviewer.pack.fit import Selection, fit_budget, small_matches
from reviewer.pack.focus import build_focus, changed_files
from reviewer.pack.model import Pack, PackedFile, Tier
from reviewer.pack.order import History, order_files, read_history
from reviewer.pack.prepare import Workbench, start_counter
from reviewer.pack.rank import Ranking, rank_files
from reviewer.pack.render import TREE_COLLAPSE, Renderer, get_renderer, render_tree
from reviewer.pack.stages import Stopwatch
from reviewer.repo.scan import ScanResult, scan

Progress = Callable[[str, int, int], None]

DEFAULT_WINDOW = 1_048_576
TREE_SHARE = 1 / 16  # of the budget: a bigger directory tree is collapsed (deep directories as counts)
_RUN = "run2"  # the cache's record of a run's choices (2: with the definitions shown whole)


def default_budget(settings: Settings) -> int:
    return settings.budget if settings.budget else max(1, DEFAULT_WINDOW - settings.reserve)


def build_pack(
    root: Path,
    settings: Settings,
    *,
    diff_base: str | None = None,
    query: str | None = None,
    trace: str | None = None,
    progress: Progress | None = None,
    history: History | None = None,
) -> Pack:
    """Pack ``root`` within the budget (see the module's docstring). ``history``: the git history
    to order by, when it is not the tree's own (a snapshot written out of git's objects)."""
    notes: list[str] = []
    if settings.snapshot_every:
        from reviewer.pack.snapshot_pack import build_snapshot_pack

        layered = build_snapshot_pack(root, settings, diff_base=diff_base, query=query, trace=trace,
                                      progress=progress, notes=notes)
        if layered is not None:
            return layered
    watch = Stopwatch()
    with IndexCache(settings, timer=watch.stage) as cache, WorkerPool() as pool, ExitStack() as stack:
        counter = None
        if cache.is_empty() and pool.max_workers > 1 and _looks_big(root):
            # surely a cold run on a big tree: start the workers and the token counter now, while the scan reads
            counter = start_counter(settings)
            stack.callback(counter.close)
            pool.start(pool.max_workers)
        with watch.stage("scan"):
            scanned = scan(root, settings, progress)
        if not scanned.files:
            raise InputError(f"no text files to pack in {root}", hint=_why_empty(scanned))
        history_job = _Background(read_history, scanned.root, scanned.is_git) if history is None else None
        renderer = get_renderer(settings.style)
        budget = default_budget(settings)
        paths = [f.path for f in scanned.files]
        changed = changed_files(scanned.root, diff_base, scanned.is_git) if diff_base else None
        bench = Workbench(scanned.files, settings, renderer, cache, pool, progress, watch=watch)
        stack.callback(bench.close)
        # a file read anew (not known from the stat cache) likely has no count in the cache yet
        bench.preload_tokenizer(counter, likely=scanned.read > 0)
        with watch.stage("render"):
            frame = _Frame(scanned, renderer, bench, budget)
        with watch.stage("fit"):
            # the same files, options and task as a run before: its choices stand (every choice
            # is a function of these), only the blocks are read back
            key = _run_key(scanned, settings, budget, diff_base, changed, query, trace)
            ranking, selection, plans = _cached_run(cache, key, bench, frame, budget)
        if selection is None:
            with watch.stage("tags"):
                tags = bench.load_tags()
            with watch.stage("focus"):
                focus = build_focus(scanned.root, paths, tags, diff_base=diff_base, query=query, trace=trace,
                                    is_git=scanned.is_git, changed=changed)
            with watch.stage("rank"):
                ranking = rank_files(paths, tags, focus)
                if query or trace:
                    ranking = follow_imports(ranking, paths, lambda p: bench.files[p].text)
                if query:
                    ranking = follow_messages(ranking, messages(query), lambda p: bench.files[p].text)
            with watch.stage("fit"):
                est_full, est_outline = bench.estimates()
                if progress is not None:
                    progress("fit", 0, 1)
                task = unit_task(focus, query)
                plans = plan_definitions(paths, ranking, task, bench, est_full, est_outline,
                                         budget - frame.estimate) if task else {}
                small = small_matches(focus.lexical, est_full, budget - frame.estimate)
                selection = fit_budget(paths, ranking, est_full, est_outline, lambda: budget - frame.exact(),
                                       bench.costs, estimated_budget=budget - frame.estimate, units=plans,
                                       small=small)
                plans = {p: plans[p].narrowed(selection.units[p]) for p in selection.units}
                if progress is not None:
                    progress("fit", 1, 1)
            cache.put_json(_RUN, {key: {"ranking": ranking.to_json(), "tiers": {
                p: t for p, t in selection.tiers.items() if t != "listed"}, "reasons": selection.reasons,
                "units": {p: plan.to_json() for p, plan in plans.items()}}})
        assert ranking is not None
        fixed = frame.exact()
        with watch.stage("fit"):
            rendered = _settle(plans, selection, bench, budget - fixed)
        # every block is counted: the workers and the counting process exit while the rest is done
        pool.release()
        bench.release()
        shown = [p for p in paths if selection.tiers[p] != "listed"]
        with watch.stage("order"):
            ordered = order_files(shown, history_job.result() if history_job else history,
                                  [p for p in ranking.focused if p in set(shown)], selection.costs)
        with watch.stage("render"):
            parts = [rendered[p] if p in rendered else bench.blocks[(p, selection.tiers[p])][0] for p in ordered]
            blocks = "".join(parts)
            document = frame.header + blocks + frame.tree + frame.footer
            files = _packed_files(paths, bench, ranking, selection, plans)
            secrets = bench.secrets({p: selection.tiers[p] for p in shown},
                                    {p: plan.shown_rows() for p, plan in plans.items()})
        watch.begin("close")  # workers reaped, the cache's use recorded
    watch.end()
    return Pack(
        root=scanned.root.name or "repository",
        text=document,
        total_tokens=fixed + selection.used,
        budget=budget,
        tokenizer=bench.tokenizer_name,
        style=renderer.style,
        files=files,
        excluded=list(scanned.excluded),
        secrets=secrets,
        blocks=(len(frame.header), len(frame.header) + len(blocks)),
        block_order=list(zip(ordered, itertools.accumulate(len(b) for b in parts), strict=True)),
        notes=notes,
        stages=watch.report(),
    )


def _looks_big(root: Path) -> bool:
    """A cheap guess, before the scan, that the tree is big: git's index holds over ~1,000
    entries (about 100 bytes each). Outside git, or when unsure: no."""
    dotgit = Path(root) / ".git"
    try:
        if dotgit.is_file():  # a worktree or submodule: "gitdir: PATH"
            line = dotgit.read_text(encoding="utf-8", errors="replace").strip()
            if not line.startswith("gitdir:"):
                return False
            gitdir = Path(line[7:].strip())
            dotgit = gitdir if gitdir.is_absolute() else Path(root) / gitdir
        return (dotgit / "index").stat().st_size > 100_000
    except OSError:
        return False


def _run_key(
    scanned: ScanResult, settings: Settings, budget: int, diff_base: str | None, changed: list[str] | None,
    query: str | None, trace: str | None,
) -> str:
    h = hashlib.sha256()
    for f in scanned.files:
        h.update(f"{f.path}\0{f.sha256}\n".encode("utf-8", "surrogateescape"))
    task = [budget, settings.style, settings.tokenizer, settings.redact_secrets, diff_base, changed, query, trace]
    h.update(json.dumps(task, ensure_ascii=False).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _cached_run(
    cache: IndexCache, key: str, bench: Workbench, frame: _Frame, budget: int
) -> tuple[Ranking | None, Selection | None, dict[str, DefPlan]]:
    data = cache.get_json(_RUN, [key]).get(key)
    if not isinstance(data, dict):
        return None, None, {}
    try:
        ranking = Ranking.from_json(data["ranking"])
        shown: dict[str, Tier] = {str(p): t for p, t in data["tiers"].items() if t in ("full", "outline")}
        reasons = {str(p): str(r) for p, r in data["reasons"].items()}
        stored = {str(p): u for p, u in data["units"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return None, None, {}
    if set(ranking.scores) != set(bench.files) or not set(shown) <= set(bench.files):
        return None, None, {}
    if not all(shown.get(p) == "outline" for p in stored):
        return None, None, {}
    plans = restore_plans(bench, stored)
    if plans is None:
        return None, None, {}
    costs = bench.costs([(p, t) for p, t in shown.items() if p not in plans])
    costs.update({(p, "outline"): plan.cost() for p, plan in plans.items()})
    block_budget = budget - frame.exact()
    if len(costs) != len(shown) or sum(costs.values()) > block_budget:
        return None, None, {}
    tiers: dict[str, Tier] = dict.fromkeys(bench.files, "listed")
    tiers.update(shown)
    chosen = {p: costs[(p, t)] for p, t in shown.items()}
    units = {p: tuple(range(len(plan.units))) for p, plan in plans.items()}
    return ranking, Selection(tiers, chosen, sum(chosen.values()), block_budget, reasons, units), plans


class _Background:
    """A call run in a thread (for work that waits on a subprocess, such as git)."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class _Frame:
    """The header, the directory tree and the footer. The header names no counts and the tree
    comes after the files: adding a file must not change the start of the pack (see
    ``reviewer.pack.order``). The tree is collapsed when it would take more than ``TREE_SHARE``
    of the budget (by estimate), and further when the whole of it would not fit. Its exact
    count is taken only when the fit asks for it, so the tokenizer can load meanwhile."""

    def __init__(self, scanned: ScanResult, renderer: Renderer, bench: Workbench, budget: int) -> None:
        self.renderer, self.bench, self.budget = renderer, bench, budget
        self.paths = [f.path for f in scanned.files]
        self.header = renderer.header(scanned.root.name or "repository", {})
        self.footer = renderer.footer()
        self.tree = renderer.tree(render_tree(self.paths))
        for depth in TREE_COLLAPSE:
            # at a small budget the files matter more than the tree of every path
            if _estimate(self.tree) <= TREE_SHARE * budget:
                break
            self.tree = renderer.tree(render_tree(self.paths, collapse_below=depth))
        self.estimate = _estimate(self.header + self.tree + self.footer) + 64
        self.tokens: int | None = None

    def exact(self) -> int:
        if self.tokens is None:
            fixed = self.bench.count_texts([self.header, self.tree, self.footer])
            if sum(fixed) > self.budget:
                for depth in TREE_COLLAPSE:
                    self.tree = self.renderer.tree(render_tree(self.paths, collapse_below=depth))
                    fixed[1] = self.bench.count_texts([self.tree])[0]
                    if sum(fixed) <= self.budget:
                        break
            if sum(fixed) > self.budget:
                raise InputError(
                    f"a budget of {self.budget:,} tokens cannot hold even the repository's header and tree "
                    f"({sum(fixed):,} tokens)",
                    hint="raise --budget or narrow the files with --include/--exclude",
                )
            self.tokens = sum(fixed)
        return self.tokens


def _settle(plans: dict[str, DefPlan], selection: Selection, bench: Workbench, room: int) -> dict[str, str]:
    """Render the outlines with definitions whole and take their counts as written. Should a
    tokenizer count a block's head differently than planned (``DefPlan.cost``) and the total go
    over, the biggest of them fall back to their plain outline until it fits."""
    out: dict[str, str] = {}
    for p in sorted(plans):
        out[p], selection.costs[p] = plans[p].render()
    selection.used = sum(selection.costs.values())
    for p in sorted(plans, key=lambda p: (-selection.costs[p], p)):
        if selection.used <= room:
            break
        del out[p], plans[p], selection.units[p]
        selection.used -= selection.costs.pop(p)
        outline = bench.costs([(p, "outline")]).get((p, "outline"))
        if outline is not None and selection.used + outline <= room:
            selection.costs[p] = outline
            selection.used += outline
        else:
            selection.tiers[p] = "listed"
            selection.reasons[p] = "listed: over budget"
    return out


def _estimate(text: str) -> int:
    return int(0.35 * len(text) + 2 * text.count("\n"))


def _packed_files(
    paths: list[str], bench: Workbench, ranking: Ranking, selection: Selection, plans: dict[str, DefPlan]
) -> list[PackedFile]:
    out: list[PackedFile] = []
    for path in paths:
        tier = selection.tiers[path]
        reason = selection.reasons.get(path, "")
        why = ranking.reasons.get(path, "")
        definitions: list[str] = []
        body_tokens = 0
        if path in plans:
            text = outline_text(plans[path].numbered())
            definitions = [u.qualname for u in plans[path].units]
            reason += f" ({plans[path].explain()})"
            body_tokens = plans[path].body_tokens()
        elif tier == "full":
            text = bench.texts[path]
            body_tokens = bench.body_tokens[(path, tier)]
        elif tier == "outline":
            text = outline_text(bench.outlines[path])
            if bench.outline_kinds.get(path) == "plain":
                reason += " (plain outline)"
            body_tokens = bench.body_tokens[(path, tier)]
        else:
            text = ""
        lines = bench.files[path].lines
        out.append(
            PackedFile(
                path, tier, text, selection.costs.get(path, 0), lines, language=language_for(path),
                reason=f"{reason}; {why}" if why else reason, rank=ranking.scores.get(path, 0.0),
                definitions=definitions, body_tokens=body_tokens,
            )
        )
    return out


def _why_empty(scanned: ScanResult) -> str:
    if not scanned.excluded:
        return "the directory is empty" + (" (no files tracked or untracked in git)" if scanned.is_git else "")
    reasons: dict[str, int] = {}
    for e in scanned.excluded:
        reasons[e.reason] = reasons.get(e.reason, 0) + 1
    listed = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"every file was excluded: {listed}"
