"""References: the identifiers a file uses, read lexically (comments and docstrings included:
"see also Foo.bar" is a relation too). Cheap enough for every file of a large repository."""

from __future__ import annotations

import re

_IDENT = re.compile(r"[A-Za-z_]\w{1,79}", re.ASCII)  # ASCII: twice as fast, and nearly all code is


def references(text: str, keywords: frozenset[str] = frozenset()) -> list[str]:
    """Distinct identifiers of two or more characters in ``text``, sorted, keywords left out."""
    found = set(_IDENT.findall(text))
    if keywords:
        found -= keywords
    return sorted(found)
