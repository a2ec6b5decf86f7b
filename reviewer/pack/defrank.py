"""Which definitions of a file matter to the task, and how much.

A definition (``reviewer.pack.defs.Unit``) matters when:

- a stack frame (``--trace``, or a trace pasted in the question) points at one of its lines;
- the task names it as code (``register_hook``, ``Request.register_hook``, ``parse(``), or names
  the class it belongs to;
- it holds a message the question quotes (an error's text, a warning's);
- the words of the question are in its identifiers (BM25 over the definitions of the files
  looked at, each definition a document).

The weights are relative: the fit turns them into each definition's share of its file's value."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reviewer.pack.lexical import subwords

if TYPE_CHECKING:
    from reviewer.index.tags import Tags
    from reviewer.pack.defs import Unit
    from reviewer.pack.focus import Focus

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORDS = re.compile(r"[a-z]+")
_ERROR_LINE = re.compile(r"\b(?:[A-Z]\w*?)?(?i:error|exception|warning|exit|fatal)\b:\s*(.+)")
_QUOTED = re.compile(r"""(?<![\w])(['"])((?:(?!\1).){12,200}?)\1""")
_MESSAGE_WORDS = 4  # a message is found when this many of its words appear in a row

FRAME_WEIGHT = 3.0
NAME_WEIGHT = 2.0
QUALIFIED_WEIGHT = 1.5
CLASS_WEIGHT = 0.3
MESSAGE_WEIGHT = 2.0
LEXICAL_WEIGHT = 1.5
LEXICAL_FLOOR = 0.35  # of the best lexical match, below which words alone do not offer a definition


@dataclass
class UnitTask:
    """What the task says, in the terms definitions are matched by."""

    names: dict[str, float] = field(default_factory=dict)  # name -> how surely it is code (0..1]
    qualified: set[tuple[str, str]] = field(default_factory=set)  # (class or module, name)
    terms: dict[str, float] = field(default_factory=dict)  # query term -> idf
    frames: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # path -> (line, weight)
    messages: list[tuple[str, ...]] = field(default_factory=list)  # quoted messages, as word runs

    def __bool__(self) -> bool:
        return bool(self.names or self.terms or self.frames or self.messages)

    def may_match(self, path: str, tags: Tags | None) -> bool:
        """A cheap test, from the file's lexical tags, that some definition of it may match."""
        if path in self.frames or self.messages or self.terms:
            return True
        return tags is not None and any(n in self.names for n in tags.defines)


def unit_task(focus: Focus | None, query: str | None) -> UnitTask:
    task = UnitTask()
    if focus is not None:
        task.names = dict(focus.names)
        task.frames = {p: list(v) for p, v in focus.frames.items()}
        task.terms = dict(focus.terms)
    if query:
        for m in re.finditer(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b", query):
            task.qualified.add((m[1], m[2]))
        task.messages = messages(query)
    return task


def messages(text: str) -> list[tuple[str, ...]]:
    """Messages the text quotes: what follows ``SomeError:`` on a line, and quoted phrases of
    several words. Each as its lowercase words."""
    found: list[str] = [m[1] for m in _ERROR_LINE.finditer(text)]
    found += [m[2] for m in _QUOTED.finditer(text) if " " in m[2].strip()]
    out: dict[tuple[str, ...], None] = {}
    for msg in found:
        words = tuple(_WORDS.findall(msg.lower()))
        if len(words) >= 3:
            out.setdefault(words, None)
    return list(out)


def _has_message(text_words: str, message: tuple[str, ...]) -> bool:
    n = min(_MESSAGE_WORDS, len(message))
    return any(" " + " ".join(message[i:i + n]) + " " in text_words for i in range(len(message) - n + 1))


def score_units(
    per_file: Mapping[str, tuple[Sequence[str], Sequence[Unit]]], task: UnitTask
) -> dict[str, list[tuple[float, str]]]:
    """``(weight, why)`` of each unit of each file (``path -> (the file's lines, its units)``)."""
    raw_lex: dict[str, list[float]] = {}
    docs: dict[str, list[Counter[str]]] = {}
    lengths: list[int] = []
    for path, (lines, units) in per_file.items():
        docs[path] = []
        for u in units:
            tf: Counter[str] = Counter()
            idents = Counter(_IDENT.findall("\n".join(lines[u.start - 1:u.end])))
            for ident, c in idents.items():
                for w in subwords(ident):
                    if w in task.terms:
                        tf[w] += c
            docs[path].append(tf)
            lengths.append(sum(idents.values()))
    avg = (sum(lengths) / len(lengths)) if lengths else 1.0
    k1, b = 1.2, 0.75
    best = 0.0
    for path, (_, units) in per_file.items():
        raw_lex[path] = []
        for u, tf in zip(units, docs[path], strict=True):
            size = max(1, u.end - u.start + 1) * 6  # identifiers per line, about
            s = sum(task.terms[t] * c * (k1 + 1) / (c + k1 * (1 - b + b * size / max(avg, 1.0))) for t, c in tf.items())
            raw_lex[path].append(s)
            best = max(best, s)
    out: dict[str, list[tuple[float, str]]] = {}
    for path, (lines, units) in per_file.items():
        frames = task.frames.get(path, [])
        scored: list[tuple[float, str]] = []
        for k, u in enumerate(units):
            w = 0.0
            why: list[str] = []
            for line, fw in frames:
                if u.start <= line <= u.end:
                    w += FRAME_WEIGHT * fw
                    why.append(f"trace frame at line {line}")
            parts = u.qualname.split(".")
            name = parts[-1]
            named = task.names.get(name, 0.0)
            if named:
                w += NAME_WEIGHT * named
                why.append("named in the task" if named >= 1.0 else "its name is a word of the task")
            if len(parts) > 1 and (parts[-2], name) in task.qualified:
                w += QUALIFIED_WEIGHT
                why.append(f"{parts[-2]}.{name} written in the task")
            elif len(parts) > 1 and task.names.get(parts[-2], 0.0) >= 1.0:
                w += CLASS_WEIGHT
                why.append(f"a method of {parts[-2]}, named in the task")
            if task.messages:
                text_words = " " + " ".join(_WORDS.findall("\n".join(lines[u.start - 1:u.end]).lower())) + " "
                if any(_has_message(text_words, m) for m in task.messages):
                    w += MESSAGE_WEIGHT
                    why.append("holds a message the task quotes")
            rel = raw_lex[path][k] / best if best > 0 else 0.0
            if rel >= LEXICAL_FLOOR:
                w += LEXICAL_WEIGHT * rel
                why.append(f"uses the task's words ({rel:.2f})")
            scored.append((round(w, 9), ", ".join(why)))
        out[path] = scored
    return out

