"""Lexical matching of a question against files: words, identifiers split into their parts, and
BM25 over each file's path, the names it defines and the identifiers it uses."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+")
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no nor
    not now of off on once only or other our out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours
    get set use used using uses new old make makes made want wants like way ways also e g eg ie etc
    work works working issue issues bug bugs error errors problem fix fixed expected actual currently
    would should could one two first following example examples case cases thing things see seems seem
    return returns returned value values true false none null self cls def class import from
    http https www com org github""".split()  # noqa: SIM905
)


@lru_cache(maxsize=200_000)
def subwords(identifier: str) -> tuple[str, ...]:
    """``register_hook`` -> (registerhook, register, hook); ``parseURL`` -> (parseurl, parse, url).
    The whole name comes without underscores, so ``ImportMode``, ``import_mode`` and the option
    ``--import-mode`` (see ``query_terms``) are one term."""
    lower = identifier.lower().replace("_", "")
    parts: list[str] = []
    for piece in identifier.split("_"):
        if piece:
            parts.extend(p.lower() for p in _CAMEL.findall(piece))
    out = [lower] if len(lower) >= 3 else []
    out += [p for p in parts if len(p) >= 3 and p != lower]
    return tuple(dict.fromkeys(out))


_HYPHENATED = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+\b")


def query_terms(text: str) -> list[str]:
    """Distinct lowercase terms of a question or trace, stop words left out, in order of appearance.
    A hyphenated word (an option such as ``--ignore-paths``) also stands for the identifier it
    usually becomes in code (``ignore_paths`` or ``IgnorePaths``: the term ``ignorepaths``)."""
    terms: dict[str, None] = {}
    for word in _HYPHENATED.findall(text):
        terms.setdefault(word.replace("-", "").lower(), None)
    for ident in _IDENT.findall(text):
        for w in subwords(ident):
            if w not in STOPWORDS and not w.isdigit():
                terms.setdefault(w, None)
    return list(terms)


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def joined_terms(text: str, known: set[str]) -> list[str]:
    """Two or three adjacent words of ``text`` written as one name that ``known`` holds ("man
    page" -> ``manpage``, "auto summary" -> ``autosummary``), in order of appearance."""
    words = [w.lower() for w in _WORD.findall(text)]
    out: dict[str, None] = {}
    for i in range(len(words) - 1):
        for n in (2, 3):
            joined = "".join(words[i:i + n])
            if i + n <= len(words) and joined in known:
                out.setdefault(joined, None)
    return list(out)


def path_terms(path: str) -> list[str]:
    out: list[str] = []
    for piece in re.split(r"[/._\-]+", path):
        if piece:
            out.extend(subwords(piece))
    return out


class BM25:
    """BM25 over weighted fields, computed only for the query's terms."""

    def __init__(self, docs: Mapping[str, Iterable[tuple[str, float]]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.postings: dict[str, dict[str, float]] = {}
        self.lengths: dict[str, float] = {}
        for doc, terms in docs.items():
            tf: Counter[str] = Counter()
            for term, weight in terms:
                tf[term] += weight
            self.lengths[doc] = sum(tf.values())
            for term, w in tf.items():
                self.postings.setdefault(term, {})[doc] = w
        self.n = max(1, len(self.lengths))
        self.avg = (sum(self.lengths.values()) / self.n) or 1.0

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def scores(self, terms: Iterable[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for term in dict.fromkeys(terms):
            post = self.postings.get(term)
            if not post:
                continue
            idf = self.idf(term)
            for doc, tf in post.items():
                norm = tf + self.k1 * (1 - self.b + self.b * self.lengths[doc] / self.avg)
                out[doc] = out.get(doc, 0.0) + idf * tf * (self.k1 + 1) / norm
        return out


def build_bm25(
    paths: Iterable[str], defines: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]],
    vocabulary: set[str],
) -> BM25:
    """Documents hold only the terms in ``vocabulary`` (the query's): the index stays small on a
    large repository, and the scores are the same as over the full documents for those terms,
    except for document length, which is counted in full."""
    docs: dict[str, list[tuple[str, float]]] = {}
    lengths: dict[str, float] = {}
    # each distinct name once: which of its terms are in the vocabulary (a substring test first:
    # most names share nothing with the question)
    seen: dict[str, tuple[str, ...]] = {}
    vocab = tuple(vocabulary)

    def hits(name: str) -> tuple[str, ...]:
        got = seen.get(name)
        if got is None:
            lower = name.lower().replace("_", "")
            got = tuple(t for t in subwords(name) if t in vocabulary) if any(v in lower for v in vocab) else ()
            seen[name] = got
        return got

    for path in paths:
        terms: list[tuple[str, float]] = []
        pterms = path_terms(path)
        terms.extend((t, 3.0) for t in pterms if t in vocabulary)
        defs = defines.get(path, ())
        refs = references.get(path, ())
        for name in defs:
            terms.extend((t, 2.0) for t in hits(name))
        for name in refs:
            found = hits(name)
            if found:
                terms.extend((t, 1.0) for t in found)
        docs[path] = terms
        # length in weighted names (not terms): close enough for BM25's normalisation, and cheap
        lengths[path] = 3.0 * len(pterms) + 2.0 * len(defs) + len(refs)
    index = BM25(docs)
    index.lengths = lengths
    index.avg = (sum(lengths.values()) / max(1, len(lengths))) or 1.0
    return index
