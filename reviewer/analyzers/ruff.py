"""ruff: Python bugs (pyflakes, bugbear), security (flake8-bandit) and performance (perflint).

Runs ``ruff check --isolated``: the repository's pyproject.toml / ruff.toml are never read, so a
repository cannot switch rules off or load anything; the rule set is tables.toml's ``[ruff]``.
``--no-cache`` keeps ruff from writing a cache into the repository.
"""

from __future__ import annotations

import json

from reviewer.analyzers.base import (
    Context,
    Hit,
    ToolFailed,
    chunked,
    find_tool,
    one_line,
    relative_to_root,
    run_tool,
)
from reviewer.analyzers.tables import classify, section

PY_SUFFIXES = (".py", ".pyi")


class Ruff:
    name = "ruff"
    install_hint = "pip install ruff"

    def wants(self, path: str) -> bool:
        return path.endswith(PY_SUFFIXES)

    def run(self, ctx: Context, paths: list[str]) -> list[Hit]:
        exe = find_tool("ruff")
        table = section("ruff")
        base = [
            str(exe), "check", "--isolated", "--no-cache", "--exit-zero",
            "--output-format", "json",
            "--select", ",".join(table.get("select", ["F"])),
        ]  # fmt: skip
        if table.get("ignore"):
            base += ["--ignore", ",".join(table["ignore"])]
        hits: list[Hit] = []
        for chunk in chunked(paths):
            out = run_tool(ctx, [*base, "--", *chunk])
            hits.extend(parse(ctx, out))
        return hits


def parse(ctx: Context, out: str) -> list[Hit]:
    try:
        items = json.loads(out or "[]")
    except json.JSONDecodeError as exc:
        raise ToolFailed(f"unreadable JSON output ({exc.msg})") from exc
    if not isinstance(items, list):
        raise ToolFailed("unexpected JSON output")
    hits: list[Hit] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        path = relative_to_root(ctx.root, str(item.get("filename", "")))
        location = item.get("location") or {}
        end = item.get("end_location") or location
        if path is None or not isinstance(location.get("row"), int):
            continue
        # a syntax error: "invalid-syntax" since ruff 0.12, no code before (E999 before 0.6)
        code = item.get("code") or "invalid-syntax"
        if code == "E999":
            code = "invalid-syntax"
        message = one_line(str(item.get("message", "")))
        rule = classify("ruff", code, message=message)
        hits.append(
            Hit(
                path=path,
                start_line=location["row"],
                end_line=end["row"] if isinstance(end.get("row"), int) else location["row"],
                rule=code,
                title=rule.title or message,
                message=(rule.title or "") if rule.hide_message else message,
                category=rule.category,
                severity=rule.severity,
                confidence=rule.confidence,
                cwe=rule.cwe,
                related_cwe=rule.related,
                url=item.get("url") or None,
            )
        )
    return hits
