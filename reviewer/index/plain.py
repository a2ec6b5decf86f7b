"""The plain outline, for files no grammar covers: the first lines, then the lines that look like
headings or declarations (Markdown and reStructuredText titles, unindented keys and section
headers of configuration files, unindented lines that open a definition)."""

from __future__ import annotations

import re

HEAD_LINES = 12
MAX_KEPT = 160

_HEADING = re.compile(
    r"""^(?:
        \#{1,6}\s+\S                                   # Markdown heading
      | \[[^\]\n]{1,80}\]\s*$                          # INI/TOML section
      | [A-Za-z_][\w.\-]{0,60}\s*[:=]                  # unindented key: value / NAME = value
      | (?:export\s+|public\s+|private\s+|static\s+|async\s+)*
        (?:def|class|function|func|fn|sub|proc|module|package|interface|struct|enum|trait|type|
           impl|object|namespace|CREATE|create|message|service|resource|variable|output|target|
           FROM|RUN|ENTRYPOINT|CMD)\b
      | [A-Za-z_][\w\-]*\s*\(\)\s*\{                   # shell function
      | [^\s#].*:\s*$                                  # make target / YAML block key
    )""",
    re.VERBOSE,
)
_UNDERLINE = re.compile(r"^(=+|-+|~+|\^+|\*+|#+)\s*$")


def plain_rows(lines: list[str]) -> set[int]:
    keep = set(range(min(HEAD_LINES, len(lines))))
    for i, line in enumerate(lines):
        if len(keep) >= MAX_KEPT:
            break
        if not line or line[0].isspace():
            continue
        if _HEADING.match(line):
            keep.add(i)
        elif _UNDERLINE.match(line) and i > 0 and lines[i - 1].strip() and len(line.strip()) >= 3:
            keep.update((i - 1, i))  # reStructuredText title and its underline
    return keep
