"""The review in the terminal, with rich.

By default the report fits a screen: the counts, one row per kind of finding (worst first, with
how many and where), the few worst findings in full, one line for what lies in tests, docs,
examples and CI files, and where the rest is. ``show_all`` prints every finding in full instead.
Then what was dropped and why, the notes, and what it cost."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from reviewer.findings import Finding
from reviewer.pack.roles import APART, apart_role
from reviewer.report.summary import count_line, usage_line
from reviewer.review.model import ReviewResult

_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
_LEXER = {".py": "python", ".js": "javascript", ".ts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust",
          ".java": "java", ".c": "c", ".h": "c", ".cpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
          ".kt": "kotlin", ".swift": "swift", ".sh": "bash", ".yml": "yaml", ".yaml": "yaml", ".toml": "toml"}
TOP = 3  # findings shown in full by default
KINDS = 8  # rows of the table of kinds by default
BRIEF_EVIDENCE = 4  # lines of evidence in the default report


def _lexer(path: str) -> str:
    dot = path.rfind(".")
    return _LEXER.get(path[dot:].lower(), "text") if dot != -1 else "text"


def _where(f: Finding) -> str:
    return f"{f.path}:{f.start_line}" + (f"-{f.end_line}" if f.end_line != f.start_line else "")


def _finding_panel(f: Finding, *, brief: bool = False) -> Panel:
    meta = Text.assemble(
        (f" {f.severity.value} ", _STYLE.get(f.severity.value, "")),
        f" {f.category.value}  ",
        (_where(f), "bold"),
        f"  confidence {f.confidence:.2f}",
        (f"  {f.cwe}" if f.cwe else ""),
        (f"  [{f.source}{'/' + f.status if f.status else ''}]" if f.source != "model" else "", "dim"),
    )
    explanation = f.explanation.strip()
    evidence = f.evidence
    suggestion = f.suggestion
    if brief:  # the first paragraph unless the title says it already, and the code's first lines
        explanation = explanation.split("\n\n", 1)[0]
        if explanation.rstrip(".") == f.title.rstrip("."):
            explanation = ""
        evidence = _first_lines(evidence)
        suggestion = _first_lines(suggestion) if suggestion else suggestion
    parts: list[object] = [meta, *([Text(explanation)] if explanation else [])]
    parts.append(Syntax(evidence, _lexer(f.path), line_numbers=True, start_line=f.start_line, word_wrap=True))
    if suggestion:
        parts += [Text("suggested change:", style="green"), Syntax(suggestion, _lexer(f.path), word_wrap=True)]
    return Panel(Group(*parts), title=escape(f.title), title_align="left", border_style=_STYLE.get(f.severity.value, ""))


@dataclass
class Kind:
    """Findings of one severity, title and CWE: one row of the default report."""

    findings: list[Finding]

    @property
    def first(self) -> Finding:
        return self.findings[0]


def kinds(findings: list[Finding]) -> list[Kind]:
    """Findings grouped by severity, category, title and CWE; worst first, then the largest."""
    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.severity.value, f.category.value, f.title, f.cwe or ""), []).append(f)
    out = [Kind(sorted(g, key=lambda f: (f.path, f.start_line))) for g in groups.values()]
    out.sort(key=lambda k: (-k.first.severity.rank, -len(k.findings), k.first.title))
    return out


def print_report(
    console: Console,
    result: ReviewResult,
    *,
    show_rejected: bool = False,
    show_all: bool = False,
    written: str | None = None,
) -> None:
    """The review for a person. ``written``: where the whole review was also written."""
    if not result.model_used:
        console.print("[bold yellow]No model was used[/]: findings come from the offline analyzers.")
    if result.answer:
        console.print(Panel(escape(result.answer), title="Answer", title_align="left", border_style="green"))
    main = [f for f in result.findings if not apart_role(f.path)]
    apart = [f for f in result.findings if apart_role(f.path)]
    line = count_line(result)
    if apart:
        line = line.rstrip(".") + f"; {len(apart)} of them in tests, docs, examples or CI files."
    console.print(f"[bold]{escape(line)}[/]")
    if show_all:
        _print_all(console, result.findings)
    elif result.findings:
        _print_brief(console, main, apart, len(result.findings), written)
    if show_rejected and result.rejected:
        console.print(f"[bold]Rejected by the model[/] ({len(result.rejected)}):")
        for f in result.rejected:
            console.print(f"  [dim]{escape(f.path)}:{f.start_line}[/] {escape(f.title)}")
    elif result.rejected:
        console.print(f"[dim]{len(result.rejected)} analyzer finding(s) rejected by the model (--show-rejected)[/]")
    if result.dropped:
        reasons: dict[str, int] = {}
        for d in result.dropped:
            reasons[d.reason] = reasons.get(d.reason, 0) + 1
        console.print("[bold]Dropped[/]: " + ", ".join(f"{n} {escape(r)}" for r, n in sorted(reasons.items())))
    for note in result.notes:
        console.print(f"[dim]note:[/] {escape(note)}")
    files = f"{len(result.files_full)} files whole, {len(result.files_outline)} as outline, {len(result.files_listed)} listed only"
    console.print(f"[dim]Pack: {files}.[/]")
    if result.model_used:
        console.print(f"[dim]{escape(usage_line(result))}[/]")


def _print_all(console: Console, findings: list[Finding]) -> None:
    """Every finding: a table, then each one in full."""
    if not findings:
        return
    table = Table(show_lines=False, header_style="bold")
    table.add_column("severity")
    table.add_column("category")
    table.add_column("location", overflow="fold")
    table.add_column("title", overflow="fold")
    table.add_column("source", style="dim")
    for f in findings:
        table.add_row(Text(f.severity.value, style=_STYLE.get(f.severity.value, "")), f.category.value,
                      escape(f"{f.path}:{f.start_line}"), escape(f.title), f.source)
    console.print(table)
    for f in findings:
        console.print(_finding_panel(f))


def _print_brief(console: Console, main: list[Finding], apart: list[Finding], total: int,
                 written: str | None) -> None:
    """The screenful: kinds of findings in the code, the worst in full, the rest summed up."""
    groups = kinds(main)
    if groups:
        table = Table(show_lines=False, header_style="bold")
        # one line per kind: the text is cut to the room there is rather than wrapped
        room = max(30, console.width - 8 - 4 - 13)
        kind_w = min(60, room * 3 // 5)
        where_w = min(48, room - kind_w)
        table.add_column("severity", no_wrap=True, width=8)
        table.add_column("n", justify="right", no_wrap=True, width=4)
        table.add_column("kind", no_wrap=True, width=kind_w)
        table.add_column("where", no_wrap=True, width=where_w)
        for k in groups[:KINDS]:
            f = k.first
            what = f.title + (f" ({f.cwe})" if f.cwe else "")
            more = f" +{len(k.findings) - 1} more" if len(k.findings) > 1 else ""
            where = _cut(f"{f.path}:{f.start_line}", where_w - len(more)) + more
            table.add_row(Text(f.severity.value, style=_STYLE.get(f.severity.value, "")), str(len(k.findings)),
                          Text(_cut(what, kind_w)), Text(where))
        if len(groups) > KINDS:
            rest = groups[KINDS:]
            table.add_row("", str(sum(len(k.findings) for k in rest)), f"in {len(rest)} more kinds", "")
        console.print(table)
    shown = main[:TOP]
    for f in shown:
        console.print(_finding_panel(f, brief=True))
    if apart:
        console.print(_apart_line(apart))
    rest = total - len(shown)
    if rest <= 0:
        return
    if written is not None:
        console.print(f"[dim]{len(shown)} of {total} findings shown in full; all {total} are in {escape(written)}"
                      " (--all prints them here).[/]")
    else:
        console.print(f"[dim]{len(shown)} of {total} findings shown in full; --all prints every one here, "
                      "--format markdown -o review.md (or json, sarif, rdjson) writes them to a file.[/]")


def _first_lines(code: str) -> str:
    lines = code.split("\n")
    return code if len(lines) <= BRIEF_EVIDENCE else "\n".join([*lines[: BRIEF_EVIDENCE - 1], "..."])


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: a long path keeps its end, other text its start."""
    if len(text) <= width:
        return text
    if "/" in text and " " not in text:
        return "…" + text[-(width - 1):]
    return text[: width - 1] + "…"


def _apart_line(apart: list[Finding]) -> Text:
    """One line on the findings in tests, docs, examples and CI files."""
    where: dict[str, int] = {}
    for f in apart:
        role = apart_role(f.path) or ""
        where[APART.get(role, role)] = where.get(APART.get(role, role), 0) + 1
    titles: dict[str, int] = {}
    for f in apart:
        titles[f.title] = titles.get(f.title, 0) + 1
    top = sorted(titles.items(), key=lambda kv: (-kv[1], kv[0]))
    worst = max(f.severity.rank for f in apart)
    sev = next(f.severity.value for f in apart if f.severity.rank == worst)
    text = (f"Apart: {len(apart)} in " + ", ".join(f"{n} {w}" for w, n in sorted(where.items(), key=lambda kv: -kv[1]))
            + f" (at most {sev}): " + ", ".join(f"{n} {t}" for t, n in top[:3]))
    if len(top) > 3:
        text += f", {len(top) - 3} more kinds"
    return Text(text + ".", style="dim")


def print_estimate(console: Console, estimate: dict[str, object]) -> None:
    table = Table(title="Dry run: nothing was sent", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key in ("backend", "model", "context_window", "prompt_tokens", "pack_tokens", "answer_tokens_assumed"):
        if key in estimate and estimate[key] is not None:
            value = estimate[key]
            table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    if "cost_usd_cache_miss" in estimate:
        priced = estimate.get("priced", True)
        tier = estimate.get("price_tier")
        at = f" ({tier} prices, now)" if tier else ""
        table.add_row("cost, all cache miss", f"${estimate['cost_usd_cache_miss']:.4f}" + at
                      + ("" if priced else " (no prices for this model)"))
        table.add_row("cost, pack cached", f"${estimate['cost_usd_cache_hit']:.4f}" + at)
    console.print(table)
