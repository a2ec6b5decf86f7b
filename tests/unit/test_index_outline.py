"""The outline of each language keeps every definition's signature line at its original number,
elides bodies, and finds definitions with their qualified names."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.index import index_text, language_for
from reviewer.index.outline import MAX_LINE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "index"

# file -> (qualified names that must be found, a body line that must be elided)
CASES = {
    "sample.py": ({"Foo", "Foo.method", "Foo.prop", "Foo.Inner", "Foo.Inner.deep", "top"}, "return a + b"),
    "sample.js": ({"Foo", "Foo.constructor", "Foo.method", "Foo.create", "top", "arrow", "gen"}, "return x * 2;"),
    "sample.ts": ({"Shape", "Shape.area", "Alias", "Color", "Foo", "Foo.constructor", "Foo.area", "top", "arrow",
                   "NS", "NS.inner", "ext"}, "this.x = x;"),
    "sample.tsx": ({"Foo", "Foo.area", "top", "Button"}, "const doubled = props.label + props.label;"),
    "sample.go": ({"Foo", "Iface", "Foo.Do", "main"}, "fmt.Println(f.X)"),
    "sample.rs": ({"inner", "inner.f", "Foo", "E", "T", "T.required", "T.provided", "Foo.new", "Foo.fmt", "main", "m"},
                  'write!(f, "{}", self.x)'),
    "sample.java": ({"Foo", "Foo.Foo", "Foo.method", "Foo.Inner", "Foo.Inner.run", "Foo.Color", "Point"},
                    "return a + b;"),
    "sample.c": ({"point", "other", "add", "ptr_fn", "guarded"}, "return a + b;"),
    "sample.cpp": ({"Foo", "Foo.method", "tmpl", "Foo.Foo", "Foo.other", "S", "S.m"}, "return 1;"),
    "sample.cs": ({"Foo", "Foo.Foo", "Foo.Method", "IThing", "IThing.Do", "P", "P.M"}, "X = x;"),
    "sample.rb": ({"Outer", "Outer.Foo", "Outer.Foo.initialize", "Outer.Foo.create", "top"}, "@x = x"),
    "sample.php": ({"Foo", "Foo.method", "Foo.create", "I", "T", "top"}, "return $x;"),
    "sample.kt": ({"Foo", "Foo.method", "Foo.Companion", "Foo.Companion.create", "Single", "Single.s", "top", "D"},
                  "return a"),
    "sample.swift": ({"Foo", "Foo.init", "Foo.method", "S", "S.m", "P", "P.p", "E", "top"}, "self.x = x"),
    "sample.scala": ({"Foo", "Foo.method", "Foo.apply", "T", "top"}, "a + x"),
    "sample.lua": ({"helper", "M.method", "M.colon"}, "return a"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_outline_keeps_signatures_at_their_lines(name: str) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    lines = text.split("\n")
    ix = index_text(name, text)
    expected, elided = CASES[name]
    assert ix.outline_kind == "tree-sitter"
    assert ix.language == language_for(name)
    qualnames = {d.qualname for d in ix.definitions}
    assert expected <= qualnames, expected - qualnames
    kept = dict(ix.outline_lines)
    for d in ix.definitions:
        assert 1 <= d.start_line <= d.signature_line <= d.end_line <= len(lines)
        assert kept.get(d.signature_line) == lines[d.signature_line - 1], (d, kept.get(d.signature_line))
    # every kept line is the file's own line at its own number; bodies are elided and marked
    for n, line in ix.outline_lines:
        if n:
            assert line == lines[n - 1]
    assert (0, "") in ix.outline_lines
    assert not any(elided in line for n, line in ix.outline_lines if n), elided
    numbers = [n for n, _ in ix.outline_lines if n]
    assert numbers == sorted(set(numbers))
    assert "⋮" in ix.outline


def test_methods_and_decorators() -> None:
    text = (FIXTURES / "sample.py").read_text(encoding="utf-8")
    defs = {d.qualname: d for d in index_text("m.py", text).definitions}
    assert defs["Foo.method"].kind == "method"
    assert defs["top"].kind == "function"
    assert defs["Foo"].kind == "class"
    # a decorated definition starts at its decorator; its signature is the def line
    assert defs["Foo.prop"].start_line == 20 and defs["Foo.prop"].signature_line == 21
    assert defs["Foo.method"].body_line == 17 and defs["Foo.method"].end_line == 18


def test_docstring_first_line_and_imports_kept() -> None:
    text = (FIXTURES / "sample.py").read_text(encoding="utf-8")
    kept = dict(index_text("m.py", text).outline_lines)
    assert kept[3] == "from x import (a," and kept[4] == "    b)"  # a multi-line import whole
    assert kept[17] == '        """Method doc."""'
    assert 11 not in kept  # the class docstring's second line


def test_go_method_is_qualified_by_its_receiver_type() -> None:
    text = (FIXTURES / "sample.go").read_text(encoding="utf-8")
    defs = {d.qualname: d for d in index_text("x.go", text).definitions}
    assert defs["Foo.Do"].kind == "method" and defs["Foo.Do"].name == "Do"


def test_plain_outline_for_other_files() -> None:
    text = "# Title\n\nintro\n" + "".join(f"line {i}\n" for i in range(40)) + "## Usage\n\nmore text\n"
    ix = index_text("README.md", text)
    assert ix.outline_kind == "plain" and ix.language == "markdown"
    kept = dict(ix.outline_lines)
    assert kept[1] == "# Title"
    usage = text.split("\n").index("## Usage") + 1
    assert kept[usage] == "## Usage"
    assert (0, "") in ix.outline_lines
    assert index_text("data.unknownext", "a\nb\n").language is None


@pytest.mark.parametrize(
    "name,text",
    [
        ("empty.py", ""),
        ("broken.py", "def f(:\n  return ((\nclass\n"),
        ("nul.js", "function f() {\x00}\n\ufffd\ufffd"),
        ("deep.py", "".join("    " * i + f"class C{i}:\n" for i in range(300)) + "    " * 300 + "pass\n"),
        ("brackets.c", "int x = " + "(" * 20000 + "1" + ")" * 20000 + ";\n"),
        ("long.ts", "export const data = [" + "1, " * 200_000 + "];\n"),
        ("crlf.rb", "def a\r\n  1\r\nend\r\n"),
        ("only_comments.go", "// a\n// b\n"),
    ],
)
def test_hostile_inputs_do_not_break_the_index(name: str, text: str) -> None:
    ix = index_text(name, text)
    lines = text.split("\n")
    for n, line in ix.outline_lines:
        if n:
            assert 1 <= n <= len(lines)
            assert line == lines[n - 1] or (len(lines[n - 1]) > MAX_LINE and line.endswith("…"))


def test_index_is_deterministic() -> None:
    text = (FIXTURES / "sample.rs").read_text(encoding="utf-8")
    assert index_text("a.rs", text) == index_text("a.rs", text)
