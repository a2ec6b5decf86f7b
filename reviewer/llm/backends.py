"""Which model server to talk to, from the named profiles in settings.backends.

Resolution, first match wins:
1. ``--backend NAME`` (or ``backend = "NAME"`` in config): that profile, with ``--base-url`` and
   ``--model`` overriding its own; a profile whose key is required (deepseek) but not set is an error.
2. ``--base-url URL`` (or REVIEWER_BASE_URL) alone: a generic OpenAI-compatible server.
3. ``DEEPSEEK_API_KEY`` in the environment: the DeepSeek API.
4. Nothing: no backend; ``reviewer review`` then runs the offline analyzers only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from reviewer.config import Settings
from reviewer.errors import ConfigError

NO_BACKEND_HELP = (
    "set DEEPSEEK_API_KEY to use the DeepSeek API, or point at your own server with "
    "--backend vllm --base-url http://HOST:8000/v1 (any OpenAI-compatible server works: "
    "--backend openai --base-url URL --model NAME)"
)


@dataclass(frozen=True)
class Backend:
    name: str
    kind: str  # deepseek | vllm | openai
    base_url: str
    api_key: str
    model: str
    fim_path: str | None = None
    json_schema: str | None = None  # schema style this server takes by default (see BackendProfile)

    def __repr__(self) -> str:  # never show the key
        return f"Backend(name={self.name!r}, kind={self.kind!r}, base_url={self.base_url!r}, model={self.model!r})"


def resolve_backend(
    settings: Settings, environ: dict[str, str] | None = None, *, for_estimate: bool = False
) -> Backend | None:
    """The backend to use, or None when nothing is configured. ``for_estimate`` (``--dry-run``)
    needs no key and falls back to the DeepSeek API, so a cost can be shown before any set-up."""
    env = os.environ if environ is None else environ
    name = settings.backend
    if name is None:
        if settings.base_url:
            name = "openai"
        elif env.get("DEEPSEEK_API_KEY") or for_estimate:
            name = "deepseek"
        else:
            return None
    profile = settings.backends.get(name)
    if profile is None:
        known = ", ".join(sorted(settings.backends))
        raise ConfigError(f"unknown backend {name!r}", hint=f"known backends: {known}")
    base_url = settings.base_url or profile.base_url
    if not base_url:
        raise ConfigError(f"backend {name!r} needs a base URL", hint="pass --base-url http://HOST:PORT/v1")
    key = env.get(profile.api_key_env, "") if profile.api_key_env else ""
    if profile.kind == "deepseek" and not key and not for_estimate:
        raise ConfigError(
            f"the {name} backend needs an API key in {profile.api_key_env}",
            hint="create one at https://platform.deepseek.com/api_keys and export it",
        )
    model = settings.model or profile.model
    if not model:
        raise ConfigError(f"backend {name!r} needs a model", hint="pass --model NAME")
    return Backend(name, profile.kind, base_url.rstrip("/"), key or "not-needed", model, profile.fim_path,
                   profile.json_schema)


def schema_style(backend: Backend, requested: bool) -> str | None:
    """How to send the answer's JSON Schema to ``backend``, or None not to send it: the profile's
    own style; else, with ``--json-schema``, structured outputs for vLLM and llama.cpp's
    ``json_object`` + ``schema`` for other servers. DeepSeek takes no schema."""
    if backend.kind == "deepseek":
        return None
    if backend.json_schema:
        return backend.json_schema
    if not requested:
        return None
    return "json_schema" if backend.kind == "vllm" else "json_object"
