"""A review of one pull-request head, as data: what the posting step needs and nothing more.

It is what ``reviewer pr --no-post`` saves as ``results.json`` and what ``reviewer pr
--post-from DIR`` reads back in the privileged second stage of the fork workflow. That file comes
from a job that ran on the pull request's own workflow definition, so on reading it is treated as
hostile: sizes are capped, every finding is validated against the Finding schema, and the commit
ids are checked later against the forge itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reviewer.errors import InputError
from reviewer.findings import Finding, fingerprint
from reviewer.review.model import ReviewResult, Usage

VERSION = 1
MAX_FINDINGS = 500
MAX_BYTES = 20_000_000
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


@dataclass
class Bundle:
    forge: str
    repo: str
    number: int
    base_sha: str
    head_sha: str
    merge_base: str
    mode: str = "full"  # full | incremental
    since: str | None = None  # incremental: the head reviewed before
    findings: list[Finding] = field(default_factory=list)
    present: dict[str, bool] = field(default_factory=dict)  # earlier open fingerprint -> evidence still at head
    files_full: list[str] = field(default_factory=list)
    files_outline: list[str] = field(default_factory=list)
    files_listed: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)
    dropped: int = 0
    model_used: bool = False
    truncated: bool = False
    backend: str | None = None

    def result(self) -> ReviewResult:
        """The bundle as a ``ReviewResult``, for the SARIF and Markdown reporters."""
        return ReviewResult(
            findings=list(self.findings), notes=list(self.notes), usage=self.usage, model_used=self.model_used,
            files_full=list(self.files_full), files_outline=list(self.files_outline),
            files_listed=list(self.files_listed), truncated=self.truncated, backend=self.backend, chunks=1,
        )

    def to_json(self) -> str:
        data = asdict(self)
        data["findings"] = [f.model_dump(mode="json") for f in self.findings]
        data["version"] = VERSION
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Bundle:
        try:
            if path.stat().st_size > MAX_BYTES:
                raise InputError(f"{path.name} is larger than {MAX_BYTES:,} bytes")
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise InputError(f"{path.name} is not JSON: {exc}") from exc
        except RecursionError:
            raise InputError(f"{path.name} is nested too deeply to be a results file") from None
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> Bundle:
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise InputError("the saved review is not a reviewer results file of a known version")
        try:
            b = cls(
                forge=_choice(data["forge"], ("github", "gitlab")),
                repo=_text(data["repo"], 300),
                number=int(data["number"]),
                base_sha=_sha(data["base_sha"]),
                head_sha=_sha(data["head_sha"]),
                merge_base=_sha(data["merge_base"]),
                mode=_choice(data.get("mode", "full"), ("full", "incremental")),
                since=_sha(data["since"]) if data.get("since") else None,
                dropped=max(0, int(data.get("dropped") or 0)),
                model_used=bool(data.get("model_used")),
                truncated=bool(data.get("truncated")),
                backend=_text(data["backend"], 100) if data.get("backend") else None,
            )
            b.files_full, b.files_outline, b.files_listed = (
                _paths(data.get(k)) for k in ("files_full", "files_outline", "files_listed")
            )
            b.notes = [_text(n, 500) for n in (data.get("notes") or [])[:50]]
            b.usage = _usage(data.get("usage") or {})
            present = data.get("present") or {}
            if not isinstance(present, dict):
                raise ValueError("present")
            b.present = {str(k): bool(v) for k, v in list(present.items())[:1000] if re.fullmatch(r"[0-9a-f]{16}", str(k))}
            raw = data.get("findings") or []
            if not isinstance(raw, list) or len(raw) > MAX_FINDINGS:
                raise ValueError(f"findings (a list of at most {MAX_FINDINGS})")
            for item in raw:
                f = Finding.model_validate(item)
                # the fingerprint is ours to compute, never taken from the file
                f.fingerprint = fingerprint(f.category, f.path, f.evidence)
                b.findings.append(f)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise InputError(f"the saved review is malformed ({_why(exc)})") from None
        if b.number <= 0:
            raise InputError("the saved review names no pull request")
        return b


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"finding {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _text(value: Any, cap: int) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value[:cap]


def _choice(value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{value!r} is not one of {options}")
    return str(value)


def _sha(value: Any) -> str:
    if not isinstance(value, str) or not _SHA.match(value):
        raise ValueError(f"{str(value)[:50]!r} is not a commit id")
    return value


def _paths(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError("expected a list of paths")
    return [_text(v, 1000) for v in value[:20_000]]


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        raise TypeError("usage")
    u = Usage()
    for key in ("calls", "prompt_tokens", "cache_hit_tokens", "cache_miss_tokens", "completion_tokens",
                "reasoning_tokens", "retries"):
        setattr(u, key, max(0, int(raw.get(key) or 0)))
    u.cost_usd = max(0.0, float(raw.get("cost_usd") or 0.0))
    u.model = _text(raw.get("model") or "", 100)
    return u
