"""The dependency bounds and the lock agree: every requirement has a lower and an upper bound,
and the lock (what CI installs) pins a version inside them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements() -> list[Requirement]:
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in ("dev", "local", "serve"):
        reqs += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    return reqs


def lock() -> dict[str, list[tuple[Version, str]]]:
    """name -> [(version, marker)] from requirements/lock.txt."""
    pins: dict[str, list[tuple[Version, str]]] = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, _, marker = line.partition(";")
        name, _, version = spec.strip().partition("==")
        assert version, f"not a pin: {line}"
        pins.setdefault(canonicalize_name(name.split("[")[0]), []).append((Version(version), marker.strip()))
    return pins


def test_the_distribution_is_not_the_unrelated_reviewer_on_the_index() -> None:
    assert PROJECT["name"] == "repo-reviewer"
    assert PROJECT["scripts"] == {"reviewer": "reviewer.cli:main"}


def test_every_requirement_has_a_lower_and_an_upper_bound() -> None:
    for req in requirements():
        ops = {s.operator for s in req.specifier}
        assert ops & {">=", "=="}, f"{req} has no lower bound"
        assert ops & {"<", "=="}, f"{req} has no upper bound"


def test_the_lock_pins_every_tested_requirement_inside_its_bounds() -> None:
    pins = lock()
    env = default_environment() | {"python_full_version": "3.11.7", "python_version": "3.11",
                                   "sys_platform": "linux", "platform_machine": "x86_64"}
    for req in requirements():
        if req.name == "vllm":
            continue  # the serve extra needs GPUs: not installed by CI, not in the lock
        found = [v for v, marker in pins.get(canonicalize_name(req.name), [])
                 if not marker or Requirement(f"x; {marker}").marker.evaluate(env)]  # type: ignore[union-attr]
        assert found, f"{req.name} is not in requirements/lock.txt"
        assert all(req.specifier.contains(v, prereleases=True) for v in found), f"{req} vs lock {found}"
