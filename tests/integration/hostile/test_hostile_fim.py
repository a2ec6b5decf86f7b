"""fim-server in front of a llama.cpp stand-in, asked by a hostile client and answered by a hostile
upstream: it reads no file the pack would leave out (``.git``, what git ignores, excluded, lock
and vendored files, and links to them), refuses a request nested 100,000 levels deep with a 400,
and reads and keeps only so much of an upstream's answer. Every refusal is a 4xx (or 502) with a
message, nothing reaches the upstream, and the server keeps serving."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reviewer.config import load_settings
from reviewer.fim.engine import MAX_COMPLETION_CHARS, FimOptions
from reviewer.fim.providers import MAX_ANSWER_BYTES, make_provider
from reviewer.fim.server import FimHTTPServer, ServerConfig
from reviewer.fim.service import start
from tests.conftest import MakeRepo, git
from tests.integration.test_fim_server import Running
from tests.servers.infill_fake import FakeLlamaServer, InfillReply

APP = "def total(items):\n    return sum(items)\n"
FILES = {
    "app.py": APP,
    ".gitignore": ".env\n",
    ".env": "DB_PASSWORD=hunter2-from-dotenv\n",
    "private/plan.py": "PLAN = 'the private plan'\n",
    "node_modules/dep/index.js": "module.exports = 'vendored'\n",
    "yarn.lock": "lock content\n",
    ".reviewer.toml": 'exclude = ["private/**"]\n',
}


@pytest.fixture
def fim(tmp_path: Path, make_repo: MakeRepo) -> Iterator[Running]:
    root = make_repo(FILES)
    git(root, "config", "remote.origin.url", "https://user:hunter2-in-git-config@example.com/x.git")
    (root / "innocent.py").symlink_to(".git/config")
    upstream = FakeLlamaServer(default=InfillReply("return 1\n")).start()
    settings = load_settings(root, {"cache_dir": str(tmp_path / "cache")})
    service = start(root, settings, make_provider("infill", upstream.root_url, model="fake-fim"), FimOptions())
    assert service.wait_ready(60)
    server = FimHTTPServer(ServerConfig(port=0, max_file_bytes=settings.max_file_bytes), service.engine)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield Running(server, upstream, service, root)
    server.shutdown()
    server.server_close()
    service.engine.close()
    upstream.stop()


def infill(fim: Running, **body: object) -> httpx.Response:
    return httpx.post(fim.url + "/infill", json={"input_prefix": "", "input_suffix": "", **body}, timeout=30)


@pytest.mark.parametrize(("name", "status", "why"), [
    (".git/config", 403, "(vcs)"),
    ("innocent.py", 403, "(vcs)"),  # a link into .git
    (".env", 403, "(ignored)"),
    ("private/plan.py", 403, "(excluded)"),
    ("node_modules/dep/index.js", 403, "(vendored)"),
    ("yarn.lock", 403, "(lock-file)"),
])
def test_files_the_pack_leaves_out_are_not_read(fim: Running, name: str, status: int, why: str) -> None:
    for path in ("/infill", "/v1/completions"):
        r = httpx.post(fim.url + path, json={"filename": name, "line": 1, "column": 1}, timeout=30)
        assert r.status_code == status, r.text
        assert why in r.json()["error"]["message"]
    assert fim.upstream.requests == []
    # still serving, and a file the pack shows is read
    r = infill(fim, filename="app.py", line=2, column=5)
    assert r.status_code == 200, r.text
    sent = fim.upstream.requests[-1].body
    assert "hunter2" not in str(sent)


def test_reviewer_fim_refuses_them_too(fim: Running) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWER_")}
    env["REVIEWER_CACHE_DIR"] = os.environ["REVIEWER_CACHE_DIR"]
    proc = subprocess.run([sys.executable, "-m", "reviewer", "fim", str(fim.root / ".git" / "config"), "--line", "1",
                           "--repo", str(fim.root), "--dry-run"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "hunter2" not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_deeply_nested_json_is_a_400(fim: Running) -> None:
    for depth in (100_000, 40):
        r = httpx.post(fim.url + "/infill", content=b"[" * depth + b"]" * depth,
                       headers={"Content-Type": "application/json"}, timeout=30)
        assert r.status_code == 400, r.text
        assert "nested deeper than 32 levels" in r.json()["error"]["message"]
    r = httpx.post(fim.url + "/infill", content=b'{"input_prefix": "x", "samplers": ' + b"[" * 50 + b"]" * 50 + b"}",
                   headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400
    assert fim.upstream.requests == []
    assert infill(fim, input_prefix="def f():\n    ").status_code == 200


def test_a_huge_upstream_answer_is_not_read(fim: Running) -> None:
    """10 MB in one event: the line is never held past the limit (it used to be read whole, then
    copied into the answer)."""
    for stream in (False, True):
        fim.upstream.script(InfillReply("x" * 10_000_000, pieces=1))
        r = infill(fim, input_prefix=f"# {stream}\n", stream=stream)
        assert len(r.text) < 10_000
        assert r.status_code == 502 and f"larger than {MAX_ANSWER_BYTES:,} bytes" in r.json()["error"]["message"]
    assert infill(fim, input_prefix="def g():\n    ").status_code == 200


def test_a_long_completion_is_cut_and_said(fim: Running) -> None:
    fim.upstream.script(InfillReply("y = 1\n" * 50_000, pieces=500))  # 300,000 characters in 600-byte pieces
    r = infill(fim, input_prefix="def h():\n    ", n_predict=1_000_000)
    assert r.status_code == 200, r.text
    data = r.json()
    assert len(data["content"]) == MAX_COMPLETION_CHARS
    assert data["reviewer"]["note"] == f"the upstream's completion was cut at {MAX_COMPLETION_CHARS:,} characters"
