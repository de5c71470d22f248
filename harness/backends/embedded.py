"""Embedded AWS: moto's in-process mock with the ECS simulator installed.

    with EmbeddedAws(seed=1) as aws:
        ecs = aws.client("ecs")
        ...
        aws.clock.sleep(600)        # ten virtual minutes, no wall time
"""
from __future__ import annotations

import contextlib
import email.utils
import os
import time
from typing import Any, Callable, Iterator, TypedDict
from unittest import mock

import boto3
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from harness import moto_compat
from harness.clock import VirtualClock
from harness.ecs import api
from harness.ecs.params import Params
from harness.ecs.simulator import Simulator

REGION = "us-east-1"
ACCOUNT = "123456789012"
class Credentials(TypedDict):
    """boto3.Session's keyword arguments for an emulated run."""

    aws_access_key_id: str
    aws_secret_access_key: str
    region_name: str


TEST_CREDENTIALS: Credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}


def cd_process_env(url: str) -> dict[str, str]:
    """The AWS settings a CD process (the tool, the AWS CLI, a team's script) needs to reach `url`."""
    return {"AWS_ENDPOINT_URL": url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _dated_by(clock: VirtualClock, answer: Callable[..., Any]) -> Callable[..., Any]:
    """moto's in-process answers, with the virtual clock's time in their Date header
    as `harness serve` and AWS give theirs (moto writes the wall clock's): a client
    that reads AWS's time from its answers (the deploy tool does) then agrees with
    the service events and timestamps it is shown."""
    def dated(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        response = answer(stubber, event_name, request, **kwargs)
        if response is not None:
            response.headers["Date"] = email.utils.formatdate(clock.now(), usegmt=True)
        return response
    return dated


class EmbeddedAws:
    simulated = True  # behaviours are declared to `sim`, and time is `clock`'s
    def __init__(self, clock: VirtualClock | None = None, seed: int = 0, params: Params | None = None):
        self.clock = clock or VirtualClock()
        self.seed = seed
        self.params = params or Params()
        self.sim: Simulator | None = None
        self._stack = contextlib.ExitStack()  # what __enter__ patched and started, undone in reverse by __exit__

    def __enter__(self) -> "EmbeddedAws":
        # Credentials in the environment only for the mock's lifetime: no real
        # AWS profile can leak into an emulated run. Nor an endpoint: with
        # AWS_ENDPOINT_URL set (a shell pointed at `harness serve`, `harness
        # rehearse` reading from one), clients would send the emulated run's
        # writes there instead of to the mock.
        stack = self._stack
        stack.enter_context(mock.patch.dict(os.environ, {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION, "AWS_SESSION_TOKEN": "testing",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        }))
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):  # restored with the rest when the mock stops
            os.environ.pop(name, None)
        stack.enter_context(mock_aws())
        stack.enter_context(mock.patch.object(BotocoreStubber, "__call__", _dated_by(self.clock, BotocoreStubber.__call__)))
        moto_compat.install()
        self.sim = sim = Simulator(self.clock, self.seed, self.params)
        stack.callback(sim.close)
        api.install(sim)
        stack.callback(api.uninstall, sim)
        self.session = boto3.Session(**TEST_CREDENTIALS)
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def client(self, name: str) -> Any:
        return self.session.client(name)  # type: ignore[call-overload]  # any service by name: the stubs type each by its literal name

    @contextlib.contextmanager
    def virtual_sleep(self) -> Iterator[None]:
        """Make `time.sleep` advance the virtual clock (for botocore waiters,
        which sleep with `time.sleep`)."""
        with mock.patch.object(time, "sleep", self.clock.sleep):
            yield
