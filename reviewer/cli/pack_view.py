"""How a pack is summarised for people (a rich table) and for scripts (JSON)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reviewer.pack.model import Pack


def _top_dir(path: str) -> str:
    return path.split("/", 1)[0] + "/" if "/" in path else "."


def pack_stats(pack: Pack, elapsed: float, output: str | None) -> dict[str, Any]:
    tiers = Counter(f.tier for f in pack.files)
    excluded = Counter(e.reason for e in pack.excluded)
    dirs: Counter[str] = Counter()
    for f in pack.files:
        dirs[_top_dir(f.path)] += f.tokens
    return {
        "root": pack.root,
        "tokenizer": pack.tokenizer,
        "style": pack.style,
        "budget": pack.budget,
        "total_tokens": pack.total_tokens,
        "utilization": round(pack.total_tokens / pack.budget, 4) if pack.budget else None,
        "files": {"full": tiers.get("full", 0), "outline": tiers.get("outline", 0), "listed": tiers.get("listed", 0)},
        "outlines_with_definitions": sum(1 for f in pack.files if f.definitions),
        "excluded": dict(sorted(excluded.items())),
        "excluded_total": len(pack.excluded),
        "secrets_redacted": len(pack.secrets),
        "secrets": [{"path": s.path, "line": s.line, "type": s.kind} for s in pack.secrets],
        "heaviest_dirs": [{"dir": d, "tokens": n} for d, n in sorted(dirs.items(), key=lambda kv: (-kv[1], kv[0]))[:8]],
        "notes": list(pack.notes),
        "output": output,
        "seconds": round(elapsed, 3),
        "stages": dict(pack.stages),
    }


def print_summary(console: Console, pack: Pack, stats: dict[str, Any]) -> None:
    files = stats["files"]
    table = Table(title=f"Pack of {escape(pack.root)}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    budget = f"{pack.budget:,}" if pack.budget else "none"
    util = f" ({stats['utilization']:.1%} of {budget})" if stats["utilization"] is not None else ""
    table.add_row("tokens", f"{pack.total_tokens:,}{util}  [dim]{pack.tokenizer}, exact[/]")
    with_defs = f" ({stats['outlines_with_definitions']} with definitions whole)" if stats["outlines_with_definitions"] else ""
    table.add_row("files", f"{files['full']} whole, {files['outline']} outline{with_defs}, {files['listed']} listed only")
    if stats["excluded"]:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(stats["excluded"].items(), key=lambda kv: (-kv[1], kv[0])))
        table.add_row("excluded", f"{stats['excluded_total']}: {reasons}")
    else:
        table.add_row("excluded", "0")
    heavy = ", ".join(f"{escape(d['dir'])} {d['tokens']:,}" for d in stats["heaviest_dirs"][:5])
    if heavy:
        table.add_row("heaviest", heavy)
    if pack.secrets:
        shown = "; ".join(f"{escape(s.path)}:{s.line} {s.kind}" for s in pack.secrets[:6])
        more = f" and {len(pack.secrets) - 6} more" if len(pack.secrets) > 6 else ""
        table.add_row("secrets", f"[yellow]{len(pack.secrets)} redacted[/]: {shown}{more}")
    else:
        table.add_row("secrets", "none found")
    for note in pack.notes:
        table.add_row("note", escape(note))
    table.add_row("output", escape(stats["output"] or "stdout"))
    table.add_row("time", f"{stats['seconds']:.2f} s")
    console.print(table)
