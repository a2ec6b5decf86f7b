"""Serving profiles: one YAML file per deployment, validated by the schema below.

A profile is data: which engine, which checkpoint, which GPUs, which flags. The files live in
``serving/profiles/`` of a source checkout and ship inside the wheel as
``reviewer/_shipped/profiles``; both are found by :func:`profiles_dir`.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reviewer.errors import ConfigError, InputError

Engine = Literal["vllm", "sglang", "llama-cpp"]
ENGINE_LABELS: dict[str, str] = {"vllm": "vLLM", "sglang": "SGLang", "llama-cpp": "llama.cpp (llama-cpp-python)"}
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_VERSION = re.compile(r"\d+(\.\d+){0,3}")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
# Options the runtime sets itself (bind address, port, multi-node rendezvous): never in a profile.
RESERVED_FLAGS = frozenset({
    "--host", "--port", "--headless", "--data-parallel-address", "--data-parallel-rpc-port",
    "--data-parallel-start-rank", "--data-parallel-size-local", "--model", "--model-path", "--model_alias",
})

Token = Annotated[str, Field(min_length=1)]


class Hardware(BaseModel):
    """What one node needs. ``gpu`` names accepted GPU types, matched as words in nvidia-smi's
    name (``H200`` matches ``NVIDIA H200``, not ``NVIDIA H20``); empty for a CPU profile."""

    model_config = ConfigDict(extra="forbid")

    gpu: list[str] = Field(default_factory=list)
    count: int = Field(default=0, ge=0, le=64)
    memory_gb: int = Field(default=0, ge=0, description="GPU memory per GPU in GB (10^9 bytes), nominal")

    @model_validator(mode="after")
    def _consistent(self) -> Hardware:
        if bool(self.gpu) != (self.count > 0):
            raise ValueError("a GPU profile names its GPU types and a count > 0; a CPU profile neither")
        if self.gpu and self.memory_gb <= 0:
            raise ValueError("memory_gb is required with GPUs")
        return self

    @property
    def cpu_only(self) -> bool:
        return not self.gpu

    def describe(self) -> str:
        if self.cpu_only:
            return "CPU only"
        return f"{self.count}×{'/'.join(self.gpu)} ({self.memory_gb} GB each)"


class Weights(BaseModel):
    """Where the weights come from: the Hugging Face cache (downloaded by the engine on first
    start, ``size_gb`` on disk) or a file shipped inside a Python package (``package`` + ``glob``)."""

    model_config = ConfigDict(extra="forbid")

    size_gb: float = Field(ge=0)
    package: str | None = None
    glob: str | None = None

    @model_validator(mode="after")
    def _package_and_glob(self) -> Weights:
        if (self.package is None) != (self.glob is None):
            raise ValueError("weights.package and weights.glob go together")
        return self


class MultiNode(BaseModel):
    """vLLM data parallel across nodes: every node runs ``data_parallel_size_local`` ranks; the
    head (node rank 0) serves HTTP, followers run ``--headless`` and join over ``rpc_port``."""

    model_config = ConfigDict(extra="forbid")

    data_parallel_size_local: int = Field(ge=1, le=64)
    rpc_port: int = Field(default=13345, ge=1, le=65535)


class ReviewHint(BaseModel):
    """How ``reviewer review`` should talk to this server once it is up."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["vllm", "openai"] = "vllm"
    args: list[str] = Field(default_factory=list)


class Deploy(BaseModel):
    """What compose.yaml and serving/k8s/ need beyond the command: the container image."""

    model_config = ConfigDict(extra="forbid")

    image: str


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    engine: Engine
    min_engine_version: str
    model: str = Field(description="Hugging Face repo id of the checkpoint")
    served_model_name: str | None = None
    weights: Weights
    hardware: Hardware
    nodes: int = Field(default=1, ge=1, le=64)
    multinode: MultiNode | None = None
    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    startup_timeout_s: int = Field(default=3600, ge=10)
    flags: list[Token | list[Token]] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    review: ReviewHint = Field(default_factory=ReviewHint)
    deploy: Deploy | None = None
    notes: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("lower-case letters, digits and dashes only")
        return value

    @field_validator("min_engine_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.fullmatch(value):
            raise ValueError(f"{value!r} is not a version like 0.25.0")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _ENV_NAME.fullmatch(key):
                raise ValueError(f"{key!r} is not an environment variable name")
        return value

    @field_validator("flags")
    @classmethod
    def _flags(cls, value: list[str | list[str]]) -> list[str | list[str]]:
        for item in value:
            group = item if isinstance(item, list) else [item]
            if not group[0].startswith("--"):
                raise ValueError(f"each flag group starts with an option: {group!r}")
            name = group[0].split("=", 1)[0]
            if name in RESERVED_FLAGS:
                raise ValueError(f"{name} is set by `reviewer serve` itself, not by a profile")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Profile:
        if self.nodes > 1:
            if self.engine != "vllm" or self.multinode is None:
                raise ValueError("multi-node profiles are vLLM data parallel and need a multinode block")
            size = self.flag_value("--data-parallel-size")
            expected = self.nodes * self.multinode.data_parallel_size_local
            if size != str(expected):
                raise ValueError(f"--data-parallel-size must be nodes × data_parallel_size_local = {expected}")
        elif self.multinode is not None:
            raise ValueError("a multinode block needs nodes > 1")
        if self.engine == "llama-cpp":
            if self.weights.package is None:
                raise ValueError("a llama-cpp profile names the package that ships its GGUF file")
            if not self.hardware.cpu_only:
                raise ValueError("the llama-cpp profile is the CPU smoke profile")
        elif self.hardware.cpu_only:
            raise ValueError(f"{self.engine} profiles need GPUs")
        return self

    @property
    def argv_flags(self) -> list[str]:
        """The profile's flags as argv tokens, in order."""
        out: list[str] = []
        for item in self.flags:
            out.extend(item if isinstance(item, list) else [item])
        return out

    def flag_value(self, name: str) -> str | None:
        """The value given to option ``name`` (last one wins, as in argparse), or None."""
        value = None
        tokens = self.argv_flags
        for i, tok in enumerate(tokens):
            if tok == name and i + 1 < len(tokens):
                value = tokens[i + 1]
            elif tok.startswith(name + "="):
                value = tok.split("=", 1)[1]
        return value

    @property
    def model_name(self) -> str:
        """The model id clients send (``served_model_name`` or the repo id)."""
        return self.served_model_name or self.model

    @property
    def gpus_total(self) -> int:
        return self.hardware.count * self.nodes

    def describe_hardware(self) -> str:
        per_node = self.hardware.describe()
        return per_node if self.nodes == 1 else f"{self.nodes} nodes × {per_node}"


def profiles_dir() -> Traversable:
    """The profiles shipped in the wheel, else ``serving/profiles`` of the source checkout."""
    shipped = resources.files("reviewer").joinpath("_shipped", "profiles")
    if shipped.is_dir():
        return shipped
    source = Path(__file__).resolve().parents[2] / "serving" / "profiles"
    if source.is_dir():
        return source
    raise ConfigError("no serving profiles found (reviewer/_shipped/profiles or serving/profiles)")


def parse_profile(text: str, source: str) -> Profile:
    """One profile from YAML text; ``source`` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a profile is a mapping")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(profile)"
        raise ConfigError(f"{source}: {where}: {first['msg']}") from exc


def load_profiles(directory: Traversable | Path | None = None) -> dict[str, Profile]:
    """Every ``*.yaml`` profile, by name (file name and ``name`` must agree)."""
    base = directory if directory is not None else profiles_dir()
    out: dict[str, Profile] = {}
    for entry in sorted(base.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or not entry.is_file():
            continue
        profile = parse_profile(entry.read_text(encoding="utf-8"), entry.name)
        if entry.name != f"{profile.name}.yaml":
            raise ConfigError(f"{entry.name}: the file must be named {profile.name}.yaml")
        out[profile.name] = profile
    return out


def get_profile(name: str, profiles: dict[str, Profile] | None = None) -> Profile:
    profiles = load_profiles() if profiles is None else profiles
    if name not in profiles:
        raise InputError(f"unknown serving profile {name!r}", hint=f"choose one of: {', '.join(sorted(profiles))} "
                         "(reviewer serve --list)")
    return profiles[name]
