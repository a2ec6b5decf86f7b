"""Fixtures for the pull-request tests: a clean environment and the local servers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.pr.world import TOKEN
from tests.servers.github_fake import FakeGitHub
from tests.servers.openai_fake import FakeOpenAI


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No CI, forge or reviewer variables from the machine running the tests."""
    for key in list(os.environ):
        if key.startswith(("GITHUB_", "GITLAB", "CI_", "REVIEWER_", "RUNNER_")) or key in (
                "DEEPSEEK_API_KEY", "GH_TOKEN", "CI"):
            monkeypatch.delenv(key, raising=False)
    yield monkeypatch


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN) as server:
        yield server


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


# -- figures: what the fake forges saw over the whole run -----------------------------------

_SEEN: dict[str, dict[str, int]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    # before the fixtures are finalized: the fakes are still in item.funcargs
    for value in getattr(item, "funcargs", {}).values():
        if hasattr(value, "stats") and type(value).__name__ in ("FakeGitHub", "FakeGitLab"):
            stats = value.stats()
            row = _SEEN.setdefault(type(value).__name__, {"tests": 0, "requests": 0, "bodies_validated": 0,
                                                          "schema_invalid": 0, "refused": 0})
            row["tests"] += 1
            row["requests"] += stats["requests"]
            row["bodies_validated"] += stats["bodies_validated"]
            row["schema_invalid"] += stats["schema_invalid"]
            row["refused"] += stats.get("unprocessable", 0) + stats.get("rejected", 0)
    yield


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, row in sorted(_SEEN.items()):
        terminalreporter.write_line(
            f"{name}: {row['tests']} tests, {row['requests']} requests, {row['bodies_validated']} bodies validated "
            f"against the request schemas, {row['schema_invalid']} schema-invalid, {row['refused']} refused by the "
            "fake's own diff and body checks (GitHub 422 / GitLab 400; injected faults are not counted)")
