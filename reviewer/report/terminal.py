"""The review in the terminal, with rich: counts, a table, each finding with highlighted evidence,
what was dropped and why, and what it cost."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from reviewer.findings import Finding
from reviewer.report.summary import count_line, usage_line
from reviewer.review.model import ReviewResult

_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
_LEXER = {".py": "python", ".js": "javascript", ".ts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust",
          ".java": "java", ".c": "c", ".h": "c", ".cpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
          ".kt": "kotlin", ".swift": "swift", ".sh": "bash", ".yml": "yaml", ".yaml": "yaml", ".toml": "toml"}


def _lexer(path: str) -> str:
    dot = path.rfind(".")
    return _LEXER.get(path[dot:].lower(), "text") if dot != -1 else "text"


def _finding_panel(f: Finding) -> Panel:
    where = f"{f.path}:{f.start_line}" + (f"-{f.end_line}" if f.end_line != f.start_line else "")
    meta = Text.assemble(
        (f" {f.severity.value} ", _STYLE.get(f.severity.value, "")),
        f" {f.category.value}  ",
        (where, "bold"),
        f"  confidence {f.confidence:.2f}",
        (f"  {f.cwe}" if f.cwe else ""),
        (f"  [{f.source}{'/' + f.status if f.status else ''}]" if f.source != "model" else "", "dim"),
    )
    parts: list[object] = [meta, Text(f.explanation.strip())]
    parts.append(Syntax(f.evidence, _lexer(f.path), line_numbers=True, start_line=f.start_line, word_wrap=True))
    if f.suggestion:
        parts += [Text("suggested change:", style="green"), Syntax(f.suggestion, _lexer(f.path), word_wrap=True)]
    return Panel(Group(*parts), title=escape(f.title), title_align="left", border_style=_STYLE.get(f.severity.value, ""))


def print_report(console: Console, result: ReviewResult, *, show_rejected: bool = False, limit: int = 200) -> None:
    if not result.model_used:
        console.print("[bold yellow]No model was used[/]: findings come from the offline analyzers.")
    if result.answer:
        console.print(Panel(escape(result.answer), title="Answer", title_align="left", border_style="green"))
    console.print(f"[bold]{escape(count_line(result))}[/]")
    if result.findings:
        table = Table(show_lines=False, header_style="bold")
        table.add_column("severity")
        table.add_column("category")
        table.add_column("location", overflow="fold")
        table.add_column("title", overflow="fold")
        table.add_column("source", style="dim")
        for f in result.findings[:limit]:
            table.add_row(Text(f.severity.value, style=_STYLE.get(f.severity.value, "")), f.category.value,
                          escape(f"{f.path}:{f.start_line}"), escape(f.title), f.source)
        console.print(table)
        for f in result.findings[:limit]:
            console.print(_finding_panel(f))
        if len(result.findings) > limit:
            console.print(f"[dim]{len(result.findings) - limit} more findings in the JSON/SARIF output[/]")
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
