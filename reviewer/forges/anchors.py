"""Where a comment may sit: the pull request's diff parsed (unidiff) into commentable lines.

A forge accepts an inline comment only on a line of the diff it shows: on the right side an added
or context line (new numbering), on the left side a deleted or context line (old numbering), and a
multi-line comment only within one hunk. ``DiffMap`` holds exactly that set, and ``anchor``
places a finding on it, or says why it cannot be placed (the finding then goes to the summary).

Policy: a finding becomes inline only when it touches a changed line. A range that crosses hunks
is clipped to the hunk holding most of its changed lines (and the body says so). A finding whose
new-side lines are not in the diff is placed on the left side when its quoted evidence is a
deleted line of that file (a finding about removed code).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Literal

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from reviewer.findings import Finding

Side = Literal["RIGHT", "LEFT"]
_WS = re.compile(r"\s+")
_NUMBERED = re.compile(r"^\s*\d+\s*\|\s?")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "+" added, "-" deleted, " " context
    old: int | None  # old line number (None for added lines)
    new: int | None  # new line number (None for deleted lines)
    text: str
    # GitLab's line codes number every line on both sides: an added line carries the old
    # counter at that point, a deleted line the new counter.
    old_pos: int = 0
    new_pos: int = 0


@dataclass
class Hunk:
    index: int
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: list[DiffLine] = field(default_factory=list)


@dataclass
class FileDiff:
    path: str  # new path (old path for a deleted file)
    old_path: str
    status: str  # added | deleted | renamed | modified
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._right: dict[int, tuple[int, DiffLine]] = {}
        self._left: dict[int, tuple[int, DiffLine]] = {}

    def index(self) -> None:
        self._right.clear()
        self._left.clear()
        for h in self.hunks:
            for line in h.lines:
                if line.new is not None:
                    self._right[line.new] = (h.index, line)
                if line.old is not None:
                    self._left[line.old] = (h.index, line)

    def at(self, side: Side, line: int) -> tuple[int, DiffLine] | None:
        """(hunk index, line) of a commentable line, or None."""
        return (self._right if side == "RIGHT" else self._left).get(line)

    def commentable(self, side: Side) -> dict[int, int]:
        """line number -> hunk index for every commentable line of one side."""
        table = self._right if side == "RIGHT" else self._left
        return {n: h for n, (h, _) in table.items()}


@dataclass(frozen=True)
class Anchor:
    path: str
    side: Side
    line: int  # the last line of the comment
    start_line: int | None  # the first line, for a multi-line comment (same side, same hunk)
    hunk: int
    clipped: bool = False  # the finding's range was cut to fit one hunk
    moved_to_deleted: bool = False  # placed on the removed line(s) its evidence quotes

    @property
    def first(self) -> int:
        return self.start_line if self.start_line is not None else self.line


@dataclass
class DiffMap:
    files: dict[str, FileDiff] = field(default_factory=dict)

    @classmethod
    def parse(cls, diff_text: str) -> DiffMap:
        """Parse a unified diff (``git diff`` output, or GitHub's per-file patches with headers)."""
        try:
            patch = PatchSet(diff_text)
        except UnidiffParseError as exc:
            raise ValueError(f"the diff could not be parsed: {exc}") from exc
        out = cls()
        for pf in patch:
            path = _strip(pf.target_file) if not pf.is_removed_file else _strip(pf.source_file)
            old_path = _strip(pf.source_file) if not pf.is_added_file else path
            status = (
                "added" if pf.is_added_file
                else "deleted" if pf.is_removed_file
                else "renamed" if pf.is_rename or old_path != path
                else "modified"
            )
            fd = FileDiff(path=path, old_path=old_path, status=status, binary=bool(pf.is_binary_file))
            for i, h in enumerate(pf):
                hunk = Hunk(i, h.source_start, h.source_length, h.target_start, h.target_length)
                old_c, new_c = h.source_start, h.target_start
                for ln in h:
                    if ln.line_type == "+":
                        hunk.lines.append(DiffLine("+", None, ln.target_line_no, _text(ln.value), old_c, ln.target_line_no))
                        new_c += 1
                    elif ln.line_type == "-":
                        hunk.lines.append(DiffLine("-", ln.source_line_no, None, _text(ln.value), ln.source_line_no, new_c))
                        old_c += 1
                    elif ln.line_type == " ":
                        hunk.lines.append(DiffLine(" ", ln.source_line_no, ln.target_line_no, _text(ln.value),
                                                   ln.source_line_no, ln.target_line_no))
                        old_c += 1
                        new_c += 1
                fd.hunks.append(hunk)
            fd.index()
            out.files[path] = fd
        return out

    def file(self, path: str) -> FileDiff | None:
        return self.files.get(path)

    def paths(self) -> list[str]:
        return sorted(self.files)

    def changed_count(self) -> int:
        return sum(1 for f in self.files.values() for h in f.hunks for ln in h.lines if ln.kind != " ")

    def validate(self, a: Anchor) -> str | None:
        """Why a forge would reject this anchor, or None when it is valid."""
        fd = self.files.get(a.path)
        if fd is None:
            return f"{a.path} is not part of the diff"
        end = fd.at(a.side, a.line)
        if end is None:
            return f"{a.path}:{a.line} ({a.side}) is not a line of the diff"
        if a.start_line is not None:
            if a.start_line >= a.line:
                return "start_line must be before line"
            start = fd.at(a.side, a.start_line)
            if start is None:
                return f"{a.path}:{a.start_line} ({a.side}) is not a line of the diff"
            if start[0] != end[0]:
                return "start_line and line are in different hunks"
        return None


def _strip(name: str) -> str:
    name = name.strip()
    if name.startswith(("a/", "b/")):
        return name[2:]
    return name


def _text(value: str) -> str:
    return value[:-1] if value.endswith("\n") else value


def _norm(text: str) -> str:
    return _WS.sub("", text)


def anchor(f: Finding, diff: DiffMap) -> tuple[Anchor | None, str]:
    """Place a finding on the diff. Returns (anchor, "") or (None, reason)."""
    fd = diff.file(f.path)
    if fd is None:
        return None, "file not changed by this pull request"
    if fd.binary or not fd.hunks:
        return None, "no text lines to comment on in this file"
    start, end = min(f.start_line, f.end_line), max(f.start_line, f.end_line)
    right = _right_anchor(fd, start, end)
    if right is not None:
        return right, ""
    left = _left_anchor(fd, f.evidence)
    if left is not None:
        return left, ""
    return None, "outside the diff"


def _right_anchor(fd: FileDiff, start: int, end: int) -> Anchor | None:
    by_hunk: dict[int, list[DiffLine]] = {}
    for n in range(start, end + 1):
        hit = fd.at("RIGHT", n)
        if hit is not None:
            by_hunk.setdefault(hit[0], []).append(hit[1])
    # only hunks where the finding touches an added line count
    candidates = {h: lines for h, lines in by_hunk.items() if any(ln.kind == "+" for ln in lines)}
    if not candidates:
        return None
    best = max(candidates, key=lambda h: (sum(ln.kind == "+" for ln in candidates[h]), len(candidates[h]), -h))
    nums = sorted(ln.new for ln in candidates[best] if ln.new is not None)
    first, last = nums[0], nums[-1]
    clipped = (first, last) != (start, end)
    return Anchor(fd.path, "RIGHT", last, first if first != last else None, best, clipped=clipped)


def _evidence_lines(evidence: str) -> list[str]:
    out = []
    for line in evidence.replace("\r\n", "\n").split("\n"):
        line = _NUMBERED.sub("", line, count=1)
        if line.strip():
            out.append(_norm(line))
    return out


def _left_anchor(fd: FileDiff, evidence: str) -> Anchor | None:
    """The deleted lines of one hunk that the evidence quotes (whitespace-insensitive)."""
    wanted = _evidence_lines(evidence)
    if not wanted:
        return None
    for h in fd.hunks:
        deleted = [ln for ln in h.lines if ln.kind == "-"]
        for i in range(len(deleted) - len(wanted) + 1):
            window = deleted[i : i + len(wanted)]
            if any(b.old != a.old + 1 for a, b in itertools.pairwise(window)):
                continue  # not consecutive old lines
            # grounded evidence is the file's own whole lines: compare whole lines
            if all(_norm(ln.text) == w for ln, w in zip(window, wanted, strict=True)):
                first, last = window[0].old, window[-1].old
                assert first is not None and last is not None
                return Anchor(fd.path, "LEFT", last, first if first != last else None, h.index, moved_to_deleted=True)
    return None
