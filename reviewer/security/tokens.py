"""Secrets known by their shape: a provider's prefix and alphabet (``sk_live_``, ``ghp_``, ``AKIA``,
``eyJ...``), found whole.

Each rule names the literal its tokens start with (found with ``str.find``, so a text without it
costs nothing more), a pattern that must match there, and the token's alphabet: a match is
extended to where that alphabet ends, so a key longer than the pattern's minimum (a Stripe key of
107 characters, a JWT with its signature) is redacted to its last character. When the prefix
sits in a string literal that goes on in another literal (``"sk_live_" + "..."``, implicit
concatenation, an f-string around a field, a joined list), the joined value is read instead and
every literal holding part of it is redacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from reviewer.security.found import Span, has_letter_and_digit, occurrences
from reviewer.security.literals import chain_from, join, literal_at

_B62 = "A-Za-z0-9"
_URLSAFE = "A-Za-z0-9_-"


@dataclass(frozen=True)
class Rule:
    kind: str
    starts: tuple[str, ...]  # literals a token starts with (case-sensitive)
    pattern: re.Pattern[str]  # must match at the start; its minimum shape
    alphabet: re.Pattern[str]  # what the token goes on with, to its natural end
    mixed: bool = False  # the token must hold a letter and a digit (a generic shape)


def _rule(kind: str, starts: tuple[str, ...], pattern: str, alphabet: str = _URLSAFE, *, mixed: bool = False) -> Rule:
    return Rule(kind, starts, re.compile(pattern), re.compile(f"[{alphabet}]*"), mixed)


RULES: tuple[Rule, ...] = (
    _rule("aws-access-key", ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"), r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
          "A-Z0-9"),
    _rule("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"gh[pousr]_[A-Za-z0-9]{30,}", "A-Za-z0-9_"),
    _rule("github-token", ("github_pat_",), r"github_pat_[A-Za-z0-9_]{40,}", "A-Za-z0-9_"),
    _rule("gitlab-token", ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-", "glptt-", "glagent-",
                           "gloas-", "GR1348941"),
          r"(?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent|gloas)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,}"),
    _rule("slack-token", ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xapp-"),
          r"x(?:ox[abposre]|app)-[A-Za-z0-9-]{10,}", "A-Za-z0-9-"),
    _rule("slack-token", ("hooks.slack.com/",), r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/]{16,}",
          "A-Za-z0-9_/"),
    _rule("stripe-access-key", ("sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_"),
          r"(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})", _B62),
    _rule("json-web-token", ("eyJ",), r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)*", "A-Za-z0-9_.-"),
    _rule("anthropic-key", ("sk-ant-",), r"sk-ant-[A-Za-z0-9_-]{32,}"),
    _rule("openai-token", ("sk-",), r"sk-[A-Za-z0-9_-]{20,}", mixed=True),
    _rule("huggingface-token", ("hf_",), r"hf_[A-Za-z]{30,}|hf_[A-Za-z0-9]{30,}", _B62, mixed=True),
    _rule("google-api-key", ("AIza",), r"AIza[A-Za-z0-9_-]{35}"),
    _rule("npm-token", ("npm_",), r"npm_[A-Za-z0-9]{36}", _B62),
    _rule("pypi-token", ("pypi-AgE",), r"pypi-AgE[A-Za-z0-9_-]{50,}"),
    _rule("sendgrid-api-key", ("SG.",), r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", "A-Za-z0-9_.-"),
    _rule("square-oauth-secret", ("sq0csp-", "sq0atp-", "EAAA"), r"sq0(?:csp|atp)-[A-Za-z0-9_-]{22,}|EAAA[A-Za-z0-9_-]{60,}"),
    _rule("azure-storage-key", ("AccountKey=",), r"AccountKey=[A-Za-z0-9+/]{40,}={0,2}", "A-Za-z0-9+/="),
    _rule("artifactory-credentials", ("AKCp",), r"AKCp[A-Za-z0-9]{60,}", _B62),
    _rule("digitalocean-token", ("dop_v1_", "doo_v1_", "dor_v1_"), r"do[por]_v1_[a-f0-9]{64}", _B62),
    _rule("shopify-token", ("shpat_", "shpss_", "shpca_", "shppa_"), r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}", _B62),
    _rule("databricks-token", ("dapi",), r"dapi[a-f0-9]{32}", _B62),
    _rule("mailgun-key", ("key-",), r"key-[a-f0-9]{32}", _B62),
    _rule("vault-token", ("hvs.", "hvb."), r"hv[sb]\.[A-Za-z0-9_-]{24,}"),
    _rule("grafana-token", ("glc_", "glsa_"), r"gl(?:c|sa)_[A-Za-z0-9_=+/-]{32,}", "A-Za-z0-9_=+/-"),
    _rule("postman-key", ("PMAK-",), r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", "a-f0-9-"),
    _rule("age-secret-key", ("AGE-SECRET-KEY-1",), r"AGE-SECRET-KEY-1[0-9A-Z]{58}", "0-9A-Z"),
    _rule("twilio-api-key", ("SK",), r"SK[0-9a-f]{32}(?![0-9A-Za-z])", "0-9a-f"),
    _rule("telegram-bot-token", (":AA",), r":AA[A-Za-z0-9_-]{33}"),
)
# a token begins a word: "task-..." does not hold an "sk-" key
_WORD_CHAR = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_BY_START: dict[str, list[Rule]] = {}
for _r in RULES:
    for _s in _r.starts:
        _BY_START.setdefault(_s, []).append(_r)
STARTS = tuple(_BY_START)
# the rules to try where a start was found: its own, then those of the shorter starts it begins
# with ("sk-ant-..." may still be an "sk-" key)
_RULES_AT = {s: [*_BY_START[s], *(r for t in STARTS if t != s and s.startswith(t) for r in _BY_START[t])]
             for s in STARTS}


def find(text: str) -> Iterator[Span]:
    """Every token of a known shape in ``text``, whole."""
    for at, start in occurrences(text, STARTS):
        yield from _at(text, at, start, _RULES_AT[start])


def _at(text: str, at: int, start: str, rules: list[Rule]) -> list[Span]:
    begin = at
    if start == ":AA":  # a Telegram bot token: the bot's id before the colon is part of it
        while begin > 0 and text[begin - 1].isdigit():
            begin -= 1
        if not 8 <= at - begin <= 10:
            return []
    elif at > 0 and text[at - 1] in _WORD_CHAR:
        return []
    for rule in rules:
        spans = _plain(text, at, begin, start, rule) or _joined(text, at, start, rule)
        if spans:
            return spans
    return []


def _plain(text: str, at: int, begin: int, start: str, rule: Rule) -> list[Span] | None:
    m = rule.pattern.match(text, at)
    if m is None:
        return None
    end = rule.alphabet.match(text, m.end()).end()
    if not _worth(rule, text[at + len(start) : end]):
        return None
    lit = literal_at(text, at)
    if lit is not None and end >= lit.end:  # the literal may go on: read the value it is part of
        return _joined(text, at, start, rule) or [Span(begin, end, rule.kind)]
    return [Span(begin, end, rule.kind)]


def _worth(rule: Rule, tail: str) -> bool:
    """A token's random part: not a placeholder (``sk_live_xxxxxxxx...``), and for a generic
    shape, letters and digits both."""
    if len(set(tail.lower())) <= 3:
        return False
    return not rule.mixed or has_letter_and_digit(tail)


def _joined(text: str, at: int, start: str, rule: Rule) -> list[Span] | None:
    """The token read across the literals that continue the one holding ``at``."""
    lit = literal_at(text, at)
    if lit is None:
        return None
    parts = chain_from(text, lit)
    if len(parts) == 1 and not lit.templated:
        return None
    joined = join(text, parts)
    j = joined.find(at)
    if j is None:
        return None
    m = rule.pattern.match(joined.value, j)
    if m is None:
        return None
    end = rule.alphabet.match(joined.value, m.end()).end()
    if not _worth(rule, joined.value[j + len(start) : end]):
        return None
    first = joined.where(j)[1]
    last = joined.where(end - 1)[1]
    return [Span(at if i == first else parts[i].start, parts[i].end, rule.kind) for i in range(first, last + 1)]
