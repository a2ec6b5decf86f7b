"""Files this tool wrote: a pack (``reviewer pack -o``, default ``reviewer-pack.xml``) or a report
(JSON, SARIF, rdjson, Markdown). They are never packed again: a pack left in the repository
would otherwise be sent inside the next pack (a repository of 221K tokens became 521K).

Recognised by what they begin (or, for Markdown reports, end) with, so a renamed or moved
output is still recognised and a user's own file of the same name is not."""

from __future__ import annotations

import re

MARKDOWN_REPORT_MARK = "<!-- reviewer report -->"

_HEADS = (
    re.compile(r'<repository name="[^"\n]*"[^\n]*>\n<legend>'),  # pack, xml style
    re.compile(r"# Repository: [^\n]*\n\n(?:[^\n]*\n\n)?Each file below is shown whole"),  # pack, markdown
    re.compile(r'\{\s*"tool":\s*\{\s*"name":\s*"reviewer"'),  # report, json
    re.compile(r'\{\s*"\$schema":\s*"[^"]*sarif[^"]*",\s*"version":\s*"2\.1\.0",\s*"runs":\s*\[\s*'
               r'\{\s*"tool":\s*\{\s*"driver":\s*\{\s*"name":\s*"reviewer"'),  # report, SARIF
    re.compile(r'\{\s*"source":\s*\{\s*"name":\s*"reviewer"'),  # report, rdjson
)


def is_own_output(text: str) -> bool:
    head = text[:2000]
    if any(p.match(head) for p in _HEADS):
        return True
    return text[-200:].rstrip().endswith(MARKDOWN_REPORT_MARK)
