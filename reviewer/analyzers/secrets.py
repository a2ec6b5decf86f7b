"""secrets: hard-coded passwords, keys and tokens, by type and place, never by value.

Uses the packer's own detector (reviewer.security.secrets, no network verification), so each
finding sits exactly on a line the pack shows as ``[REDACTED:<type>]``. Values that look like
placeholders or examples are redacted all the same but not reported (tables.toml:
``needs_secret``; the judgement is reviewer.analyzers.credentials).
Runs in this process: it only applies regular expressions to text already read for evidence.
"""

from __future__ import annotations

import time

from reviewer.analyzers.base import Context, Hit
from reviewer.analyzers.evidence import SourceFile
from reviewer.analyzers.tables import classify


class Secrets:
    name = "secrets"
    install_hint = "built into reviewer"

    def wants(self, path: str) -> bool:
        return True

    def run(self, ctx: Context, paths: list[str]) -> list[Hit]:
        hits: list[Hit] = []
        for done, path in enumerate(paths):
            if time.monotonic() > ctx.deadline:
                ctx.notes.append(f"secrets: stopped at the time limit after {done} of {len(paths)} files")
                break
            file = ctx.read(path)
            if not isinstance(file, SourceFile):
                continue
            for secret in file.secrets:
                rule = classify("secrets", secret.kind)
                title = rule.title or f"Hard-coded secret ({secret.kind})"
                hits.append(
                    Hit(
                        path=path,
                        start_line=secret.line,
                        end_line=secret.line,
                        rule=secret.kind,
                        title=title,
                        message=f"{title}: a {secret.kind} value is written in the source. Move it to "
                        "a secret store or the environment, and rotate it if it is real.",
                        category=rule.category,
                        severity=rule.severity,
                        confidence=rule.confidence,
                        cwe=rule.cwe,
                        related_cwe=rule.related,
                    )
                )
        return hits
