"""The change under review, computed with git from the merge base."""

from __future__ import annotations

from pathlib import Path

from reviewer.errors import InputError
from reviewer.repo import git
from reviewer.security.secrets import redact


def change_diff(root: Path, base: str, head: str | None = None) -> tuple[str, list[str], int]:
    """(unified diff from merge-base(base, head) to head or the work tree, changed paths, secrets
    redacted). Secrets in the diff are redacted like everything else sent."""
    if not git.is_work_tree(root):
        raise InputError("--diff needs a git repository")
    target = head or "HEAD"
    proc = git.run_git(root, "merge-base", base, target, check=False)
    if proc.returncode != 0:
        raise InputError(
            f"cannot find a merge base of {base!r} and {target!r}",
            hint="check the branch name; on a shallow CI checkout fetch more history (fetch-depth: 0)",
        )
    merge_base = proc.stdout.decode().strip()
    args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--relative", merge_base]
    if head:
        args.append(head)
    diff = git.run_git(root, *args, "--").stdout.decode("utf-8", "replace")
    names = git.run_git(root, *args, "--name-only", "-z", "--").stdout
    paths = sorted({p for p in names.decode("utf-8", "surrogateescape").split("\0") if p})
    clean = redact("change.diff", diff)
    return clean.text, paths, len(clean.hits)
