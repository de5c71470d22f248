"""Embedded AWS: moto's in-process mock with the ECS simulator installed.

    with EmbeddedAws(seed=1) as aws:
        ecs = aws.client("ecs")
        ...
        aws.clock.sleep(600)        # ten virtual minutes, no wall time
"""
from __future__ import annotations

import contextlib
import os
import time
from typing import Iterator
from unittest import mock

import boto3
from moto import mock_aws

from harness import moto_compat
from harness.clock import VirtualClock
from harness.ecs import api
from harness.ecs.params import Params
from harness.ecs.simulator import Simulator

REGION = "us-east-1"
ACCOUNT = "123456789012"
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}


class EmbeddedAws:
    simulated = True  # behaviours are declared to `sim`, and time is `clock`'s
    def __init__(self, clock: VirtualClock | None = None, seed: int = 0, params: Params | None = None):
        self.clock = clock or VirtualClock()
        self.seed = seed
        self.params = params or Params()
        self.sim: Simulator | None = None
        self._mock = None
        self._env = None

    def __enter__(self) -> "EmbeddedAws":
        # Credentials in the environment only for the mock's lifetime: no real
        # AWS profile can leak into an emulated run. Nor an endpoint: with
        # AWS_ENDPOINT_URL set (a shell pointed at `harness serve`, `harness
        # rehearse` reading from one), clients would send the emulated run's
        # writes there instead of to the mock.
        self._env = mock.patch.dict(os.environ, {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION, "AWS_SESSION_TOKEN": "testing",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        })
        self._env.start()
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):  # restored with the rest when the mock stops
            os.environ.pop(name, None)
        self._mock = mock_aws()
        self._mock.start()
        moto_compat.install()
        self.sim = Simulator(self.clock, self.seed, self.params)
        api.install(self.sim)
        self.session = boto3.Session(**TEST_CREDENTIALS)
        return self

    def __exit__(self, *exc) -> None:
        api.uninstall(self.sim)
        self.sim.close()
        self._mock.stop()
        self._env.stop()

    def client(self, name: str):
        return self.session.client(name)

    @contextlib.contextmanager
    def virtual_sleep(self) -> Iterator[None]:
        """Make `time.sleep` advance the virtual clock (for botocore waiters,
        which sleep with `time.sleep`)."""
        with mock.patch.object(time, "sleep", self.clock.sleep):
            yield
