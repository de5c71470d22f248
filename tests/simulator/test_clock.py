"""The virtual clock: time only moves when asked, callbacks run in order."""
from __future__ import annotations

import pytest

from harness.clock import DEFAULT_START, ClockError, ScaledClock, VirtualClock


def test_sleep_runs_due_callbacks_in_time_order_with_scheduling_order_breaking_ties():
    clock = VirtualClock()
    log = []
    clock.call_later(5, lambda: log.append(("b", clock.now() - DEFAULT_START)))
    clock.call_later(1, lambda: log.append(("a", clock.now() - DEFAULT_START)))
    clock.call_later(5, lambda: log.append(("c", clock.now() - DEFAULT_START)))
    clock.call_later(9, lambda: log.append(("late", 0)))
    clock.sleep(6)
    assert log == [("a", 1), ("b", 5), ("c", 5)]
    assert clock.now() == DEFAULT_START + 6


def test_callbacks_scheduled_by_callbacks_run_in_the_same_sleep():
    clock = VirtualClock(start=0)
    log = []
    clock.call_later(1, lambda: clock.call_later(1, lambda: log.append(clock.now())))
    clock.sleep(3)
    assert log == [2.0]


def test_cancelled_timer_does_not_run():
    clock = VirtualClock(start=0)
    log = []
    clock.call_later(1, lambda: log.append(1)).cancel()
    clock.sleep(2)
    assert log == []


def test_run_until_predicate_stops_at_first_true_or_gives_up_at_limit():
    clock = VirtualClock(start=0)
    flag = []
    clock.call_later(42, lambda: flag.append(True))
    assert clock.run_until(lambda: bool(flag), limit=100, step=1) is True
    assert clock.now() == 42
    assert clock.run_until(lambda: False, limit=10) is False
    assert clock.now() == 52


def test_negative_delays_are_refused_with_the_value():
    clock = VirtualClock()
    with pytest.raises(ClockError, match="negative delay -1"):
        clock.call_later(-1, lambda: None)


def test_scaled_clock_runs_at_speed_times_wall_and_can_jump():
    wall = [100.0]
    clock = ScaledClock(speed=60, start=0, wall=lambda: wall[0])
    log = []
    clock.call_at(90, lambda: log.append(clock.now()))
    wall[0] += 1.0          # one wall second = 60 virtual seconds
    clock.catch_up()
    assert clock.now() == 60 and log == []
    clock.sleep(30)         # a jump runs what falls due
    assert log == [90.0] and clock.now() == 90
    wall[0] += 0.5
    clock.catch_up()
    assert clock.now() == 120
