from __future__ import annotations

from reviewer.pack.render import (
    Block,
    MarkdownRenderer,
    XmlRenderer,
    body,
    display_path,
    number_lines,
    render_tree,
)
from reviewer.pack.tokens import get_tokenizer


def test_tree_lists_directories_first_and_collapses() -> None:
    paths = ["b.py", "a/z.py", "a/b/c.py", "a/b/d.py"]
    assert render_tree(paths) == "a/\n  b/\n    c.py\n    d.py\n  z.py\nb.py\n"
    assert render_tree(paths, collapse_below=1) == "a/\n  b/ (2 files)\n  z.py\nb.py\n"
    assert render_tree(paths, collapse_below=0) == "a/ (3 files)\nb.py\n"


def test_display_path_escapes_control_characters() -> None:
    assert display_path("a\nb\tc.py") == "a\\nb\\x09c.py"
    assert display_path("ok/ünï.py") == "ok/ünï.py"


def test_outline_body_keeps_numbers_and_marks_elisions() -> None:
    block = Block("m.py", "outline", 40, [(1, "import os"), (0, ""), (10, "def f(x):"), (0, "")])
    assert body(block) == "1| import os\n⋮\n10| def f(x):\n⋮\n"


def test_markdown_fence_is_longer_than_any_backtick_run_inside() -> None:
    text = "s = '''\n```python\nx\n```\n'''\n" + "````\n"
    block = Block("doc.py", "full", 6, number_lines(text), "python")
    out = MarkdownRenderer().block(block, 10)
    assert "\n`````python\n" in out
    assert out.endswith("`````\n\n")


def test_parts_are_token_additive() -> None:
    """The document's count is the sum of its parts' counts: the packer relies on it."""
    tok = get_tokenizer()
    texts = ["def f():\n    return 1\n", "\n\n  \n", "x = '''\n   indented\n'''\n", "}\n"]
    for renderer in (XmlRenderer(), MarkdownRenderer()):
        parts = [renderer.header("r", {"files": 4}), renderer.tree(render_tree(["a.py", "b/c.py"]))]
        for i, text in enumerate(texts):
            block = Block(f"f{i}.py", "full", 3, number_lines(text), "python")
            b = body(block)
            n = tok.count(b)
            parts += [renderer.head(block, n, b), b, renderer.tail(block, b)]
        parts.append(renderer.footer())
        assert sum(tok.count(p) for p in parts) == tok.count("".join(parts))
