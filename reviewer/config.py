"""One schema for every setting, merged in this order (later wins):

1. the defaults below and the shipped tables in ``reviewer/data/`` (models, prices, backends);
2. the user's own configuration file (``user_config_path()``: ``config.toml`` in the platform's
   user configuration directory, or the file ``REVIEWER_CONFIG`` names);
3. ``[tool.reviewer]`` in the repository's ``pyproject.toml``;
4. ``.reviewer.toml`` at the repository root;
5. environment variables ``REVIEWER_<FIELD>`` (upper case; lists comma-separated);
6. command-line flags (passed in as ``overrides``).

The repository's files (3, 4; for ``reviewer pr`` the base branch's) are written by whoever
wrote the repository, so they may only choose what to review and how to report it
(``REPOSITORY_KEYS``). Where requests go, which keys are sent, what runs and where files are
written or read on this machine, and what is spent come from the user's own sources (1, 2, 5,
6) only; a repository file that sets one is warned about, naming the key and the file, and
ignored.

Functions receive the ``Settings`` they need as an argument; nothing reads a global.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Callable
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
    # git: directories whose repositories may belong to another user (git's safe.directory)
    safe_directories: list[str] = Field(default_factory=list)
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


# What a repository's own files may set: what to review and how to report it. Everything else
# (backends, base_url, model, api keys, models and prices, tokenizer, cache, timeouts, retries,
# max_cost, effort, max_chunks, redaction, prompt overrides, safe directories) only the user may.
REPOSITORY_KEYS = frozenset({
    "include", "exclude", "use_default_ignores", "max_file_bytes", "budget", "reserve", "style",
    "snapshot_every", "focus", "fail_on", "analyzers", "show_rejected",
})
# settings a repository may lower but not raise
_REPOSITORY_MAXIMA = ("max_file_bytes",)
USER_CONFIG_ENV = "REVIEWER_CONFIG"
Warn = Callable[[str], None]
Source = tuple[str, dict[str, Any]]


def user_config_path(environ: dict[str, str] | None = None) -> Path:
    """The user's own configuration file: ``REVIEWER_CONFIG`` if set, else ``config.toml`` in
    the platform's user configuration directory (``~/.config/reviewer/`` on Linux)."""
    env = os.environ if environ is None else environ
    named = env.get(USER_CONFIG_ENV)
    if named:
        return Path(named).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("reviewer", appauthor=False)) / "config.toml"


def user_file_settings(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The user's configuration file, every key allowed (empty when there is none)."""
    path = user_config_path(environ)
    if not path.is_file():
        return {}
    return _read_toml(path, str(path))


def user_safe_directories(environ: dict[str, str] | None = None) -> list[str]:
    value = user_file_settings(environ).get("safe_directories", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"safe_directories in {user_config_path(environ)} must be a list of paths")
    return value


def _read_toml(path: Path, label: str | None = None) -> dict[str, Any]:
    label = label or path.name
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {label}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label} is not valid TOML: {exc}") from exc


def file_settings(root: Path) -> list[Source]:
    """The repository's own settings, as ``(file, settings)``: ``[tool.reviewer]`` then
    ``.reviewer.toml`` (links are not followed)."""
    out: list[Source] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and not pyproject.is_symlink():
        section = _read_toml(pyproject).get("tool", {}).get("reviewer", {})
        if isinstance(section, dict) and section:
            out.append(("pyproject.toml [tool.reviewer]", section))
    dotfile = root / ".reviewer.toml"
    if dotfile.is_file() and not dotfile.is_symlink():
        out.append((".reviewer.toml", _read_toml(dotfile)))
    return out


def _user_source_hint(key: str) -> str:
    if key in ("backends", "models"):
        return f"[{key}.NAME] in your user configuration file"
    return f"your user configuration file, REVIEWER_{key.upper()} or a flag"


def repository_part(data: dict[str, Any], source: str, before: dict[str, Any], warn: Warn) -> dict[str, Any]:
    """What a repository file ``source`` may set of ``data``: the keys of ``REPOSITORY_KEYS``
    (a limit only lowered below ``before``); each other key is warned about once and dropped.
    Unknown keys are kept, so that validation names them."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key in REPOSITORY_KEYS:
            if key in _REPOSITORY_MAXIMA and isinstance(value, int) and isinstance(before.get(key), int) \
                    and value > before[key]:
                warn(f"{source} raises {key} to {value}, but a repository may only lower it "
                     f"(now {before[key]}): ignored")
                continue
            kept[key] = value
        elif key in Settings.model_fields:
            warn(f"{source} sets {key}, which only your own configuration may set "
                 f"({_user_source_hint(key)}): ignored")
        else:
            kept[key] = value
    return kept


def _stderr_warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


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


def deep_merge(into: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        else:
            into[key] = value
    return into


def load_settings(
    root: Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    environ: dict[str, str] | None = None,
    read_repo_files: bool = True,
    repo_files: list[Source] | None = None,
    warn: Warn | None = None,
) -> Settings:
    """Merge every source into one validated ``Settings``.

    ``read_repo_files=False`` ignores the repository's own files: a pull request must not
    change its own rules, so ``reviewer pr`` passes the base branch's as ``repo_files``.
    Warnings about keys a repository file may not set go to ``warn`` (default: stderr).
    """
    warn = warn or _stderr_warn
    merged: dict[str, Any] = _shipped_tables()
    deep_merge(merged, user_file_settings(environ))
    sources = repo_files if repo_files is not None else (
        file_settings(root) if root is not None and read_repo_files else [])
    defaults = Settings().model_dump()
    for source, data in sources:
        deep_merge(merged, repository_part(data, source, {**defaults, **merged}, warn))
    deep_merge(merged, env_settings(environ))
    deep_merge(merged, {k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting {where!r}: {first['msg']}") from exc
