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
