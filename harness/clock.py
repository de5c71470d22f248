"""Virtual time for the simulator: nothing in the harness waits on the wall clock.

`VirtualClock` holds the current time (epoch seconds) and a queue of callbacks.
`sleep(seconds)` advances time, running every callback that falls due, in time
order (ties broken by scheduling order, so runs are deterministic).
`ScaledClock` is the one variant that reads real time, for `harness serve`:
virtual time runs at `speed` x wall time and can still be jumped forward.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from datetime import datetime, timezone
from typing import Callable

# 2026-01-01T00:00:00Z: a fixed start makes timelines reproducible byte for byte.
DEFAULT_START = 1767225600.0


class ClockError(ValueError):
    """A clock was asked something impossible (negative delay, runaway run)."""


class Timer:
    """A scheduled callback; `cancel()` makes it a no-op."""

    __slots__ = ("when", "seq", "callback", "cancelled")

    def __init__(self, when: float, seq: int, callback: Callable[[], None]):
        self.when = when
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: "Timer") -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class VirtualClock:
    def __init__(self, start: float = DEFAULT_START):
        self._now = float(start)
        self._queue: list[Timer] = []
        self._seq = itertools.count()
        # Re-entrant: a callback may schedule more callbacks or read the time.
        self.lock = threading.RLock()

    def now(self) -> float:
        return self._now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        with self.lock:
            timer = Timer(max(float(when), self._now), next(self._seq), callback)
            heapq.heappush(self._queue, timer)
            return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        if delay < 0:
            raise ClockError(f"negative delay {delay}: schedule at or after now")
        return self.call_at(self._now + delay, callback)

    def sleep(self, seconds: float) -> None:
        """Advance virtual time by `seconds`, running what falls due."""
        if seconds < 0:
            raise ClockError(f"negative sleep {seconds}")
        with self.lock:
            self._advance_to(self._now + seconds)

    def _advance_to(self, target: float) -> None:
        while self._queue and self._queue[0].when <= target:
            timer = heapq.heappop(self._queue)
            if timer.cancelled:
                continue
            self._now = max(self._now, timer.when)
            timer.callback()
        self._now = max(self._now, target)

    def run_until(self, until: float | Callable[[], bool], limit: float = 86400.0, step: float = 1.0) -> bool:
        """Advance to a time, or until `until()` is true (checked every `step`
        virtual seconds). Gives up after `limit` seconds and returns False."""
        with self.lock:
            if not callable(until):
                self._advance_to(float(until))
                return True
            deadline = self._now + limit
            while not until():
                if self._now >= deadline:
                    return False
                self._advance_to(min(deadline, self._now + step))
            return True


class SkewedClock:
    """A CD runner's clock, `skew` seconds off another clock (AWS's, the virtual one)
    but ticking with it: what a runner whose clock is wrong sees."""

    def __init__(self, clock, skew: float) -> None:
        self.clock, self.skew = clock, skew

    def now(self) -> float:
        return self.clock.now() + self.skew

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)


class ScaledClock(VirtualClock):
    """Virtual time that runs at `speed` x wall time (`harness serve`).

    `sleep`/`advance` jump virtual time forward at once; wall time keeps adding
    `speed` seconds per second (speed 0: paused, only sleeps move time, so a
    run's times do not depend on how long the machine took). Callbacks run when someone calls `catch_up()`
    (the server's driver thread, and every API request before it answers).
    """

    def __init__(self, speed: float = 60.0, start: float = DEFAULT_START, wall: Callable[[], float] = time.monotonic):
        if speed < 0:
            raise ClockError(f"speed {speed} must be 0 (paused) or more")
        super().__init__(start)
        self._wall = wall
        self._anchor_wall = wall()
        self._anchor_virtual = float(start)
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def _target(self) -> float:
        return self._anchor_virtual + (self._wall() - self._anchor_wall) * self._speed

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ClockError(f"speed {speed} must be 0 (paused) or more")
        with self.lock:
            self.catch_up()
            self._anchor_wall, self._anchor_virtual, self._speed = self._wall(), self._now, float(speed)

    def catch_up(self) -> None:
        """Run everything due up to the current scaled time."""
        with self.lock:
            self._advance_to(self._target())

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ClockError(f"negative sleep {seconds}")
        with self.lock:
            self.catch_up()
            self._anchor_virtual += seconds
            self._advance_to(self._target())
