"""Prompt templates: plain files in prompts/, shipped in the wheel, overridable per repository
(``.reviewer/prompts/NAME.md``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reviewer.errors import ConfigError


def override_path(name: str, root: Path | None) -> Path | None:
    """The repository's own template for ``name``, if it has one (a regular file, not a symlink)."""
    if root is None:
        return None
    override = root / ".reviewer" / "prompts" / f"{name}.md"
    return override if override.is_file() and not override.is_symlink() else None


def load_prompt(name: str, root: Path | None = None) -> str:
    """The template ``name``: the repository's override under ``root``, else the shipped one
    (inside the wheel, or prompts/ of a source checkout). ``root=None`` ignores overrides."""
    override = override_path(name, root)
    if override is not None:
        return override.read_text(encoding="utf-8", errors="replace")
    shipped = resources.files("reviewer").joinpath("_shipped", "prompts", f"{name}.md")
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / "prompts" / f"{name}.md"
    if source.is_file():
        return source.read_text(encoding="utf-8")
    raise ConfigError(f"prompt template {name!r} not found")


def fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template
