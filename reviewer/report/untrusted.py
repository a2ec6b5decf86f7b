"""Untrusted text (a model's words, a repository's names) as Markdown that a forge shows and
does not act on.

What a review needs survives: paragraphs, emphasis, lists, code (inline spans, and fenced blocks
re-fenced longer than any backtick run inside), links to this repository's files on its forge.
Everything else is shown as text:

- raw HTML and HTML comments: escaped (``<img>``, ``</details>``, ``<script>``, a forged
  ``<!-- reviewer:... -->`` marker show as what they are);
- images and links: ``[``, ``]`` written as entities, so no image, link or link definition
  forms; a URL to anywhere but this repository's files is defanged
  (``hxxps://evil[.]example/...``), so no forge turns it into a link and no image proxy fetches it;
- mentions and references: a zero-width space after ``@`` and after the sigil of ``#123``,
  ``GH-123``, GitLab's ``!123``, ``&123``, ``$123``, ``%milestone`` and ``~label``, so nobody is
  notified and nothing is cross-referenced;
- a line starting with ``/`` (a GitLab quick action, a bot's command) starts with a zero-width
  space instead;
- a fenced block in the model's text never becomes a ``suggestion`` block.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

ZWSP = "\u200b"

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")
_TICKS = re.compile(r"`+")
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}]"
                  r"|\b(?:javascript|data|vbscript):[^\s<>\"'`]+", re.I)
_MD_LINK = re.compile(r"\[(?P<label>[^\[\]\n]{0,300})\]\((?P<url>[^()\s]{1,2000})\)")
_MENTION = re.compile(r"(?<![\w`])@(?=[A-Za-z0-9_])")
# GitHub: #123 (also owner/repo#123), GH-123; GitLab: !123, &123, $123, %123 / %name / %"name",
# ~123 / ~name / ~"name" (also after a project path)
_REFERENCE = re.compile(r"(?<!&)#(?=\d)|(?<![\w-])(?i:gh)-(?=\d)|[!&$](?=\d)|[%~](?=[\w\"])")
_COMMAND = re.compile(r"^(\s*)/", re.M)
_MARKER = re.compile(r"<!--(?=\s*reviewer:)")
_INFO = re.compile(r"^[A-Za-z0-9_+#.-]{1,30}$")


@dataclass(frozen=True)
class Links:
    """Where links in untrusted text may still point: this repository's files on its forge."""

    prefixes: tuple[str, ...] = ()

    @classmethod
    def to_files_of(cls, page_url: str) -> Links:
        """From the web page of a pull request (GitHub ``.../OWNER/REPO/pull/N``) or merge request
        (GitLab ``.../GROUP/PROJECT/-/merge_requests/N``): its repository's blob and tree URLs."""
        parts = urlsplit(page_url or "")
        if parts.scheme != "https" or not parts.netloc or "@" in parts.netloc:
            return cls()
        path = parts.path
        if "/-/merge_requests/" in path:
            root = path.split("/-/merge_requests/")[0]
            kinds = ("/-/blob/", "/-/tree/")
        elif "/pull/" in path:
            root = path.rsplit("/pull/", 1)[0]
            kinds = ("/blob/", "/tree/")
        else:
            return cls()
        if not root.strip("/"):
            return cls()
        base = f"https://{parts.netloc}{root}"
        return cls(tuple(base + k for k in kinds))

    def allows(self, url: str) -> bool:
        if not any(url.startswith(p) and len(url) > len(p) for p in self.prefixes):
            return False
        # no way out of the repository: no dot segments, encoded or not, no backslashes
        rest = url.split("#", 1)[0].lower()
        return not any(bad in rest for bad in ("/../", "/./", "%2e", "%2f", "%5c", "\\", "/.."))


NO_LINKS = Links()


# -- code ------------------------------------------------------------------------------------------

def fence_for(code: str) -> str:
    """A backtick fence longer than any backtick run inside ``code`` (at least three)."""
    longest = max((len(m) for m in _TICKS.findall(code)), default=0)
    return "`" * max(3, longest + 1)


def defuse_code(code: str) -> str:
    """Code as it is, except text shaped like one of our hidden markers."""
    return _MARKER.sub("<!-" + ZWSP + "-", code)


def code_block(code: str, info: str = "") -> str:
    code = defuse_code(code.rstrip("\n"))
    f = fence_for(code)
    return f"{f}{info}\n{code}\n{f}"


def code_span(text: str) -> str:
    """``text`` as inline code, whatever backticks it holds (on one line)."""
    text = defuse_code(" ".join(text.splitlines()))
    ticks = "`" * (max((len(m) for m in _TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


# -- prose -----------------------------------------------------------------------------------------

def one_line(text: str, links: Links = NO_LINKS, limit: int = 300) -> str:
    """A title or a note: one line, at most ``limit`` characters of the original."""
    return prose(" ".join(text.split())[:limit], links)


def prose(text: str, links: Links = NO_LINKS) -> str:
    """Untrusted Markdown made safe to post (see the module's docstring)."""
    out: list[str] = []
    for kind, body, info in _segments(text):
        if kind == "fence":
            out.append(code_block(body, info) + "\n")
        elif kind == "code":
            out.append(code_span(body))
        else:
            out.append(_text(body, links))
    return "".join(out).rstrip("\n") if not text.endswith("\n") else "".join(out)


def _segments(text: str) -> list[tuple[str, str, str]]:
    """(kind, body, info): code blocks ("fence": fenced ones, with a harmless info string, and
    indented ones), inline code spans ("code") and the text between them ("text"). An unclosed
    fence runs to the end; a backtick run with no closing run of the same length is text."""
    out: list[tuple[str, str, str]] = []
    lines = text.split("\n")
    buf: list[str] = []

    def flush(newline: bool) -> None:
        if buf:
            out.extend(_spans("\n".join(buf) + ("\n" if newline else "")))
            buf.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FENCE_OPEN.match(line)
        if m is not None and not (m.group("fence")[0] == "`" and "`" in m.group("info")):
            flush(True)
            fence = m.group("fence")
            closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            j = i + 1
            while j < len(lines) and not closing.match(lines[j]):
                j += 1
            info = m.group("info").strip().split(" ")[0]
            info = info if _INFO.match(info) and not info.lower().startswith("suggestion") else ""
            out.append(("fence", "\n".join(lines[i + 1 : j]), info))
            i = j + 1
            continue
        if _INDENTED.match(line) and (not buf or not buf[-1].strip()) and not _in_list(buf):
            flush(True)
            j = i
            while j < len(lines) and (_INDENTED.match(lines[j]) or not lines[j].strip()):
                j += 1
            while j > i and not lines[j - 1].strip():
                j -= 1
            out.append(("fence", "\n".join(_dedent(x) for x in lines[i:j]), ""))
            i = j
            continue
        buf.append(line)
        i += 1
    flush(False)
    return out


_INDENTED = re.compile(r"^(?: {4}|\t)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s")


def _in_list(buf: list[str]) -> bool:
    last = next((x for x in reversed(buf) if x.strip()), "")
    return bool(_LIST_ITEM.match(last)) or last.startswith((" ", "\t"))


def _dedent(line: str) -> str:
    return line[1:] if line.startswith("\t") else line[4:]


def _spans(text: str) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    pos = 0
    plain = 0
    while True:
        m = _TICKS.search(text, pos)
        if m is None:
            break
        run = m.group(0)
        close = re.compile(rf"(?<!`){run}(?!`)")
        end = close.search(text, m.end())
        if end is None:
            pos = m.end()
            continue
        if m.start() > plain:
            out.append(("text", text[plain : m.start()], ""))
        body = text[m.end() : end.start()]
        if len(body) > 1 and body.startswith(" ") and body.endswith(" ") and body.strip():
            body = body[1:-1]
        out.append(("code", body.replace("\n", " "), ""))
        plain = pos = end.end()
    if plain < len(text):
        out.append(("text", text[plain:], ""))
    return out


def _text(text: str, links: Links) -> str:
    kept: list[str] = []

    def keep(markdown: str) -> str:
        kept.append(markdown)
        return f"\x00{len(kept) - 1}\x00"

    def md_link(m: re.Match[str]) -> str:
        url = m.group("url")
        if links.allows(url):
            return keep(f"[{_plain(m.group('label'))}]({url})")
        return m.group(0)

    def bare(m: re.Match[str]) -> str:
        url = m.group(0)
        return keep(url) if links.allows(url) else keep(_defang(url))

    text = text.replace("\x00", "")
    text = _MD_LINK.sub(md_link, text)
    text = _URL.sub(bare, text)
    text = _plain(text)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _plain(text: str) -> str:
    """Text with no markup that acts: HTML escaped, brackets and stray backticks as entities,
    mentions, references and commands broken by a zero-width space."""
    text = _escape(_REFERENCE.sub(lambda m: m.group(0) + ZWSP, text))
    text = _MENTION.sub("@" + ZWSP, text)
    return _COMMAND.sub(lambda m: m.group(1) + ZWSP + "/", text)


def _escape(text: str) -> str:
    text = html.escape(text, quote=False)
    return text.replace("[", "&#91;").replace("]", "&#93;").replace("`", "&#96;")


def _defang(url: str) -> str:
    """``https://evil.example/x`` as ``hxxps://evil[.]example/x``: readable, never a link."""
    scheme, sep, rest = url.partition("://")
    if not sep and not url.lower().startswith("www."):  # javascript:..., data:...
        head, _, tail = url.partition(":")
        return f"{_escape(head)}&#58;{_escape(tail)}"
    if not sep:
        scheme, rest = "", url
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i != -1), default=len(rest))
    host = rest[:end].replace(".", "[.]")
    scheme = re.sub("(?i)http", "hxxp", re.sub("(?i)ftp", "fxp", scheme))
    return (f"{_escape(scheme)}://" if sep else "") + _escape(host) + _escape(rest[end:])
