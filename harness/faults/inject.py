"""Fault injection at botocore's seams, on the session a tool under test uses.

`FaultInjector(session, fault, at=N)` counts the API calls made through the
session (each call once, whatever botocore retries inside it) and makes the
N-th one (and, for an outage, every one after it for a while) go wrong the way
AWS and networks do:

| kind | what happens | applied by AWS? |
|---|---|---|
| throttle | ThrottlingException (400) after botocore's own retries gave up | no |
| server-error | ServiceUnavailable (503) | no |
| connection | EndpointConnectionError: AWS never reached | no |
| lost-reply | the call is applied, its reply is lost (ReadTimeoutError) | yes |
| lost-reply-retried | the reply is lost inside botocore, which retries the call | yes, twice |
| expired-token | ExpiredTokenException: the session's credentials ran out | no |
| client-error | a non-retryable ClientException (400) | no |
| kill-before | the process dies before the call is sent | no |
| kill-after | the process dies after the call was applied, before it reads the reply | yes |
| sigterm | SIGTERM (a cancelled CI job) just before the call: the tool unwinds, says where things stand and prints `next:` | no |
| outage | every call fails (503) from the N-th on, for `outage_seconds` of the clock | no |

Errors are answered from botocore's `before-call` event (as IAM or a
throttled endpoint would), a lost reply is raised from `after-call`, a reply
botocore retries is lost from `before-send` after the request went through.
A kill raises `Killed`, a BaseException no handler of the tool catches (as
with SIGKILL; `finally` blocks still run, which SIGKILL would not do: the
subprocess tests in tests/faults use a real SIGKILL).
"""
from __future__ import annotations

import enum
import signal
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from ecs_template_deploy.cli import Stopped

ENDPOINT = "https://ecs.us-east-1.amazonaws.com/"


class Fault(str, enum.Enum):
    """A way an AWS call fails. Its value, the name in kebab case, names it in a case's
    id and on the bench's command line."""

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> str:
        return name.lower().replace("_", "-")

    THROTTLE = enum.auto()
    SERVER_ERROR = enum.auto()
    CONNECTION = enum.auto()
    LOST_REPLY = enum.auto()
    LOST_REPLY_RETRIED = enum.auto()
    EXPIRED_TOKEN = enum.auto()
    CLIENT_ERROR = enum.auto()
    KILL_BEFORE = enum.auto()
    KILL_AFTER = enum.auto()
    SIGTERM = enum.auto()
    OUTAGE = enum.auto()

    @property
    def kills(self) -> bool:
        return self in (Fault.KILL_BEFORE, Fault.KILL_AFTER)


# kind -> (HTTP status, error code, message) for the faults answered as errors
ANSWERS = {
    Fault.THROTTLE: (400, "ThrottlingException", "Rate exceeded"),
    Fault.SERVER_ERROR: (503, "ServiceUnavailable", "Service is unavailable, please try again later"),
    Fault.OUTAGE: (503, "ServiceUnavailable", "Service is unavailable, please try again later"),
    Fault.EXPIRED_TOKEN: (400, "ExpiredTokenException", "The security token included in the request is expired"),
    Fault.CLIENT_ERROR: (400, "ClientException", "Injected: the server refused the request"),
}


class Killed(BaseException):
    """The process died at this line."""


@dataclass
class FaultInjector:
    """Attach to `session`; the `at`-th API call through it (1-based) gets `fault`."""

    session: Any
    fault: Fault
    at: int
    now: Callable[[], float] = lambda: 0.0  # the clock an outage is measured on
    outage_seconds: float = float("inf")
    operation: str | None = None  # count only calls of this operation ("RunTask"): the at-th of them
    calls: list[str] = field(default_factory=list)  # "service.Operation" of every call, in order
    fired: list[str] = field(default_factory=list)  # the calls the fault hit
    _outage_since: float | None = None

    def __post_init__(self) -> None:
        events = self.session.events
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)
        events.register("before-send", self._before_send)
        self._sending: str | None = None

    def _number(self) -> int:
        """Where the latest call stands in the count the fault's `at` refers to (0: not counted)."""
        if self.operation is None:
            return len(self.calls)
        if not self.calls[-1].endswith(f".{self.operation}"):
            return 0
        return sum(1 for call in self.calls if call.endswith(f".{self.operation}"))

    def _hit(self) -> bool:
        number = self._number()
        if self.fault is Fault.OUTAGE:
            if number == self.at:
                self._outage_since = self.now()
            return self._outage_since is not None and self.now() - self._outage_since < self.outage_seconds
        return number == self.at

    def _before_call(self, model: Any, **_: Any) -> Any:
        self.calls.append(f"{model.service_model.endpoint_prefix}.{model.name}")
        if not self._hit():
            return None
        self.fired.append(self.calls[-1])
        if self.fault is Fault.KILL_BEFORE:
            raise Killed(self.calls[-1])
        if self.fault is Fault.SIGTERM:  # what the tool's own SIGTERM handler raises, at this line
            raise Stopped(signal.SIGTERM)
        if self.fault is Fault.CONNECTION:
            raise EndpointConnectionError(endpoint_url=ENDPOINT)
        if self.fault is Fault.LOST_REPLY_RETRIED:
            self._sending = self.calls[-1]  # lose the first reply of this call inside botocore
            return None
        if self.fault in ANSWERS:
            status, code, message = ANSWERS[self.fault]
            # botocore copies any mapping into its HeadersDict and reads no body from an error it is handed
            return AWSResponse(ENDPOINT, status, {}, None), {  # type: ignore[arg-type]
                "Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return None  # lost-reply, kill-after: the call goes through

    def _after_call(self, model: Any, **_: Any) -> None:
        if not self.fired or self.fired[-1] != self.calls[-1] or self._number() != self.at:
            return
        if self.fault is Fault.LOST_REPLY:
            raise ReadTimeoutError(endpoint_url=ENDPOINT)
        if self.fault is Fault.KILL_AFTER:
            raise Killed(self.calls[-1])

    def _before_send(self, request: Any, **_: Any) -> None:
        # Registered after moto's own before-send handler, which has applied the
        # request by now: losing the reply here makes botocore send it again.
        if self._sending is not None:
            self._sending = None
            raise ReadTimeoutError(endpoint_url=ENDPOINT)


@dataclass
class Meanwhile:
    """Run `action` (another command, to its end) just before the `at`-th API call
    through `session`: two CD jobs racing, seen at one interleaving."""

    session: Any
    at: int
    action: Callable[[], None]
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session.events.register("before-call", self._before_call)

    def _before_call(self, model: Any, **_: Any) -> None:
        self.calls.append(f"{model.service_model.endpoint_prefix}.{model.name}")
        if len(self.calls) == self.at:
            self.action()
