"""The pack's rules for which paths may be shown, in one place, for every way text leaves the
repository: the pack's files, the diff under review, the commits of the snapshot layout, the
files fim-server reads and the diff a pull request is reviewed with.

By name: ``--include``/``--exclude``, the default ignores (lock files, minified bundles, build
output, vendored folders, media, archives, weights, ...) unless they are switched off, and never
anything inside a ``.git`` directory. For a file on disk, also what the scan tells from the file
itself: a link, not a regular file, too large, binary, generated, minified.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from reviewer.config import Settings
from reviewer.repo.ignore import DefaultIgnores, GlobFilter

VCS = "vcs"


def in_vcs_dir(path: str) -> bool:
    """True for a path inside (or naming) a ``.git`` directory, in any letter case."""
    return any(part.lower() == ".git" for part in PurePosixPath(path.replace("\\", "/")).parts)


class PathPolicy:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.max_bytes = settings.max_file_bytes
        self._globs = GlobFilter(settings.include, settings.exclude)
        self._defaults = DefaultIgnores() if settings.use_default_ignores else None
        self._is_git: bool | None = None

    def reason(self, path: str) -> str | None:
        """Why ``path`` is left out by its name, or None when its name is fine."""
        if in_vcs_dir(path):
            return VCS
        return self._globs.reason(path) or (self._defaults.reason(path) if self._defaults else None)

    def file_reason(self, root: Path, path: str, *, gitignore: bool = False) -> str | None:
        """Why the file ``path`` under ``root`` is left out, by its name or by what it is (the
        scan's own checks); None when the pack may show it. With ``gitignore``, also a file git
        ignores (the scan never lists those; a tracked file is never ignored)."""
        from reviewer.repo import git
        from reviewer.repo.scan import read_candidate

        named = self.reason(path)
        if named is not None:
            return named
        if gitignore:
            if self._is_git is None:
                self._is_git = git.is_work_tree(root)
            if self._is_git and git.is_ignored(root, path):
                return "ignored"
        item = read_candidate(root, path, self.max_bytes)
        return getattr(item, "reason", None)
