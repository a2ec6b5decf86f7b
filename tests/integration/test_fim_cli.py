"""``reviewer fim`` as a user runs it, in front of a vLLM stand-in: a definition from another file
for the name used at the cursor is in the context, secrets are redacted out of everything sent
(the upstream is on 127.0.0.1, which may still be a tunnel to a hosted API), and every bad input
is one line on stderr with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MakeRepo
from tests.servers.openai_fake import FakeOpenAI, Reply

GH_TOKEN = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
AWS_KEY = "AKIAIOSFODNN7EXAMPLQ"

FILES = {
    "billing/client.py": (
        f'DEFAULT_TOKEN = "{GH_TOKEN}"\n\n\n'
        "def charge(customer_id: str, cents: int, token: str = DEFAULT_TOKEN) -> dict:\n"
        '    """Charge a customer."""\n'
        '    return {"id": customer_id, "cents": cents}\n'
    ),
    "billing/__init__.py": "",
    "app.py": (
        "from billing.client import charge\n\n"
        f'AWS = "{AWS_KEY}"\n\n\n'
        "def checkout(cart):\n"
        "    total = sum(cart)\n"
        "    receipt = \n"
        "    return receipt\n"
    ),
    "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(300),
}


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEEPSEEK_API_KEY" and not k.startswith("REVIEWER_")}
    env["REVIEWER_CACHE_DIR"] = str(tmp_path / "cache")
    return env


def _fim(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reviewer", "fim", *args], capture_output=True, text=True,
                          env=env, timeout=120, cwd=cwd)


def test_cross_file_definition_in_context_and_secrets_redacted(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(FILES)
    with FakeOpenAI(Reply(content="charge(checkout.customer, total)")) as up:
        proc = _fim(_env(tmp_path), str(root / "app.py"), "--line", "8", "--col", "15", "--backend", "vllm",
                    "--base-url", up.base_url, "--model", "deepseek-ai/DeepSeek-V4-Flash")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "charge(checkout.customer, total)"
        body = up.requests[-1].body
    prompt = body["prompt"]
    # the definition of `charge` (used near the cursor, defined in another file) is in the context
    assert "# billing/client.py\n" in prompt
    assert "def charge(customer_id: str, cents: int, token: str = DEFAULT_TOKEN) -> dict:" in prompt
    # it comes before the edited file, which the hole is in
    assert prompt.index("def charge(") < prompt.index("# app.py\n") < prompt.index("<｜fim▁hole｜>")
    # no secret reaches the upstream, from the context or from the edited file itself
    for secret in (GH_TOKEN, AWS_KEY):
        assert secret not in prompt
    assert "[REDACTED:" in prompt.split("# app.py\n")[1]


def test_no_redact_sends_text_as_it_is(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(FILES)
    with FakeOpenAI(Reply(content="x")) as up:
        proc = _fim(_env(tmp_path), str(root / "app.py"), "--line", "8", "--col", "15", "--backend", "vllm",
                    "--base-url", up.base_url, "--model", "m", "--no-redact")
        assert proc.returncode == 0, proc.stderr
        assert AWS_KEY in up.requests[-1].body["prompt"]


@pytest.mark.parametrize("case", ["past-line", "past-col", "zero-line", "binary", "outside", "huge", "missing"])
def test_bad_input_is_exit_2_with_one_line(make_repo: MakeRepo, tmp_path: Path, case: str) -> None:
    root = make_repo(FILES)
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    (root / "huge.py").write_text("x = 1\n" * 400_000)  # 2.4 MB: over max_file_bytes
    args = {
        "past-line": [str(root / "app.py"), "--line", "99"],
        "past-col": [str(root / "app.py"), "--line", "1", "--col", "500"],
        "zero-line": [str(root / "app.py"), "--line", "0"],
        "binary": [str(root / "logo.png"), "--line", "1"],
        "outside": [str(outside), "--line", "1", "--repo", str(root)],
        "huge": [str(root / "huge.py"), "--line", "1"],
        "missing": [str(root / "nope.py"), "--line", "1"],
    }[case]
    with FakeOpenAI(default=Reply(content="never")) as up:
        proc = _fim(_env(tmp_path), *args, "--backend", "vllm", "--base-url", up.base_url, "--model", "m")
        assert up.requests == []  # nothing was sent
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) <= 2, proc.stderr
