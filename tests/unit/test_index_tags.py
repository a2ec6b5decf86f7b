"""Lexical tags (what ranking reads for every file) and the worker pool that computes them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewer.index import batch, index_text
from reviewer.index.batch import WorkerPool
from reviewer.index.languages import language_for
from reviewer.index.spec import load_spec
from reviewer.index.tags import lexical_tags

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "index"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("sample.*")))
def test_lexical_tags_find_most_tree_sitter_definitions(name: str) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    found = set(lexical_tags(name, text).defines)
    names = {d.name for d in index_text(name, text).definitions}
    assert len(found & names) >= 0.6 * len(names), (names - found)


def test_tags_references_entry_points_and_estimates() -> None:
    text = "import os\n\ndef main():\n    helper_call(os.path)\n\nif __name__ == '__main__':\n    main()\n"
    tags = lexical_tags("tool.py", text)
    assert tags.defines == ["main"]
    assert "helper_call" in tags.references and "def" not in tags.references
    assert tags.has_main
    assert 0 < tags.outline_lines <= tags.lines and tags.chars == len(text)
    assert not lexical_tags("lib.py", "def domain():\n    pass\n").has_main


def test_worker_processes_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("sample.*"))] * 3
    monkeypatch.setattr(batch, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(batch, "_BYTES_PER_WORKER", 1)
    monkeypatch.setattr(batch, "_CHUNK_BYTES", 2000)
    seen: list[tuple[str, int, int]] = []
    with WorkerPool(2) as pool:
        out = pool.map(index_text, jobs, [len(t) for _, t in jobs], progress=lambda *a: seen.append(a))
        assert len(pool._workers) == 2
        again = pool.map(lexical_tags, jobs, [len(t) for _, t in jobs])
    assert out == [index_text(p, t) for p, t in jobs]
    assert again == [lexical_tags(p, t) for p, t in jobs]
    assert seen and seen[-1][1] == len(jobs)


def test_a_pool_without_workers_runs_in_process() -> None:
    with WorkerPool(1) as pool:
        assert pool.map(lexical_tags, [("a.py", "def f(): pass\n")], [14])[0].defines == ["f"]
        assert pool._workers == []


def test_released_workers_exit_at_once_and_a_later_map_starts_new_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("sample.*"))] * 2
    monkeypatch.setattr(batch, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(batch, "_BYTES_PER_WORKER", 1)
    with WorkerPool(2) as pool:
        pool.map(lexical_tags, jobs, [len(t) for _, t in jobs])
        first = list(pool._workers)
        assert len(first) == 2
        pool.release()
        for w in first:  # gone without being reaped, and cleanly
            assert w.proc.wait(timeout=30) == 0
        again = pool.map(lexical_tags, jobs, [len(t) for _, t in jobs])
        assert len([w for w in pool._workers if w.alive]) == 2
    assert again == [lexical_tags(p, t) for p, t in jobs]
    assert all(w.proc.returncode is not None for w in pool._workers + first)



def _tags_by_line_start(language: str, text: str) -> tuple[list[str], list[str], int, int]:
    """What the tag patterns find with "^" in multiline mode: defines, top, and the outline
    estimate's lines and characters."""
    spec = load_spec(language)
    regex = re.compile("|".join(f"(?:{p})" for p in spec.tags), re.M)
    names, top, defs = set(), set(), 0
    for m in regex.finditer(text):
        name = m[m.lastindex] if m.lastindex else None
        if name and name not in spec.keywords:
            names.add(name)
            defs += 1
            start = text.rfind("\n", 0, m.start()) + 1
            if text[start:start + 1] not in (" ", "\t"):
                top.add(name)
    top_lines = re.findall(r"^[^\s})\];,].*", text, re.M)
    return sorted(names), sorted(top), len(top_lines) + defs + defs // 2, sum(map(len, top_lines)) + defs * 40


TRICKY = [
    "",
    "def first():\n    pass",  # a definition at the very start, no final newline
    "\n\n  def indented(): pass\r\ndef crlf():\r\n\treturn 1\r\n",
    "x = 1\n)\n]\n;\n  def a(): pass\nclass B:\n    def c(self):\n        def d(): pass\n",
    "#define A 1\nstruct S { int x; };\n} name;\nint main(void) {\n  return 0;\n}\n",
    "func (r *T) Method(a int) {\n}\ntype T struct {\n\tx int\n}\n  Inner(a,\nb)\n",
    "export default async function run() {}\nclass A {\n  method(a) {\n  }\n}\nconst f = (x) => x\n",
]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("sample.*")))
def test_tags_searched_line_by_line_are_those_found_at_line_starts(name: str) -> None:
    language = language_for(name)
    assert language is not None
    for text in [(FIXTURES / name).read_text(encoding="utf-8"), *TRICKY]:
        tags = lexical_tags(name, text)
        got = (tags.defines, tags.top, tags.outline_lines, tags.outline_chars)
        assert got == _tags_by_line_start(language, text), text[:80]
