"""Secrets known by where they are written: the value given to a name that says it is one
(``DB_PASSWORD=...``, ``"client_secret": "..."``, ``password: ...``, ``api_key = "..."``,
``ENV TOKEN ...``, ``<add key="DbPassword" value="..."/>``), credentials in URLs
(``https://user:pass@host``, ``?access_token=...``), and ``Authorization`` / ``Bearer`` / ``Basic``
headers.

The whole value is redacted: a quoted value to its closing quote (and every literal it is
concatenated with), an unquoted one to the end of its line in configuration (``.env``, YAML, INI,
properties, Dockerfiles, shell, text), or to the end of its token where a line reads like an
environment assignment or the value sits inside a string. In code, an unquoted value is an
expression (``password = os.environ["X"]``) and is left alone. Placeholders, references and
words (``changeme``, ``${VAR}``, ``{{ .Values.x }}``, ``<your-key>``, prose) are not secrets.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterator

from reviewer.security.found import Span, has_letter_and_digit, occurrences, stands_in
from reviewer.security.literals import Literal, chain_from, literal_at

KIND = "password-or-key"
_TRIGGERS = ("pass", "pwd", "secret", "token", "key", "credential", "contrase")
_MIN = 6

_DOCKER = re.compile(r"^[ \t]*(?:ENV|ARG)[ \t]+(?P<name>[A-Za-z_][\w.-]*)[ \t]+(?P<value>[^\s=][^\n]*)", re.M)
_XML_PAIR = re.compile(r"""\bkey\s*=\s*["'](?P<name>[^"'<>]{1,80})["']\s+value\s*=\s*(?P<q>["'])(?P<value>[^"'<>\n]*)(?P=q)""", re.I)
_XML_ELEMENT = re.compile(r"<(?P<name>[A-Za-z_][\w.-]{0,60})>(?P<value>[^<>\n]+)</(?P=name)>")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SECRET_WORDS = frozenset({
    "password", "passwd", "passphrase", "pwd", "pass", "secret", "token", "credential", "credentials", "apikey",
    "passcode", "secretkey", "accesskey", "privatekey", "authkey", "authtoken", "accesstoken", "refreshtoken",
    "apitoken", "apisecret", "clientsecret", "dbpass", "dbpassword", "contraseña", "contrasena",
})
_KEY_QUALIFIERS = frozenset({
    "api", "secret", "private", "access", "auth", "client", "master", "signing", "sign", "encryption", "encrypt",
    "account", "service", "db", "database", "app", "consumer", "session", "license", "deploy", "ssh", "gpg", "pgp",
    "hmac", "jwt", "webhook", "admin", "root", "storage", "shared", "x", "subscription", "cookie", "crypto", "aes",
})
_NOT_A_VALUE = frozenset({
    "name", "names", "id", "ids", "file", "files", "filename", "path", "paths", "dir", "env", "var", "vars",
    "variable", "field", "fields", "length", "len", "size", "type", "types", "url", "uri", "endpoint", "endpoints",
    "header", "headers", "param", "params", "prefix", "suffix", "regex", "re", "pattern", "patterns", "policy",
    "min", "max", "count", "limit", "label", "prompt", "placeholder", "hint", "help", "message", "msg", "text",
    "title", "error", "errors", "enabled", "disabled", "required", "rotation", "expiry", "expires", "expired",
    "expiration", "ttl", "timeout", "arn", "ref", "refs", "version", "format", "algorithm", "algo", "encoding",
    "mode", "manager", "provider", "store", "class", "input", "form", "reset", "confirm", "confirmation",
    "changed", "location", "source", "backend", "kind", "description", "desc", "validator", "validation",
    "strength", "rules", "lifetime", "age", "question", "selector", "button", "link", "key", "keys", "dialog",
    "template", "view", "page", "route", "handler", "callback", "fn", "func", "method", "schema", "option",
    "options", "flag", "set", "is", "has", "use", "show", "hide", "visible", "icon", "style", "color",
    "user", "username", "login", "email", "host", "hostname", "port", "region", "domain", "realm", "scope",
    "audience", "issuer", "owner", "tenant", "uid", "sid", "sha",
})
_PUBLIC = frozenset({"public", "pub", "publishable", "publishable_key"})
_INDIRECT = re.compile(r"^[\w$]+(?:\.[\w$]+)*\s*[\[(]|^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """``DB_PASSWORD``, ``client_secret``, ``apiKey``, ``spring.datasource.password``: yes.
    ``password_file``, ``token_type``, ``SECRET_KEY_ENV``, ``public_key``, ``max_tokens``: no."""
    last = re.split(r"[.$@\[\]\"']", name.strip("-"))
    words = [w for w in _CAMEL.sub("_", last[-1] if last[-1] else name).lower().replace("-", "_").split("_") if w]
    if not words or (words[-1] in _NOT_A_VALUE and not (words[-1] == "key" and len(words) > 1
                                                       and words[-2] in _KEY_QUALIFIERS)):
        return False
    if any(w in _PUBLIC for w in words):
        return False
    for i, w in enumerate(words):
        if w in _SECRET_WORDS:
            return True
        if w == "key" and i > 0 and words[i - 1] in _KEY_QUALIFIERS:
            return True
    return False


def kind_for(name: str) -> str:
    return "aws-access-key" if "aws" in name.lower() else KIND


def worth(value: str, name: str) -> bool:
    """Whether ``value``, given to ``name``, may be a secret (and not a word, a placeholder, a
    reference or prose)."""
    v = value.strip()
    if len(v) < _MIN or stands_in(v) or not any(c.isalnum() for c in v):
        return False
    if v.isdigit() and len(v) <= 8:
        return False
    if " " in v and sum(c.isdigit() for c in v) <= 2:
        return False  # words: a label, a message, a description
    low = v.lower()
    return not (low in name.lower() or low.replace(" ", "_") in _CAMEL.sub("_", name).lower())


def find(text: str, lowered: str, config: bool) -> Iterator[Span]:
    done = -1  # the end of the last name read: its other secret words are in it
    for at, needle in sorted(occurrences(lowered, _TRIGGERS)):
        if at < done:
            continue
        start, end = _name_around(text, at, at + len(needle))
        done = end
        yield from _assignment(text, start, end, config)
    if config and ("ENV" in text or "ARG" in text):
        for m in _DOCKER.finditer(text):
            value = m.group("value").rstrip()
            if is_secret_name(m.group("name")) and worth(value, m.group("name")):
                yield Span(m.start("value"), m.start("value") + len(value), kind_for(m.group("name")))
    if "<" in text and ("value" in lowered or "</" in text):
        yield from _xml(text)


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$@-ñ")
_MAX_NAME = 120  # characters a name may reach on either side of its secret word
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$@")


def _name_around(text: str, a: int, b: int) -> tuple[int, int]:
    """The name (identifier, dotted or dashed key) that holds ``text[a:b]``."""
    low, high = max(0, a - _MAX_NAME), min(len(text), b + _MAX_NAME)
    while a > low and text[a - 1] in _NAME_CHARS:
        a -= 1
    while b < high and text[b] in _NAME_CHARS:
        b += 1
    while a < b and text[a] not in _NAME_START:
        a += 1
    return a, b


# after a name: the closing quote or bracket of a key, then an operator
_OP = re.compile(r"""(?P<close>["'\]]{0,2})(?P<space>[ \t]*)(?P<op>:=|=>|===?|!==?|=|:(?![:/\\]))[ \t]*""")
_STOP_IN_STRING = re.compile(r"[\s;&,\"'`]")
_STOP_ENV = re.compile(r"[\s;]")
_STOP_CONFIG = re.compile(r"\s+#|\t#|\s+//\s")


def _assignment(text: str, start: int, end: int, config: bool) -> list[Span]:
    m = _OP.match(text, end)
    if m is None or start >= end:
        return []
    op = m.group("op")
    if op == ":" and m.group("space") and not m.group("close"):
        return []  # "pass :data:" is prose; YAML and JSON put the colon right after the key
    name = text[start:end]
    if not is_secret_name(name):
        return []
    at = m.end()
    spans = _quoted(text, at, name)
    if spans is not None:
        return spans
    if op not in ("=", ":"):  # comparisons and arrows take quoted values only
        return []
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", at)
    line_end = len(text) if line_end == -1 else line_end
    before = text[line_start:start].strip()
    # NAME=value as a shell or an .env file writes it; in code only for an environment variable's name
    env_like = op == "=" and m.group(0) == "=" and before in _ENV_LEAD and (config or name.isupper())
    inside = literal_at(text, start)
    if inside is not None:
        stop, limit = _STOP_IN_STRING, inside.end
    elif config or env_like:
        stop, limit = (_STOP_ENV if env_like else _STOP_CONFIG), line_end
    else:
        return []
    found = stop.search(text, at, limit)
    value = text[at : found.start() if found else limit].rstrip().rstrip(",;")
    if not value or value[0] in "{[(|>&*!" or " " in value or _INDIRECT.match(value):
        return []
    return [Span(at, at + len(value), kind_for(name))] if worth(value, name) else []


_ENV_LEAD = frozenset({"", "export", "+", "-", "set", "ENV", "ARG", "#", "$", ">", "RUN", "env"})


def _quoted(text: str, at: int, name: str) -> list[Span] | None:
    """The spans of a quoted value starting at ``at`` (with the literals it is concatenated with),
    [] when it is quoted but no secret, None when it is not quoted."""
    j = at
    while j < len(text) and text[j] in "rbufRBUF@$" and j - at < 2:
        j += 1
    if j >= len(text) or text[j] not in "\"'`":
        return None
    quote, k = text[j], j + 1
    while k < len(text) and text[k] != quote and text[k] != "\n":
        k += 2 if text[k] == "\\" else 1
    if k >= len(text) or text[k] != quote:
        return None  # not closed on its line
    lit = Literal(j + 1, k, "f" in text[at:j].lower() or "$" in text[at:j] or quote == "`")
    parts = chain_from(text, lit, lists=False)
    value = "".join(text[p.start : p.end] for p in parts)
    if not worth(value, name):
        return []
    return [Span(p.start, p.end, kind_for(name)) for p in parts if p.end > p.start]


def _xml(text: str) -> Iterator[Span]:
    for rx in (_XML_PAIR, _XML_ELEMENT):
        for m in rx.finditer(text):
            if is_secret_name(m.group("name")) and worth(m.group("value"), m.group("name")):
                yield Span(m.start("value"), m.end("value"), kind_for(m.group("name")))


# -- URLs and headers ----------------------------------------------------------------------------

# each matched where its anchor was found: after "://", after a parameter's "=", after
# "authorization", after a scheme word ("bearer", "token", "basic"), after "-u" / "--user"
_USERINFO = re.compile(r"""(?P<user>[^\s:/?#@'"<>{}\\]*):(?P<pw>[^\s/?#@'"<>\\]+)@""")
_USER_TOKEN = re.compile(r"""(?P<v>[A-Za-z0-9_.~-]{20,})@""")
_PARAM_VALUE = re.compile(r"""(?P<v>[^&\s"'#<>`]{8,})""")
_PARAMS = frozenset({
    "access_token", "refresh_token", "id_token", "token", "api_key", "apikey", "secret", "client_secret", "password",
    "passwd", "pwd", "sig", "signature", "auth", "private_token", "x-amz-signature", "x-amz-security-token",
})
_AUTH_VALUE = re.compile(
    r"""["']?\s*[:=,]\s*["']?(?:(?:bearer|basic|token|digest|negotiate|apikey|key|sso-key|dsn|hmac|otp)\s+)?"""
    r"""(?P<v>[^\s"'`,;{}<>()]{8,})""", re.I)
_SCHEME_VALUE = re.compile(r"""[ \t]+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)""")
_BASIC_VALUE = re.compile(r"""[ \t]+(?P<v>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])""")
_CURL_VALUE = re.compile(r"""[ =]+["']?[^\s:"'@]+:(?P<v>[^\s"'@]{4,})""")
_URL_STAND_IN = re.compile(r"^(?:p|pw|pass|password|passwd|pwd|secret|token|x+|\*+|\.+|\{\}|%s|[<$%{].*)$", re.I)


def _secret_value(v: str) -> bool:
    return not stands_in(v) and not _URL_STAND_IN.match(v) and has_letter_and_digit(v)


_ANCHORS = ("://", "token=", "key=", "secret=", "password=", "passwd=", "pwd=", "sig=", "signature=", "auth=",
            "authorization", "bearer", "token", "basic", " -u", "--user")


def urls_and_headers(text: str, lowered: str) -> Iterator[Span]:
    for at, anchor in occurrences(lowered, _ANCHORS):
        span = _ANCHORED[anchor](text, lowered, at, anchor)
        if span is not None:
            yield span


def _userinfo(text: str, lowered: str, at: int, anchor: str) -> Span | None:
    m = _USERINFO.match(text, at + 3)
    if m is not None and not _URL_STAND_IN.match(m.group("pw")) and not stands_in(m.group("pw")):
        return Span(m.start("pw"), m.end("pw"), "basic-auth-credentials")
    m = _USER_TOKEN.match(text, at + 3)
    if m is not None and has_letter_and_digit(m.group("v")):
        return Span(m.start("v"), m.end("v"), "basic-auth-credentials")
    return None


def _param(text: str, lowered: str, at: int, anchor: str) -> Span | None:
    eq = at + len(anchor) - 1
    name_start = eq
    while name_start > max(0, eq - 40) and (lowered[name_start - 1].isalnum() or lowered[name_start - 1] in "_-"):
        name_start -= 1
    if name_start == 0 or text[name_start - 1] not in "?&;" or lowered[name_start:eq] not in _PARAMS:
        return None
    m = _PARAM_VALUE.match(text, eq + 1)
    if m is not None and _secret_value(m.group("v")):
        return Span(m.start("v"), m.end("v"), "url-secret")
    return None


def _authorization(text: str, lowered: str, at: int, anchor: str) -> Span | None:
    m = _AUTH_VALUE.match(text, at + len(anchor))
    if m is not None and _secret_value(m.group("v")):
        return Span(m.start("v"), m.end("v"), "authorization-header")
    return None


def _scheme(text: str, lowered: str, at: int, anchor: str) -> Span | None:
    """``Bearer <token>``, ``token <token>``, ``Basic <base64 of user:password>``."""
    if at > 0 and lowered[at - 1].isalpha():
        return None
    if anchor == "basic":
        m = _BASIC_VALUE.match(text, at + len(anchor))
        ok = m is not None and _is_basic_credential(m.group("v"))
    else:
        m = _SCHEME_VALUE.match(text, at + len(anchor))
        ok = m is not None and _secret_value(m.group("v"))
    return Span(m.start("v"), m.end("v"), "authorization-header") if ok and m is not None else None


def _curl_user(text: str, lowered: str, at: int, anchor: str) -> Span | None:
    m = _CURL_VALUE.match(text, at + len(anchor))
    if m is not None and not stands_in(m.group("v")) and not _URL_STAND_IN.match(m.group("v")):
        return Span(m.start("v"), m.end("v"), "basic-auth-credentials")
    return None


_ANCHORED = {
    "://": _userinfo, "authorization": _authorization, "bearer": _scheme, "token": _scheme, "basic": _scheme,
    " -u": _curl_user, "--user": _curl_user,
    **{a: _param for a in _ANCHORS if a.endswith("=")},
}


def _is_basic_credential(value: str) -> bool:
    try:
        raw = base64.b64decode(value + "=" * (-len(value.rstrip("=")) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    user, sep, pw = decoded.partition(":")
    return bool(sep) and decoded.isprintable() and bool(user) and len(pw) >= 3 and not _URL_STAND_IN.match(pw) \
        and not stands_in(pw)
