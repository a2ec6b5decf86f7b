"""The review's configuration comes from the base branch, never from the pull request's head:
a pull request must not change its own rules.

``[tool.reviewer]`` in ``pyproject.toml`` and ``.reviewer.toml`` are read with ``git show BASE:...``
(the files in the checkout are the head's and are ignored), then merged exactly where
``load_settings`` would put the repository's files: after the shipped defaults and the user's own
configuration file, before the environment and the flags, with the same limits (a repository
file may only choose what to review and how to report it; see ``reviewer.config``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from reviewer.config import Settings, Source, Warn, deep_merge, load_settings
from reviewer.errors import ConfigError, InputError
from reviewer.forges import gitops

PROMPTS_DIR = ".reviewer/prompts"


def _toml_at(root: Path, rev: str, path: str) -> dict[str, Any] | None:
    data = gitops.show(root, rev, path, limit=1_000_000)
    if data is None:
        return None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} on the base branch is not valid TOML: {exc}") from exc


def base_sources(root: Path, base: str) -> list[Source]:
    """``[tool.reviewer]`` then ``.reviewer.toml`` as they are at ``base``, as ``(file, settings)``."""
    out: list[Source] = []
    pyproject = _toml_at(root, base, "pyproject.toml")
    if pyproject:
        section = pyproject.get("tool", {}).get("reviewer", {})
        if isinstance(section, dict) and section:
            out.append(("pyproject.toml [tool.reviewer] (base branch)", section))
    dotfile = _toml_at(root, base, ".reviewer.toml")
    if dotfile:
        out.append((".reviewer.toml (base branch)", dotfile))
    return out


def base_file_settings(root: Path, base: str) -> dict[str, Any]:
    """``[tool.reviewer]`` then ``.reviewer.toml``, as they are at ``base``, merged (every key,
    before the repository limits apply)."""
    merged: dict[str, Any] = {}
    for _, data in base_sources(root, base):
        deep_merge(merged, data)
    return merged


def load_pr_settings(root: Path, base: str, overrides: dict[str, Any] | None = None, *,
                     environ: dict[str, str] | None = None, warn: Warn | None = None) -> Settings:
    """Settings for reviewing a pull request: shipped defaults, the user's configuration file,
    then the base branch's files (within the repository limits), then ``REVIEWER_*`` environment
    variables, then flags."""
    return load_settings(root, overrides, environ=environ, repo_files=base_sources(root, base), warn=warn)


def changed_prompt_overrides(root: Path, merge_base: str, head: str) -> list[str]:
    """Prompt templates the pull request adds or changes under ``.reviewer/prompts/``. The engine
    reads overrides from the checkout, which is the head, so for such a pull request they are
    turned off (``prompt_overrides = false``): it must not write its own review instructions."""
    try:
        return gitops.changed_paths(root, merge_base, head, PROMPTS_DIR)
    except InputError:
        return []
