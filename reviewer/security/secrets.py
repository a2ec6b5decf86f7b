"""Find secrets with detect-secrets' plugins and redact them in place before anything is rendered.

Each secret value is replaced by ``[REDACTED:<type>]`` on its own line, so line numbers never move;
a private key block is redacted line by line from BEGIN to END. The report keeps path, line and
type, never the value. Only the plugins' regular expressions are used: nothing is verified
against a remote service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import (
    QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
    REGEX_BY_FILETYPE,
    KeywordDetector,
)
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector
from detect_secrets.util.filetype import FileType, determine_file_type

from reviewer.pack.model import SecretHit

# Each plugin with the literals one of which must be on any line it can match ("triggers"):
# lines without one are never handed to its (slow) regular expressions. Lowercase triggers are
# looked for in the lowercased text; ``None`` means the plugin's own patterns are fast enough to
# search the whole text.
_KEY_WORDS = ("key", "pwd", "pass", "token")
_REGEX_PLUGINS: list[tuple[RegexBasedDetector, tuple[str, ...] | None, tuple[str, ...]]] = [
    (AWSKeyDetector(), ("akia", "a3t", "abia", "acca", "asia", "aws"), ()),
    (ArtifactoryDetector(), (), ("AKC", "AP")),
    (AzureStorageKeyDetector(), ("accountkey",), ()),
    (BasicAuthDetector(), ("://",), ()),
    (CloudantDetector(), (*_KEY_WORDS, "pw", "cloudant"), ()),
    (DiscordBotTokenDetector(), None, ()),
    (GitHubTokenDetector(), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), ()),
    (GitLabTokenDetector(), ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-", "glptt-", "glagent-", "gloas-"), ()),
    (IbmCloudIamDetector(), _KEY_WORDS, ()),
    (IbmCosHmacDetector(), ("secret",), ()),
    (JwtTokenDetector(), ("eyj",), ()),
    (MailchimpDetector(), ("-us",), ()),
    (NpmDetector(), ("_authtoken",), ()),
    (OpenAIDetector(), ("sk-",), ()),
    (PypiTokenDetector(), ("pypi-",), ()),
    (SendGridDetector(), ("sg.",), ()),
    (SlackDetector(), ("xox", "hooks.slack.com"), ()),
    (SoftlayerDetector(), (*_KEY_WORDS, "softlayer"), ()),
    (SquareOAuthDetector(), ("sq0csp",), ()),
    (StripeDetector(), ("k_live_",), ()),
    (TelegramBotTokenDetector(), None, ()),
    (TwilioKeyDetector(), (), ("AC", "SK")),
]
_KEYWORD = KeywordDetector()
# every word of the keyword plugin's DENYLIST (api_?key, password, pwd, secret, ...) contains one
# of these
_KEYWORD_TRIGGERS = ("key", "pass", "pwd", "secret", "contrase")
_KEY_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----|PuTTY-User-Key-File-\d")
_KEY_END = re.compile(r"-----END[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----")
_MIN_SECRET = 6  # shorter "values" are placeholders, not secrets worth a marker


@dataclass
class Redacted:
    text: str
    hits: list[SecretHit]


def _slug(kind: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")


def redact(path: str, text: str) -> Redacted:
    """Return ``text`` with every secret found replaced in place, and where each one was."""
    if not text:
        return Redacted(text, [])
    lines: list[str] | None = None
    hits: list[SecretHit] = []

    def get_lines() -> list[str]:
        nonlocal lines
        if lines is None:
            lines = text.split("\n")
        return lines

    # 1. private key blocks, whole
    if _KEY_BEGIN.search(text):
        ls = get_lines()
        i = 0
        while i < len(ls):
            if _KEY_BEGIN.search(ls[i]):
                j = i
                while j < len(ls) and not _KEY_END.search(ls[j]) and j - i < 200:
                    j += 1
                end = j if j < len(ls) else i
                for k in range(i, end + 1):
                    indent = ls[k][: len(ls[k]) - len(ls[k].lstrip())]
                    ls[k] = f"{indent}[REDACTED:private-key]"
                hits.append(SecretHit(path, i + 1, "private-key"))
                i = end + 1
            else:
                i += 1

    # 2. token-shaped secrets, on the lines that carry one of the plugin's triggers
    lowered = text.lower()
    finder = _LineFinder(text, lowered)
    for plugin, lower_triggers, exact_triggers in _REGEX_PLUGINS:
        if lower_triggers is None:
            if not any(rx.search(text) for rx in plugin.denylist):
                continue
            candidates = finder.all_lines()
        else:
            candidates = finder.lines_with(lower_triggers, exact_triggers)
        if not candidates:
            continue
        ls = get_lines()
        kind = _slug(plugin.secret_type)
        for n in candidates:
            values = set(_regex_values(plugin, ls[n]))
            if values:
                ls[n] = _replace(ls[n], values, kind)
                hits.append(SecretHit(path, n + 1, kind))

    # 3. passwords and keys assigned to suspicious names
    candidates = finder.lines_with(_KEYWORD_TRIGGERS, ())
    if candidates:
        ls = get_lines()
        filetype = determine_file_type(path)
        if filetype == FileType.OTHER and _is_env_file(path):
            filetype = FileType.CONFIG
        groups = REGEX_BY_FILETYPE.get(filetype, QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP)
        for n in candidates:
            line = ls[n]
            if "[REDACTED:" in line:
                continue
            values = {
                v
                for v in _KEYWORD.analyze_string(line, denylist_regex_to_group=groups)
                if isinstance(v, str) and len(v) >= _MIN_SECRET and not _looks_like_placeholder(v)
                and not _names_itself(line, v)
            }
            if values:
                ls[n] = _replace(line, values, "password-or-key", last_only=True)
                hits.append(SecretHit(path, n + 1, "password-or-key"))

    if lines is None:
        return Redacted(text, [])
    hits.sort(key=lambda h: (h.line, h.kind))
    return Redacted("\n".join(lines), hits)


class _LineFinder:
    """Which lines (0-based) of a text contain given literals; found with ``str.find`` and
    ``str.count``, far faster than a case-insensitive alternation in ``re``."""

    def __init__(self, text: str, lowered: str) -> None:
        self._text = text
        self._lowered = lowered
        self._found: dict[tuple[bool, str], list[int]] = {}

    def _offsets(self, needle: str, exact: bool) -> list[int]:
        key = (exact, needle)
        if key not in self._found:
            haystack = self._text if exact else self._lowered
            out = []
            i = haystack.find(needle)
            while i != -1:
                out.append(i)
                i = haystack.find(needle, i + 1)
            self._found[key] = out
        return self._found[key]

    def all_lines(self) -> list[int]:
        return list(range(self._text.count("\n") + 1))

    def lines_with(self, lower: tuple[str, ...], exact: tuple[str, ...]) -> list[int]:
        offsets: list[int] = []
        for needle in lower:
            offsets.extend(self._offsets(needle, False))
        for needle in exact:
            offsets.extend(self._offsets(needle, True))
        if not offsets:
            return []
        offsets.sort()
        lines: list[int] = []
        line, pos = 0, 0
        for off in offsets:
            line += self._text.count("\n", pos, off)
            pos = off
            if not lines or lines[-1] != line:
                lines.append(line)
        return lines


def _regex_values(plugin: RegexBasedDetector, line: str) -> list[str]:
    """The secret values a plugin's patterns match in ``line``: the capture group when it holds
    the value (``aws_secret = "<value>"``), the whole match when the groups only name a prefix
    (``(ghp|gho)_...``)."""
    out = []
    for rx in plugin.denylist:
        for m in rx.finditer(line):
            groups = [g for g in m.groups() if g]
            value = groups[-1] if groups and len(groups[-1]) >= _MIN_SECRET else m.group(0)
            if len(value) >= _MIN_SECRET:
                out.append(value)
    return out


def _replace(line: str, values: set[str], kind: str, *, last_only: bool = False) -> str:
    """Put the marker where each value stands; with ``last_only`` only its last occurrence (the
    assigned value, not a key that happens to contain the same word)."""
    for value in sorted(values, key=len, reverse=True):
        if last_only:
            at = line.rfind(value)
            line = line[:at] + f"[REDACTED:{kind}]" + line[at + len(value) :]
        else:
            line = line.replace(value, f"[REDACTED:{kind}]")
    return line


def _names_itself(line: str, value: str) -> bool:
    """``"detect-secrets": "secrets"``: a value that also appears inside its own key is a name."""
    first = line.lower().find(value.lower())
    return first != -1 and first < line.rfind(value)


def _is_env_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


# ${VAR}, <placeholder>, {{ template }}, %(name)s, xxxx, ****, and names of environment variables
# (``api_key_env = "DEEPSEEK_API_KEY"`` names where a key lives; it is not one)
_PLACEHOLDER = re.compile(
    r"^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|\{\{.*\}\}|%\(?[a-z_]*\)?s|[xX]+|\*+|changeme|[A-Z][A-Z0-9]*(_[A-Z0-9]+)+)$"
)


# ``password = os.environ["X"]``, ``secret = get_secret(`` : a reference to a value, not a value
_INDIRECT = re.compile(r"^[\w.]+[\[(]")


def _looks_like_placeholder(value: str) -> bool:
    value = value.strip()
    return bool(_PLACEHOLDER.match(value) or _INDIRECT.match(value))
