"""The server backend seen like the embedded one: a `HarnessServer` in this
process, with clients pointed at its URL. Tests still reach `.clock` and `.sim`
because the server thread shares the process."""
from __future__ import annotations

import contextlib
import time
from typing import Iterator
from unittest import mock

import boto3

from harness.backends.embedded import TEST_CREDENTIALS
from harness.server import HarnessServer


class ServedAws:
    simulated = True
    def __init__(self, server: HarnessServer):
        self.server = server
        self.session = boto3.Session(**TEST_CREDENTIALS)

    @property
    def clock(self):
        return self.server.sim.clock

    @property
    def sim(self):
        return self.server.sim

    def client(self, name: str):
        return self.session.client(name, endpoint_url=self.server.url)

    @contextlib.contextmanager
    def virtual_sleep(self) -> Iterator[None]:
        with mock.patch.object(time, "sleep", self.clock.sleep):
            yield
