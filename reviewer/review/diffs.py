"""The change under review, computed with git from the merge base, under the pack's rules.

The diff is sent like the files are: only paths the pack may show (``--include``/``--exclude``,
the default ignores, never ``.git``; links, submodules, binary, generated and minified files left
out as the scan leaves them out), no file larger than ``max_file_bytes`` on either side, every
section redacted with its own path, and no more tokens than the window can give it. Every file
left out is named with its reason; nothing is dropped silently.

Git is asked first for the list of changes (``--raw``: paths, modes and sizes, no content), and
only the files that may be shown are diffed, in batches, read from the pipe one section at a
time with a cap, so a huge file in the change is never read into memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.config import Settings
from reviewer.errors import InputError
from reviewer.pack.model import Excluded, SecretHit
from reviewer.repo import git
from reviewer.repo.gitdiff import (
    LINK_MODE,
    SUBMODULE_MODE,
    Change,
    Section,
    raw_changes,
    read_sections,
    section_header,
)
from reviewer.repo.policy import PathPolicy
from reviewer.security.secrets import redact

BATCH = 200  # paths per git diff
SECTION_SLACK = 64 * 1024  # a section holds both sides of a file plus its headers
TOO_LARGE = "too-large"
NO_ROOM = "does not fit in the window"


@dataclass
class ChangeDiff:
    text: str  # the unified diff that may be sent: admitted files only, redacted
    paths: list[str] = field(default_factory=list)  # the files shown in it
    left_out: list[Excluded] = field(default_factory=list)  # changed files not shown, with why
    secrets: list[SecretHit] = field(default_factory=list)
    tokens: int = 0  # tokens of ``text`` (0 when not counted)
    merge_base: str = ""

    def note(self, limit: int = 12) -> str | None:
        """One line naming what was left out of the diff, or None."""
        return left_out_note("left out of the diff", self.left_out, limit)


def left_out_note(what: str, items: list[Excluded], limit: int = 12) -> str | None:
    if not items:
        return None
    named = ", ".join(f"{e.path} ({e.reason})" for e in items[:limit])
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return f"{what}: {named}{more}"


def merge_base_of(root: Path, base: str, target: str) -> str:
    proc = git.run_git(root, "merge-base", base, target, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise InputError(
            f"cannot find a merge base of {base!r} and {target!r}",
            hint="check the branch name; on a shallow CI checkout fetch more history (fetch-depth: 0)",
        )
    return proc.stdout.decode().strip()


def change_diff(root: Path, base: str, head: str | None, settings: Settings, *,
                count: Callable[[str], int] | None = None, token_cap: int | None = None) -> ChangeDiff:
    """The diff from merge-base(``base``, ``head``) to ``head`` (the work tree when None), under
    the pack's rules (see the module's description). With ``count`` and ``token_cap``, sections
    are kept in order while their tokens fit the cap; the rest are left out as not fitting."""
    if not git.is_work_tree(root):
        raise InputError("--diff needs a git repository")
    mb = merge_base_of(root, base, head or "HEAD")
    changes = raw_changes(root, mb, head)
    policy = PathPolicy(settings)
    out = ChangeDiff("", merge_base=mb)
    wanted: list[tuple[Change, list[str], str]] = []  # change, pathspecs, the header git will write
    for change in changes:
        shown = _admit(root, change, policy, out.left_out)
        if shown is not None:
            wanted.append(shown)
    cap = 2 * settings.max_file_bytes + SECTION_SLACK
    by_header = {header: change for change, _, header in wanted}
    kept: list[tuple[str, str]] = []  # path, section text
    for i in range(0, len(wanted), BATCH):
        batch = wanted[i:i + BATCH]
        specs = [spec for _, paths, _ in batch for spec in paths]
        args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--relative", "--ignore-submodules=all",
                "--src-prefix=a/", "--dst-prefix=b/", mb, *([head] if head else []), "--", *specs]
        with git.GitStream(root, *args) as stream:
            for item in read_sections(stream.stdout, cap):
                if not isinstance(item, Section):
                    continue
                change = by_header.get(item.header)
                path = change.path if change is not None else item.header.removeprefix("diff --git ")
                if change is None:
                    out.left_out.append(Excluded(path, "unreadable path"))
                elif item.text is None:
                    out.left_out.append(Excluded(path, TOO_LARGE))
                elif item.binary:
                    out.left_out.append(Excluded(path, "binary"))
                else:
                    kept.append((path, item.text))
    used = 0
    parts: list[str] = []
    for path, text in kept:
        if settings.redact_secrets:
            clean = redact(path, text)
            out.secrets += [SecretHit(path, 0, h.kind) for h in clean.hits]
            text = clean.text
        if count is not None:
            n = count(text)
            if token_cap is not None and used + n > token_cap:
                out.left_out.append(Excluded(path, NO_ROOM))
                continue
            used += n
        parts.append(text if text.endswith("\n") else text + "\n")
        out.paths.append(path)
    out.text = "".join(parts)
    out.tokens = used
    out.paths = sorted(set(out.paths))
    out.left_out.sort(key=lambda e: e.path)
    return out


def _admit(root: Path, change: Change, policy: PathPolicy,
           left_out: list[Excluded]) -> tuple[Change, list[str], str] | None:
    """What to ask git for to show ``change`` (its pathspecs and the section header to expect),
    or None when it may not be shown; each side refused is added to ``left_out``."""
    old = None if change.status == "A" else _why(root, change.old_path, change.old_mode, change.old_size, policy, False)
    new = None if change.status == "D" else _why(root, change.new_path, change.new_mode, change.new_size, policy, True)
    if change.status in ("R", "C"):
        if old is not None:
            left_out.append(Excluded(change.old_path, old))
        if new is not None:
            left_out.append(Excluded(change.new_path, new))
        if old is None and new is None:
            return change, [_literal(change.old_path), _literal(change.new_path)], \
                section_header(change.old_path, change.new_path)
        if new is None:  # the old name may not be shown: the file comes as new
            return _single(change, change.new_path)
        if old is None and change.status == "R":  # the new name may not be shown: the file comes as deleted
            return _single(change, change.old_path)
        return None
    reason = old or new
    if reason is not None:
        left_out.append(Excluded(change.path, reason))
        return None
    return _single(change, change.path)


def _single(change: Change, path: str) -> tuple[Change, list[str], str]:
    return change, [_literal(path)], section_header(path, path)


def _why(root: Path, path: str, mode: str, size: int | None, policy: PathPolicy, on_disk: bool) -> str | None:
    """Why one side of a change may not be shown, or None: its name, a submodule or a link, its
    size, and for the new side what the file on disk is (as the scan sees it)."""
    reason = policy.reason(path)
    if reason is None and mode == SUBMODULE_MODE:
        reason = "submodule"
    if reason is None and mode == LINK_MODE:
        reason = "link"
    if reason is None and size is not None and size > policy.max_bytes:
        reason = TOO_LARGE
    if reason is None and on_disk:
        found = policy.file_reason(root, path)
        reason = None if found == "missing" else found
    return reason


def _literal(path: str) -> str:
    return f":(literal){path}"
