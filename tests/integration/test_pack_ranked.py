"""Ranked, budgeted packs on real git repositories: exact and nearly full budgets, focus from a
diff, a question or a trace, cache-friendly order, the cache, and ``--explain``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.config import Settings
from reviewer.pack import build_pack
from reviewer.pack.tokens import get_tokenizer
from tests.conftest import MakeRepo, git

AWS_ID = "AKIAIOSFODNN7EXAMPLE"


def project(n: int = 40) -> dict[str, str]:
    """A package whose modules call into a core module, with tests and docs, of varied sizes."""
    files: dict[str, str] = {
        "pkg/core.py": '"""Core."""\n\n\nclass Engine:\n    """The engine."""\n\n'
        + "".join(f"    def step_{k}(self, x):\n        return x + {k}\n\n" for k in range(60)),
        "pkg/__main__.py": "from pkg.core import Engine\n\nif __name__ == '__main__':\n    Engine().step_1(2)\n",
        "README.md": "# pkg\n\nA package.\n\n## Usage\n\nRun it.\n",
        "docs/guide.md": "# Guide\n\n" + "Some words about the Engine.\n" * 80,
    }
    for i in range(n):
        body = "".join(f"    y = e.step_{(i + k) % 60}(y)\n" for k in range(5 + (i * 7) % 40))
        files[f"pkg/mod_{i:02d}.py"] = (
            f'"""Module {i}."""\nfrom pkg.core import Engine\n\n\ndef handler_{i}(x):\n'
            f'    """Handle {i}."""\n    e = Engine()\n    y = x\n{body}    return y\n\n\n'
            f"class Widget{i}:\n    def render(self):\n        return handler_{i}(1)\n"
        )
        files[f"tests/test_mod_{i:02d}.py"] = f"from pkg.mod_{i:02d} import handler_{i}\n\n\ndef test_{i}():\n    assert handler_{i}(0) is not None\n"
    return files


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(cache_dir=str(tmp_path / "cache"), **kw)


@pytest.mark.parametrize("budget", [1_500, 4_000, 9_000, 20_000])
def test_exact_and_nearly_full_at_every_budget(make_repo: MakeRepo, tmp_path: Path, budget: int) -> None:
    root = make_repo(project())
    pack = build_pack(root, settings(tmp_path, budget=budget))
    exact = get_tokenizer().count(pack.text)
    assert exact == pack.total_tokens <= budget
    assert exact >= 0.97 * budget
    tiers = {f.tier for f in pack.files}
    assert "listed" in tiers and "full" in tiers
    shown = [f for f in pack.files if f.tier != "listed"]
    assert sum(f.tokens for f in shown) < exact
    for f in shown:
        assert f'<file path="{f.path}" tier="{f.tier}"' in pack.text


def test_small_repository_goes_whole(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project(3))
    pack = build_pack(root, settings(tmp_path))
    assert {f.tier for f in pack.files} == {"full"}
    assert get_tokenizer().count(pack.text) == pack.total_tokens


def test_outlines_keep_real_line_numbers(make_repo: MakeRepo, tmp_path: Path) -> None:
    files = project()
    for i in range(6):  # big modules: their outlines are worth far more per token than their bodies
        funcs = [f'def big_{i}_{k}(e: Engine):\n    """Step {k}."""\n' + "    e.step_1(1)\n" * 12 + "\n\n"
                 for k in range(40)]
        files[f"pkg/big_{i}.py"] = "from pkg.core import Engine\n\n\n" + "".join(funcs)
    root = make_repo(files)
    pack = build_pack(root, settings(tmp_path, budget=6_000))
    outlined = [f for f in pack.files if f.tier == "outline"]
    assert outlined
    for f in outlined:
        lines = (root / f.path).read_text(encoding="utf-8").split("\n")
        block = pack.text.split(f'<file path="{f.path}" tier="outline"', 1)[1].split("</file>", 1)[0]
        numbered = [line for line in block.split("\n")[1:] if line and line != "⋮"]
        assert numbered and "⋮" in block
        for line in numbered:
            n, _, text = line.partition("| ")
            assert lines[int(n.rstrip("|")) - 1] == text


def test_cold_warm_and_no_cache_give_the_same_bytes(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project())
    s = settings(tmp_path, budget=7_000)
    cold = build_pack(root, s).text
    warm = build_pack(root, s).text
    none = build_pack(root, settings(tmp_path / "other", budget=7_000, cache=False)).text
    assert cold == warm == none
    assert not (tmp_path / "other").exists()
    # one edited file: the cache is used for the rest, the result is what a cold run gives
    (root / "pkg" / "mod_03.py").write_text("def handler_3(x):\n    return x\n", encoding="utf-8")
    assert build_pack(root, s).text == build_pack(root, settings(tmp_path / "cold2", budget=7_000)).text


def test_query_puts_the_named_code_first_and_whole(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project())
    pack = build_pack(root, settings(tmp_path, budget=3_000), query="Widget17.render returns the wrong value")
    f = pack.file("pkg/mod_17.py")
    assert f is not None and f.tier == "full" and "defines Widget17" in f.reason
    assert max(pack.files, key=lambda x: x.rank).path == "pkg/mod_17.py"
    # focused files come last, nearest the task
    last = pack.text.rsplit("<file path=", 1)[1]
    assert last.startswith('"pkg/mod_17.py"')


def test_trace_focus(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project())
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/home/ci/build/pkg/mod_05.py", line 9, in handler_5\n'
        '  File "/home/ci/build/pkg/core.py", line 8, in step_1\n'
        "TypeError: unsupported operand\n"
    )
    pack = build_pack(root, settings(tmp_path, budget=3_000), trace=trace)
    for path in ("pkg/core.py", "pkg/mod_05.py"):
        f = pack.file(path)
        assert f is not None and f.tier == "full" and "trace frame" in f.reason


def test_diff_focus_and_volatile_files_last(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project())
    git(root, "checkout", "-q", "-b", "feature")
    (root / "pkg" / "mod_30.py").write_text("def handler_30(x):\n    return -x\n", encoding="utf-8")
    git(root, "commit", "-qam", "change", date="2024-02-01T00:00:00Z")
    (root / "pkg" / "new.py").write_text("from pkg.core import Engine\n", encoding="utf-8")  # untracked
    pack = build_pack(root, settings(tmp_path, budget=3_000), diff_base="main")
    for path in ("pkg/mod_30.py", "pkg/new.py"):
        f = pack.file(path)
        assert f is not None and f.tier == "full" and "changed since main" in f.reason
    positions = [pack.text.index(f'<file path="{p}"') for p in ("pkg/mod_30.py", "pkg/new.py")]
    others = [pack.text.index(f'<file path="{f.path}"') for f in pack.files
              if f.tier != "listed" and f.path not in ("pkg/mod_30.py", "pkg/new.py")]
    assert min(positions) > max(others)
    from reviewer.errors import InputError

    with pytest.raises(InputError, match="unknown revision"):
        build_pack(root, settings(tmp_path), diff_base="no-such-branch")


def test_order_is_stable_first_and_a_commit_keeps_the_prefix(make_repo: MakeRepo, tmp_path: Path) -> None:
    files = project(12)
    root = make_repo(files, use_git=False)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "old", date="2020-01-01T00:00:00Z")  # long before the year before HEAD
    # history: mod_05 changed recently, everything else long ago
    (root / "pkg" / "mod_05.py").write_text(files["pkg/mod_05.py"] + "\n# v2\n", encoding="utf-8")
    git(root, "commit", "-qam", "v2", date="2024-03-01T00:00:00Z")
    s = settings(tmp_path)
    first = build_pack(root, s).text
    order = [seg.split('"', 2)[1] for seg in first.split("<file path=")[1:]]
    assert order[-1] == "pkg/mod_05.py"
    assert order[:-1] == sorted(order[:-1])  # untouched files in path order
    # the next commit touches the same file again: everything before it is byte-identical
    (root / "pkg" / "mod_05.py").write_text(files["pkg/mod_05.py"] + "\n# v3\n", encoding="utf-8")
    git(root, "commit", "-qam", "v3", date="2024-03-02T00:00:00Z")
    second = build_pack(root, s).text
    cut = first.index('<file path="pkg/mod_05.py"')
    assert second[:cut] == first[:cut]
    # uncommitted edits are the most volatile of all
    (root / "pkg" / "mod_01.py").write_text("def handler_1(x):\n    return 0\n", encoding="utf-8")
    third = build_pack(root, s).text
    assert third.rsplit("<file path=", 1)[1].startswith('"pkg/mod_01.py"')


def test_secrets_redacted_where_shown_and_never_sent(make_repo: MakeRepo, tmp_path: Path) -> None:
    files = project(30)
    files["pkg/core.py"] = files["pkg/core.py"].replace('"""Core."""', f'"""Core."""\nAWS_KEY = "{AWS_ID}"')
    files["zz_unused/settings_blob.txt"] = f"aws_access_key_id = {AWS_ID}\n" + "filler text\n" * 3000
    root = make_repo(files)
    pack = build_pack(root, settings(tmp_path, budget=4_000))
    assert AWS_ID not in pack.text
    blob = pack.file("zz_unused/settings_blob.txt")
    assert blob is not None and blob.tier == "listed"
    core = pack.file("pkg/core.py")
    assert core is not None and core.tier != "listed"
    assert [(s.path, s.line) for s in pack.secrets] == [("pkg/core.py", 2)]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reviewer", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})


def test_cli_explain_query_trace_and_errors(make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(project())
    cache = ["--budget", "5000"]
    env_cache = str(tmp_path / "cache")
    monkeypatch.setenv("REVIEWER_CACHE_DIR", env_cache)
    proc = run("pack", str(root), *cache, "-o", str(tmp_path / "p.xml"), "--stats", "json", "--explain",
               "--query", "handler_7 is slow")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    rows = {r["path"]: r for r in data["explain"]}
    assert rows["pkg/mod_07.py"]["tier"] == "full" and rows["pkg/mod_07.py"]["rank"] == 1
    assert len(rows) == sum(data["files"].values())
    trace = tmp_path / "crash.txt"
    trace.write_text('  File "/srv/pkg/mod_09.py", line 5, in handler_9\n', encoding="utf-8")
    proc = run("pack", str(root), *cache, "-o", str(tmp_path / "p.xml"), "--trace", str(trace), "--explain")
    assert proc.returncode == 0, proc.stderr
    assert "Why each file" in proc.stderr and "trace frame (line 5, in handler_9)" in proc.stderr
    for bad, message in ((["--diff", "nope"], "unknown revision"), (["--trace", str(tmp_path / "missing.txt")], "trace")):
        proc = run("pack", str(root), "-o", str(tmp_path / "p.xml"), *bad)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_tree_takes_a_bounded_share_of_a_small_budget(make_repo: MakeRepo, tmp_path: Path) -> None:
    files = project(10)
    for i in range(400):
        files[f"data/group_{i % 20:02d}/set_{i % 7}/item_{i:03d}.txt"] = f"item {i}\n"
    root = make_repo(files)
    small = build_pack(root, settings(tmp_path, budget=12_000))
    tree = small.text[small.text.index("<directory_structure>"):small.text.index("</directory_structure>")]
    assert get_tokenizer().count(tree) <= 12_000 / 16
    assert "files)" in tree and "item_000.txt" not in tree
    assert get_tokenizer().count(small.text) == small.total_tokens <= 12_000
    big = build_pack(root, settings(tmp_path, budget=400_000))
    assert "item_399.txt" in big.text and "files)" not in big.text


def test_a_small_file_that_matches_the_question_is_never_left_out(make_repo: MakeRepo, tmp_path: Path) -> None:
    # fourteen printers match the question better than the small file and nothing links to the
    # small one: by rank alone it is listed while the budget goes to the modules the core uses
    files = project(40)
    body = "".join(f"    out.append(render_{k}(nodes))\n" for k in range(30))
    for i in range(14):
        files[f"pkg/printing/printer_{i:02d}.py"] = (
            f'"""Printer {i}."""\nfrom pkg.core import Engine\n\n\n'
            f"def printed_nested_nodes_{i}(nodes, order, wrong):\n    out = []\n{body}    return out\n")
    files["pkg/printing/tree.py"] = "def show(nested, order):\n    return nested\n"
    root = make_repo(files)
    query = "Nested nodes come out in the wrong order when printed"
    pack = build_pack(root, settings(tmp_path, budget=16_000), query=query)
    assert pack.total_tokens <= 16_000
    assert any(f.tier != "full" for f in pack.files if f.path.startswith("pkg/mod_"))  # the budget is tight
    small = pack.file("pkg/printing/tree.py")
    assert small is not None and small.tier == "full", small
    assert "a small file that matches the task" in small.reason
    # only that one: the printers match as well but are not small, the modules do not match
    assert [f.path for f in pack.files if "small file" in f.reason] == ["pkg/printing/tree.py"]
