"""Data the packer hands to the rest of the tool. The review engine, FIM and the PR bot read
these types; they never look inside the packer's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Tier = Literal["full", "outline", "listed"]


@dataclass(frozen=True)
class SecretHit:
    """A secret found and redacted: where and what kind, never the value."""

    path: str
    line: int
    kind: str


@dataclass
class PackedFile:
    path: str  # repository-relative, POSIX separators
    tier: Tier
    text: str  # the redacted text that was sent (whole file for "full"; outline for "outline"; "" for "listed")
    tokens: int  # tokens of this file's rendered block in the pack, its head and tail included (0 for "listed")
    lines: int  # line count of the whole file
    language: str | None = None
    reason: str = ""  # why it got its tier (shown by --explain)
    rank: float = 0.0
    definitions: list[str] = field(default_factory=list)  # in an outline, the definitions shown whole
    body_tokens: int = 0  # tokens of the text shown, the count its block's head states (tokens="N")


@dataclass
class Excluded:
    path: str
    reason: str  # ignored | default-ignore | binary | too-large | outside-root | unreadable | symlink-loop | ...


@dataclass
class Pack:
    root: str  # display name of the root (its directory name), never an absolute path
    text: str  # the rendered document
    total_tokens: int  # exact count of ``text`` with the pack's tokenizer
    budget: int | None
    tokenizer: str
    style: str
    files: list[PackedFile] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    secrets: list[SecretHit] = field(default_factory=list)
    # where the file blocks are in ``text`` (start, end); in the snapshot layout, with the diffs among them
    blocks: tuple[int, int] = (0, 0)
    # the shown files in block order, each with where its block ends (relative to ``blocks[0]``)
    block_order: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the user should know about this pack
    stages: dict[str, float] = field(default_factory=dict)  # wall seconds per stage of the packer

    def file(self, path: str) -> PackedFile | None:
        for f in self.files:
            if f.path == path:
                return f
        return None

    @property
    def shown(self) -> dict[str, PackedFile]:
        """Files whose content (whole or outline) is in the pack, by path."""
        return {f.path: f for f in self.files if f.tier != "listed"}
