"""Costs from the model table, with DeepSeek's peak and off-peak hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reviewer.config import ModelInfo, load_settings
from reviewer.errors import ConfigError
from reviewer.llm import pricing
from reviewer.review.model import Usage

MON_PEAK = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # Monday 02:30 UTC
MON_OFF = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
SUN = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)


def shipped(model: str) -> ModelInfo:
    return load_settings(None, environ={}).model_info(model)


@pytest.mark.parametrize(("at", "tier", "usd"), [(MON_PEAK, "peak", 0.30), (MON_OFF, "off-peak", 0.15), (SUN, "off-peak", 0.15)])
def test_deepseek_time_of_day(at: datetime, tier: str, usd: float) -> None:
    info = shipped("deepseek-flash")
    assert pricing.tier(info, at) == tier
    assert pricing.cost(info, miss=1_000_000, at=at) == pytest.approx(usd)


def test_range_ends_are_exclusive() -> None:
    info = shipped("deepseek-v4-pro")
    assert pricing.is_peak(info, datetime(2026, 11, 23, 9, 59, tzinfo=UTC))
    assert not pricing.is_peak(info, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert not pricing.is_peak(info, datetime(2026, 11, 23, 4, 0, tzinfo=UTC))


def test_usage_price_counts_hits_misses_and_output() -> None:
    info = ModelInfo(input_cache_hit=0.01, input_cache_miss=1.0, output=2.0)
    usage = Usage(prompt_tokens=3_000_000, cache_hit_tokens=2_000_000, cache_miss_tokens=1_000_000,
                  completion_tokens=500_000, reasoning_tokens=400_000)
    assert pricing.price(info, usage, MON_PEAK) == pytest.approx(0.02 + 1.0 + 1.0)
    assert pricing.tier(info) is None  # one price at all hours


def test_legacy_flash_id_is_billed_like_flash() -> None:
    assert shipped("deepseek-v4-flash") == shipped("deepseek-flash")
    assert shipped("deepseek-v4-pro").input_cache_miss > shipped("deepseek-flash").input_cache_miss


def test_a_range_over_midnight_and_bad_ranges() -> None:
    info = ModelInfo(output=1.0, off_peak_factor=0.5, peak_hours_utc=["22:00-02:00"], peak_weekdays_only=False)
    assert pricing.is_peak(info, datetime(2026, 11, 22, 23, 0, tzinfo=UTC))
    assert pricing.is_peak(info, datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
    assert not pricing.is_peak(info, datetime(2026, 11, 22, 3, 0, tzinfo=UTC))
    with pytest.raises(ConfigError, match="peak_hours_utc"):
        load_settings(None, {"models": {"x": {"peak_hours_utc": ["1am-4am"]}}}, environ={})
