"""What a call costs, from the model table (USD per 1M tokens).

DeepSeek bills by time of day: the table holds the peak (list) prices, and hours outside
``peak_hours_utc`` are billed at ``off_peak_factor`` of them. The cost of a call is taken at the
moment its answer arrived; an estimate says which tier it used.
"""

from __future__ import annotations

from datetime import UTC, datetime

from reviewer.config import ModelInfo
from reviewer.review.model import Usage


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def is_peak(info: ModelInfo, at: datetime) -> bool:
    """Whether ``at`` falls in one of the model's peak ranges (always True without ranges)."""
    if not info.peak_hours_utc:
        return True
    at = at.astimezone(UTC)
    if info.peak_weekdays_only and at.weekday() >= 5:
        return False
    now = at.hour * 60 + at.minute
    for span in info.peak_hours_utc:
        start, end = (_minutes(p) for p in span.split("-"))
        if (start <= now < end) if start <= end else (now >= start or now < end):
            return True
    return False


def tier(info: ModelInfo, at: datetime | None = None) -> str | None:
    """"peak" or "off-peak" for a model billed by time of day, else None."""
    if not info.peak_hours_utc or info.off_peak_factor == 1.0:
        return None
    return "peak" if is_peak(info, at or datetime.now(UTC)) else "off-peak"


def factor(info: ModelInfo, at: datetime | None = None) -> float:
    """The multiplier on the table's prices at ``at`` (now by default)."""
    return 1.0 if is_peak(info, at or datetime.now(UTC)) else info.off_peak_factor


def cost(info: ModelInfo, *, hit: int = 0, miss: int = 0, output: int = 0, at: datetime | None = None) -> float:
    """USD for that many cache-hit and cache-miss prompt tokens and output tokens."""
    base = hit * info.input_cache_hit + miss * info.input_cache_miss + output * info.output
    return base * factor(info, at) / 1_000_000


def price(info: ModelInfo, usage: Usage, at: datetime | None = None) -> float:
    """The cost of a call's usage (reasoning tokens are part of the completion tokens)."""
    return cost(info, hit=usage.cache_hit_tokens, miss=usage.cache_miss_tokens, output=usage.completion_tokens, at=at)


def priced(info: ModelInfo) -> bool:
    return bool(info.input_cache_miss or info.output)
