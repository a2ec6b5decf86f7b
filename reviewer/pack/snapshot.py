"""The git side of the snapshot layout (``--snapshot-every N``): which commit the snapshot is
taken at, that commit's tree on disk, and the commits since it as diffs.

The snapshot commit is a fixed point of the history, not of the clock: on the first-parent line
of HEAD, the newest commit whose depth (commits from the root) is a multiple of N. Every commit
until the next multiple shares it, so their packs share the snapshot as a prefix byte for byte.
When the snapshot moves on, almost every file has changed somewhere in N commits, so a second,
older layer keeps the files untouched longest as of a multiple of 8N: only every eighth move
rewrites the whole pack. Smaller steps (N/2, N/4, ... 1) are the fall-backs when the commits
since do not fit; step 1 is HEAD itself. A shallow clone does not know its depth: no snapshot.

The tree is written from git's objects (``ls-tree`` + ``cat-file --batch``): regular files only,
no links, nothing outside the directory, never a checkout of the user's clone. It is kept in the
cache directory (a few of the most recently used commits) so the next run reads it back.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reviewer.config import Settings
from reviewer.errors import InputError
from reviewer.index.cache import default_cache_dir
from reviewer.pack.model import SecretHit
from reviewer.repo.git import GitStream, run_git
from reviewer.repo.gitdiff import Record, read_sections
from reviewer.security.secrets import redact

COARSE = 8  # the first layer of a two-layer snapshot moves every COARSE steps
KEEP_TREES = 4  # snapshot trees kept in the cache directory
_STALE_SECONDS = 3600  # a tree is evicted only when unused this long (another run may be reading it)
_DIFF_HEAD = "diff --git a/"


class NoSnapshot(Exception):
    """The snapshot layout does not apply here; the message says why."""


@dataclass(frozen=True)
class Anchor:
    commit: str
    behind: int  # first-parent commits from this one to HEAD (0: HEAD itself)


@dataclass(frozen=True)
class Plan:
    """Where the snapshot is taken. With ``base``, in two layers: the files untouched longest as
    of ``base`` (every ``COARSE`` steps), the others as of ``top``; a step then keeps the first
    layer and its diffs, and only a coarse step rewrites everything."""

    top: Anchor
    base: Anchor | None = None


def plans(root: Path, every: int) -> list[Plan]:
    """Snapshot plans to try, the preferred first: two layers (depth rounded down to a multiple of
    ``COARSE * every`` and of ``every``), then one layer at a multiple of every, every/2, ...
    down to HEAD itself."""
    if every < 1:
        raise NoSnapshot("no snapshot step")
    shallow = run_git(root, "rev-parse", "--is-shallow-repository", check=False)
    if shallow.stdout.strip() == b"true":
        raise NoSnapshot("the clone is shallow, so commit depths are unknown (fetch the full history)")
    count = run_git(root, "rev-list", "--first-parent", "--count", "HEAD", check=False)
    if count.returncode != 0 or not count.stdout.strip().isdigit():
        raise NoSnapshot("the repository has no commits")
    depth = int(count.stdout) - 1
    steps = [every * COARSE, every]
    while steps[-1] > 1:
        steps.append(max(1, steps[-1] // 2))
    behinds = list(dict.fromkeys(depth % step for step in steps))
    out = run_git(root, "rev-parse", *(f"HEAD~{b}" for b in behinds)).stdout.decode().split()
    at = {b: Anchor(c, b) for c, b in zip(out, behinds, strict=True)}
    coarse, fine = at[depth % steps[0]], at[depth % steps[1]]
    singles = [Plan(at[b]) for b in behinds if b <= fine.behind]
    return ([Plan(fine, coarse)] if coarse != fine else []) + singles


# -- the tree at a commit ------------------------------------------------------------------------


@contextmanager
def snapshot_tree(root: Path, commit: str, settings: Settings) -> Iterator[Path]:
    """A directory named like ``root`` holding the regular files of ``commit``'s tree: kept in
    the cache directory, or a temporary one with ``--no-cache`` or when the cache is not writable."""
    name = root.name or "repository"
    kept = _kept_tree(root, commit, name, settings) if settings.cache else None
    if kept is not None:
        yield kept
        return
    with tempfile.TemporaryDirectory(prefix="reviewer-snapshot-") as tmp:
        _write_tree(root, commit, Path(tmp) / name, settings.max_file_bytes)
        yield Path(tmp) / name


def _kept_tree(root: Path, commit: str, name: str, settings: Settings) -> Path | None:
    base = default_cache_dir(settings) / "snapshots"
    key = hashlib.sha256(f"{commit}\0{name}\0{settings.max_file_bytes}".encode("utf-8", "surrogateescape"))
    home = base / key.hexdigest()[:32]
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not home.is_dir():
            tmp = Path(tempfile.mkdtemp(prefix=".part-", dir=base))
            try:
                _write_tree(root, commit, tmp / name, settings.max_file_bytes)
                try:
                    os.rename(tmp, home)
                except OSError:
                    if not home.is_dir():  # not a lost race with another run: a real failure
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        os.utime(home)
        _evict(base, keep=home)
    except OSError:
        return None
    return home / name


def _evict(base: Path, keep: Path) -> None:
    now = time.time()
    trees = []
    for entry in base.iterdir():
        try:
            trees.append((entry.stat().st_mtime, entry))
        except OSError:
            continue
    trees.sort(reverse=True)
    for when, entry in trees[KEEP_TREES:]:
        if entry != keep and now - when > _STALE_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)


def safe_relpath(path: str) -> PurePosixPath | None:
    """``path`` as a relative path that stays inside the directory, or None."""
    p = PurePosixPath(path)
    if p.is_absolute() or not p.parts or any(part in ("", ".", "..") or part.lower() == ".git" for part in p.parts):
        return None
    return p


def _write_tree(root: Path, commit: str, target: Path, max_bytes: int) -> None:
    # relative to ``root`` (which may be a directory inside the repository), like the scan
    listing = run_git(root, "ls-tree", "-r", "-z", "-l", commit, timeout=300).stdout
    wanted: list[tuple[str, PurePosixPath]] = []
    for entry in listing.decode("utf-8", "surrogateescape").split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) != 4 or parts[0] not in ("100644", "100755") or not parts[3].isdigit():
            continue  # links, submodules
        rel = safe_relpath(path)
        if rel is not None and int(parts[3]) <= max_bytes:
            wanted.append((parts[2], rel))
    target.mkdir(parents=True)
    if not wanted:
        return
    proc = GitStream(root, "cat-file", "--batch", stdin=subprocess.PIPE, check=False)
    proc.feed([sha for sha, _ in wanted])  # from a thread, while the blobs come out here
    try:
        for _, rel in wanted:
            head = proc.stdout.readline().split()
            if len(head) != 3 or head[1] != b"blob":
                raise InputError(f"git cat-file could not read {rel} at {commit[:12]}")
            data = proc.stdout.read(int(head[2]))
            proc.stdout.read(1)  # the newline after each object
            dest = target.joinpath(*rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "xb") as fh:
                fh.write(data)
    finally:
        proc.close(failed=True)


# -- the commits since ---------------------------------------------------------------------------


@dataclass
class Change:
    """One first-parent commit after the snapshot: its diff, limited to the files a pack may show."""

    commit: str
    subject: str
    diff: str  # redacted
    paths: list[str] = field(default_factory=list)


@dataclass
class Changes:
    commits: list[Change] = field(default_factory=list)
    secrets: list[SecretHit] = field(default_factory=list)

    @property
    def paths(self) -> set[str]:
        return {p for c in self.commits for p in c.paths}


def read_changes(
    root: Path, since: str, keep: Callable[[str], bool], redact_secrets: bool = True, until: str = "HEAD",
    max_bytes: int = 1_000_000,
) -> Changes:
    """The first-parent commits after ``since`` up to ``until``, oldest first, each as a unified diff
    against its first parent, with only the files ``keep`` accepts (no renames, no binary
    content). A path git had to quote is dropped rather than guessed. Commits are told apart by a
    marker made for this call, which no commit message or file can contain. The log is read
    from the pipe a section at a time: a section of a kept file longer than both sides of a
    ``max_bytes`` file ends the snapshot layout (``NoSnapshot``), other long ones are skipped
    unread."""
    marker = f"\x01{secrets.token_hex(16)}\x02"
    changes = Changes()
    change: Change | None = None
    kept: list[str] = []

    def close_commit() -> None:
        if change is not None:
            change.diff = "".join(kept)
            changes.commits.append(change)

    cap = 2 * max_bytes + 64 * 1024
    with GitStream(
        root, "log", "--first-parent", "-m", "--reverse", "-p", "--no-renames", "--no-color", "--no-ext-diff",
        "--no-textconv", "--relative", f"--format={marker}%H %s", f"{since}..{until}", "--",
    ) as stream:
        for item in read_sections(stream.stdout, cap, marker.encode()):
            if isinstance(item, Record):
                close_commit()
                commit, _, subject = item.line[len(marker):].partition(" ")
                change = Change(commit.strip(), _one_line(subject), "")
                if redact_secrets:
                    change.subject = redact("commit message", change.subject).text
                kept = []
                continue
            path = _section_path(item.header)
            if change is None or path is None or not keep(path):
                continue
            if item.text is None:
                raise NoSnapshot(f"commit {change.commit[:12]} changes {path} by more than {cap:,} bytes")
            section = item.text
            if redact_secrets:
                clean = redact(path, section)
                changes.secrets += [SecretHit(path, 0, h.kind) for h in clean.hits]
                section = clean.text
            kept.append(section if section.endswith("\n") else section + "\n")
            change.paths.append(path)
        close_commit()
    return changes


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).strip()


def _section_path(header: str) -> str | None:
    """The path of ``diff --git a/P b/P`` (without renames both are the same path)."""
    line = header.partition("\n")[0]
    rest = line[len(_DIFF_HEAD):] if line.startswith(_DIFF_HEAD) else ""
    n = (len(rest) - 3) // 2
    path = rest[:n]
    if n < 1 or rest != f"{path} b/{path}" or safe_relpath(path) is None:
        return None  # quoted by git (control characters, quotes) or not one path: not guessed
    return path
