"""Prompt templates: plain files in prompts/, shipped in the wheel, overridable per repository
(``.reviewer/prompts/NAME.md``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reviewer.errors import ConfigError


def load_prompt(name: str, root: Path | None = None) -> str:
    if root is not None:
        override = root / ".reviewer" / "prompts" / f"{name}.md"
        if override.is_file() and not override.is_symlink():
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
