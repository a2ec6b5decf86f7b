"""One schema for every setting, merged in this order (later wins):

1. the defaults below and the shipped tables in ``reviewer/data/`` (models, prices, backends);
2. ``[tool.reviewer]`` in the repository's ``pyproject.toml``;
3. ``.reviewer.toml`` at the repository root;
4. environment variables ``REVIEWER_<FIELD>`` (upper case; lists comma-separated);
5. command-line flags (passed in as ``overrides``).

Functions receive the ``Settings`` they need as an argument; nothing reads a global.
"""

from __future__ import annotations

import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reviewer.errors import ConfigError

Severity = Literal["critical", "high", "medium", "low", "info"]
_HOUR_RANGE = re.compile(r"([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d")


class ModelInfo(BaseModel):
    """What the tool must know about a model: its window and its prices (USD per 1M tokens)."""

    model_config = ConfigDict(extra="forbid")

    context_window: int = 131_072
    max_output: int = 8_192
    input_cache_hit: float = 0.0
    input_cache_miss: float = 0.0
    output: float = 0.0
    thinking: bool = False
    # Time-of-day billing (DeepSeek): the prices above are the peak (list) prices; outside
    # ``peak_hours_utc`` ("HH:MM-HH:MM" ranges, on weekdays only when ``peak_weekdays_only``)
    # they are multiplied by ``off_peak_factor``. No ranges: one price at all hours.
    off_peak_factor: float = Field(default=1.0, ge=0.0, le=1.0)
    peak_hours_utc: list[str] = Field(default_factory=list)
    peak_weekdays_only: bool = True

    @field_validator("peak_hours_utc")
    @classmethod
    def _hour_ranges(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _HOUR_RANGE.fullmatch(item.strip()):
                raise ValueError(f"{item!r} is not a range like '01:00-04:00'")
        return [v.strip() for v in value]


class BackendProfile(BaseModel):
    """A named backend: where it is, how to authenticate, which model by default."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["deepseek", "vllm", "openai"] = "openai"
    base_url: str | None = None
    api_key_env: str | None = None
    model: str | None = None
    fim_path: str | None = None
    # Send the answer's JSON Schema in response_format by default, in this style:
    # "json_object" ({"type": "json_object", "schema": ...}: llama.cpp) or "json_schema"
    # (OpenAI structured outputs: vLLM, SGLang). None: only with --json-schema.
    json_schema: Literal["json_object", "json_schema"] | None = None


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # scan
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    use_default_ignores: bool = True
    max_file_bytes: int = 1_000_000
    # pack
    tokenizer: str = "deepseek-v4"
    budget: int | None = None
    reserve: int = 49_152
    style: Literal["xml", "markdown"] = "xml"
    redact_secrets: bool = True
    cache: bool = True
    cache_dir: str | None = None
    cache_max_mb: int = 512
    # the snapshot layout: the tree at a commit every N first-parent commits, then the commits
    # since as diffs, so consecutive commits share the snapshot in the provider's cache (0: off)
    snapshot_every: int = Field(default=0, ge=0)
    # backend
    backend: str | None = None
    model: str | None = None
    base_url: str | None = None
    effort: Literal["none", "high", "max"] = "high"
    timeout: float = 1200.0
    max_retries: int = 5
    backoff: float = 1.0  # seconds before the first retry; doubles each time, with jitter
    max_cost: float | None = None
    stream: bool = True  # stream answers (progress, and a live deadline check)
    json_schema: bool = False  # also send the Finding JSON Schema in response_format (llama.cpp, vLLM)
    max_output_tokens: int | None = None  # default: the model table's max_output, capped at 32K
    max_chunks: int = 4  # review at most this many packs when the repository exceeds one window
    # review
    focus: list[str] = Field(default_factory=list)
    fail_on: Severity | None = None
    analyzers: list[str] = Field(default_factory=lambda: ["all"])
    show_rejected: bool = False
    prompt_overrides: bool = True  # use the repository's .reviewer/prompts/ (off for untrusted changes)
    # tables
    backends: dict[str, BackendProfile] = Field(default_factory=dict)
    models: dict[str, ModelInfo] = Field(default_factory=dict)

    def model_info(self, model_id: str) -> ModelInfo:
        """The table row for ``model_id``; an unknown model gets conservative defaults (no prices)."""
        return self.models.get(model_id, ModelInfo())


_LIST_FIELDS = {name for name, f in Settings.model_fields.items() if f.annotation == list[str]}


def _shipped_tables() -> dict[str, Any]:
    text = resources.files("reviewer.data").joinpath("models.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path.name}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from exc


def file_settings(root: Path) -> dict[str, Any]:
    """The repository's own settings: ``[tool.reviewer]`` then ``.reviewer.toml``."""
    merged: dict[str, Any] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and not pyproject.is_symlink():
        _merge(merged, _read_toml(pyproject).get("tool", {}).get("reviewer", {}))
    dotfile = root / ".reviewer.toml"
    if dotfile.is_file() and not dotfile.is_symlink():
        _merge(merged, _read_toml(dotfile))
    return merged


def env_settings(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    out: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        if field.annotation in (dict[str, BackendProfile], dict[str, ModelInfo]):
            continue
        value = environ.get(f"REVIEWER_{name.upper()}")
        if value is None or value == "":
            continue
        out[name] = [v.strip() for v in value.split(",") if v.strip()] if name in _LIST_FIELDS else value
    return out


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def load_settings(
    root: Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    environ: dict[str, str] | None = None,
    read_repo_files: bool = True,
) -> Settings:
    """Merge every source into one validated ``Settings``.

    ``read_repo_files=False`` ignores the repository's own files: a pull request must not
    change its own rules, so ``reviewer pr`` loads them from the base branch instead.
    """
    merged: dict[str, Any] = _shipped_tables()
    if root is not None and read_repo_files:
        _merge(merged, file_settings(root))
    _merge(merged, env_settings(environ))
    _merge(merged, {k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting {where!r}: {first['msg']}") from exc
