"""Time, passed in: the clock commands wait with, and AWS's own time.

Every component that waits takes a `Clock` (the harness passes its virtual
one). The CLI's clock is `AwsTime`'s: the local clock corrected by the `Date`
of AWS's answers, so a CD runner with a skewed clock measures bakes and
`--min-age`, stamps progress lines and compares with AWS's timestamps on AWS's
time. Known-good marks take AWS's own time for the steady state where it says
it (a deployment's `updatedAt`).
"""
from __future__ import annotations

import datetime as _dt
import email.utils
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Clock:
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


WALL = Clock()


class AwsTime:
    """AWS's time, as its answers' `Date` header says it, on a local clock's ticks.

    A CD runner's clock can be off from AWS's by minutes (or, against `harness
    serve`, run at another speed). Every time the tool compares with a time AWS
    wrote (a revision's `registeredAt` for `--min-age`, a service event's
    `createdAt`, a deployment's `updatedAt`) or writes one (progress lines,
    known-good marks), and every window it measures (a bake, a timeout), is on
    AWS's clock: the local clock plus the offset the last answers showed.

    `Date` has whole seconds: AWS's time is at or after it, by less than one
    second. The offset is the largest of those floors seen while they agree
    within `JUMP` seconds; a later time (the first answer, the runner's clock
    stepped back, a server running faster than the wall) replaces it at once,
    an earlier one once two answers say it (one late answer alone says an old
    time). Before any answer, the local clock as it is.
    """

    JUMP = 2.0

    def __init__(self, local: Clock = WALL) -> None:
        self.local = local
        self.offset = 0.0
        self.answers = 0
        self._lower: float | None = None  # a lower time one answer said, waiting for a second

    def now(self) -> float:
        return self.local.now() + self.offset

    def sleep(self, seconds: float) -> None:
        self.local.sleep(seconds)

    @property
    def clock(self) -> Clock:
        return Clock(self.now, self.sleep)

    def observe(self, http_response: Any = None, **_: Any) -> None:
        """botocore's `after-call` hook: read the answer's Date header."""
        headers = getattr(http_response, "headers", None) or {}
        said = headers.get("Date") or headers.get("date")
        if not said:
            return
        try:
            when = email.utils.parsedate_to_datetime(said)
        except (TypeError, ValueError, IndexError, OverflowError):
            return  # not a date: keep what the other answers said
        if when.tzinfo is None:  # "-0000": UTC, by RFC 5322
            when = when.replace(tzinfo=_dt.timezone.utc)
        at = when.timestamp()
        sample = at - self.local.now()
        if self.answers == 0 or sample > self.offset + self.JUMP:
            self.offset = sample
        elif sample < self.offset - self.JUMP:
            # An answer that comes late (a buffering proxy, a stalled connection) carries
            # an old Date, which alone would set AWS's time back and end a bake early: a
            # lower time counts only once a second answer agrees with it.
            if self._lower is not None and abs(sample - self._lower) <= self.JUMP:
                self.offset, self._lower = max(sample, self._lower), None
            else:
                self._lower = sample
        else:
            self.offset, self._lower = max(self.offset, sample), None
        self.answers += 1

    def attach(self, client: Any) -> Any:
        """Read AWS's time from every answer `client` gets; returns `client`."""
        client.meta.events.register("after-call", self.observe)
        return client


def iso(at: float) -> str:
    """Epoch seconds -> `2026-01-01T00:06:05Z` (strings of this one format order like the times)."""
    return _dt.datetime.fromtimestamp(at, _dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def epoch(value: _dt.datetime | float | str | None) -> float | None:
    """AWS timestamps arrive as datetimes from botocore; accept epoch numbers too."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
        return aware.timestamp()
    return float(value)
