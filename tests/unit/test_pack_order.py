"""Block order for prefix-cache reuse: stable in path order, then big seldom-changed before small
often-changed, uncommitted after, focused last; places move only when a file changes."""

from __future__ import annotations

from reviewer.pack.order import HALF_LIFE_DAYS, UNCOMMITTED, History, order_files, parse_log

DAY = 86400


def test_parse_log_weighs_recent_changes_more() -> None:
    since = 1_000 * DAY
    log = (
        f"\x01{since + 120 * DAY}\n\0a.py\0b.py\0"
        f"\x01{since + 60 * DAY}\n\0a.py\0"
        f"\x01{since - DAY}\n\0old.py\0"  # before the window: ignored
    )
    w = parse_log(log, since)
    assert set(w) == {"a.py", "b.py"}
    assert w["b.py"] == 2.0 ** (120 / HALF_LIFE_DAYS)
    assert w["a.py"] == w["b.py"] + 2.0
    assert parse_log("garbage\x01not-a-time\n\0x\0", since) == {}


def test_order_stable_then_volatile_then_uncommitted_then_focused() -> None:
    history = History("h", 0, {"big.py": 1.0, "small.py": 1.0, "hot.py": 8.0, "dirty.py": UNCOMMITTED})
    sizes = {"big.py": 5_000, "small.py": 100, "hot.py": 5_000, "dirty.py": 10, "b.py": 1, "a.py": 9}
    order = order_files([*sorted(sizes), "focus.py"], history, ["focus.py"], sizes)
    assert order == ["a.py", "b.py", "big.py", "hot.py", "small.py", "dirty.py", "focus.py"]


def test_only_the_changed_file_moves() -> None:
    sizes = {f"f{i}.py": 100 + i for i in range(20)}
    before = History("h1", 0, {p: 1.0 + i % 3 for i, p in enumerate(sizes)})
    after = History("h2", 0, {**before.changed, "f7.py": before.changed["f7.py"] + 4.0})
    a = order_files(sizes, before, (), sizes)
    b = order_files(sizes, after, (), sizes)
    assert [p for p in a if p != "f7.py"] == [p for p in b if p != "f7.py"]
    assert b.index("f7.py") >= a.index("f7.py")
