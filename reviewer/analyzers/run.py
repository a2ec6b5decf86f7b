"""Run the chosen analyzers side by side and gather their findings, one note per analyzer that
could not run.

After the tools: each result is judged in its context (refine: comments, placeholder secrets,
deliberate code, tests and docs), quoted with its statement (evidence), and the results on one
statement become one finding (merge), so the report reads one issue once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.analyzers.astgrep import AstGrep
from reviewer.analyzers.bandit import Bandit
from reviewer.analyzers.base import Analyzer, Context, Hit, ToolFailed, ToolMissing, ToolTimeout
from reviewer.analyzers.evidence import Sources, safe_path, to_finding
from reviewer.analyzers.merge import Placed, merge_same, one_per_statement
from reviewer.analyzers.refine import Tally, context, refine
from reviewer.analyzers.ruff import Ruff
from reviewer.analyzers.secrets import Secrets
from reviewer.analyzers.semgrep import Semgrep
from reviewer.errors import InputError
from reviewer.findings import Finding, sort_findings
from reviewer.pack.roles import apart_role

Progress = Callable[[str, int, int], None]

# In order of preference when two analyzers report the same finding (same fingerprint): semgrep
# first, its taint findings name the source and the sink.
ANALYZERS: dict[str, Analyzer] = {a.name: a for a in (Semgrep(), Bandit(), Ruff(), AstGrep(), Secrets())}
ALIASES = {"astgrep": AstGrep.name, "sg": AstGrep.name, "detect-secrets": Secrets.name}
# Seconds each analyzer may take on one run (all its path chunks together).
TIMEOUTS = {"semgrep": 600.0, "ruff": 120.0, "bandit": 600.0, "ast-grep": 120.0, "secrets": 300.0}
PROGRESS_STAGE = "analyze"


@dataclass
class AnalyzerRun:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # one line per skipped or failed analyzer
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per analyzer that ran


def resolve_names(names: list[str]) -> list[str]:
    """``["all"]``, ``["none"]`` or a subset (comma lists accepted) as analyzer names in order of
    preference; InputError for a name that is not an analyzer."""
    wanted: list[str] = []
    for raw in names:
        for part in str(raw).split(","):
            name = part.strip().lower()
            if name:
                wanted.append(ALIASES.get(name, name))
    if not wanted or "none" in wanted:
        return []
    if "all" in wanted:
        return list(ANALYZERS)
    unknown = [n for n in wanted if n not in ANALYZERS]
    if unknown:
        raise InputError(
            f"unknown analyzer {unknown[0]!r}",
            hint=f"choose from: {', '.join(ANALYZERS)}, all, none",
        )
    return [n for n in ANALYZERS if n in wanted]


def run_analyzers(
    root: Path,
    paths: list[str],
    names: list[str],
    *,
    progress: Progress | None = None,
    timeouts: dict[str, float] | None = None,
) -> AnalyzerRun:
    """Run the analyzers ``names`` on ``paths`` (repository-relative) under ``root``, in parallel.

    A missing, failing or slow analyzer costs one line in ``notes``, never an exception; results
    on one statement (of one category) merge into one finding, the worst severity kept.
    """
    chosen = resolve_names(names)
    result = AnalyzerRun()
    if not chosen:
        return result
    root = Path(root)
    real_root = Path(root).resolve()
    usable = sorted({p for p in paths if safe_path(real_root, p) is not None})
    if len(usable) < len(set(paths)):
        result.notes.append(
            f"analyzers: {len(set(paths)) - len(usable)} path(s) skipped (not a file inside the repository)"
        )
    limits = {**TIMEOUTS, **(timeouts or {})}
    sources = Sources(root)
    jobs = [(ANALYZERS[n], [p for p in usable if ANALYZERS[n].wants(p)]) for n in chosen]
    jobs = [(a, ps) for a, ps in jobs if ps]
    if progress:
        progress(PROGRESS_STAGE, 0, len(jobs))
    hits: dict[str, list[Hit]] = {}
    # The statements of the files a tool reported on are parsed while the slower tools still run
    # (one thread: the tools are subprocesses, so this process is otherwise waiting). Leaving the
    # block waits for both.
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="statements") as parser,
        ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="analyzer") as pool,
    ):
        futures: dict[Future[tuple[list[Hit], list[str], float]], Analyzer] = {}
        for analyzer, files in jobs:
            ctx = Context(root=root, deadline=time.monotonic() + limits[analyzer.name], read=sources)
            futures[pool.submit(_run_one, analyzer, ctx, files, limits[analyzer.name])] = analyzer
        parsed: set[str] = set()
        for done, future in enumerate(as_completed(futures), start=1):
            analyzer = futures[future]
            found, notes, seconds = future.result()
            hits[analyzer.name] = found
            result.notes.extend(notes)
            result.seconds[analyzer.name] = seconds
            fresh = sorted({h.path for h in found} - parsed)
            parsed.update(fresh)
            parser.submit(_parse_statements, sources, fresh)
            if progress:
                progress(PROGRESS_STAGE, done, len(jobs))
    findings, tally = _findings(hits, chosen, sources)
    result.findings = sort_findings(merge_same(findings))
    if note := tally.note(sum(1 for f in result.findings if apart_role(f.path))):
        result.notes.append(note)
    result.notes = [n for n in _ordered(result.notes, chosen)]
    return result


def _findings(hits: dict[str, list[Hit]], chosen: list[str], sources: Sources) -> tuple[list[Finding], Tally]:
    """The tools' results as findings: judged in context, quoted with their statement, one per
    statement and category; plus the count of what was left out."""
    tally = Tally()
    placed: list[Placed] = []
    unplaced = 0
    for rank, name in enumerate(chosen):  # preference order, so merging is deterministic
        for hit in hits.get(name, []):
            file = sources(hit.path)
            refined = refine(name, hit, file, tally)
            if refined is None:
                continue
            finding = to_finding(refined.hit, name, sources, lines=context(refined.hit, file), note=refined.note)
            if finding is None or file is None:
                unplaced += 1
                continue
            unit = file.unit(hit.start_line) or (finding.start_line, finding.end_line)
            placed.append(Placed(finding, unit, rank))
    if unplaced:
        tally.dropped["result(s) naming lines their file does not have"] += unplaced
    return one_per_statement(placed), tally


def _parse_statements(sources: Sources, paths: list[str]) -> None:
    """Read ``paths`` and work out their statements now, so the findings are placed without waiting."""
    for path in paths:
        file = sources(path)
        if file is not None:
            file.unit(1)


def _run_one(
    analyzer: Analyzer, ctx: Context, files: list[str], limit: float
) -> tuple[list[Hit], list[str], float]:
    started = time.monotonic()
    try:
        found = analyzer.run(ctx, files)
    except ToolMissing:
        return [], [f"{analyzer.name}: not installed, skipped ({analyzer.install_hint})"], 0.0
    except ToolTimeout:
        return [], [f"{analyzer.name}: timed out after {limit:g} s, skipped"], time.monotonic() - started
    except ToolFailed as exc:
        return [], [f"{analyzer.name}: failed ({exc}), skipped"], time.monotonic() - started
    except Exception as exc:  # an adapter bug must not take the review down
        return (
            [],
            [f"{analyzer.name}: failed ({type(exc).__name__}: {exc}), skipped"],
            time.monotonic() - started,
        )
    return found, ctx.notes, time.monotonic() - started


def _ordered(notes: list[str], chosen: list[str]) -> list[str]:
    """Notes in a stable order (analyzers finish in any order): by analyzer, then as written."""

    def key(note: str) -> int:
        name = note.split(":", 1)[0]
        return chosen.index(name) if name in chosen else len(chosen)

    return sorted(notes, key=key)
