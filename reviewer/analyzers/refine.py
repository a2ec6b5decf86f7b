"""Each tool's raw result judged in its context, before it becomes a finding.

- A comment that silences a check for one tool silences its twin in the other: ``# noqa: S608``
  also covers bandit's B608, ``# nosec B608`` ruff's S608 (each tool honours only its own).
- Rules with ``not_when_code`` are dropped where the statement proves the tool wrong (bandit's
  B113 flags ``requests.get(url, timeout=config.get("timeout", 30))``: any timeout not a literal).
- Rules marked ``needs_secret`` (hard-coded passwords) are kept only where the secret scanner
  found a value on the statement and judged it real: ``password="test"``, ``SECRET_KEY=None``,
  ``"changeme"`` and AWS's example key are not credentials.
- Rules with ``low_when_code`` drop to low when the statement matches (``exec(compile(f.read()...``
  loads a file the program chose; ``app.run(debug=True, host="127.0.0.1")`` is a local server);
  rules with ``low_unless_file`` when nothing in the file matches (``el.innerHTML = html`` in a
  script that reads no input).
- Findings in tests, docs, examples and CI or local-development configuration are shown at low
  at most: a test's fake credentials, its ``debug=True`` or its deliberate ``eval``, the password
  of a throwaway database in a CI job, are not what a reader of the report is looking for.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cache

from reviewer.analyzers.base import Hit
from reviewer.analyzers.evidence import MAX_EVIDENCE_LINES, SourceFile
from reviewer.analyzers.tables import bandit_twin, classify
from reviewer.findings import Severity
from reviewer.pack.roles import APART, apart_role

_NOQA = re.compile(r"#\s*noqa(?P<codes>:[\s,A-Z0-9-]+)?", re.IGNORECASE)
_NOSEC = re.compile(r"#\s*nosec\b(?P<codes>[:\s]*(?:B\d+[\s,]*)+)?", re.IGNORECASE)


@dataclass
class Refined:
    hit: Hit
    note: str | None = None  # a sentence for the explanation: why the severity was lowered


@dataclass
class Tally:
    """What refining changed, for one line in the run's notes."""

    dropped: Counter[str] = field(default_factory=Counter)  # reason -> results not reported

    def note(self, apart: int) -> str | None:
        """The line for the notes; ``apart``: findings in tests, docs and the like."""
        parts = []
        if apart:
            parts.append(f"{apart} finding(s) in tests, docs, examples or CI files shown at low at most")
        if self.dropped:
            parts.append(
                "not reported: " + ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items()))
            )
        return f"analyzers: {'; '.join(parts)}" if parts else None


def refine(analyzer: str, hit: Hit, file: SourceFile | None, tally: Tally) -> Refined | None:
    """``hit`` as it should be reported (maybe at a lower severity, with a note saying why), or
    None when it is not worth a finding (counted in ``tally``)."""
    start, end = context(hit, file)
    code = "\n".join(file.lines[start - 1 : end]) if file is not None else ""
    if suppressed(analyzer, hit.rule, code):
        tally.dropped["silenced by a # noqa or # nosec comment"] += 1
        return None
    rule = classify(analyzer, hit.rule)
    if rule.not_when_code and _regex(rule.not_when_code).search(code):
        tally.dropped["result(s) the statement itself contradicts"] += 1
        return None
    if rule.needs_secret and (file is None or not file.real_secret(start, end)):
        tally.dropped["hard-coded-secret result(s) on a placeholder, empty or example value"] += 1
        return None
    notes: list[str] = []
    severity = hit.severity
    if _above_low(severity) and rule.low_when_code and _regex(rule.low_when_code).search(code):
        severity = Severity.low.value
        notes.append("Shown at low: the code reads as deliberate (a file the program chose, a literal, a local address).")
    if (
        _above_low(severity)
        and rule.low_unless_file
        and file is not None
        and not _regex(rule.low_unless_file).search(file.text())
    ):
        severity = Severity.low.value
        notes.append(
            "Shown at low: nothing in this file reads input (URL, referrer, cookies, storage, messages, a request)."
        )
    where = apart_role(hit.path)
    if where is not None and _above_low(severity):
        severity = Severity.low.value
        notes.append(f"Shown at low: the file is part of the {APART[where]}, not the shipped code.")
    if severity == hit.severity:
        return Refined(hit)
    return Refined(replace(hit, severity=severity), " ".join(notes))


def context(hit: Hit, file: SourceFile | None) -> tuple[int, int]:
    """The lines a hit is judged and quoted on: its statement when that is short, else its own."""
    unit = file.unit(hit.start_line) if file is not None else None
    if unit is not None and unit[1] - unit[0] < MAX_EVIDENCE_LINES:
        return unit
    return hit.start_line, max(hit.start_line, hit.end_line)


def suppressed(analyzer: str, rule: str, code: str) -> bool:
    """A comment in ``code`` that the other tool of a ruff/bandit pair honours, or (for our own
    ast-grep rules on Python) any ``# noqa``/``# nosec`` naming the rule or nothing."""
    twin = bandit_twin(analyzer, rule)
    if analyzer == "bandit" and twin:
        return any(_names(m.group("codes"), twin) for m in _NOQA.finditer(code))
    if analyzer == "ruff" and twin:
        return any(_names(m.group("codes"), twin) for m in _NOSEC.finditer(code))
    if analyzer == "ast-grep" and rule.startswith("py-"):
        return any(_names(m.group("codes"), rule) for rx in (_NOQA, _NOSEC) for m in rx.finditer(code))
    return False


def _names(codes: str | None, rule: str) -> bool:
    """A suppression comment's code list covers ``rule`` (no list: it covers everything)."""
    if not codes:
        return True
    return rule.upper() in {c.upper() for c in re.split(r"[\s,:]+", codes) if c}


def _above_low(severity: str) -> bool:
    return Severity(severity).rank > Severity.low.rank


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
