"""The real analyzers on the fixture repositories: each known issue found with the right category,
severity, line and CWE; the clean twin yields nothing; the repository cannot reconfigure them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reviewer.analyzers import run_analyzers
from reviewer.config import load_settings
from reviewer.repo.scan import scan
from tests.conftest import git

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FAKE_PASSWORD = "q7Rm-2vLx-9KfT-w4Zp"

# (path, line, category, severity, cwe, what) for every known issue in vulnerable-app
EXPECTED = {
    ("shop/calculator.py", 6, "security", "high", "CWE-94"),  # eval of input
    ("shop/db.py", 7, "security", "high", "CWE-89"),  # SQL built by string formatting
    ("shop/tools.py", 12, "security", "high", "CWE-78"),  # subprocess with shell=True
    ("shop/settings.py", 4, "security", "high", "CWE-798"),  # hard-coded password
    ("shop/tools.py", 15, "bug", "medium", None),  # mutable default argument
    ("shop/tools.py", 21, "refactor", "low", None),  # unused variable
    ("shop/tools.py", 8, "security", "low", "CWE-328"),  # weak hash (md5) for a checksum
    ("static/greeting.js", 6, "security", "high", "CWE-79"),  # innerHTML from user input
}
# which analyzer and rule each one ends up attributed to when all run (merged by fingerprint)
SOURCES = {
    ("shop/calculator.py", 6): ("bandit", "B307"),
    ("shop/db.py", 7): ("bandit", "B608"),
    ("shop/tools.py", 12): ("bandit", "B602"),
    ("shop/settings.py", 4): ("secrets", "password-or-key"),
    ("shop/tools.py", 15): ("ast-grep", "py-mutable-default-mutated"),
    ("shop/tools.py", 21): ("ruff", "F841"),
    ("shop/tools.py", 8): ("bandit", "B324"),
    ("static/greeting.js", 6): ("ast-grep", "js-innerhtml-from-value"),
}


def copy_fixture(name: str, dest: Path, *, commit: bool = True) -> Path:
    root = dest / name
    shutil.copytree(FIXTURES / name, root)
    if commit:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "fixture", date="2024-01-01T00:00:00Z")
    return root


def scanned_paths(root: Path) -> list[str]:
    return [f.path for f in scan(root, load_settings(root)).files]


def facts(findings) -> set[tuple]:
    return {(f.path, f.start_line, f.category.value, f.severity.value, f.cwe) for f in findings}


@pytest.fixture(scope="module")
def vulnerable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture("vulnerable-app", tmp_path_factory.mktemp("fx"))


# with semgrep too (all analyzers): the eval of input() is a taint finding, critical, CWE-94; it
# merges with bandit's and ruff's findings on the same line
CALCULATOR = ("shop/calculator.py", 6)
EXPECTED_ALL = {e for e in EXPECTED if e[:2] != CALCULATOR} | {(*CALCULATOR, "security", "critical", "CWE-94")}
SOURCES_ALL = {**SOURCES, CALCULATOR: ("semgrep", "py-taint-code")}


def test_vulnerable_fixture_all_analyzers(vulnerable: Path, semgrep_core: Path) -> None:
    steps: list[tuple[str, int, int]] = []
    run = run_analyzers(vulnerable, scanned_paths(vulnerable), ["all"], progress=lambda *a: steps.append(a))
    assert run.notes == []
    assert facts(run.findings) == EXPECTED_ALL
    assert len(run.findings) == len(EXPECTED_ALL)
    assert {(f.path, f.start_line): (f.source, f.rule) for f in run.findings} == SOURCES_ALL
    assert steps[0] == ("analyze", 0, 5) and steps[-1] == ("analyze", 5, 5) and len(steps) == 6
    assert set(run.seconds) == {"semgrep", "ruff", "bandit", "ast-grep", "secrets"}
    calc = next(f for f in run.findings if (f.path, f.start_line) == CALCULATOR)
    assert calc.title == 'Code injection (eval/exec of request data): input("Expression: ") (line 5) reaches eval() (line 6)'
    assert "Also reported by bandit B307, ruff S307." in calc.explanation

    # evidence is the real line, quoted from the file (grounding finds it)
    for f in run.findings:
        lines = (vulnerable / f.path).read_text().splitlines()
        assert f.evidence == lines[f.start_line - 1].strip() or "[REDACTED:" in f.evidence
        assert f.fingerprint and f.title and f.explanation
    by_place = {(f.path, f.start_line): f for f in run.findings}
    assert by_place[("shop/calculator.py", 6)].evidence == "print(eval(expression))"
    assert by_place[("static/greeting.js", 6)].evidence == (
        'document.getElementById("greeting").innerHTML = "Hello, " + name;'
    )
    # the secret: type and place, never the value; the evidence is what the pack shows
    secret = by_place[("shop/settings.py", 4)]
    assert secret.evidence == 'DATABASE_PASSWORD = "[REDACTED:password-or-key]"'
    assert "Also reported by bandit B105, ruff S105." in secret.explanation
    dumped = json.dumps([f.model_dump(mode="json") for f in run.findings])
    assert FAKE_PASSWORD not in dumped
    # ruff wrote no cache, nothing else was written into the repository
    assert git(vulnerable, "status", "--porcelain", "--ignored") == ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "ruff",
            {
                ("shop/calculator.py", 6, "S307"),
                ("shop/db.py", 7, "S608"),
                ("shop/tools.py", 12, "S602"),
                ("shop/settings.py", 4, "S105"),
                ("shop/tools.py", 15, "B006"),
                ("shop/tools.py", 21, "F841"),
                ("shop/tools.py", 8, "S324"),
            },
        ),
        (
            "bandit",
            {
                ("shop/calculator.py", 6, "B307"),
                ("shop/db.py", 7, "B608"),
                ("shop/tools.py", 12, "B602"),
                ("shop/settings.py", 4, "B105"),
                ("shop/tools.py", 8, "B324"),
            },
        ),
        (
            "ast-grep",
            {("static/greeting.js", 6, "js-innerhtml-from-value"), ("shop/tools.py", 15, "py-mutable-default-mutated")},
        ),
        ("secrets", {("shop/settings.py", 4, "password-or-key")}),
        ("semgrep", {("shop/calculator.py", 6, "py-taint-code")}),
    ],
)
def test_each_analyzer_alone(vulnerable: Path, name: str, expected: set[tuple], request) -> None:
    if name == "semgrep":
        request.getfixturevalue("semgrep_core")
    run = run_analyzers(vulnerable, scanned_paths(vulnerable), [name])
    assert run.notes == []
    assert {(f.path, f.start_line, f.rule) for f in run.findings} == expected
    assert {f.source for f in run.findings} == {name}
    for f in run.findings:  # the same category and severity whichever tool reports it
        assert (f.path, f.start_line, f.category.value) in {(p, ln, c) for p, ln, c, _, _ in EXPECTED}
    if name == "bandit":  # bandit's message quotes the password: it must not reach the finding
        assert FAKE_PASSWORD not in json.dumps([f.model_dump(mode="json") for f in run.findings])


def test_clean_fixture_yields_nothing(tmp_path: Path, semgrep_core: Path) -> None:
    root = copy_fixture("clean-app", tmp_path)
    run = run_analyzers(root, scanned_paths(root), ["all"])
    assert run.findings == []
    assert run.notes == []


def test_none_runs_nothing(vulnerable: Path) -> None:
    run = run_analyzers(vulnerable, scanned_paths(vulnerable), ["none"])
    assert run.findings == [] and run.notes == [] and run.seconds == {}


def test_repository_configuration_cannot_switch_rules_off(tmp_path: Path, semgrep_core: Path) -> None:
    root = copy_fixture("vulnerable-app", tmp_path, commit=False)
    (root / "pyproject.toml").write_text('[tool.ruff]\nexclude = ["shop"]\n[tool.ruff.lint]\nselect = []\n')
    (root / "ruff.toml").write_text('[lint]\nignore = ["ALL"]\n')
    (root / ".bandit").write_text("[bandit]\nskips = B307,B608,B602,B105,B324\nexclude = shop\n")
    (root / "sgconfig.yml").write_text(
        "ruleDirs: [myrules]\ncustomLanguages:\n  evil:\n    libraryPath: evil.so\n    extensions: [js]\n"
    )
    (root / ".semgrepignore").write_text("shop/\n*.py\n")
    (root / ".semgrep.yml").write_text("rules: []\n")
    (root / "myrules").mkdir()
    (root / "myrules" / "everything.yml").write_text(
        "id: repo-rule\nlanguage: javascript\nseverity: error\nmessage: repo rule\nrule:\n  pattern: $X\n"
    )
    # inline suppressions are the code's own word and are kept; configuration is not
    run = run_analyzers(root, sorted(scanned_paths(root)), ["all"])
    assert facts(run.findings) == EXPECTED_ALL
    assert run.notes == []
    assert not (root / ".ruff_cache").exists()


def test_rules_for_javascript_typescript_and_go(make_repo) -> None:
    js = """\
const name = new URLSearchParams(location.search).get("name");
el.innerHTML = "<b>static</b>";
el.innerHTML = `<b>${name}</b>`;
el.insertAdjacentHTML("beforeend", name);
document.write(name);
eval(code);
eval("1 + 1");
exec("ls " + dir, cb);
exec("ls");
db.query("SELECT * FROM users WHERE id = " + id);
db.query("SELECT * FROM users WHERE id = ?", [id]);
const h = crypto.createHash("md5");
const ok = crypto.createHash("sha256");
https.request({ host: "x", rejectUnauthorized: false });
if (x === NaN) {}
"""
    tsx = """\
export function A({ html }: { html: string }) {
  const el = document.body as HTMLElement;
  el.outerHTML = html;
  return <div dangerouslySetInnerHTML={{ __html: html }} />;
}
export const B = () => <div dangerouslySetInnerHTML={{ __html: "<b>x</b>" }} />;
"""
    go = """\
package main

func run(db *sql.DB, name string) {
\texec.Command("sh", "-c", "ls "+name).Run()
\texec.Command("sh", "-c", "ls").Run()
\tdb.Query(fmt.Sprintf("SELECT * FROM t WHERE n = '%s'", name))
\tdb.Query("SELECT * FROM t WHERE n = ?", name)
\th := md5.Sum([]byte(name))
\tcfg := &tls.Config{InsecureSkipVerify: true}
}
"""
    root = make_repo({"web/app.js": js, "web/view.tsx": tsx, "cmd/main.go": go, "web/lib.min.js": "eval(x)"})
    run = run_analyzers(root, [*scanned_paths(root), "web/lib.min.js"], ["ast-grep"])
    assert run.notes == []
    got = {(f.path, f.start_line, f.rule, f.severity.value, f.cwe) for f in run.findings}
    assert got == {
        ("web/app.js", 3, "js-innerhtml-from-value", "high", "CWE-79"),
        ("web/app.js", 4, "js-insert-adjacent-html-from-value", "high", "CWE-79"),
        ("web/app.js", 5, "js-document-write-from-value", "medium", "CWE-79"),
        ("web/app.js", 6, "js-eval-of-value", "high", "CWE-94"),
        ("web/app.js", 8, "js-child-process-built-command", "high", "CWE-78"),
        ("web/app.js", 10, "js-sql-built-from-value", "high", "CWE-89"),
        ("web/app.js", 12, "js-weak-hash", "low", "CWE-328"),
        ("web/app.js", 14, "js-tls-verification-off", "high", "CWE-295"),
        ("web/app.js", 15, "js-compare-with-nan", "medium", None),
        # view.tsx reads no input (URL, cookies, messages, a request): its HTML is the program's own
        ("web/view.tsx", 3, "js-innerhtml-from-value", "low", "CWE-79"),
        ("web/view.tsx", 4, "js-dangerously-set-inner-html", "low", "CWE-79"),
        ("cmd/main.go", 4, "go-shell-command-from-value", "high", "CWE-78"),
        ("cmd/main.go", 6, "go-sql-sprintf", "high", "CWE-89"),
        ("cmd/main.go", 8, "go-weak-hash", "low", "CWE-328"),
        ("cmd/main.go", 9, "go-tls-verification-off", "high", "CWE-295"),
    }
    nan = next(f for f in run.findings if f.rule == "js-compare-with-nan")
    assert nan.category.value == "bug" and nan.evidence == "if (x === NaN) {}"


def test_syntax_errors_hostile_names_and_paths(make_repo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("eval(input())\n")
    root = make_repo(
        {
            "broken.py": "def f(:\n    pass\n",
            "-rf.py": "eval(input())\n",  # a name a tool could read as an option
            "sp ace/ünï.py": "import hashlib\nhashlib.md5(b'x')\n",
        }
    )
    (root / "link.py").symlink_to(outside)
    paths = ["broken.py", "-rf.py", "sp ace/ünï.py", "link.py", "../outside.py", str(outside), "missing.py"]
    run = run_analyzers(root, paths, ["ruff", "bandit"])
    got = {(f.path, f.start_line, f.rule) for f in run.findings}
    assert ("-rf.py", 1, "B307") in got
    assert ("sp ace/ünï.py", 2, "B324") in got
    assert any(p == "broken.py" and r == "invalid-syntax" for p, _, r in got)
    assert not any(p in ("link.py", "../outside.py") or "outside" in p for p, _, _ in got)
    assert "analyzers: 4 path(s) skipped (not a file inside the repository)" in run.notes
    assert "bandit: 1 file(s) could not be parsed and were not checked" in run.notes


def test_a_slow_analyzer_times_out_with_a_note(vulnerable: Path) -> None:
    run = run_analyzers(
        vulnerable, scanned_paths(vulnerable), ["bandit", "secrets"], timeouts={"bandit": 0.001}
    )
    assert run.notes == ["bandit: timed out after 0.001 s, skipped"]
    assert {(f.source, f.start_line) for f in run.findings} == {("secrets", 4)}
