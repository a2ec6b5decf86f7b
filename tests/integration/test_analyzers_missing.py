"""An analyzer whose tool is not installed is skipped with a one-line note, never a crash.

A real second Python environment is made with ``venv``: it sees reviewer and its libraries
(through a .pth file) but has none of the tools' executables in its bin directory, which is the
only place the analyzers look. Then one tool is installed into it (linked), and only that one runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

import reviewer

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "vulnerable-app"
SOURCE_ROOT = Path(reviewer.__file__).resolve().parents[1]
SEMGREP_HINT = "taint analysis for Python web code: pipx install semgrep, or set REVIEWER_SEMGREP to a semgrep executable"

SCRIPT = """
import json, sys
from pathlib import Path
from reviewer.analyzers import run_analyzers
root = Path(sys.argv[1])
timeouts = json.loads(sys.argv[2])
paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
run = run_analyzers(root, paths, ["all"], timeouts=timeouts)
print(json.dumps({"notes": run.notes, "found": sorted({f.source for f in run.findings})}))
"""


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("bare")
    shutil.copytree(FIXTURE, base / "repo")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "parent_env.pth").write_text("\n".join([str(SOURCE_ROOT), *sorted(ours)]) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "REVIEWER_SEMGREP"}
    env["HOME"] = str(base)  # no user-level script directory with tools in it either
    env["PYTHONUSERBASE"] = str(base / "userbase")
    env["XDG_DATA_HOME"] = str(base / "data")  # nor semgrep's suggested environment
    # semgrep is looked up on PATH too: keep only the directories without it
    env["PATH"] = os.pathsep.join(
        d for d in env.get("PATH", "").split(os.pathsep) if not any(Path(d, n).exists() for n in ("semgrep", "semgrep-core"))
    )
    return python, env


def run_in(python: Path, env: dict[str, str], timeouts: dict[str, float] | None = None) -> dict:
    repo = python.parents[2] / "repo"
    proc = subprocess.run(
        [str(python), "-c", SCRIPT, str(repo), json.dumps(timeouts or {})],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_missing_tools_are_skipped_with_a_note(bare_env: tuple[Path, dict[str, str]]) -> None:
    python, env = bare_env
    out = run_in(python, env)
    assert out["notes"] == [
        f"semgrep: not installed, skipped ({SEMGREP_HINT})",
        "bandit: not installed, skipped (pip install bandit)",
        "ruff: not installed, skipped (pip install ruff)",
        "ast-grep: not installed, skipped (pip install ast-grep-cli)",
    ]
    assert out["found"] == ["secrets"]  # the in-process scanner still runs


def test_installing_one_tool_brings_it_back(bare_env: tuple[Path, dict[str, str]]) -> None:
    python, env = bare_env
    ruff = Path(sysconfig.get_path("scripts")) / "ruff"
    assert ruff.is_file(), "ruff is a dependency of reviewer and must be installed beside it"
    shutil.copy2(ruff, python.parent / "ruff")
    try:
        out = run_in(python, env)
    finally:
        (python.parent / "ruff").unlink()
    assert out["notes"] == [
        f"semgrep: not installed, skipped ({SEMGREP_HINT})",
        "bandit: not installed, skipped (pip install bandit)",
        "ast-grep: not installed, skipped (pip install ast-grep-cli)",
    ]
    assert out["found"] == ["ruff", "secrets"]


@pytest.mark.skipif(os.name == "nt", reason="shell-script stand-ins for broken tools")
def test_broken_and_hanging_tools_cost_one_note_each(bare_env: tuple[Path, dict[str, str]]) -> None:
    """Installed but broken tools: one that fails, one that prints garbage, one that hangs (and
    starts a child that would hang on too)."""
    python, env = bare_env
    scripts = {
        "bandit": "#!/bin/sh\necho 'bandit: internal error' >&2\nexit 2\n",
        "ast-grep": "#!/bin/sh\necho 'this is not json'\n",
        "ruff": "#!/bin/sh\nsleep 60 &\nsleep 60\n",
    }
    for name, text in scripts.items():
        tool = python.parent / name
        tool.write_text(text)
        tool.chmod(0o755)
    started = time.monotonic()
    try:
        out = run_in(python, env, {"ruff": 1.0})
    finally:
        for name in scripts:
            (python.parent / name).unlink()
    assert time.monotonic() - started < 30  # the hanging tool and its child were ended
    assert out["notes"] == [
        f"semgrep: not installed, skipped ({SEMGREP_HINT})",
        "bandit: failed (exit 2: bandit: internal error), skipped",
        "ruff: timed out after 1 s, skipped",
        "ast-grep: failed (unreadable JSON output (Expecting value)), skipped",
    ]
    assert out["found"] == ["secrets"]
