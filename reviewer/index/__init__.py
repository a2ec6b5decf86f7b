"""The index: per file, tree-sitter definitions and references and an outline (bodies elided,
every kept line at its original number), cached on disk by content hash.

``index_text(path, text) -> FileIndex`` is pure; ``reviewer.index.cache.IndexCache`` stores
results between runs."""

from __future__ import annotations

from reviewer.index.indexer import INDEXER_VERSION, index_text
from reviewer.index.languages import language_for
from reviewer.index.model import Definition, FileIndex

__all__ = ["INDEXER_VERSION", "Definition", "FileIndex", "index_text", "language_for"]
