"""``reviewer pr --forge gitlab`` end to end: the real CLI and review engine (against the local
OpenAI-protocol server), a real git repository, and the fake GitLab that validates every request
body and refuses, with 400 as GitLab does, any discussion position that is not on the merge
request's diff."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewer.forges.markers import fingerprints_in, read_state
from tests.integration.pr.world import PrWorld, answer, finding, run_pr
from tests.servers.gitlab_fake import FakeGitLab
from tests.servers.openai_fake import FakeOpenAI, Reply

GL_TOKEN = "glpat-" + "Fak3T0kenForTest5Only9x"
PROJECT_ID = 42
PROJECT = "group/app"

BASE = '''"""Accounts."""

import hashlib


def hash_password(password):
    return hashlib.sha256(password.encode()).hexdigest()


def check(password, digest):
    return hash_password(password) == digest


def legacy_token(user):
    if not user:
        raise ValueError("no user")
    return "tok-" + user


def session_token(user):
    if not user:
        raise ValueError("no user")
    return "ses-" + user


def shout(text):
    return text.upper() + "!"


def whisper(text):
    return text.lower() + "..."


def greeting(name):
    return "hello " + name
'''

GUARD = '    if not user:\n        raise ValueError("no user")'
# the change: md5 instead of sha256 (an added line), the comparison rewritten over two added lines,
# and the guard removed from legacy_token (deleted lines; session_token keeps the same guard)
HEAD = BASE.replace("hashlib.sha256(password.encode())", "hashlib.md5(password.encode())").replace(
    "def check(password, digest):\n    return hash_password(password) == digest",
    "def check(password, digest):\n    expected = hash_password(password)\n    return expected == digest",
).replace("def legacy_token(user):\n" + GUARD + "\n", "def legacy_token(user):\n")

MD5 = "    return hashlib.md5(password.encode()).hexdigest()"
CHECK = "    expected = hash_password(password)\n    return expected == digest"
GREETING = '    return "hello " + name'


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(needle.split("\n")[0]) + 1


@pytest.fixture
def gl() -> Iterator[FakeGitLab]:
    with FakeGitLab(GL_TOKEN) as server:
        yield server


def gitlab_env(w: PrWorld, gl: FakeGitLab, **extra: str) -> dict[str, str]:
    env = {
        "GITLAB_CI": "true", "CI": "true",
        "CI_API_V4_URL": gl.url,
        "CI_PROJECT_ID": str(PROJECT_ID),
        "CI_PROJECT_PATH": PROJECT,
        "CI_MERGE_REQUEST_IID": str(w.number),
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_COMMIT_SHA": w.sha("feature"),
        "GITLAB_TOKEN": GL_TOKEN,
    }
    env.update(extra)
    return env


def assert_clean(gl: FakeGitLab) -> None:
    assert gl.schema_invalid == [], gl.schema_invalid
    assert gl.rejected == [], gl.rejected
    assert gl.unknown == [], gl.unknown
    for r in gl.requests:
        assert GL_TOKEN not in json.dumps(r.body), "the token was sent in a request body"


def world(tmp_path: Path) -> PrWorld:
    return PrWorld(tmp_path, {"accounts.py": BASE}, {"accounts.py": HEAD})


def first_findings() -> list[dict[str, object]]:
    return [
        finding("accounts.py", line_of(HEAD, MD5), MD5.strip(), "MD5 for passwords", category="security",
                severity="critical", suggestion="    return hashlib.sha256(password.encode()).hexdigest()"),
        finding("accounts.py", line_of(HEAD, CHECK), CHECK, "Comparison leaks timing", category="security",
                suggestion="    expected = hash_password(password)\n    return hmac.compare_digest(expected, digest)"),
        # the model points at the removed guard by its old line numbers
        finding("accounts.py", line_of(BASE, GUARD), GUARD.strip(), "Guard removed from legacy_token",
                severity="medium"),
        finding("accounts.py", line_of(HEAD, GREETING), GREETING.strip(), "String concatenation",
                category="style", severity="low"),
    ]


def test_first_review_positions_and_summary_note(tmp_path: Path, clean_env: pytest.MonkeyPatch, gl: FakeGitLab,
                                                 model: FakeOpenAI, capfd: pytest.CaptureFixture[str]) -> None:
    w = world(tmp_path)
    mr = gl.add_mr(PROJECT_ID, PROJECT, w.number, w.dir, target="main", source="feature")
    model.script(Reply(content=answer(*first_findings())))
    rc = run_pr(clean_env, gitlab_env(w, gl), model, w.dir)
    out = capfd.readouterr()
    assert rc == 0, out.err
    assert_clean(gl)
    notes = gl.diff_notes(w.number)
    version = mr.versions[0]
    positions = {n["body"].split("—")[1].split("\n")[0].strip(): n["position"] for n in notes}
    assert set(positions) == {"MD5 for passwords", "Comparison leaks timing", "Guard removed from legacy_token"}
    for p in positions.values():
        assert (p["base_sha"], p["start_sha"], p["head_sha"]) == (version.base, version.start, version.head)
        assert p["position_type"] == "text" and p["old_path"] == p["new_path"] == "accounts.py"
    md5 = positions["MD5 for passwords"]
    assert md5.get("new_line") == line_of(HEAD, MD5) and "old_line" not in md5 and "line_range" not in md5
    check = positions["Comparison leaks timing"]
    assert check["new_line"] == line_of(HEAD, CHECK) + 1 and "old_line" not in check
    file_hash = hashlib.sha1(b"accounts.py").hexdigest()
    assert check["line_range"]["start"]["line_code"].startswith(file_hash + "_")
    assert check["line_range"]["start"]["type"] == check["line_range"]["end"]["type"] == "new"
    legacy = positions["Guard removed from legacy_token"]
    guard_old = BASE.split("\n").index("def legacy_token(user):") + 2  # the first guard line, old numbering
    assert legacy["old_line"] == guard_old + 1 and "new_line" not in legacy
    assert legacy["line_range"]["start"]["type"] == "old"
    # GitLab's suggestion syntax: lines above the commented one to replace, on new-side lines only
    bodies = {n["position"].get("new_line") or n["position"].get("old_line"): n["body"] for n in notes}
    assert "```suggestion:-0+0\n    return hashlib.sha256" in bodies[md5["new_line"]]
    assert "```suggestion:-1+0\n" in bodies[check["new_line"]]
    assert "suggestion:" not in bodies[legacy["old_line"]]
    for n in notes:
        assert len(fingerprints_in(n["body"])) == 1
    (summary,) = gl.summaries(w.number)
    body = summary["body"]
    assert "### Outside the diff (1)" in body and "String concatenation" in body
    assert "**4 new findings** this run: 3 as inline comments, 1 below" in body
    state = read_state(body)
    assert state is not None and state.head == w.sha("feature") and len(state.items) == 4
    assert GL_TOKEN not in out.out + out.err
    assert "reviewer pr: posted: posted 3 inline comment(s); summary created" in out.out


def test_second_push_new_version_no_duplicates_note_edited(tmp_path: Path, clean_env: pytest.MonkeyPatch,
                                                           gl: FakeGitLab, model: FakeOpenAI) -> None:
    w = world(tmp_path)
    mr = gl.add_mr(PROJECT_ID, PROJECT, w.number, w.dir, target="main", source="feature")
    model.script(Reply(content=answer(*first_findings()[:2])))
    assert run_pr(clean_env, gitlab_env(w, gl), model, w.dir) == 0
    assert len(gl.diff_notes(w.number)) == 2
    (summary,) = gl.summaries(w.number)

    # push: md5 fixed, a new problem; the timing comparison is still there
    fixed = HEAD.replace("hashlib.md5(", "hashlib.sha256(") + "\n\ndef load(path):\n    return eval(open(path).read())\n"
    w.commit({"accounts.py": fixed}, "sha256 again, add load")
    second = gl.refresh(mr)
    model.script(Reply(content=answer(
        first_findings()[1],
        finding("accounts.py", line_of(fixed, "    return eval(open(path).read())"), "return eval(open(path).read())",
                "eval of file contents", category="security"),
    )))
    assert run_pr(clean_env, gitlab_env(w, gl), model, w.dir) == 0
    assert_clean(gl)
    notes = gl.diff_notes(w.number)
    fps = [fp for n in notes for fp in fingerprints_in(n["body"])]
    assert len(fps) == len(set(fps)) == 3, "a finding was posted twice"
    assert notes[-1]["position"]["head_sha"] == second.head
    assert [s["id"] for s in gl.summaries(w.number)] == [summary["id"]], "the summary note was re-created"
    body = gl.summaries(w.number)[0]["body"]
    assert "### Resolved since the last run (1)" in body and "~~MD5 for passwords~~" in body
    puts = [r for r in gl.requests if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].path.endswith(f"/notes/{summary['id']}")


def test_position_off_the_diff_is_refused_by_the_fake(tmp_path: Path, gl: FakeGitLab) -> None:
    """The fake must be able to fail: positions GitLab would refuse are refused."""
    w = world(tmp_path)
    mr = gl.add_mr(PROJECT_ID, PROJECT, w.number, w.dir, target="main", source="feature")
    v = mr.versions[0]
    base = {"position_type": "text", "base_sha": v.base, "start_sha": v.start, "head_sha": v.head,
            "old_path": "accounts.py", "new_path": "accounts.py"}
    md5 = line_of(HEAD, MD5)
    assert gl.check_position(mr, {**base, "new_line": md5}) is None
    assert gl.check_position(mr, {**base, "new_line": line_of(HEAD, GREETING) + 3}) is not None  # outside hunks
    assert gl.check_position(mr, {**base, "old_line": md5, "new_line": md5}) is not None  # added line with old_line
    assert gl.check_position(mr, {**base, "new_line": md5, "head_sha": v.base}) is not None  # not a version
    context = line_of(HEAD, MD5) - 1  # unchanged line next to the change: needs both numbers
    assert gl.check_position(mr, {**base, "new_line": context}) is not None
    assert gl.check_position(mr, {**base, "new_line": context, "old_line": context}) is None


def test_read_only_token_writes_files(tmp_path: Path, clean_env: pytest.MonkeyPatch, model: FakeOpenAI,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    w = world(tmp_path)
    with FakeGitLab(GL_TOKEN, read_only=True) as gl:
        gl.add_mr(PROJECT_ID, PROJECT, w.number, w.dir, target="main", source="feature")
        model.script(Reply(content=answer(*first_findings())))
        out_dir = tmp_path / "out"
        rc = run_pr(clean_env, gitlab_env(w, gl), model, w.dir, "--output-dir", str(out_dir))
        captured = capfd.readouterr()
        assert rc == 0, captured.err
        assert gl.schema_invalid == [] and gl.rejected == []
        assert gl.discussions == [] and gl.notes == []
    assert "reviewer pr: files:" in captured.out
    sarif = json.loads((out_dir / "review.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == 4
    assert "MD5 for passwords" in (out_dir / "review.md").read_text()


def test_rate_limit_429_is_waited_out(tmp_path: Path, clean_env: pytest.MonkeyPatch, gl: FakeGitLab,
                                      model: FakeOpenAI) -> None:
    w = world(tmp_path)
    gl.add_mr(PROJECT_ID, PROJECT, w.number, w.dir, target="main", source="feature")
    gl.inject("POST", r"/discussions$", 429, headers={"Retry-After": "1"},
              body={"message": "429 Too Many Requests"})
    model.script(Reply(content=answer(*first_findings()[:1])))
    assert run_pr(clean_env, gitlab_env(w, gl), model, w.dir) == 0
    assert_clean(gl)
    posts = [r for r in gl.requests if r.method == "POST" and r.path.endswith("/discussions")]
    assert [r.status for r in posts] == [429, 201]
    assert len(gl.diff_notes(w.number)) == 1


# -- the CI template ---------------------------------------------------------------------------

TEMPLATE = Path(__file__).resolve().parents[3] / "integrations" / "gitlab" / "reviewer.gitlab-ci.yml"


def _template_script() -> str:
    import yaml

    job = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))["reviewer"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    reviewer = Path(sys.executable).parent / "reviewer"
    return "\n".join(job["script"]).replace("/tmp/reviewer-venv/bin/reviewer", str(reviewer))


def test_template_matches_gitlab_ci_schema() -> None:
    exe = Path(sys.executable).parent / "check-jsonschema"
    if not exe.exists():
        pytest.skip("check-jsonschema is not installed (it is in the dev extras)")
    proc = subprocess.run([str(exe), "--builtin-schema", "vendor.gitlab-ci", str(TEMPLATE)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("token", [True, False])
def test_template_script_runs_against_the_fake(tmp_path: Path, gl: FakeGitLab, model: FakeOpenAI,
                                               token: bool) -> None:
    """The template's own script, run by bash as the GitLab runner would, with the CI variables
    of a merge-request pipeline: posts with a token; without one, writes review.md only."""
    w = world(tmp_path)
    gl.add_mr(PROJECT_ID, PROJECT, w.number, w.dir, target="main", source="feature")
    model.script(Reply(content=answer(*first_findings())))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "GITLAB", "CI_", "REVIEWER_", "RUNNER_")) and k not in ("CI", "DEEPSEEK_API_KEY")}
    env.update(gitlab_env(w, gl))
    env.update({"CI_PIPELINE_SOURCE": "merge_request_event", "CI_JOB_TOKEN": "job-token-not-used-here",
                "CI_MERGE_REQUEST_DIFF_BASE_SHA": w.sha("main"), "REVIEWER_BACKEND": "openai",
                "REVIEWER_BASE_URL": model.base_url, "REVIEWER_MODEL": "fake-model", "REVIEWER_ANALYZERS": "none",
                "REVIEWER_ARGS": "--max-cost 5"})
    if not token:
        env.pop("GITLAB_TOKEN")
    proc = subprocess.run(["bash", "-c", _template_script()], cwd=w.dir, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert GL_TOKEN not in proc.stdout + proc.stderr
    results = w.dir / "reviewer-results"
    assert "MD5 for passwords" in (results / "review.md").read_text()
    if token:
        assert_clean(gl)
        assert len(gl.diff_notes(w.number)) == 3 and len(gl.summaries(w.number)) == 1
        assert "reviewer pr: posted:" in proc.stdout
    else:
        assert not any(r.method != "GET" for r in gl.requests)
        assert "nothing is posted" in proc.stdout


def test_random_edits_every_position_is_accepted_by_the_fake(tmp_path: Path) -> None:
    """Positions made by our parser (line codes included) checked by the fake GitLab's own parser,
    over random edits: every anchor we would send is one GitLab accepts."""
    import random

    from reviewer.findings import Finding
    from reviewer.forges import gitops
    from reviewer.forges.anchors import DiffMap, anchor
    from reviewer.forges.gitlab import Version, position
    from tests.conftest import git, write_files

    rng = random.Random(20240502)
    base_lines = [f"value_{i:03d} = compute({i})" for i in range(1, 121)]
    w = PrWorld(tmp_path, {"m.py": "\n".join(base_lines) + "\n"}, {"README.md": "start\n"})
    gl = FakeGitLab(GL_TOKEN)
    checked = placed = left = ranges = 0
    for round_no in range(10):
        git(w.dir, "checkout", "-q", "-B", "feature", "main")
        lines = list(base_lines)
        for _ in range(rng.randint(1, 8)):
            op = rng.choice(["edit", "delete", "insert"])
            i = rng.randrange(len(lines))
            if op == "edit":
                lines[i] = lines[i] + f"  # edited {round_no}"
            elif op == "delete" and len(lines) > 10:
                del lines[i : i + rng.randint(1, 3)]
            else:
                lines.insert(i, f"added_{round_no}_{i} = True")
        write_files(w.dir, {"m.py": "\n".join(lines) + "\n"})
        git(w.dir, "commit", "-qam", f"round {round_no}")
        mr = gl.add_mr(PROJECT_ID, PROJECT, w.number, w.dir, target="main", source="feature")
        v = mr.versions[0]
        diff = DiffMap.parse(gitops.diff_text(w.dir, v.base, v.head))
        fd = diff.file("m.py")
        assert fd is not None
        removed = [ln for h in fd.hunks for ln in h.lines if ln.kind == "-"]
        for _ in range(60):
            if removed and rng.random() < 0.25:  # a finding quoting removed lines
                evidence, start, end = removed[rng.randrange(len(removed))].text, 1, 1
            else:
                start = rng.randint(1, len(lines))
                end = min(len(lines), start + rng.choice([0, 0, 1, 3, 10, 40]))
                evidence = "\n".join(lines[start - 1 : end])
            f = Finding.model_validate({"category": "bug", "severity": "low", "confidence": 0.5, "path": "m.py",
                                        "start_line": start, "end_line": end, "title": "t", "explanation": "e",
                                        "evidence": evidence})
            a, _ = anchor(f, diff)
            checked += 1
            if a is None:
                continue
            placed += 1
            left += a.side == "LEFT"
            ranges += a.start_line is not None
            pos = position(a, fd, Version(v.base, v.start, v.head))
            assert gl.check_position(mr, pos) is None, (pos, round_no)
            if "line_range" in pos:  # and a wrong line code is refused
                code = pos["line_range"]["start"]["line_code"]
                pos["line_range"]["start"]["line_code"] = code.rsplit("_", 2)[0] + "_9999_9999"
                assert gl.check_position(mr, pos) is not None
    assert checked == 600 and placed > 100 and left > 5 and ranges > 20
