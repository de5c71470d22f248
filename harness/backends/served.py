"""The server backend seen like the embedded one: a `HarnessServer` in this
process, with clients pointed at its URL. Tests still reach `.clock` and `.sim`
because the server thread shares the process."""
from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator
from unittest import mock

import boto3

from harness.backends.embedded import TEST_CREDENTIALS
from harness.clock import ScaledClock
from harness.ecs.simulator import Simulator
from harness.server import HarnessServer


class ServedAws:
    simulated = True
    def __init__(self, server: HarnessServer):
        self.server = server
        self.session = boto3.Session(**TEST_CREDENTIALS)

    @property
    def clock(self) -> ScaledClock:
        return self.server.clock

    @property
    def sim(self) -> Simulator:
        sim = self.server.sim
        assert sim is not None, "a ServedAws wraps a started HarnessServer"
        return sim

    def client(self, name: str) -> Any:
        return self.session.client(name, endpoint_url=self.server.url)  # type: ignore[call-overload]  # any service by name: the stubs type each by its literal name

    @contextlib.contextmanager
    def virtual_sleep(self) -> Iterator[None]:
        with mock.patch.object(time, "sleep", self.clock.sleep):
            yield
