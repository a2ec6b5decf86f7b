"""Definition-level packing on real git repositories: a large file's matching function whole in
its outline at a small budget, exact counts in both styles, the same bytes cold, warm and
without the cache, secrets redacted in what is shown, and ``--explain`` naming the definitions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.config import Settings
from reviewer.pack import build_pack
from reviewer.pack.tokens import get_tokenizer
from tests.conftest import MakeRepo

GH_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"

GOLD = '''    def register_hook(self, event, hook):
        """Properly register a hook."""
        if isinstance(hook, (list, tuple, set)):
            self.hooks[event].extend(h for h in hook if callable(h))
        elif callable(hook):
            self.hooks[event].append(hook)
        else:
            raise ValueError("hooks must be callables")
'''


def filler(prefix: str, n: int, width: int = 12) -> str:
    body = "".join(f"        total = total + value * {k} - {k} // 3\n" for k in range(width))
    return "".join(f"    def {prefix}_{i}(self, value):\n        '''Step {i}.'''\n        total = 0\n{body}"
                   f"        return total\n\n" for i in range(n))


def project() -> dict[str, str]:
    """``pkg/models.py`` is large (about 12,000 tokens); the question is about one method of it."""
    models = ("import os\n\n\nclass Request:\n    '''A request.'''\n\n    def __init__(self, hooks=None):\n"
              "        self.hooks = {}\n\n" + filler("prepare", 30) + GOLD + "\n" + filler("encode", 30)
              + "\n\ndef helper(path):\n    return os.path.join(path, 'x')\n")
    files = {"pkg/models.py": models, "pkg/__init__.py": "from pkg.models import Request\n"}
    for i in range(12):
        files[f"pkg/part_{i:02d}.py"] = f"from pkg.models import Request\n\n\nclass Part{i}:\n" + filler(f"work{i}", 6)
    return files


QUERY = ("Allow lists in the dict values of the hooks argument: Request.register_hook accepts only one "
         "hook function per hook; a list of hooks fails with ValueError: hooks must be callables.")


def gold_lines(text: str) -> set[int]:
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines, 1) if "def register_hook" in line)
    return set(range(first, first + GOLD.count("\n")))


def block_of(pack_text: str, path: str) -> str:
    at = pack_text.index(f'<file path="{path}"')
    return pack_text[at:pack_text.index("</file>", at)]


@pytest.mark.parametrize("style", ["xml", "markdown"])
def test_the_named_method_whole_in_its_files_outline(make_repo: MakeRepo, tmp_path: Path, style: str) -> None:
    files = project()
    root = make_repo(files)
    budget = 6_000
    pack = build_pack(root, Settings(budget=budget, style=style, cache_dir=str(tmp_path / "c")), query=QUERY)
    assert get_tokenizer().count(pack.text) == pack.total_tokens <= budget
    f = pack.file("pkg/models.py")
    assert f is not None and f.tier == "outline"
    assert "Request.register_hook" in f.definitions
    assert "definitions whole" in f.reason and "Request.register_hook" in f.reason
    gold = gold_lines(files["pkg/models.py"])
    body = block_of(pack.text, "pkg/models.py") if style == "xml" else pack.text[pack.text.index("## File: pkg/models.py"):]
    shown_lines = {int(n) for n in re.findall(r"^(\d+)\|", body.split("\n## File:")[0], re.M)}
    assert gold <= shown_lines
    # the outline around it: other methods' headers, their bodies elided
    assert "def prepare_0(self, value):" in body and "def encode_29(self, value):" in body
    assert "⋮" in body
    assert "total = total + value * 11" not in body.split("def register_hook")[0].split("def prepare_29")[-1]
    assert f.tokens < 0.5 * get_tokenizer().count(files["pkg/models.py"])


def test_same_bytes_cold_warm_and_without_cache(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project())
    opts = {"budget": 6_000, "cache_dir": str(tmp_path / "c")}
    cold = build_pack(root, Settings(**opts), query=QUERY)
    warm = build_pack(root, Settings(**opts), query=QUERY)
    none = build_pack(root, Settings(budget=6_000, cache=False), query=QUERY)
    assert cold.text == warm.text == none.text
    assert cold.total_tokens == warm.total_tokens == none.total_tokens
    assert [f.definitions for f in cold.files] == [f.definitions for f in warm.files]
    assert any(f.definitions for f in cold.files)


def test_a_secret_inside_a_shown_definition_is_redacted(make_repo: MakeRepo, tmp_path: Path) -> None:
    files = project()
    files["pkg/models.py"] = files["pkg/models.py"].replace(
        '        """Properly register a hook."""\n', f'        """Properly register a hook."""\n        token = "{GH_TOKEN}"\n')
    root = make_repo(files)
    pack = build_pack(root, Settings(budget=6_000, cache_dir=str(tmp_path / "c")), query=QUERY)
    f = pack.file("pkg/models.py")
    assert f is not None and "Request.register_hook" in f.definitions
    assert GH_TOKEN not in pack.text and "[REDACTED" in block_of(pack.text, "pkg/models.py")
    assert any(s.path == "pkg/models.py" for s in pack.secrets)
    assert get_tokenizer().count(pack.text) == pack.total_tokens


def test_cli_explain_names_the_definitions(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(project())
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "250", "REVIEWER_CACHE_DIR": str(tmp_path / "c")}
    args = [sys.executable, "-m", "reviewer", "pack", str(root), "--budget", "6000", "-o", str(tmp_path / "p.xml"),
            "--query", QUERY, "--explain"]
    proc = subprocess.run([*args, "--stats", "json"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    rows = {r["path"]: r for r in data["explain"]}
    assert "Request.register_hook" in rows["pkg/models.py"]["definitions"]
    assert data["outlines_with_definitions"] >= 1
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Request.register_hook" in proc.stderr and "+" in proc.stderr and "with definitions whole" in proc.stderr


@pytest.mark.parametrize("style", ["xml", "markdown"])
def test_explain_shows_the_token_count_each_block_states(make_repo: MakeRepo, tmp_path: Path, style: str) -> None:
    from reviewer.cli.explain_view import explain_rows

    files = project()
    files["notes/long.txt"] = "".join(f"note {i}: {'word ' * 12}\n" for i in range(400))  # a plain outline
    root = make_repo(files)
    settings = Settings(budget=9_000, style=style, cache_dir=str(tmp_path / "c"))
    for run in ("cold", "warm"):
        pack = build_pack(root, settings, query=QUERY)
        if style == "xml":
            stated = {m[1]: int(m[2]) for m in re.finditer(r'<file path="([^"]+)"[^>]* tokens="(\d+)"', pack.text)}
        else:
            stated = {m[1]: int(m[2]) for m in re.finditer(r"^## File: (\S+) \(\w+, \d+ lines, (\d+) tokens\)$",
                                                            pack.text, re.M)}
        rows = {r["path"]: r for r in explain_rows(pack) if r["tier"] != "listed"}
        assert rows and set(rows) == set(stated), run
        assert {p: r["tokens"] for p, r in rows.items()} == stated, run
        # the block's cost adds its head and tail; the blocks add up to the pack
        assert all(r["block_tokens"] > r["tokens"] for r in rows.values())
        tiers = {(r["tier"], bool(r["definitions"])) for r in rows.values()}
        assert {("full", False), ("outline", True)} <= tiers, run
        assert sum(r["block_tokens"] for r in rows.values()) < pack.total_tokens
