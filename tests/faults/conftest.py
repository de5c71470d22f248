"""Fixtures of the pipeline tests: `harness serve` in a process of its own."""
from __future__ import annotations

import pytest

from harness.backends.remote import serve_process
from tests.faults.pipeline import SPEED


@pytest.fixture(scope="module")
def server_url():
    """One server per test module, at the pipeline's speed; each test resets it."""
    with serve_process(speed=SPEED) as url:
        yield url
