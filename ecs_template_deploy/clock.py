"""Time, passed in: the clock commands wait with, and AWS's own time.

Every component that waits takes a `Clock` (the harness passes its virtual
one). Times the tool writes into AWS (known-good marks) come from AWS itself
where it says them (a deployment's `updatedAt`), so a CD runner with a skewed
clock cannot reorder them.
"""
from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Clock:
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


WALL = Clock()


def iso(at: float) -> str:
    """Epoch seconds -> `2026-01-01T00:06:05Z` (strings of this one format order like the times)."""
    return _dt.datetime.fromtimestamp(at, _dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def epoch(value: Any) -> float | None:
    """AWS timestamps arrive as datetimes from botocore; accept epoch numbers too."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.timestamp()
    return float(value)
