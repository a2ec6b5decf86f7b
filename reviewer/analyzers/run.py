"""Run the chosen analyzers side by side and gather their findings, one note per analyzer that
could not run."""

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
from reviewer.analyzers.ruff import Ruff
from reviewer.analyzers.secrets import Secrets
from reviewer.analyzers.semgrep import Semgrep
from reviewer.errors import InputError
from reviewer.findings import Finding, sort_findings

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

    A missing, failing or slow analyzer costs one line in ``notes``, never an exception; findings
    several analyzers share (same fingerprint) merge into one, the worst severity kept.
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
    with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="analyzer") as pool:
        futures: dict[Future[tuple[list[Hit], list[str], float]], Analyzer] = {}
        for analyzer, files in jobs:
            ctx = Context(root=root, deadline=time.monotonic() + limits[analyzer.name], read=sources)
            futures[pool.submit(_run_one, analyzer, ctx, files, limits[analyzer.name])] = analyzer
        for done, future in enumerate(as_completed(futures), start=1):
            analyzer = futures[future]
            found, notes, seconds = future.result()
            hits[analyzer.name] = found
            result.notes.extend(notes)
            result.seconds[analyzer.name] = seconds
            if progress:
                progress(PROGRESS_STAGE, done, len(jobs))
    findings: list[Finding] = []
    unplaced = 0
    for name in chosen:  # preference order, so merging is deterministic
        for hit in hits.get(name, []):
            finding = to_finding(hit, name, sources)
            if finding is None:
                unplaced += 1
            else:
                findings.append(finding)
    if unplaced:
        result.notes.append(f"analyzers: {unplaced} result(s) named lines their file does not have; dropped")
    result.findings = sort_findings(merge_same(findings))
    result.notes = [n for n in _ordered(result.notes, chosen)]
    return result


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


def merge_same(findings: list[Finding]) -> list[Finding]:
    """One finding per fingerprint: the worst severity wins (ties: the earlier analyzer); the
    others are named in its explanation."""
    best: dict[str, Finding] = {}
    also: dict[str, list[str]] = {}
    for f in findings:
        kept = best.get(f.fingerprint)
        if kept is None:
            best[f.fingerprint] = f
            also[f.fingerprint] = []
            continue
        winner, loser = (f, kept) if f.severity.rank > kept.severity.rank else (kept, f)
        winner = winner.model_copy(
            update={"cwe": winner.cwe or loser.cwe, "confidence": max(winner.confidence, loser.confidence)}
        )
        best[f.fingerprint] = winner
        also[f.fingerprint].append(f"{loser.source} {loser.rule}")
    out = []
    for fp, f in best.items():
        if also[fp]:
            others = ", ".join(sorted(set(also[fp])))
            f = f.model_copy(update={"explanation": f"{f.explanation}\nAlso reported by {others}."})
        out.append(f)
    return out


def _ordered(notes: list[str], chosen: list[str]) -> list[str]:
    """Notes in a stable order (analyzers finish in any order): by analyzer, then as written."""

    def key(note: str) -> int:
        name = note.split(":", 1)[0]
        return chosen.index(name) if name in chosen else len(chosen)

    return sorted(notes, key=key)
