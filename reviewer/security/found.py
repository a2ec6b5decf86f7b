"""What the detectors report and what every one of them needs: a span of text to cut, which kind
of secret it holds, and the tests for values that only stand in for a secret."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True, order=True)
class Span:
    """``text[start:end]`` holds (part of) a secret of ``kind``; never crosses a line end."""

    start: int
    end: int
    kind: str


# ${VAR}, $VAR, <placeholder>, {{ template }}, %(name)s, %VAR%, xxxx, ****, ...., and names of
# environment variables (``api_key_env = "DEEPSEEK_API_KEY"`` names where a key lives)
_PLACEHOLDER = re.compile(
    r"""^(?:\$\{?[A-Za-z_][\w.:-]*\}?|\$\([^)]*\)|<[^>]*>|\{\{.*\}\}|\{[\w.]*\}|%\(?[\w]*\)?[sd]|%[A-Za-z_]\w*%"""
    r"""|[xX*.#_-]+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|!\w+.*|\*\w+|&\w+)$"""
)
# the same, found anywhere in the value: a value that is built from a variable is not a secret
_TEMPLATED = re.compile(r"\$\{|\{\{|%\(|\$\(|<%|\{[A-Za-z_][\w.]*\}|\.\.\.|…|\[REDACTED")
# words that stand for a value in documentation, examples and tests
_STAND_IN = re.compile(
    r"^(?:change[-_ ]?(?:me|it|this)|secret|password|passwd|passw0rd|pass|pwd|token|key|apikey|api[-_]key|"
    r"example|sample|dummy|fake|mock|test|testing|placeholder|redacted|hidden|none|null|nil|undefined|"
    r"true|false|yes|no|on|off|required|optional|string|str|todo|tbd|fixme|default|empty|foo|bar|baz|"
    r"foobar|qwerty|letmein|abc123|123456|hunter2|admin|root|user|username|guest|notasecret|not[-_ ]a[-_ ]secret)$",
    re.I,
)
_STAND_IN_PREFIX = re.compile(r"^(?:your|my|insert|enter|put|replace|example|sample|dummy|fake|mock)(?:[-_ .]|$)", re.I)
_PATH_LIKE = re.compile(r"^(?:~|\.{1,2})?/[\w.@-]+(?:/[\w.@-]+)+/?$")


def stands_in(value: str) -> bool:
    """True when ``value`` is a placeholder, a reference or a word, not a secret value."""
    v = value.strip()
    if not v:
        return True
    if _PLACEHOLDER.match(v) or _STAND_IN.match(v) or _STAND_IN_PREFIX.match(v) or _TEMPLATED.search(v):
        return True
    if len(set(v.lower())) <= 2:  # "aaaaaaaa", "12121212"
        return True
    return bool(_PATH_LIKE.match(v)) or v.startswith(("http://", "https://"))


def has_letter_and_digit(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


# files whose values are code (a value is a secret only when quoted); everything else is read
# like configuration, where ``NAME=value`` and ``name: value`` hold the value itself
CODE_SUFFIXES = frozenset({
    ".py", ".pyi", ".pyx", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".go", ".java",
    ".kt", ".kts", ".scala", ".groovy", ".rb", ".php", ".cs", ".fs", ".vb", ".c", ".h", ".cc", ".cpp", ".cxx",
    ".hpp", ".hh", ".m", ".mm", ".rs", ".swift", ".dart", ".lua", ".pl", ".pm", ".r", ".jl", ".ex", ".exs",
    ".erl", ".clj", ".cljs", ".elm", ".hs", ".ml", ".vue", ".svelte", ".zig", ".nim", ".sol",
})


def is_code(path: str) -> bool:
    return PurePosixPath(path.lower()).suffix in CODE_SUFFIXES


@functools.cache
def _searchers(needles: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """One pattern per first character: a pattern that starts with a literal character is
    searched for far faster by ``re`` than an alternation of different first characters, and
    faster than ``str.find`` once per needle."""
    groups: dict[str, list[str]] = {}
    for n in needles:
        groups.setdefault(n[0], []).append(n)
    out = []
    for first, group in groups.items():
        rest = "|".join(re.escape(n[1:]) for n in sorted(group, key=len, reverse=True))
        out.append(re.compile(f"{re.escape(first)}(?:{rest})"))
    return tuple(out)


def occurrences(haystack: str, needles: tuple[str, ...]) -> Iterator[tuple[int, str]]:
    """(offset, needle) of every occurrence of each needle (overlapping ones included)."""
    for rx in _searchers(needles):
        pos = 0
        while True:
            m = rx.search(haystack, pos)
            if m is None:
                break
            yield m.start(), m.group(0)
            pos = m.start() + 1
