"""Shared fixtures: real git repositories made on disk for each test."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "",  # set per call: no user config leaks in
}


def git(repo: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo.parent)}
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    out = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)
    return out.stdout.decode("utf-8", "replace")


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


MakeRepo = Callable[..., Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """``make_repo(files, git=True, name="repo")``: a directory with ``files`` written and, with
    git, one commit of them on branch ``main``."""
    counter = {"n": 0}

    def make(files: dict[str, str | bytes] | None = None, *, use_git: bool = True, name: str | None = None) -> Path:
        counter["n"] += 1
        root = tmp_path / (name or f"repo{counter['n']}")
        root.mkdir(parents=True)
        write_files(root, files or {})
        if use_git:
            git(root, "init", "-q", "-b", "main")
            if files:
                git(root, "add", "-A")
                git(root, "commit", "-q", "-m", "initial", date="2024-01-01T00:00:00Z")
        return root

    return make


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Runs of the tool under test keep their caches in the test session's own directory, never
    in the user's cache directory (a test that names its own REVIEWER_CACHE_DIR still wins)."""
    if "REVIEWER_CACHE_DIR" not in os.environ:
        os.environ["REVIEWER_CACHE_DIR"] = str(tmp_path_factory.mktemp("reviewer-cache"))


@pytest.fixture(autouse=True, scope="session")
def _private_user_config(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Runs of the tool under test never read the user's own configuration file: the platform's
    configuration directory is an empty one of the test session (a test that names its own
    REVIEWER_CONFIG file still wins)."""
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config-home"))
    os.environ.pop("REVIEWER_SAFE_DIRECTORIES", None)


# -- CI: the end-to-end tests must run, not skip ----------------------------------------------
_e2e: dict[str, list[str]] = {"collected": [], "skipped": []}


def pytest_collection_finish(session: pytest.Session) -> None:
    _e2e["collected"] = [item.nodeid for item in session.items if item.get_closest_marker("e2e")]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "e2e" in report.keywords:
        _e2e["skipped"].append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With REVIEWER_REQUIRE_E2E=1 (CI), a run in which an end-to-end test skipped fails, and so
    does a whole-suite run (no arguments) that collected none: green must mean the real model ran."""
    if os.environ.get("REVIEWER_REQUIRE_E2E") != "1" or exitstatus != 0:
        return
    problem = ""
    if _e2e["skipped"]:
        problem = f"{len(_e2e['skipped'])} end-to-end test(s) skipped: " + ", ".join(_e2e["skipped"])
    elif not _e2e["collected"] and not session.config.invocation_params.args:
        problem = "no end-to-end test was collected"
    if problem:
        session.config.get_terminal_writer().line(f"REVIEWER_REQUIRE_E2E=1: {problem}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- the taint analyzer's tests need semgrep, which is installed apart from reviewer -------------
@pytest.fixture(scope="session")
def semgrep_core() -> Path:
    """semgrep-core as the semgrep analyzer finds it. Without it the tests that need it skip,
    except under REVIEWER_REQUIRE_SEMGREP=1 (CI, which installs it), where they fail."""
    from reviewer.analyzers.base import ToolFailed, ToolMissing
    from reviewer.analyzers.semgrep import find_semgrep_core

    try:
        return find_semgrep_core()
    except (ToolMissing, ToolFailed) as exc:
        if os.environ.get("REVIEWER_REQUIRE_SEMGREP") == "1":
            pytest.fail(f"semgrep must be installed for the taint tests ({type(exc).__name__}: {exc})")
        pytest.skip("semgrep not installed (pipx install semgrep, or REVIEWER_SEMGREP=PATH)")
