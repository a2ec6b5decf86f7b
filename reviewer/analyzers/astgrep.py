"""ast-grep: structural rules for JavaScript/TypeScript, Go and Python, written for reviewer.

Why ast-grep: it installs from PyPI as one static binary (``ast-grep-cli``, no Python
dependencies), has no network code at all, parses with tree-sitter, and runs rules from local
YAML files in well under a second. Its rules live in ``rules/`` beside this module, each with its
category, severity, confidence and CWE in ``metadata``. It runs with ``--config`` pointing at
``rules/sgconfig.yml``, so a repository's own sgconfig.yml (its rules, or native "custom
language" libraries) is never read.
"""

from __future__ import annotations

import json
from pathlib import Path

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
from reviewer.analyzers.tables import classify

RULES = Path(__file__).parent / "rules"
SUFFIXES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".go", ".py")


class AstGrep:
    name = "ast-grep"
    install_hint = "pip install ast-grep-cli"

    def wants(self, path: str) -> bool:
        return path.endswith(SUFFIXES) and not path.endswith((".min.js", ".d.ts"))

    def run(self, ctx: Context, paths: list[str]) -> list[Hit]:
        exe = find_tool("ast-grep")
        base = [
            str(exe), "scan", "--config", str(RULES / "sgconfig.yml"),
            "--json=stream", "--include-metadata", "--color", "never",
        ]  # fmt: skip
        hits: list[Hit] = []
        for chunk in chunked(paths):
            # exit 1 means "found error-level matches"; a broken rule or config exits with 8
            out = run_tool(ctx, [*base, "--", *chunk], ok_codes=(0, 1))
            hits.extend(parse(ctx, out))
        return hits


def parse(ctx: Context, out: str) -> list[Hit]:
    hits: list[Hit] = []
    for line in out.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ToolFailed(f"unreadable JSON output ({exc.msg})") from exc
        if not isinstance(item, dict):
            continue
        path = relative_to_root(ctx.root, str(item.get("file", "")))
        span = item.get("range") or {}
        start = (span.get("start") or {}).get("line")
        end = (span.get("end") or {}).get("line", start)
        if path is None or not isinstance(start, int):
            continue
        meta = item.get("metadata") or {}
        rule_id = str(item.get("ruleId") or "ast-grep")
        rule = classify(
            "ast-grep",
            rule_id,
            native={k: meta.get(k) for k in ("category", "severity", "confidence", "cwe", "title", "related")},
        )
        message = one_line(str(item.get("message") or ""))
        note = one_line(str(item.get("note") or ""))
        hits.append(
            Hit(
                path=path,
                start_line=start + 1,  # ast-grep counts lines from 0
                end_line=(end if isinstance(end, int) else start) + 1,
                rule=rule_id,
                title=rule.title or message,
                message=_sentences(message, note),
                category=rule.category,
                severity=rule.severity,
                confidence=rule.confidence,
                cwe=rule.cwe,
                related_cwe=rule.related,
            )
        )
    return hits


def _sentences(*parts: str) -> str:
    """Parts joined as sentences: each ends with a full stop."""
    return " ".join(p if p.endswith((".", "!", "?")) else f"{p}." for p in parts if p)
