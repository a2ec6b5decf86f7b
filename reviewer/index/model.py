"""What the index knows about one file. Pure data: the cache stores it, the ranker and FIM read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

OutlineKind = Literal["tree-sitter", "plain"]


@dataclass(frozen=True, slots=True)
class Definition:
    """A function, method, class (or struct, interface, trait, enum, module, ...) in a file.

    Lines are 1-based and inclusive. ``start_line`` includes decorators/annotations that belong
    to the definition; ``signature_line`` is the line holding its name; ``body_line`` is the
    first line of its body (0 when it has none, e.g. an interface method)."""

    name: str
    qualname: str  # enclosing scopes joined with ".", e.g. "Request.register_hook"
    kind: str  # function | method | class | struct | interface | trait | enum | module | type | ...
    start_line: int
    end_line: int
    signature_line: int
    body_line: int = 0


@dataclass(slots=True)
class FileIndex:
    """Definitions, references and outline of one file.

    ``outline_lines`` keeps every kept line at its original number; an elided run is
    ``(0, "")`` (the renderer shows it as ``⋮``). ``outline`` is the same as plain text."""

    language: str | None
    definitions: list[Definition] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    outline: str = ""
    outline_kind: OutlineKind = "plain"
    outline_lines: list[tuple[int, str]] = field(default_factory=list)

    def definition_at(self, line: int) -> Definition | None:
        """The innermost definition whose span holds ``line``."""
        best: Definition | None = None
        for d in self.definitions:
            if d.start_line <= line <= d.end_line and (
                best is None or d.end_line - d.start_line <= best.end_line - best.start_line
            ):
                best = d
        return best
