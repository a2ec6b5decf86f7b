"""Planted secrets never reach a model: measured on the wire.

The planted corpus (``secrets_corpus.PLANTED``: a ``.env``, a Stripe key, a JWT, keys split over
concatenated literals and f-strings, base64 blobs, URL credentials, Authorization headers,
private keys, YAML/JSON/INI/properties/XML config, a Dockerfile, ...) goes into a temporary git
repository; ``reviewer review``, ``reviewer review --diff main``, ``reviewer ask`` (question and
trace), ``reviewer pr`` (first review and the incremental one with the whole pull request as
context) and ``reviewer fim-server`` run against local servers that record every request. No
planted value, no 12-character piece of one, and no base64 of one may appear in any request
body; and each planted file must have been sent (so the check is not passed by sending nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviewer.cli import cli
from reviewer.cli.common import run_cli
from tests.conftest import MakeRepo, git, write_files
from tests.integration.hostile.secrets_corpus import (
    ENV_DB_PASSWORD,
    JWT,
    NEAR_MISSES,
    PLANTED,
    STRIPE,
    leaks,
)
from tests.integration.pr.world import BASE_APP, REPO, TOKEN, PrWorld, run_pr
from tests.servers.github_fake import FakeGitHub
from tests.servers.openai_fake import FakeOpenAI, Reply

ALL_VALUES = [v for p in PLANTED for v in p.values]
APP = "from billing.split import STRIPE_KEY\nfrom ci.token import GITHUB_TOKEN\n\n\ndef pay():\n    return STRIPE_KEY, GITHUB_TOKEN\n"


def strings(obj: Any) -> Iterator[str]:
    """Every string in a request body (keys and values)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def sent(server: FakeOpenAI) -> str:
    return "\n".join(s for r in server.requests for s in strings(r.body))


def assert_no_planted_value(text: str) -> None:
    leaked = {p.kind for p in PLANTED if leaks(text, p.values)}
    assert not leaked, f"planted secrets reached the model: {sorted(leaked)}"


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=Reply()) as server:
        yield server


def planted_repo(make_repo: MakeRepo) -> Path:
    return make_repo({**{p.path: p.text for p in PLANTED}, **NEAR_MISSES, "app.py": APP})


def review(model: FakeOpenAI, *args: str) -> int:
    return run_cli(cli, ["review", *args, "--backend", "openai", "--base-url", model.base_url, "--model", "fake-model",
                         "--analyzers", "none", "-q"])


def test_review_sends_no_planted_secret(make_repo: MakeRepo, model: FakeOpenAI, clean_env: pytest.MonkeyPatch) -> None:
    root = planted_repo(make_repo)
    assert review(model, str(root)) == 0
    text = sent(model)
    assert model.chat_requests()
    missing = [p.path for p in PLANTED if p.path not in text]
    assert not missing, f"planted files not sent, the check would prove nothing: {missing}"
    assert_no_planted_value(text)
    assert text.count("[REDACTED:") >= len(PLANTED)
    shown = [path for path in NEAR_MISSES if f'path="{path}"' in text]  # lock files are left out of packs
    assert len(shown) >= 8
    for path in shown:  # and what only looks like a secret went as it is
        for line in NEAR_MISSES[path].splitlines():
            assert line in text, (path, line)


def test_review_of_a_change_sends_no_planted_secret(make_repo: MakeRepo, model: FakeOpenAI,
                                                    clean_env: pytest.MonkeyPatch) -> None:
    """The secrets are added by the change: they are in the diff's hunks as well as in the files."""
    root = make_repo({**NEAR_MISSES, "app.py": APP})
    git(root, "checkout", "-q", "-b", "feature")
    write_files(root, {p.path: p.text for p in PLANTED})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "add configuration", date="2024-01-02T00:00:00Z")
    assert review(model, str(root), "--diff", "main") == 0
    text = sent(model)
    assert_no_planted_value(text)
    assert "+DB_PASSWORD=[REDACTED:password-or-key]" in text, "the diff was not sent"


def test_ask_redacts_the_question_and_the_trace(make_repo: MakeRepo, model: FakeOpenAI, tmp_path: Path,
                                                clean_env: pytest.MonkeyPatch) -> None:
    root = planted_repo(make_repo)
    trace = tmp_path / "trace.txt"
    trace.write_text(f'Traceback (most recent call last):\n  File "app.py", line 5, in pay\n'
                     f"    headers = {{'Authorization': 'Bearer {JWT}'}}\nstripe.error.AuthenticationError: "
                     f"Invalid API Key provided: {STRIPE}\n", encoding="utf-8")
    model.script(Reply(content=json.dumps({"answer": "the key is wrong", "findings": []})))
    question = f"Why does login fail? Our .env has\n+DB_PASSWORD={ENV_DB_PASSWORD}\nand the key {STRIPE}"
    code = run_cli(cli, ["ask", str(root), question, "--trace", str(trace), "--backend", "openai", "--base-url",
                         model.base_url, "--model", "fake-model", "-q"])
    assert code == 0
    text = sent(model)
    assert "Why does login fail?" in text and "AuthenticationError" in text
    assert_no_planted_value(text)


def test_pr_sends_no_planted_secret(tmp_path: Path, model: FakeOpenAI, clean_env: pytest.MonkeyPatch) -> None:
    w = PrWorld(tmp_path, {"app.py": BASE_APP, **NEAR_MISSES}, {p.path: p.text for p in PLANTED})
    with FakeGitHub(TOKEN) as gh:
        gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
        env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
        assert run_pr(clean_env, env, model, w.dir) == 0
        first = len(model.chat_requests())
        assert first >= 1
        # a second push: reviewed as new commits, with the whole pull request's diff as context
        before = w.sha("feature")
        w.commit({"deploy/.env": PLANTED[0].text + f"REPLICA_PASSWORD={ENV_DB_PASSWORD[::-1]}\n"}, "add a replica")
        env = w.actions_env(gh.url, w.pull_request_event("synchronize", before=before), "pull_request")
        assert run_pr(clean_env, env, model, w.dir) == 0
        assert len(model.chat_requests()) > first
        last = model.chat_requests()[-1].body["messages"][-1]["content"]
        assert "<pull-request-diff" in last, "the incremental review did not carry the whole diff"
        text = sent(model)
        assert_no_planted_value(text)
        assert not leaks(text, [ENV_DB_PASSWORD[::-1]])
        posted = "\n".join(s for r in gh.requests for s in strings(r.body))
        assert_no_planted_value(posted)


# -- fim-server: the editor's buffer, its ring of other files, and repository context -------------

@pytest.fixture
def fim_server(make_repo: MakeRepo, model: FakeOpenAI, tmp_path: Path) -> Iterator[tuple[str, FakeOpenAI]]:
    root = planted_repo(make_repo)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWER_") and k != "DEEPSEEK_API_KEY"}
    env["REVIEWER_CACHE_DIR"] = str(tmp_path / "cache")
    model.script(*[Reply(content="pass\n")] * 200, endpoint="infill")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", "fim-server", "--repo", str(root), "--port", "0", "--provider", "infill",
         "--backend", "openai", "--base-url", model.root_url, "--model", "fake-fim", "--poll", "0.2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = _ready_url(proc)
        yield url, model
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _ready_url(proc: subprocess.Popen[str]) -> str:
    """The server's address, from the line it prints when it listens (read, not waited for)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("fim-server: http://"):
            return line.split()[1]
    raise AssertionError(f"fim-server exited with {proc.wait()} before listening")


def test_fim_server_sends_no_planted_secret(fim_server: tuple[str, FakeOpenAI]) -> None:
    url, upstream = fim_server
    with httpx.Client(timeout=30) as client:
        for p in PLANTED:
            others = [{"filename": q.path, "text": q.text} for q in PLANTED if q is not p][:8]
            body = {"input_prefix": p.text, "input_suffix": "\n", "prompt": "", "input_extra": others,
                    "n_predict": 16, "stream": False}
            r = client.post(url + "/infill", json=body)
            assert r.status_code in (200, 400, 403), r.text
            # Continue's path: OpenAI completions with the file as the prompt
            r = client.post(url + "/v1/completions", json={"model": "fim", "prompt": p.text, "suffix": "\n",
                                                           "max_tokens": 16, "stream": False})
            assert r.status_code in (200, 400, 403), r.text
        # repository context: a file that imports the modules holding split keys
        r = client.post(url + "/infill", json={"input_prefix": APP, "input_suffix": "", "prompt": "    ",
                                               "n_predict": 16, "stream": False})
        assert r.status_code == 200, r.text
    requests = upstream.completion_requests()
    assert len(requests) >= len(PLANTED), "the requests did not reach the upstream"
    text = sent(upstream)
    assert "[REDACTED:" in text
    assert_no_planted_value(text)
