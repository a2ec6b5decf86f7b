"""The few git questions the scanner asks. Git is run with a fixed, minimal environment so the
user's or the repository's configuration cannot make it run programs (no pager, no fsmonitor,
no external diff)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from reviewer.errors import InputError

_SAFE_CONFIG = (
    "-c", "core.fsmonitor=false",
    "-c", "core.quotepath=off",
    "-c", "diff.external=",
    "-c", "core.pager=cat",
    "-c", "safe.directory=*",
)


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    return env


def git_command(root: Path, *args: str) -> list[str]:
    """The argument vector of a git command run in ``root`` with the fixed configuration."""
    return ["git", *_SAFE_CONFIG, "-C", str(root), *args]


def run_git(root: Path, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(
            git_command(root, *args),
            capture_output=True,
            env=git_env(),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise InputError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"git {args[0]} timed out after {timeout:.0f}s") from exc
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}")
    return proc


def uncommitted(root: Path) -> list[str]:
    """Files with uncommitted changes, and untracked ones not ignored, relative to the top of the
    work tree (``git status``; empty when git fails)."""
    proc = run_git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", check=False)
    return [entry[3:] for entry in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if len(entry) > 3]


def is_work_tree(root: Path) -> bool:
    """True when ``root`` is inside a git work tree (not inside .git itself)."""
    try:
        proc = run_git(root, "rev-parse", "--is-inside-work-tree", check=False, timeout=30)
    except InputError:
        return False
    return proc.returncode == 0 and proc.stdout.strip() == b"true"


def ls_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files below ``root``, relative to it, exactly as git
    sees them (.gitignore, .git/info/exclude and the global excludes file all apply)."""
    proc = run_git(root, "ls-files", "-co", "--exclude-standard", "-z")
    out = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    # a path that is both tracked and deleted-then-recreated can be listed twice: keep one
    return sorted({p for p in out if p})
