from __future__ import annotations

import pytest

from reviewer.pack.stages import Stopwatch


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_stage_inside_another_is_not_counted_twice() -> None:
    clock = Clock()
    watch = Stopwatch(clock)
    with watch.stage("fit"):
        clock.now += 1.0
        with watch.stage("count"):
            clock.now += 2.0
        clock.now += 0.5
        with watch.stage("count"):
            clock.now += 0.25
    with watch.stage("render"):
        clock.now += 0.125
    assert watch.report() == {"fit": 1.5, "count": 2.25, "render": 0.125}
    assert sum(watch.report().values()) == clock.now


def test_report_follows_the_pack_order_then_new_names() -> None:
    clock = Clock()
    watch = Stopwatch(clock)
    for name in ("zeta", "render", "scan", "alpha"):
        with watch.stage(name):
            clock.now += 1
    assert list(watch.report()) == ["scan", "render", "alpha", "zeta"]


def test_begin_and_end_hold_a_stage_across_blocks_and_an_error_closes_it() -> None:
    clock = Clock()
    watch = Stopwatch(clock)
    watch.begin("close")
    with watch.stage("cache"):
        clock.now += 3
    clock.now += 1
    watch.end()
    with pytest.raises(RuntimeError), watch.stage("scan"):
        clock.now += 2
        raise RuntimeError("boom")
    clock.now += 7  # outside every stage: not counted
    assert watch.report() == {"scan": 2, "cache": 3, "close": 1}
