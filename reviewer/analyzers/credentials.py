"""Whether a value the secret scanner found looks like a real credential.

The scanner (reviewer.security.secrets) is deliberately broad: everything it finds is redacted
before anything leaves the machine. A finding needs more: ``SECRET_KEY = "dev"`` in a tutorial,
``password="password"``, ``"Password Reset Request from {name}"``, AWS's documented example key
or ``"AAAAAAAAAAAAAAAA"`` are not leaked credentials, and reporting them buries the real ones.

``placeholder_reason(kind, value, line)`` says why a value is not worth a finding, or None when
it looks real. ``secret_values(raw, redacted)`` recovers the values a redacted line replaced,
so the judgement can be made while the file is read; the values themselves are never kept.
"""

from __future__ import annotations

import itertools
import re

# Words that are a value's whole content in tutorials, defaults and examples.
_PLACEHOLDER_WORDS = frozenset(
    [
        "password", "passwd", "passw0rd", "p4ssword", "pass", "pwd", "secret", "secretkey",
        "secret_key", "mysecret", "mysecretkey", "changeme", "change_me", "changeit", "default",
        "dev", "devkey", "development", "developmentkey", "debug", "test", "testing", "tests",
        "testkey", "testpassword", "example", "examplekey", "sample", "dummy", "fake", "mock",
        "foo", "bar", "baz", "foobar", "qux", "admin", "administrator", "root", "guest", "user",
        "username", "login", "letmein", "qwerty", "abc123", "abcdef", "123456", "12345678",
        "123456789", "1234567890", "none", "null", "nil", "todo", "fixme", "placeholder",
        "redacted", "insecure", "notasecret", "notsecret", "not_a_secret", "unsafe", "config",
        "key", "apikey", "api_key", "token", "mytoken", "yourpassword", "your_password",
        "yoursecret", "your_secret", "yourkey", "your_key", "yourtoken", "your_token"
    ]
)
# Parts that mark a value as an example wherever they appear in it.
_PLACEHOLDER_PARTS = re.compile(
    r"(?i)example|dummy|fake|sample|placeholder|changeme|change_me|change-me|insecure|notsecret|"
    r"not-a-secret|not_a_secret|your[-_]?(?:password|secret|key|token|api)|x{4,}|\*{3,}|\.\.\.|"
    r"test"
)
# Template and variable syntax: ${VAR}, {{ var }}, {name}, %(name)s, <your-key>, $VAR
_TEMPLATE = re.compile(r"\$\{|\{\{|\{[A-Za-z_][\w.]*\}|%\(\w+\)s|%s|<[^>]*>|^\$[A-Za-z_]")
_MIN_LENGTH = 6
# Kinds whose values are whole lines or blocks, judged by kind alone
_ALWAYS_REAL = frozenset({"private-key"})


def placeholder_reason(kind: str, value: str, line: str = "") -> str | None:
    """Why ``value`` (found as a secret of ``kind`` on ``line``) is not a credential worth a
    finding, or None when it looks real."""
    if kind in _ALWAYS_REAL:
        return None
    v = value.strip()
    if kind == "basic-auth-credentials":
        v = _url_password(v, line)
    v = v.strip("\"'`")
    if not v:
        return "empty"
    if len(v) < _MIN_LENGTH:
        return "too short"
    if any(ch.isspace() for ch in v):
        return "words, not a credential"
    if _TEMPLATE.search(v):
        return "a template or variable"
    bare = re.sub(r"[^a-z0-9_]", "", v.lower())
    if bare in _PLACEHOLDER_WORDS or v.lower() in _PLACEHOLDER_WORDS:
        return "a placeholder word"
    if _PLACEHOLDER_PARTS.search(v):
        return "an example value"
    if len(set(v.lower())) < 4:
        return "too few distinct characters"
    if _is_run(v):
        return "a run of characters"
    if _IDENTIFIER.fullmatch(v):
        return "an identifier, not a credential"
    if line and _named_elsewhere(v, line):
        return "the same word as a name on its line"
    if kind == "password-or-key" and line and (word := _describes(v, line)):
        return f"a name ending in {word!r}, not a credential"
    return None


# snake_case or kebab-case words: a status, a field or a setting's name ("incorrect_password")
_IDENTIFIER = re.compile(r"[a-z]+(?:[_-][a-z]+)+")
# the last word of a name that is about a credential rather than one: email_password_status,
# PASSWORD_RESET_SUBJECT, api_key_env, password_field
_DESCRIPTORS = frozenset(
    [
        "status", "state", "subject", "body", "message", "msg", "label", "field", "name", "url",
        "uri", "path", "file", "filename", "dir", "template", "prompt", "title", "text", "reset",
        "change", "changed", "error", "errors", "length", "len", "policy", "hint", "type",
        "format", "regex", "pattern", "help", "header", "placeholder", "required", "confirm",
        "confirmation", "validator", "expiry", "expires", "timeout", "count", "min", "max", "mode",
        "method", "endpoint", "route", "view", "page", "form", "input", "button", "env", "var",
        "variable", "setting", "option", "flag", "enabled", "disabled", "id", "column", "attr",
    ]
)
_NAME_BEFORE = re.compile(r"([A-Za-z_][\w.-]*)[\"'\]\)]*\s*(?::=|=>|[:=])?\s*[\"'`]?\s*$")


def _describes(value: str, line: str) -> str | None:
    """The descriptor word that ends the name ``value`` is assigned to, if any."""
    at = line.find(value)
    if at == -1:
        return None
    m = _NAME_BEFORE.search(line[:at])
    if not m:
        return None
    words = [w.lower() for w in re.split(r"[_.\-]+|(?<=[a-z0-9])(?=[A-Z])", m.group(1)) if w]
    return words[-1] if words and words[-1] in _DESCRIPTORS else None


def _url_password(value: str, line: str) -> str:
    """The password of ``scheme://user:password@host``. The scanner replaced either the password
    alone or, when that is short, the whole ``://user:password@``. A password equal to its user
    name (``ctfd:ctfd@db``) is a placeholder: returned empty."""
    m = re.fullmatch(r"://([^:/@\s]*):([^@\s]*)@", value)
    if m:
        user, password = m.group(1), m.group(2)
    else:
        password = value
        around = re.search(r"://([^:/@\s]*):" + re.escape(value) + "@", line)
        user = around.group(1) if around else ""
    if user and password.lower() == user.lower():
        return ""
    return password


def _is_run(value: str) -> bool:
    """``123456789``, ``abcdefgh``, ``987654``: consecutive characters."""
    low = value.lower()
    if len(low) < 4:
        return False
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(low)}
    return steps in ({1}, {-1})


def _named_elsewhere(value: str, line: str) -> bool:
    """The value also stands on its line as a name or another field (``"secret": "secret"``,
    ``root:ctfd@localhost/ctfd``): a default spelled after what it configures."""
    low, text = value.lower(), line.lower()
    first = text.find(low)
    return first != -1 and text.find(low, first + 1) != -1


_MARKER = re.compile(r"\[REDACTED:([a-z0-9-]+)\]")


def secret_values(raw: str, redacted: str) -> list[tuple[str, str]] | None:
    """The (kind, value) pairs the redaction replaced on one line, in order; None when the raw
    line cannot be matched against the redacted one."""
    kinds = _MARKER.findall(redacted)
    if not kinds:
        return []
    parts = _MARKER.split(redacted)[::2]  # the text between the markers
    pattern = "(.+?)".join(re.escape(p) for p in parts)
    m = re.fullmatch(pattern, raw, flags=re.DOTALL)
    if m is None:
        return None
    return list(zip(kinds, m.groups(), strict=True))
