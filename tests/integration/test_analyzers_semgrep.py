"""The semgrep analyzer (taint rules for Python web code) on real files with real semgrep-core:
every marked flaw found with its CWE, severity and flow, nothing on the safe lines; test code and
non-web code left out; the repository cannot reconfigure it; failures cost one note."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reviewer.analyzers import run_analyzers
from reviewer.analyzers.semgrep import ENV_VAR, core_of, rules_by_id
from reviewer.analyzers.tables import section
from tests.conftest import git
from tests.integration.test_analyzers_fixtures import copy_fixture, scanned_paths

MARK = re.compile(r"#\s*expect:\s*(CWE-\d+)")
SEVERITY = {"CWE-89": "high", "CWE-78": "critical", "CWE-601": "medium", "CWE-79": "high", "CWE-502": "critical", "CWE-918": "high"}

pytestmark = pytest.mark.usefixtures("semgrep_core")


def marked(root: Path) -> set[tuple[str, int, str]]:
    flaws = set()
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = MARK.search(line)
            if match:
                flaws.add((path.relative_to(root).as_posix(), number, match.group(1)))
    return flaws


@pytest.fixture(scope="module")
def taint_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture("taint-app", tmp_path_factory.mktemp("taint"))


def test_every_marked_flaw_and_nothing_else(taint_app: Path) -> None:
    run = run_analyzers(taint_app, scanned_paths(taint_app), ["semgrep"])
    assert run.notes == []
    expected = marked(taint_app)
    assert {p for p, _, _ in expected} >= {"app/shop.py", "app/backup.py", "app/sso.py", "app/pages.py"}
    assert {(f.path, f.start_line, f.cwe) for f in run.findings} == expected
    for f in run.findings:
        assert f.source == "semgrep" and f.category.value == "security"
        assert f.severity.value == SEVERITY[f.cwe]
        lines = (taint_app / f.path).read_text().splitlines()
        assert f.evidence == lines[f.start_line - 1].strip()  # the sink's own line, quoted
    # test code and modules without web code are not analysed at all
    assert not any(f.path.startswith(("tests/", "lib/")) for f in run.findings)


def test_title_and_explanation_name_source_and_sink(taint_app: Path) -> None:
    run = run_analyzers(taint_app, ["app/shop.py", "app/backup.py"], ["semgrep"])
    by_line = {(f.path, f.start_line): f for f in run.findings}
    sql = by_line[("app/shop.py", 53)]  # name = request.form["name"]; sql = ... where_name(name)
    assert sql.title == "SQL injection: request.form (line 51) reaches execute() (line 53)"
    assert sql.rule == "py-taint-sql"
    assert "`request.form` (line 51) → `name` (line 51) → `sql` (line 52) → `sql` (line 53)" in sql.explanation
    assert "query parameter" in sql.explanation and "Reported by semgrep rule py-taint-sql." in sql.explanation
    shell = by_line[("app/backup.py", 12)]
    assert shell.title == "OS command injection: request.POST (line 10) reaches subprocess.Popen() (line 12)"
    assert shell.severity.value == "critical"


def test_every_rule_has_a_table_row_with_a_cwe() -> None:
    rows = section("semgrep")["rules"]
    assert set(rules_by_id()) == set(rows)
    for rule_id, row in rows.items():
        assert re.fullmatch(r"CWE-\d+", row["cwe"]), rule_id
        assert row["severity"] in ("critical", "high", "medium") and row["title"]


def test_merged_with_bandit_on_the_same_line(make_repo) -> None:
    root = make_repo(
        {
            "app.py": (
                "import os\nfrom flask import Flask, request\napp = Flask(__name__)\n\n"
                "@app.route('/p')\ndef p():\n    os.system('ping ' + request.args['h'])\n    return 'ok'\n"
            )
        }
    )
    run = run_analyzers(root, ["app.py"], ["semgrep", "bandit"])
    [finding] = [f for f in run.findings if f.start_line == 7]
    assert (finding.source, finding.rule, finding.cwe, finding.severity.value) == (
        "semgrep", "py-taint-shell", "CWE-78", "critical"
    )
    assert "Also reported by bandit B605." in finding.explanation


def test_repository_cannot_reconfigure_or_silence_it(make_repo) -> None:
    app = "from flask import Flask, request\napp = Flask(__name__)\n\n@app.route('/')\ndef i():\n    return eval(request.args['x'])\n"
    root = make_repo(
        {
            "app.py": app,
            "ok.py": app.replace("return eval(request.args['x'])", "return eval(request.args['x'])  # nosemgrep"),
            ".semgrepignore": "app.py\n*.py\n",
            ".semgrep.yml": "rules:\n- id: repo-rule\n  languages: [python]\n  severity: ERROR\n  message: x\n  pattern: $X\n",
            ".semgrep/rules.yml": "rules: []\n",
        }
    )
    run = run_analyzers(root, ["app.py", "ok.py"], ["semgrep"])
    assert run.notes == []
    # the ignore files and rule files are not read; an inline nosemgrep is the code's own word
    assert {(f.path, f.start_line, f.rule) for f in run.findings} == {("app.py", 6, "py-taint-code")}
    assert git(root, "status", "--porcelain", "--ignored") == ""


def test_hostile_names_syntax_errors_and_big_files(make_repo) -> None:
    vuln = "from flask import Flask, request\napp = Flask(__name__)\n\n@app.get('/')\ndef i():\n    return eval(request.args['x'])\n"
    root = make_repo(
        {
            "-rf.py": vuln,
            "sp ace/ünï.py": vuln,
            "broken.py": "from flask import request\ndef f(:\n    eval(request.args['x'])\n",
            "big.py": vuln + "# " + "x" * 1_100_000 + "\n",
        }
    )
    run = run_analyzers(root, ["-rf.py", "sp ace/ünï.py", "broken.py", "big.py"], ["semgrep"])
    # a name that looks like an option is a file; a syntax error is skipped over (tree-sitter
    # recovers and the rest of the file is still analysed); a file over 1 MB is left out
    assert {(f.path, f.start_line) for f in run.findings} == {("-rf.py", 6), ("sp ace/ünï.py", 6), ("broken.py", 3)}
    assert run.notes == ["semgrep: 1 file(s) over 1 MB not analysed"]


def test_a_timeout_costs_one_note(taint_app: Path) -> None:
    run = run_analyzers(taint_app, scanned_paths(taint_app), ["semgrep"], timeouts={"semgrep": 0.001})
    assert run.notes == ["semgrep: timed out after 0.001 s, skipped"] and run.findings == []


def test_where_semgrep_is_found(semgrep_core: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = semgrep_core.parents[5] if semgrep_core.parent.name == "bin" and "site-packages" in semgrep_core.parts else None
    assert core_of(semgrep_core) == semgrep_core
    if env_dir is not None:  # pip-installed: the environment, its semgrep script, semgrep-core
        assert core_of(env_dir) == semgrep_core
        assert core_of(env_dir / "bin" / "semgrep") == semgrep_core
        link = tmp_path / "semgrep"  # pipx links ~/.local/bin/semgrep to the venv's script
        link.symlink_to(env_dir / "bin" / "semgrep")
        assert core_of(link) == semgrep_core
    assert core_of(tmp_path / "nothing-here") is None
    (tmp_path / "semgrep").unlink(missing_ok=True)
    (tmp_path / "semgrep").write_text("#!/bin/sh\n")  # a stray script that is not semgrep
    assert core_of(tmp_path / "semgrep") is None

    # a wrong REVIEWER_SEMGREP is one note, not a silent fallback to another semgrep
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nothing-here"))
    root = copy_fixture("taint-app", tmp_path / "r", commit=False)
    run = run_analyzers(root, ["app/shop.py"], ["semgrep"])
    assert run.findings == []
    assert run.notes == [
        f"semgrep: failed ({ENV_VAR}={tmp_path / 'nothing-here'} is not a semgrep installation), skipped"
    ]


@pytest.mark.skipif(shutil.which("strace") is None or os.name == "nt", reason="needs strace")
def test_no_network_connection(semgrep_core: Path, tmp_path: Path) -> None:
    """semgrep-core, run as the analyzer runs it, makes no connect() call at all."""
    root = copy_fixture("taint-app", tmp_path, commit=False)
    trace = tmp_path / "trace.txt"
    wrapper = tmp_path / "bin" / "semgrep-core"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec strace -f -qq -e trace=connect,sendto -o {trace} {semgrep_core} "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, ENV_VAR: str(wrapper)}
    proc = subprocess.run(
        ["python", "-c", SCRIPT, str(root)], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    assert proc.stdout.strip().isdigit() and int(proc.stdout) > 0  # it ran and found the flaws
    calls = [line for line in trace.read_text().splitlines() if "connect(" in line or "sendto(" in line]
    assert calls == []


SCRIPT = """
import sys
from pathlib import Path
from reviewer.analyzers import run_analyzers
root = Path(sys.argv[1])
run = run_analyzers(root, [p.relative_to(root).as_posix() for p in root.rglob('*.py')], ['semgrep'])
assert run.notes == [], run.notes
print(len(run.findings))
"""
