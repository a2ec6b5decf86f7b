"""Keep tokens out of everything we post, print or write.

The forge token and the model key are never sent to the model, but a body is built from model
output and repository text, so every outgoing body and every line we print passes through a
``Scrubber``: the exact values of the secrets in use, and anything shaped like a GitHub or GitLab
token, are replaced.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

TOKEN_ENV = (
    "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "REVIEWER_GITLAB_TOKEN", "CI_JOB_TOKEN",
    "DEEPSEEK_API_KEY", "OPENAI_API_KEY", "REVIEWER_API_KEY", "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)
_SHAPES = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{22,255}|glpat-[A-Za-z0-9_\-]{20,}"
    r"|gl(?:dt|ft|soat|rt|cbt|imt|ptt|oas)-[A-Za-z0-9_\-]{20,})"
)
REPLACEMENT = "[REDACTED]"


class Scrubber:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # the longest first, so a secret containing another is replaced whole
        self._values = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, extra: Iterable[str | None] = ()) -> Scrubber:
        env = os.environ if environ is None else environ
        return cls([*(env.get(k) for k in TOKEN_ENV), *extra])

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 8 and secret not in self._values:
            self._values = sorted([*self._values, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REPLACEMENT)
        return _SHAPES.sub(REPLACEMENT, text)

    def __repr__(self) -> str:  # never show the values
        return f"Scrubber({len(self._values)} secret(s))"
