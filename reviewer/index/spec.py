"""Per-language rules for the tree-sitter index, read from ``specs/<language>.toml``.

A spec names node types, nothing more: which nodes are definitions (and how to find their name
and body), which are containers to look inside, which are imports, comments and attributes.
One generic walker (``reviewer.index.walker``) applies them to every language. Walking only the
containers (module, class and namespace bodies, never function bodies) is what keeps the index
fast: a tree-sitter query visits every node of every tree, about 25 times more work on a large
Python repository.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class DefRule:
    kind: str
    name: str = "name"  # a field, "child:T1,T2", "declarator" (C/C++ declarator chain) or "=fixed"
    body: str = "body"  # a field or "child:T1,T2"; "" when the definition has no body
    scope: bool = False  # the body's members are walked and qualified by this name
    emit: bool = True  # False: a scope only (a Rust impl block), not a definition itself
    value: tuple[str, ...] = ()  # only a definition when field `value` is one of these (JS arrow functions)
    receiver: str = ""  # field holding a Go method receiver: its type qualifies the name
    keyword_kinds: dict[str, str] = field(default_factory=dict)  # first keyword token -> kind


@dataclass(frozen=True)
class LanguageSpec:
    language: str
    grammar: str
    defs: dict[str, DefRule]
    wrappers: frozenset[str]
    attach: frozenset[str]
    imports: frozenset[str]
    comments: frozenset[str]
    attributes: frozenset[str]
    doc: str  # "docstring" | "comments"
    keywords: frozenset[str]
    tags: tuple[str, ...] = ()  # regular expressions whose one group is a defined name


_TYPE_KINDS = frozenset(
    {"class", "struct", "interface", "trait", "impl", "enum", "object", "record", "extension",
     "protocol", "union", "mixin", "type"}
)


def is_type_kind(kind: str) -> bool:
    return kind in _TYPE_KINDS


@cache
def load_spec(language: str) -> LanguageSpec:
    """The spec for ``language``; ``tsx`` shares TypeScript's, with its own grammar."""
    name = "typescript" if language == "tsx" else language
    text = resources.files("reviewer.index").joinpath("specs", f"{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    defs = {}
    for node_type, rule in data.get("defs", {}).items():
        rule = dict(rule)
        rule["value"] = tuple(rule.get("value", ()))
        defs[node_type] = DefRule(**rule)
    return LanguageSpec(
        language=language,
        grammar=language if language == "tsx" else data.get("grammar", name),
        defs=defs,
        wrappers=frozenset(data.get("wrappers", ())) | {"ERROR"},
        attach=frozenset(data.get("attach", ())),
        imports=frozenset(data.get("imports", ())),
        comments=frozenset(data.get("comments", ())),
        attributes=frozenset(data.get("attributes", ())),
        doc=data.get("doc", "comments"),
        keywords=frozenset(data.get("keywords", ())),
        tags=tuple(data.get("tags", ())),
    )
