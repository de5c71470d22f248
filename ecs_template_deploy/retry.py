"""Asking AWS again, on the tool's clock, until a deadline.

botocore already retries throttling and connection errors a few times within
one call. Once a deploy has changed the service, that is not enough: a failed
call must not end the tool while a rollout it started may be failing. The
`Retrier` asks again with exponential backoff (1 s, 2 s, 4 s ... at most
`max_delay`) on the clock it is given, so the harness's virtual clock drives it
too, and says once per streak that it is retrying and once that AWS answers
again.

What is asked again: throttling, 5xx, connection errors, lost replies, expired
credentials (their provider refreshes them) until the deadline; any other
refusal (a 4xx such as ClientException) `definite_attempts` times, because it
is usually a real answer. Access denied is never retried: permissions do not
heal on their own.

Only calls that may be repeated go through it: reads, UpdateService to one
task definition (a second identical update starts no deployment), TagResource,
DeregisterTaskDefinition. RegisterTaskDefinition creates something each time;
`deploy.register` repeats it only after looking for what the first try made.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from .clock import Clock
from .errors import AccessDeniedError, AwsError
from .events import ProgressEvent, Sink, discard

T = TypeVar("T")
FIRST_DELAY = 1.0
MAX_DELAY = 30.0
DEFINITE_ATTEMPTS = 3


class Retrier:
    def __init__(self, clock: Clock, sink: Sink = discard, *, first_delay: float = FIRST_DELAY,
                 max_delay: float = MAX_DELAY, definite_attempts: int = DEFINITE_ATTEMPTS) -> None:
        if first_delay <= 0 or max_delay < first_delay:
            raise ValueError(f"backoff needs 0 < first_delay <= max_delay, got {first_delay} and {max_delay}")
        if definite_attempts < 1:
            raise ValueError(f"definite_attempts must be at least 1, got {definite_attempts}")
        self.clock = clock
        self.sink = sink
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.definite_attempts = definite_attempts

    def call(self, fn: Callable[[], T], *, until: float, what: str) -> T:
        """`fn()` (which raises the error family, e.g. through `aws_call`), asked
        again after failures until `until` (epoch seconds on the tool's clock).
        Raises the last error when it gives up; `what` names the call in messages."""
        delay, definite, failing_since = self.first_delay, 0, None
        while True:
            try:
                result = fn()
            except AccessDeniedError:
                raise
            except AwsError as err:
                now = self.clock.now()
                definite += 0 if err.transient else 1
                if definite >= self.definite_attempts or now >= until:
                    if failing_since is not None:
                        err.args = (f"{err.args[0]} (still failing after {now - failing_since:.0f} s of retries)",)
                    raise
                if failing_since is None:
                    failing_since = now
                    self.sink(ProgressEvent("warning", now, f"{what}: {err}; retrying until {until - now:.0f} s from now",
                                            {"action": err.action, "code": err.code}))
                self.clock.sleep(min(delay, until - now))
                delay = min(delay * 2, self.max_delay)
            else:
                if failing_since is not None:
                    now = self.clock.now()
                    self.sink(ProgressEvent("action", now, f"{what}: AWS answered again after {now - failing_since:.0f} s"))
                return result
