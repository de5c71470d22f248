"""pytest fixtures for the AWS backends (imported by `harness.plugin`).

`aws`: an object with `.clock`, `.sim`, `.session`, `.client(name)` and
`.virtual_sleep()`. With `--backend moto` (default) it is a fresh
`EmbeddedAws` per test; with `--backend server` one `HarnessServer` per
session (per xdist worker), reset before each test.
`aws_seed` and `aws_params` are meant to be overridden by a test module.
"""
from __future__ import annotations

import pytest

from harness.backends.embedded import EmbeddedAws
from harness.backends.served import ServedAws
from harness.ecs.params import Params


@pytest.fixture
def aws_seed() -> int:
    return 0


@pytest.fixture
def aws_params() -> Params:
    return Params()


@pytest.fixture(scope="session")
def harness_server(request):
    from harness.server import HarnessServer

    # speed 1: the wall clock adds little; tests advance virtual time themselves.
    with HarnessServer(speed=1.0) as server:
        yield server


@pytest.fixture
def aws(request, aws_seed, aws_params):
    from harness.plugin import refuse_embedded_after_served
    from harness.plugin.state import backend_key

    backend = request.config.stash.get(backend_key, "moto")
    if backend == "moto":
        refuse_embedded_after_served(request.config)
        with EmbeddedAws(seed=aws_seed, params=aws_params) as embedded:
            yield embedded
        return
    if backend == "server":
        server = request.getfixturevalue("harness_server")
        server.params = aws_params
        server.reset(seed=aws_seed)
        yield ServedAws(server)
        server.check()
        return
    if backend == "localstack":
        from harness.backends.localstack import not_measured_reason

        pytest.skip(not_measured_reason())  # these tests drive the simulator's clock, which LocalStack has not
    if backend == "aws":
        from harness.backends.real_aws import NOT_MEASURED

        pytest.skip(NOT_MEASURED)
    raise pytest.UsageError(f"the aws fixture serves --backend moto or server, not {backend}")
