"""A model server that answers far more than a review needs: 10 MB of answer (streamed and not),
findings whose explanation is 20 KB, 1,000 findings, JSON nested 100,000 levels deep. The tool
reads and keeps only so much, says what it cut, and the report stays small; nothing crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.llm.client import MAX_ANSWER_CHARS, MAX_BODY_BYTES
from tests.conftest import MakeRepo
from tests.servers.openai_fake import FakeOpenAI, Reply

APP = "def run(x):\n    return eval(x)\n"


def finding(**over: object) -> dict[str, object]:
    f: dict[str, object] = {"category": "security", "severity": "high", "confidence": 0.9, "path": "app.py",
                            "start_line": 2, "end_line": 2, "title": "eval of input", "explanation": "eval runs code",
                            "evidence": "return eval(x)"}
    f.update(over)
    return f


def review(repo: Path, server: FakeOpenAI, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWER_") and k != "DEEPSEEK_API_KEY"}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "REVIEWER_CACHE_DIR": os.environ["REVIEWER_CACHE_DIR"]})
    args = [sys.executable, "-m", "reviewer", "review", str(repo), "--backend", "openai", "--base-url", server.base_url,
            "--model", "fake-model", "--analyzers", "none", "--format", "json", "-o", str(out), "--timeout", "120",
            *extra]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("stream", [True, False])
def test_a_10_mb_answer_is_cut_and_the_report_stays_small(make_repo: MakeRepo, tmp_path: Path, stream: bool) -> None:
    repo = make_repo({"app.py": APP})
    content = json.dumps({"findings": [finding(), finding(explanation="E" * 10_000_000, title="flood")]})
    with FakeOpenAI(default=Reply(content=content)) as server:
        proc = review(repo, server, tmp_path / "out.json", *([] if stream else ["--no-stream"]))
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "out.json").read_text()
    assert len(report) < 20_000 and len(proc.stdout) < 20_000
    data = json.loads(report)
    assert [f["title"] for f in data["findings"]] == ["eval of input"]
    assert any(f"longer than the {MAX_ANSWER_CHARS:,} characters the tool reads" in n for n in data["notes"])


def test_an_answer_body_past_the_wire_limit_is_not_read(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"app.py": APP})
    content = json.dumps({"findings": [finding(explanation="E" * (MAX_BODY_BYTES + 1))]})
    with FakeOpenAI(default=Reply(content=content)) as server:
        proc = review(repo, server, tmp_path / "out.json", "--no-stream")
        assert len(server.chat_requests()) == 1, "not asked again"
    assert proc.returncode == 3, proc.stderr
    assert f"the answer is larger than {MAX_BODY_BYTES:,} bytes: not read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_long_fields_are_cut_and_too_many_findings_dropped(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"app.py": APP})
    many = [finding(explanation="X" * 20_000, suggestion="S" * 10_000)] + [finding(title=f"f{i}") for i in range(1_000)]
    content = json.dumps({"findings": many}, separators=(",", ":"))
    assert len(content) < MAX_ANSWER_CHARS, "within what is read: the limits below are the parser's"
    with FakeOpenAI(default=Reply(content=content)) as server:
        proc = review(repo, server, tmp_path / "out.json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    assert len((tmp_path / "out.json").read_text()) < 100_000
    first = data["findings"][0]
    assert len(first["explanation"]) <= 4_100 and first["explanation"].endswith("… (cut)")
    assert first.get("suggestion") is None
    notes = " ".join(data["notes"])
    assert "the model gave 1,001 findings: only the first 200 were read" in notes
    assert "longer than the tool keeps" in notes


def test_json_nested_100_000_deep_is_unreadable_not_a_crash(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"app.py": APP})
    deep = '{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with FakeOpenAI(default=Reply(content=deep)) as server:
        proc = review(repo, server, tmp_path / "out.json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
