"""``index_text``: definitions, references and outline of one file. Pure: text in, data out."""

from __future__ import annotations

import threading

from reviewer.index.languages import has_tree_sitter, language_for
from reviewer.index.model import FileIndex
from reviewer.index.outline import build_outline, outline_text
from reviewer.index.plain import plain_rows
from reviewer.index.refs import references
from reviewer.index.spec import LanguageSpec, load_spec

# Bump when the output of index_text changes for the same input: cached entries are keyed by it.
INDEXER_VERSION = "2"

_local = threading.local()


def _parser(spec: LanguageSpec):  # type: ignore[no-untyped-def]
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(spec.grammar)
    if parser is None:
        from tree_sitter_language_pack import get_parser

        parser = parsers[spec.grammar] = get_parser(spec.grammar)  # type: ignore[arg-type]
    return parser


def index_text(path: str, text: str) -> FileIndex:
    """Index ``text``, the content of the file at ``path`` (the path only chooses the language)."""
    language = language_for(path)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if has_tree_sitter(language):
        assert language is not None
        spec = load_spec(language)
        from reviewer.index.walker import Walker

        tree = _parser(spec).parse(text.encode("utf-8", "replace"))
        walker = Walker(spec, lines)
        walker.container(list(tree.root_node.children), [], 0)
        outline = build_outline(lines, walker.keep)
        defs = sorted(walker.definitions, key=lambda d: (d.start_line, d.end_line, d.qualname))
        return FileIndex(
            language=language,
            definitions=defs,
            references=references(text, spec.keywords),
            outline=outline_text(outline),
            outline_kind="tree-sitter",
            outline_lines=outline,
        )
    outline = build_outline(lines, plain_rows(lines))
    return FileIndex(
        language=language,
        definitions=[],
        references=references(text),
        outline=outline_text(outline),
        outline_kind="plain",
        outline_lines=outline,
    )
