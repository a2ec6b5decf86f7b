"""The composite action's own "Review" step, run by bash the way the runner runs it
(``bash --noprofile --norc -eo pipefail``), with its ``env:`` block filled from the inputs as
GitHub would, against the fake GitHub and the local model server: a same-repository pull request
(mode post), then the two stages of the fork workflow (mode files with a read-only token, then
mode post-saved from a workflow_run event in a directory with no checkout)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.integration.pr.world import (
    HEAD_APP,
    REPO,
    RUN,
    SQL,
    TOKEN,
    PrWorld,
    answer,
    assert_clean,
    finding,
    line_of,
    world,
)
from tests.servers.github_fake import FakeGitHub
from tests.servers.openai_fake import FakeOpenAI, Reply

ACTION = Path(__file__).resolve().parents[3] / "integrations" / "github" / "action.yml"
FORK = "someone/app-fork"
_EXPR = re.compile(r"^\$\{\{\s*inputs\.([\w-]+)\s*\}\}$")


def _review_step() -> tuple[dict[str, Any], dict[str, Any]]:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "review")
    return action, step


def run_action(w: PrWorld, cwd: Path, gh: FakeGitHub, event: Path, event_name: str,
               inputs: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    action, step = _review_step()
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values["github-token"] = TOKEN  # the default, ${{ github.token }}
    values.update(inputs)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "GITLAB", "CI_", "REVIEWER_", "RUNNER_"))
           and k not in ("CI", "DEEPSEEK_API_KEY", "OPENAI_API_KEY", "GH_TOKEN")}
    for key, expr in step["env"].items():
        m = _EXPR.match(str(expr))
        assert m, f"{key}: only inputs reach the script ({expr})"
        env[key] = values[m.group(1)]
    runner_temp = w.tmp / f"runner-temp-{event_name}"
    runner_temp.mkdir(exist_ok=True)
    output = runner_temp / "github-output"
    output.write_text("")
    env.update(w.actions_env(gh.url, event, event_name))
    env.update({
        "GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(runner_temp),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        # the model: the local server (the inputs' backend/base-url/model would say the same)
        "REVIEWER_ANALYZERS": "none", "REVIEWER_TIMEOUT": "60",
    })
    env["GITHUB_TOKEN"] = values["github-token"]
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return proc, outputs


def model_inputs(model: FakeOpenAI) -> dict[str, str]:
    return {"backend": "openai", "base-url": model.base_url, "model": "fake-model", "api-key": "sk-local-test-key-123"}


def findings() -> str:
    return answer(
        finding("app.py", line_of(HEAD_APP, SQL), SQL.strip(), "SQL injection", category="security", severity="critical"),
        finding("util.py", 4, RUN, "Shell command built from input", category="security", end=5),
    )


def test_mode_post_on_a_same_repository_pull_request(tmp_path: Path, model: FakeOpenAI) -> None:
    w = world(tmp_path)
    with FakeGitHub(TOKEN) as gh:
        gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
        model.script(Reply(content=findings()))
        proc, outputs = run_action(w, w.dir, gh, w.pull_request_event("opened"), "pull_request",
                                   {**model_inputs(model), "fail-on": "critical", "paths": "*.py"})
        assert_clean(gh)
        assert proc.returncode == 1, proc.stdout + proc.stderr  # --fail-on critical with a critical finding
        assert len(gh.comments_for(REPO, w.number)) == 2, proc.stdout + proc.stderr
        assert len(gh.summaries(REPO, w.number)) == 1
    assert outputs["status"] == "posted"
    assert outputs["sarif"] == "reviewer-results/review.sarif"
    assert (w.dir / outputs["sarif"]).is_file()
    for secret in (TOKEN, "sk-local-test-key-123"):
        assert secret not in proc.stdout + proc.stderr
    # the model request carried the key from the api-key input, and only what --include allowed
    req = model.chat_requests()[0]
    assert req.headers["authorization"] == "Bearer sk-local-test-key-123"
    sent = req.body["messages"][-1]["content"]
    assert 'path="app.py"' in sent and "README.md" not in sent


def test_fork_two_stages_through_the_action(tmp_path: Path, model: FakeOpenAI) -> None:
    w = world(tmp_path)
    with FakeGitHub(TOKEN, read_only=True) as gh:
        gh.add_pull(REPO, w.number, w.dir, base="main", head="feature", head_repo=FORK)
        model.script(Reply(content=findings()))
        # stage 1: pull_request from a fork, read-only token (and here a model; often none)
        proc, outputs = run_action(w, w.dir, gh, w.pull_request_event("opened", head_repo=FORK),
                                   "pull_request", {"mode": "files", **model_inputs(model)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert outputs["status"] == "files"
        assert gh.reviews == [] and gh.issue_comments == [] and gh.writes() == []
        saved = w.dir / "reviewer-results"
        assert {p.name for p in saved.iterdir()} == {"review.sarif", "review.md", "results.json"}
        assert "SQL injection" in (w.tmp / "step-summary.md").read_text()

        # stage 2: workflow_run, a token that can write, no checkout: only the downloaded artifact
        gh.read_only = False
        calls = len(model.requests)
        artifact = tmp_path / "stage2"
        artifact.mkdir()
        (artifact / "reviewer-results").mkdir()
        for p in saved.iterdir():
            (artifact / "reviewer-results" / p.name).write_bytes(p.read_bytes())
        proc, outputs = run_action(w, artifact, gh, w.workflow_run_event(FORK), "workflow_run",
                                   {"mode": "post-saved", "saved-dir": "reviewer-results", "output-dir": "posted"})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert_clean(gh)
        assert outputs["status"] == "posted"
        assert len(model.requests) == calls, "the posting stage called the model"
        assert sorted(c["path"] for c in gh.comments_for(REPO, w.number)) == ["app.py", "util.py"]
        assert len(gh.summaries(REPO, w.number)) == 1
    assert TOKEN not in proc.stdout + proc.stderr


def test_bad_mode_is_refused(tmp_path: Path, model: FakeOpenAI) -> None:
    w = world(tmp_path)
    with FakeGitHub(TOKEN) as gh:
        gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
        proc, _ = run_action(w, w.dir, gh, w.pull_request_event("opened"), "pull_request", {"mode": "approve"})
        assert proc.returncode == 2
        assert "mode must be post, files or post-saved" in proc.stdout
        assert gh.requests == [] and model.requests == []
