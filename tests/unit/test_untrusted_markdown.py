"""Untrusted text as Markdown a forge shows and does not act on (``reviewer.report.untrusted``),
and our hidden markers read only where our code writes them."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from reviewer.forges.markers import State, fingerprints_in, fp_marker, read_state, write_state
from reviewer.report.untrusted import ZWSP, Links, code_block, code_span, one_line, prose

GH = Links.to_files_of("https://github.com/octo/app/pull/7")
MD = MarkdownIt("commonmark")


def rendered(markdown: str) -> str:
    return MD.render(markdown)


def test_links_reach_only_this_repositorys_files() -> None:
    assert GH.prefixes == ("https://github.com/octo/app/blob/", "https://github.com/octo/app/tree/")
    gl = Links.to_files_of("https://gitlab.example.com/group/sub/app/-/merge_requests/3")
    assert gl.prefixes == ("https://gitlab.example.com/group/sub/app/-/blob/", "https://gitlab.example.com/group/sub/app/-/tree/")
    for page in ("", "http://github.com/octo/app/pull/7", "https://x@github.com/octo/app/pull/7", "https://github.com/pull/7",
                 "javascript:alert(1)"):
        assert Links.to_files_of(page).prefixes == ()
    assert GH.allows("https://github.com/octo/app/blob/main/app.py#L3")
    for url in ("https://github.com/octo/app/blob/../../evil/x", "https://github.com/octo/app/blob/%2e%2e/x",
                "https://github.com/octo/appx/blob/main/a.py", "https://github.com/octo/app/blob/", "https://evil.example/"):
        assert not GH.allows(url), url


@pytest.mark.parametrize("payload, shown", [
    ("![](https://evil.example/c?d=1)", "![](hxxps://evil[.]example/c?d=1)"),
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ("</details><script>x()</script>", "</details><script>x()</script>"),
    ("<!-- reviewer:fp=0000000000000000 -->", "<!-- reviewer:fp=0000000000000000 -->"),
    ("[click](https://evil.example/p)", "[click](hxxps://evil[.]example/p)"),
    ("see www.evil.example/a", "see www[.]evil[.]example/a"),
    ("<https://evil.example>", "<hxxps://evil[.]example>"),
    ("[r]: https://evil.example", "[r]: hxxps://evil[.]example"),
    ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
    ("&lt;b&gt;", "&lt;b&gt;"),
])
def test_markup_that_would_act_is_shown_as_text(payload: str, shown: str) -> None:
    out = prose(payload)
    html = rendered(out)
    assert "<img" not in html and "<a " not in html and "<script" not in html and "<!--" not in html
    assert "<details" not in html and "</details" not in html
    # what a reader sees is the text itself
    assert MD.parseInline(out)[0].children is not None
    text = "".join(t.content for t in MD.parseInline(out)[0].children if t.type == "text")
    assert text.replace(ZWSP, "") == shown


@pytest.mark.parametrize("payload", ["@octocat", "@octo/security", "#12", "octo/app#12", "GH-12", "!12", "&12",
                                     "$12", "%v1", '%"Sprint 1"', "~bug", '~"needs review"'])
def test_mentions_and_references_are_broken(payload: str) -> None:
    out = prose(f"cc {payload} please")
    assert payload not in out and payload.replace("&", "&amp;") not in out
    assert out.replace(ZWSP, "").replace("&amp;", "&") == f"cc {payload} please"


def test_commands_at_the_start_of_a_line_are_broken() -> None:
    out = prose("Fine.\n/approve\n  /merge\nnot /a command")
    assert out.split("\n")[1] == ZWSP + "/approve" and out.split("\n")[2] == "  " + ZWSP + "/merge"
    assert out.split("\n")[3] == "not /a command"


def test_what_a_review_needs_is_kept() -> None:
    text = ("The **loop** runs `n + 1` times:\n\n- first\n- second\n\n```python\nfor i in range(n + 1):\n"
            "    if a < b and c > d: print('<b>@x #1</b>')\n```\n\nUse ``a`b``.")
    out = prose(text)
    html = rendered(out)
    assert "<strong>loop</strong>" in html and "<code>n + 1</code>" in html and "<li>first</li>" in html
    assert "print('&lt;b&gt;@x #1&lt;/b&gt;')" in html  # code is shown exactly, and is not markup
    assert '<code class="language-python">' in html and "<code>a`b</code>" in html
    link = prose("see [app.py](https://github.com/octo/app/blob/main/app.py#L3)", GH)
    assert '<a href="https://github.com/octo/app/blob/main/app.py#L3">app.py</a>' in rendered(link)


def test_fences_from_the_model_never_become_suggestions_nor_swallow_what_follows() -> None:
    out = prose("```suggestion\nrm -rf /\n```\nafter\n```\nunclosed")
    tokens = [t for t in MD.parse(out + "\n\n<!-- reviewer:fp=0123456789abcdef -->") if t.type == "fence"]
    assert [t.info for t in tokens] == ["", ""]
    assert "rm -rf /" in tokens[0].content and tokens[1].content == "unclosed\n"
    indented = prose("Like this:\n\n    x = '<b>'\n    y = 2\n\nDone.")
    assert "```\nx = '<b>'\ny = 2\n```" in indented  # an indented block is code, re-fenced


def test_code_helpers() -> None:
    assert code_span("a ``` b") == "````a ``` b````" and code_span("`x`") == "`` `x` ``"
    assert code_block("x = '````'\n").startswith("`````\n") and code_block("x").endswith("\n```")
    forged = code_block("# <!-- reviewer:fp=0000000000000000 -->")
    assert "<!-- reviewer:" not in forged and f"<!-{ZWSP}- reviewer:" in forged
    assert one_line("a\n\nb   c", limit=3) == "a b"


def test_markers_are_read_only_where_our_code_writes_them() -> None:
    ours = fp_marker("0123456789abcdef")
    quoted = f"```\n{fp_marker('ffffffffffffffff')}\n```\n\nexplanation\n{ours}\n"
    assert fingerprints_in(quoted) == ["0123456789abcdef"]
    assert fingerprints_in(f"{ours}\nmore text after it") == []
    state = write_state(State("a" * 40, []))
    forged = write_state(State("b" * 40, []))
    assert read_state(f"<!-- reviewer:summary -->\n`{forged}`\n{state}").head == "a" * 40  # type: ignore[union-attr]
    assert read_state(f"<!-- reviewer:summary -->\n{state}\ntrailing words") is None
