"""The Retrier: asks again on the tool's clock, for the right errors, until the deadline."""
from __future__ import annotations

import pytest

from ecs_template_deploy.clock import Clock
from ecs_template_deploy.errors import AccessDeniedError, AwsError
from ecs_template_deploy.events import ProgressEvent
from ecs_template_deploy.retry import Retrier


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    @property
    def clock(self) -> Clock:
        return Clock(lambda: self.t, self.sleep)


def failing(times: int, error: AwsError):
    state = {"left": times}

    def call():
        if state["left"]:
            state["left"] -= 1
            raise error
        return "answer"
    return call


THROTTLED = AwsError("ecs:DescribeServices failed: ThrottlingException: Rate exceeded", action="ecs:DescribeServices",
                     code="ThrottlingException", transient=True)
REFUSED = AwsError("ecs:UpdateService failed: ClientException: no", action="ecs:UpdateService", code="ClientException")


def test_transient_errors_are_asked_again_with_growing_waits_and_said_once():
    fake, events = FakeClock(), []
    retrier = Retrier(fake.clock, events.append)
    assert retrier.call(failing(7, THROTTLED), until=1000, what="reading") == "answer"
    assert fake.sleeps == [1, 2, 4, 8, 16, 30, 30]
    assert [(e.kind, e.message.split(":")[0]) for e in events] == [("warning", "reading"), ("action", "reading")]
    assert "answered again after 91 s" in events[-1].message


def test_a_definite_refusal_is_asked_again_only_a_few_times():
    fake = FakeClock()
    with pytest.raises(AwsError, match="still failing after 3 s"):
        Retrier(fake.clock).call(failing(5, REFUSED), until=1000, what="updating")
    assert fake.sleeps == [1, 2]


def test_access_denied_is_never_retried():
    fake = FakeClock()
    denied = AccessDeniedError("access denied calling ecs:UpdateService", action="ecs:UpdateService")
    with pytest.raises(AccessDeniedError):
        Retrier(fake.clock).call(failing(1, denied), until=1000, what="updating")
    assert fake.sleeps == []


def test_it_gives_up_at_the_deadline_on_its_clock():
    fake = FakeClock()
    with pytest.raises(AwsError, match="still failing after 100 s"):
        Retrier(fake.clock).call(failing(1000, THROTTLED), until=100, what="reading")
    assert sum(fake.sleeps) == 100  # the last wait is cut to the deadline


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="backoff"):
        Retrier(FakeClock().clock, first_delay=0)
    with pytest.raises(ValueError, match="definite_attempts"):
        Retrier(FakeClock().clock, definite_attempts=0)


def test_events_are_data():
    fake, events = FakeClock(), []
    Retrier(fake.clock, events.append).call(failing(1, THROTTLED), until=10, what="reading")
    assert isinstance(events[0], ProgressEvent) and events[0].data["code"] == "ThrottlingException"
