"""The forge HTTP client against the fake GitHub: rate limits waited within a bound, retries only
where they are safe, pagination that never carries the token elsewhere, no token in errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewer.forges.http import ApiClient, Forbidden, ForgeError, RateLimited, Rejected
from reviewer.forges.scrub import Scrubber
from tests.conftest import MakeRepo
from tests.servers.github_fake import FakeGitHub

TOKEN = "ghs_" + "HttpT3stT0ken" + "x" * 23


@pytest.fixture
def gh(make_repo: MakeRepo) -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN) as server:
        repo: Path = make_repo({"a.py": "x = 1\n"})
        server.add_pull("o/r", 1, repo, base="main", head="main")
        yield server


def client(gh: FakeGitHub, sleeps: list[float], max_wait: float = 30.0, token: str = TOKEN) -> ApiClient:
    return ApiClient(gh.url, {"Authorization": f"Bearer {token}"}, scrub=Scrubber(), max_wait=max_wait,
                     sleep=sleeps.append, extra_headers={"X-GitHub-Api-Version": "2022-11-28"})


def test_secondary_rate_limit_waits_retry_after(gh: FakeGitHub) -> None:
    sleeps: list[float] = []
    gh.secondary_rate_limit("GET", r"/pulls/1$", retry_after=7)
    data = client(gh, sleeps).get("/repos/o/r/pulls/1")
    assert data["number"] == 1 and sleeps == [7.0]


def test_primary_limit_waits_until_reset(gh: FakeGitHub) -> None:
    sleeps: list[float] = []
    reset = int(time.time()) + 5
    gh.inject("GET", r"/pulls/1$", 403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
              body={"message": "API rate limit exceeded"})
    client(gh, sleeps).get("/repos/o/r/pulls/1")
    assert len(sleeps) == 1 and 3 <= sleeps[0] <= 7


def test_429_without_a_time_waits_a_minute_within_the_bound(gh: FakeGitHub) -> None:
    sleeps: list[float] = []
    gh.inject("GET", r"/pulls/1$", 429, body={"message": "slow down"})
    client(gh, sleeps, max_wait=120).get("/repos/o/r/pulls/1")
    assert sleeps == [60.0]
    gh.inject("GET", r"/pulls/1$", 429, body={"message": "slow down"})
    with pytest.raises(RateLimited, match="60s more would pass the 30s limit"):
        client(gh, [], max_wait=30).get("/repos/o/r/pulls/1")


def test_waits_add_up_to_the_bound(gh: FakeGitHub) -> None:
    gh.secondary_rate_limit("GET", r"/pulls/1$", retry_after=20)
    gh.secondary_rate_limit("GET", r"/pulls/1$", retry_after=20)
    sleeps: list[float] = []
    with pytest.raises(RateLimited):
        client(gh, sleeps, max_wait=30).get("/repos/o/r/pulls/1")
    assert sleeps == [20.0]


def test_server_errors_retried_for_reads_not_for_creates(gh: FakeGitHub) -> None:
    sleeps: list[float] = []
    gh.inject("GET", r"/pulls/1$", 502, times=2)
    assert client(gh, sleeps).get("/repos/o/r/pulls/1")["number"] == 1
    assert len(sleeps) == 2
    gh.inject("POST", r"/issues/1/comments$", 502)
    with pytest.raises(ForgeError, match="502"):
        client(gh, []).request("POST", "/repos/o/r/issues/1/comments", json_body={"body": "x"})
    assert gh.issue_comments == [], "a create is not repeated after a 5xx"
    assert len([r for r in gh.requests if r.method == "POST"]) == 1


def test_error_classes_and_no_token_in_messages(gh: FakeGitHub) -> None:
    gh.read_only = True
    with pytest.raises(Forbidden) as forbidden:
        client(gh, []).request("POST", "/repos/o/r/issues/1/comments", json_body={"body": "x"})
    assert forbidden.value.status == 403
    gh.read_only = False
    with pytest.raises(Rejected):
        client(gh, []).request("POST", "/repos/o/r/issues/1/comments", json_body={"body": 5})
    assert gh.schema_invalid, "the fake counts the invalid body"
    gh.schema_invalid.clear()
    gh.inject("GET", r"/pulls/1$", 500, body={"message": f"echo {TOKEN}"}, times=9)
    with pytest.raises(ForgeError) as exc:
        client(gh, []).get("/repos/o/r/pulls/1")
    assert TOKEN not in exc.value.message and "[REDACTED]" in exc.value.message
    with pytest.raises(ForgeError, match="401") as bad:
        client(gh, [], token="wrong-token-value").get("/repos/o/r/pulls/1")
    assert "wrong-token-value" not in bad.value.message


def test_pagination_follows_link_but_never_to_another_host(gh: FakeGitHub) -> None:
    for i in range(250):
        gh.add_issue_comment("o/r", 1, f"comment {i}", "someone")
    items = list(client(gh, []).paginate("/repos/o/r/issues/1/comments"))
    assert [c["body"] for c in items] == [f"comment {i}" for i in range(250)]
    gets = [r for r in gh.requests if r.operation == "issues/list-comments"]
    assert len(gets) == 3 and gets[1].query["page"] == ["2"]
    gh.inject("GET", r"/issues/1/comments$", 200, body=[{"body": "x"}],  # type: ignore[arg-type]
              headers={"Link": '<http://127.0.0.2:1/steal?page=2>; rel="next"'})
    with pytest.raises(ForgeError, match="refusing to follow a link outside"):
        list(client(gh, []).paginate("/repos/o/r/issues/1/comments"))
