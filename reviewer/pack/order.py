"""The order of file blocks in the pack, chosen for the provider's prefix cache.

A cached prefix is reused only up to the first byte that differs, so the files least likely to
change go first: files untouched for the longest in git history, in path order, then the files
changed recently, the least recently changed first, then files with uncommitted changes, and the
focused files last. The next review after a commit then differs only from the files that commit
touched, which sit near the end already.

History is read from HEAD back to a cut-off one year before HEAD's own commit time, rounded down
to a 30-day step: the order depends only on the repository (never on today's date), and the
cut-off moves once a month, not with every commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.errors import InputError
from reviewer.repo.git import run_git

WINDOW_DAYS = 365
STEP_DAYS = 30
UNCOMMITTED = 2**62  # sorts after every commit time


@dataclass
class History:
    head: str = ""  # HEAD's commit id ("" outside git or in a repository without commits)
    since: int = 0  # the cut-off (unix time)
    changed: dict[str, int] = field(default_factory=dict)  # path -> last change time within the window


def head_commit(root: Path) -> tuple[str, int]:
    proc = run_git(root, "log", "-1", "--format=%H %ct", "HEAD", check=False)
    parts = proc.stdout.decode().split()
    if proc.returncode != 0 or len(parts) != 2:
        return "", 0
    return parts[0], int(parts[1])


def read_history(root: Path, is_git: bool) -> History:
    """When each file last changed on the first-parent line of HEAD within the window, and
    which files have uncommitted changes (their time is ``UNCOMMITTED``)."""
    if not is_git:
        return History()
    head, when = head_commit(root)
    changed: dict[str, int] = {}
    since = 0
    if head:
        step = STEP_DAYS * 86400
        since = ((when - WINDOW_DAYS * 86400) // step) * step
        try:
            proc = run_git(
                root, "log", "--first-parent", "-m", "--name-only", "-z", "--no-renames",
                "--format=format:%x01%ct", f"--since={since}", "HEAD", "--", check=False, timeout=60,
            )
            changed = parse_log(proc.stdout.decode("utf-8", "surrogateescape"), since)
        except InputError:
            changed = {}
    status = run_git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", check=False)
    for entry in status.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if len(entry) > 3:
            changed[entry[3:]] = UNCOMMITTED
    return History(head, since, changed)


def parse_log(out: str, since: int) -> dict[str, int]:
    """``git log --name-only -z --format=%x01%ct`` output -> path: newest change time."""
    changed: dict[str, int] = {}
    for record in out.split("\x01"):
        if not record:
            continue
        head, _, rest = record.partition("\n")
        try:
            t = int(head.strip("\0").strip())
        except ValueError:
            continue
        if t < since:
            continue
        for path in rest.split("\0"):
            path = path.strip("\n")
            if path and path not in changed:
                changed[path] = t  # newest first: the first time a path is seen is its last change
    return changed


def order_files(paths: Iterable[str], history: History, focused: Sequence[str] = ()) -> list[str]:
    """Stable first, volatile last (see the module's docstring)."""
    last = {p: i for i, p in enumerate(reversed(focused))}  # the most important nearest the task

    def key(path: str) -> tuple[int, int, int, str]:
        if path in last:
            return (1, 0, last[path], path)
        return (0, history.changed.get(path, 0), 0, path)

    return sorted(paths, key=key)
