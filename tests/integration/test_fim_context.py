"""Repository context for a cursor, on real git repositories made on disk: definitions behind
imports (through re-exports), the file recognised from its text, the budget, a stable order,
and the index following edits."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reviewer.config import load_settings
from reviewer.fim.context import gather
from reviewer.fim.counting import CachedCounter
from reviewer.fim.repoindex import RepoIndex
from reviewer.fim.watch import Watcher, changed_span
from reviewer.pack.tokens import get_tokenizer
from tests.conftest import MakeRepo

MAIN = '''"""The application."""

from pkg import Request
from pkg.util import quote, DEFAULT_TIMEOUT
import pkg.util as u


def run(url):
    safe = u.quote(url)
    MARK
    return safe
'''

FILES = {
    "pkg/__init__.py": "from .models import Request as Request\nfrom .models import Response\n",
    "pkg/models.py": (
        "class Request:\n"
        '    """An HTTP request."""\n\n'
        "    def __init__(self, url: str, timeout: int = 30) -> None:\n"
        "        self.url = url\n\n"
        "    def send(self) -> 'Response':\n"
        "        return Response(200)\n\n\n"
        "class Response:\n"
        "    def __init__(self, status: int) -> None:\n"
        "        self.status = status\n"
    ),
    "pkg/util.py": (
        "DEFAULT_TIMEOUT = 30\n\n\n"
        "def quote(s: str) -> str:\n"
        '    """Percent-encode s."""\n'
        "    return s.replace(' ', '%20')\n\n\n"
        "def unquote(s: str) -> str:\n"
        "    return s.replace('%20', ' ')\n"
    ),
    "app/main.py": MAIN,
    "web/src/api.ts": "export function fetchUser(id: number): Promise<User> {\n  return get(`/users/${id}`)\n}\n",
    "web/src/app.ts": "import { fetchUser } from './api'\n\nexport async function show(id: number) {\n  const u = await fetchUser(id)\n  return u\n}\n",
    "README.md": "# demo\n",
}


@pytest.fixture
def tok() -> CachedCounter:
    return CachedCounter(get_tokenizer())


def build(root: Path, tmp_path: Path) -> RepoIndex:
    index = RepoIndex(root)
    index.build(load_settings(root, {"cache_dir": str(tmp_path / "cache")}))
    return index


def cursor(text: str, mark: str = "MARK") -> tuple[str, str]:
    at = text.index(mark)
    return text[:at], text[at + len(mark) :]


def holds(ctx, path: str, needle: str) -> bool:  # type: ignore[no-untyped-def]
    return any(i.filename == path and needle in i.text for i in ctx.items)


def test_definitions_behind_imports_and_reexports(make_repo: MakeRepo, tmp_path: Path, tok: CachedCounter) -> None:
    root = make_repo(FILES)
    index = build(root, tmp_path)
    prefix, suffix = cursor(MAIN)
    ctx = gather(index, tok, prefix, suffix, path="app/main.py")
    # Request is imported from the package, which re-exports it from pkg/models.py
    assert holds(ctx, "pkg/models.py", "class Request:")
    assert holds(ctx, "pkg/util.py", "def quote(s: str) -> str:")
    assert holds(ctx, "pkg/util.py", "DEFAULT_TIMEOUT = 30")
    assert all(i.filename != "app/main.py" for i in ctx.items)  # the edited file is already in the prompt
    by_name = {i.filename: i for i in ctx.items}
    assert 1 in by_name["pkg/models.py"].lines  # the class line itself, by its number
    # counted line by line: never below the exact count of the text sent
    assert sum(tok.count(i.text) for i in ctx.items) <= ctx.tokens <= 2048


def test_file_recognised_from_its_text(make_repo: MakeRepo, tmp_path: Path, tok: CachedCounter) -> None:
    root = make_repo(FILES)
    index = build(root, tmp_path)
    prefix, suffix = cursor(MAIN)
    ctx = gather(index, tok, prefix, suffix)  # no file name, as llama.vim sends it
    assert ctx.path == "app/main.py" and ctx.identified
    assert holds(ctx, "pkg/models.py", "class Request:")
    # text that matches no file: no guess, and still context from names near the cursor
    ctx = gather(index, tok, "x = 1\nresp = Request(", ")\n")
    assert ctx.path is None
    assert holds(ctx, "pkg/models.py", "class Request:")


def test_budget_is_exact_and_order_is_stable(make_repo: MakeRepo, tmp_path: Path, tok: CachedCounter) -> None:
    root = make_repo(FILES)
    index = build(root, tmp_path)
    prefix, suffix = cursor(MAIN)
    small = gather(index, tok, prefix, suffix, path="app/main.py", budget=40)
    assert 0 < small.tokens <= 40
    assert sum(tok.count(i.text) for i in small.items) <= small.tokens
    assert gather(index, tok, prefix, suffix, path="app/main.py", budget=0).items == []
    a = gather(index, tok, prefix, suffix, path="app/main.py")
    b = gather(index, tok, prefix + "s", suffix, path="app/main.py")  # one more keystroke
    assert [(i.filename, i.text) for i in a.items] == [(i.filename, i.text) for i in b.items]
    names = [i.filename for i in a.items if i.kind == "repository"]
    assert names == sorted(names)


def test_module_attribute_near_the_cursor(make_repo: MakeRepo, tmp_path: Path, tok: CachedCounter) -> None:
    files = dict(FILES)
    files["app/other.py"] = "import pkg.util as u\n\n\ndef g(s):\n    return u.unquote(s)MARK\n"
    root = make_repo(files)
    index = build(root, tmp_path)
    prefix, suffix = cursor(files["app/other.py"])
    ctx = gather(index, tok, prefix, suffix, path="app/other.py", budget=60)
    assert holds(ctx, "pkg/util.py", "def unquote(s: str) -> str:")


def test_typescript_import(make_repo: MakeRepo, tmp_path: Path, tok: CachedCounter) -> None:
    root = make_repo(FILES)
    index = build(root, tmp_path)
    text = FILES["web/src/app.ts"]
    at = text.index("return u")
    ctx = gather(index, tok, text[:at], text[at:], path="web/src/app.ts")
    assert holds(ctx, "web/src/api.ts", "export function fetchUser(id: number): Promise<User> {")


def test_client_chunks_come_last_within_their_budget(make_repo: MakeRepo, tmp_path: Path, tok: CachedCounter) -> None:
    root = make_repo(FILES)
    index = build(root, tmp_path)
    prefix, suffix = cursor(MAIN)
    chunks = [(f"buf{i}.py", f"value_{i} = {i}\n" * 20) for i in range(10)]
    ctx = gather(index, tok, prefix, suffix, path="app/main.py", client=chunks, client_budget=200)
    client = [i for i in ctx.items if i.kind == "client"]
    assert client and ctx.items[-len(client):] == client
    assert sum(i.tokens for i in client) <= 200
    assert client[-1].filename == "buf9.py"  # the newest are kept


def test_watcher_follows_edits_new_and_deleted_files(make_repo: MakeRepo, tmp_path: Path, tok: CachedCounter) -> None:
    root = make_repo(FILES)
    settings = load_settings(root, {"cache_dir": str(tmp_path / "cache")})
    index = RepoIndex(root)
    index.build(settings)
    watcher = Watcher(index, settings, relist_every=1)
    util = root / "pkg" / "util.py"
    util.write_text(util.read_text() + "\n\ndef slugify(s: str) -> str:\n    return quote(s.lower())\n")
    os.utime(util, ns=(time.time_ns(), time.time_ns() + 1_000_000))  # a new mtime even on coarse clocks
    (root / "pkg" / "extra.py").write_text("def brand_new_helper(n: int) -> int:\n    return n\n")
    (root / "web" / "src" / "api.ts").unlink()
    assert watcher.tick() == 3
    assert any(r.path == "pkg/util.py" for r, _ in index.symbols["slugify"])
    assert "brand_new_helper" in index.symbols
    assert "web/src/api.ts" not in index.files and "fetchUser" not in index.symbols
    assert watcher.tick() == 0  # nothing changed since
    ctx = gather(index, tok, "from pkg.util import slugify\n\nname = slugify(", ")\n", path="app/main.py")
    assert holds(ctx, "pkg/util.py", "def slugify(s: str) -> str:")
    # the edit is also offered as "recently edited" context to other files
    ctx = gather(index, tok, "x = 1\n", "\n", path="app/main.py")
    assert any(i.kind == "recent" and i.filename == "pkg/util.py" and "slugify" in i.text for i in ctx.items)


def test_changed_span() -> None:
    assert changed_span("a\nb\nc", "a\nb\nc") == []
    assert changed_span("a\nb\nc", "a\nX\nc") == [(2, 2)]
    assert changed_span("a\nb", "a\nb\nc\nd") == [(3, 4)]
    assert changed_span("a\nb\nc", "a\nc") == [(2, 2)]


def test_names_used_above_the_window(make_repo: MakeRepo, tmp_path: Path) -> None:
    """What the file uses above the text the editor sent: free names only (not ``x.quote``, not
    the import lines that bind them), ``module.attr`` pairs for bound modules."""
    from reviewer.fim.context import _used_above

    big = ("from pkg.util import quote, unquote, DEFAULT_TIMEOUT\nimport pkg.util as u\n\n\n"
           "def first(s):\n    s.unquote()\n    return quote(s) + u.unquote(s)\n\n\n"
           + "".join(f"def filler_{i}(x):\n    return x\n\n\n" for i in range(40))
           + "def last():\n    return DEFAULT_TIMEOUT\n")
    root = make_repo({**FILES, "app/big.py": big})
    index = build(root, tmp_path)
    rec = index.files["app/big.py"]
    at = big.index("def filler_5")
    names, pairs = _used_above(rec, at, frozenset({"quote", "unquote", "DEFAULT_TIMEOUT"}), frozenset({"u", "s"}))
    assert names == {"quote"}  # unquote only after a dot, DEFAULT_TIMEOUT only in the import and below
    assert pairs == {("u", "unquote"), ("s", "unquote")}
    assert _used_above(rec, len(big), frozenset({"DEFAULT_TIMEOUT"}), frozenset())[0] == {"DEFAULT_TIMEOUT"}
