"""The review's configuration comes from the base branch, never from the pull request's head:
a pull request must not change its own rules.

``[tool.reviewer]`` in ``pyproject.toml`` and ``.reviewer.toml`` are read with ``git show BASE:...``
(the files in the checkout are the head's and are ignored), then merged exactly where
``load_settings`` would put the repository's files: after the shipped defaults, before the
environment and the flags.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from reviewer.config import Settings, env_settings, load_settings
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


def base_file_settings(root: Path, base: str) -> dict[str, Any]:
    """``[tool.reviewer]`` then ``.reviewer.toml``, as they are at ``base``."""
    merged: dict[str, Any] = {}
    pyproject = _toml_at(root, base, "pyproject.toml")
    if pyproject:
        section = pyproject.get("tool", {}).get("reviewer", {})
        if isinstance(section, dict):
            deep_merge(merged, section)
    dotfile = _toml_at(root, base, ".reviewer.toml")
    if dotfile:
        deep_merge(merged, dotfile)
    return merged


def load_pr_settings(root: Path, base: str, overrides: dict[str, Any] | None = None, *,
                     environ: dict[str, str] | None = None) -> Settings:
    """Settings for reviewing a pull request: shipped defaults, then the base branch's files,
    then ``REVIEWER_*`` environment variables, then flags."""
    combined = base_file_settings(root, base)
    deep_merge(combined, env_settings(environ))
    deep_merge(combined, {k: v for k, v in (overrides or {}).items() if v is not None})
    return load_settings(root, combined, environ=environ, read_repo_files=False)


def changed_prompt_overrides(root: Path, merge_base: str, head: str) -> list[str]:
    """Prompt templates the pull request adds or changes under ``.reviewer/prompts/``. The engine
    reads overrides from the checkout, which is the head, so for such a pull request they are
    turned off (``prompt_overrides = false``): it must not write its own review instructions."""
    try:
        return gitops.changed_paths(root, merge_base, head, PROMPTS_DIR)
    except InputError:
        return []


def deep_merge(into: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        else:
            into[key] = value
    return into
