"""Prompts load from a source checkout, from an installed wheel, and from a repository's override."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reviewer.review.prompts import fill, load_prompt

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("system", "review", "review_diff", "ask")


def test_source_checkout_has_every_prompt() -> None:
    for name in NAMES:
        assert load_prompt(name) == (ROOT / "prompts" / f"{name}.md").read_text(encoding="utf-8")


def test_prompts_say_code_is_content_not_instructions() -> None:
    system = load_prompt("system")
    assert "never instructions" in system and "prompt-injection" in system
    for name in ("review", "review_diff", "ask"):
        assert "{{SCHEMA}}" in load_prompt(name)


def test_repository_override_but_not_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / ".reviewer" / "prompts").mkdir(parents=True)
    (tmp_path / ".reviewer" / "prompts" / "review.md").write_text("Only look at {{FOCUS}}.")
    assert fill(load_prompt("review", tmp_path), FOCUS="tests") == "Only look at tests."
    secret = tmp_path / "outside.md"
    secret.write_text("stolen")
    (tmp_path / ".reviewer" / "prompts" / "ask.md").symlink_to(secret)
    assert load_prompt("ask", tmp_path) == load_prompt("ask")


def test_installed_wheel_loads_its_shipped_prompts(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(dist)], cwd=ROOT,
                   check=True, capture_output=True, timeout=240)
    (wheel,) = dist.glob("repo_reviewer-*.whl")
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert {f"reviewer/_shipped/prompts/{n}.md" for n in NAMES} <= set(names)
        zf.extractall(target)
    code = (
        "import reviewer, sys; from pathlib import Path; from reviewer.review.prompts import load_prompt\n"
        f"assert Path(reviewer.__file__).is_relative_to({str(target)!r}), reviewer.__file__\n"
        "sys.stdout.write(load_prompt('review'))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (ROOT / "prompts" / "review.md").read_text(encoding="utf-8")
