"""The git facts a pull-request review needs: commits present (deepening a shallow CI checkout),
the merge base, the diff exactly as a forge shows it, and files as they are at a commit."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from reviewer.errors import InputError
from reviewer.repo import git
from reviewer.repo.gitdiff import Section, read_sections

_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
SHALLOW_HINT = ("fetch the whole history: in GitHub Actions set `fetch-depth: 0` on actions/checkout; "
                "in GitLab CI set `GIT_DEPTH: 0`")
Log = Callable[[str], None]


def toplevel(root: Path) -> Path:
    proc = git.run_git(root, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise InputError("reviewer pr needs a git checkout of the repository", hint="run it at the root of a clone")
    return Path(proc.stdout.decode("utf-8", "surrogateescape").strip()).resolve()


def check_sha(sha: str, what: str) -> str:
    if not _SHA.match(sha or ""):
        raise InputError(f"{what} is not a commit id: {sha!r}")
    return sha.lower()


def rev_parse(root: Path, rev: str) -> str | None:
    proc = git.run_git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def has_commit(root: Path, sha: str) -> bool:
    return git.run_git(root, "cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0


def is_shallow(root: Path) -> bool:
    proc = git.run_git(root, "rev-parse", "--is-shallow-repository", check=False)
    return proc.stdout.strip() == b"true"


def merge_base(root: Path, a: str, b: str) -> str | None:
    proc = git.run_git(root, "merge-base", a, b, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def is_ancestor(root: Path, a: str, b: str) -> bool:
    return git.run_git(root, "merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def has_merges(root: Path, a: str, b: str) -> bool:
    proc = git.run_git(root, "rev-list", "--merges", "--max-count=1", f"{a}..{b}", check=False)
    return proc.returncode != 0 or bool(proc.stdout.strip())


def _fetch(root: Path, *args: str) -> bool:
    return git.run_git(root, "fetch", "--no-tags", "--quiet", *args, check=False, timeout=600).returncode == 0


def ensure_history(root: Path, base: str, head: str, *, remote: str = "origin", log: Log | None = None) -> str:
    """Make sure ``base`` and ``head`` are present and have a merge base; returns the merge base.

    A shallow checkout is deepened step by step (then unshallowed) from ``remote``; when that is
    not possible the error says how to configure the checkout."""
    def say(msg: str) -> None:
        if log:
            log(msg)

    for sha in (base, head):
        if not has_commit(root, sha):
            say(f"fetching {sha[:12]} from {remote}")
            _fetch(root, remote, sha)
    missing = [s for s in (base, head) if not has_commit(root, s)]
    if missing:
        raise InputError(f"commit {missing[0][:12]} is not in this checkout and could not be fetched", hint=SHALLOW_HINT)
    mb = merge_base(root, base, head)
    if mb is not None:
        return mb
    if not is_shallow(root):
        raise InputError(f"{base[:12]} and {head[:12]} have no common history")
    for depth in (50, 500):
        say(f"shallow checkout: deepening by {depth} commits")
        if not _fetch(root, f"--deepen={depth}", remote, base, head):
            break
        mb = merge_base(root, base, head)
        if mb is not None:
            return mb
    say("shallow checkout: fetching the whole history")
    if _fetch(root, "--unshallow", remote, base, head):
        mb = merge_base(root, base, head)
        if mb is not None:
            return mb
    raise InputError("the checkout is shallow and the merge base of the pull request could not be fetched",
                     hint=SHALLOW_HINT)


SECTION_CAP = 8 * 1024 * 1024  # bytes of one file's diff kept for placing comments
TOTAL_CAP = 128 * 1024 * 1024


def diff_text(root: Path, base: str, head: str, paths: list[str] | None = None) -> str:
    """The diff a forge shows for base..head: three lines of context, renames detected, paths
    from the repository root with a/ and b/ prefixes whatever the user's configuration says.
    It only places comments (nothing of it is sent to the model); read from the pipe a file at
    a time, a file whose diff is over ``SECTION_CAP`` bytes (or past ``TOTAL_CAP`` in all) is
    left out of it, so a comment on it goes to the summary."""
    args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "-M", "-U3",
            "--src-prefix=a/", "--dst-prefix=b/", base, head, "--", *(paths or [])]
    parts: list[str] = []
    total = 0
    with git.GitStream(root, *args) as stream:
        for item in read_sections(stream.stdout, SECTION_CAP):
            if isinstance(item, Section) and item.text is not None and total + item.size <= TOTAL_CAP:
                parts.append(item.text)
                total += item.size
    return "".join(parts).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def changed_paths(root: Path, base: str, head: str, under: str | None = None) -> list[str]:
    args = ["diff", "--no-relative", "--name-only", "-z", "-M", base, head, "--"]
    if under:
        args.append(under)
    out = git.run_git(root, *args).stdout.decode("utf-8", "surrogateescape")
    return sorted(p for p in out.split("\0") if p)


def show(root: Path, rev: str, path: str, limit: int = 5_000_000) -> bytes | None:
    """A regular file's bytes at ``rev`` (None when absent, a symlink or submodule, or larger
    than ``limit``)."""
    listing = git.run_git(root, "ls-tree", "-z", "--long", "--end-of-options", rev, "--", path, check=False)
    if listing.returncode != 0 or not listing.stdout:
        return None
    meta = listing.stdout.split(b"\t", 1)[0].split()
    if len(meta) != 4 or meta[0] not in (b"100644", b"100755") or meta[1] != b"blob":
        return None
    if not meta[3].isdigit() or int(meta[3]) > limit:
        return None
    proc = git.run_git(root, "cat-file", "blob", meta[2].decode(), check=False)
    return proc.stdout if proc.returncode == 0 else None
