"""``reviewer pack --explain``: why each file got its tier, for people (a table) and scripts (JSON)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reviewer.pack.model import Pack

_LISTED_SHOWN = 25  # listed-only files shown in the table; the rest are counted


def explain_rows(pack: Pack) -> list[dict[str, Any]]:
    """Every file, most valuable first: rank, score, tier, tokens (of the text shown, as its block
    in the pack states them; ``block_tokens`` with the block's head and tail), the definitions an
    outline shows whole, why."""
    ordered = sorted(pack.files, key=lambda f: (-f.rank, f.path))
    return [
        {"rank": i, "path": f.path, "tier": f.tier, "score": round(f.rank, 6), "tokens": f.body_tokens,
         "block_tokens": f.tokens, "plain_outline": "plain outline" in f.reason, "definitions": list(f.definitions),
         "why": f.reason}
        for i, f in enumerate(ordered, 1)
    ]


def print_explain(console: Console, pack: Pack) -> None:
    rows = explain_rows(pack)
    table = Table(title=f"Why each file of {escape(pack.root)} is in the pack", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("tier")
    table.add_column("score", justify="right")
    table.add_column("tokens", justify="right")
    table.add_column("file", overflow="fold")
    table.add_column("why", overflow="fold")
    style = {"full": "green", "outline": "yellow", "listed": "dim"}
    listed = 0
    for r in rows:
        if r["tier"] == "listed":
            listed += 1
            if listed > _LISTED_SHOWN:
                continue
        tier = f"[{style[r['tier']]}]{r['tier']}[/]" + (f" +{len(r['definitions'])} def" if r["definitions"] else "")
        table.add_row(str(r["rank"]), tier, f"{r['score']:.4f}",
                      f"{r['tokens']:,}" if r["tokens"] else "", escape(r["path"]), escape(r["why"]))
    console.print(table)
    if listed > _LISTED_SHOWN:
        console.print(f"[dim]{listed - _LISTED_SHOWN} more files listed by name only (--stats json --explain has them all)[/]")
    plain = [r["path"] for r in rows if r["plain_outline"]]
    if plain:
        more = f" and {len(plain) - 8} more" if len(plain) > 8 else ""
        console.print(f"plain outline (no grammar for them): {len(plain)} files: "
                      f"{escape(', '.join(plain[:8]))}{more}")
