"""bandit: Python security checks, with the CWE id of each issue.

Only files are passed (never directories), so bandit does not look for a ``.bandit`` file in
the repository, and no ``-c`` is given, so it reads no repository configuration either. Its
messages for hard-coded passwords quote the value: tables.toml hides those messages.
"""

from __future__ import annotations

import json

from reviewer.analyzers.base import (
    Context,
    Hit,
    ToolFailed,
    balanced,
    cpu_workers,
    find_tool,
    one_line,
    relative_to_root,
    run_many,
)
from reviewer.analyzers.tables import classify, section

PY_SUFFIXES = (".py", ".pyi")


class Bandit:
    name = "bandit"
    install_hint = "pip install bandit"

    def wants(self, path: str) -> bool:
        return path.endswith(PY_SUFFIXES)

    def run(self, ctx: Context, paths: list[str]) -> list[Hit]:
        exe = find_tool("bandit")
        table = section("bandit")
        base = [str(exe), "--format", "json", "--quiet", "--exit-zero"]
        if table.get("skip"):
            base += ["--skip", ",".join(table["skip"])]
        # bandit is pure Python and single-threaded (about 0.1 s per file): run one process per
        # core, each on a share of the files of about equal size
        workers = cpu_workers()
        groups = balanced(ctx.root, paths, workers)
        outs = run_many(ctx, [[*base, "--", *group] for group in groups], workers=workers)
        hits: list[Hit] = []
        unparsed = 0
        for out in outs:
            found, errors = parse(ctx, out)
            hits.extend(found)
            unparsed += errors
        if unparsed:
            ctx.notes.append(f"bandit: {unparsed} file(s) could not be parsed and were not checked")
        return hits


def parse(ctx: Context, out: str) -> tuple[list[Hit], int]:
    """Hits and the number of files bandit could not read."""
    try:
        data = json.loads(out)
    except json.JSONDecodeError as exc:
        raise ToolFailed(f"unreadable JSON output ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ToolFailed("unexpected JSON output")
    severities = section("bandit").get("severity", {})
    confidences = section("bandit").get("confidence", {})
    hits: list[Hit] = []
    for item in data.get("results") or []:
        if not isinstance(item, dict):
            continue
        path = relative_to_root(ctx.root, str(item.get("filename", "")))
        line = item.get("line_number")
        if path is None or not isinstance(line, int):
            continue
        line_range = [n for n in item.get("line_range") or [] if isinstance(n, int)]
        test_id = str(item.get("test_id") or "B000")
        cwe = (item.get("issue_cwe") or {}).get("id")
        message = one_line(str(item.get("issue_text", "")))
        rule = classify(
            "bandit",
            test_id,
            native={
                "severity": severities.get(str(item.get("issue_severity"))),
                "confidence": confidences.get(str(item.get("issue_confidence"))),
                "cwe": f"CWE-{cwe}" if isinstance(cwe, int) and cwe > 0 else None,
            },
            message=message,
        )
        hits.append(
            Hit(
                path=path,
                start_line=line,
                end_line=max([line, *line_range]),
                rule=test_id,
                title=rule.title or message,
                message=(rule.title or "") if rule.hide_message else message,
                category=rule.category,
                severity=rule.severity,
                confidence=rule.confidence,
                cwe=rule.cwe,
                related_cwe=rule.related,
                url=item.get("more_info") or None,
            )
        )
    return hits, len(data.get("errors") or [])
