"""pytest fixtures for the AWS backends (registered by `harness.plugin`, as pytest-django keeps its fixtures in its plugin).

`aws`: an object with `.clock`, `.sim`, `.session`, `.client(name)` and
`.virtual_sleep()`. With `--backend moto` (default) it is a fresh
`EmbeddedAws` per test; with `--backend server` one `HarnessServer` per
session (per xdist worker), reset before each test. With `--backend aws`, or
`--backend localstack` where the LocalStack serves ECS, a scenario marked
``real_aws(budget=...)`` gets a `RealAws` of its own run (`.simulated` false,
`.sim` None: see `harness.backends.real_aws`); any other test is skipped with
the reason.
`aws_seed` and `aws_params` are meant to be overridden by a test module.
"""
from __future__ import annotations

import contextlib
import os
import sys

import pytest

from harness.backends.embedded import EmbeddedAws
from harness.backends.served import ServedAws
from harness.ecs.params import Params
from harness.plugin import refuse_embedded_after_served
from harness.plugin.state import aws_dry_run_key, backend_key, call_report_key, profile_key, real_aws_parts_key


@pytest.fixture
def aws_seed() -> int:
    return 0


@pytest.fixture
def aws_params(request: pytest.FixtureRequest) -> Params:
    """The simulator's parameters: --profile's (``fast`` without it); a test may override this fixture."""
    profile = request.config.stash.get(profile_key, None)
    return profile.params if profile is not None else Params()


@pytest.fixture(scope="session")
def harness_server(request):
    from harness.server import HarnessServer

    # speed 1: the wall clock adds little; tests advance virtual time themselves.
    with HarnessServer(speed=1.0) as server:
        yield server


@pytest.fixture
def aws(request, aws_seed, aws_params):
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
    if backend in ("localstack", "aws"):
        yield from _wall_clock(request, backend)
        return
    raise pytest.UsageError(f"the aws fixture serves --backend moto or server, not {backend}")


def _wall_clock(request, backend: str):
    """A scenario where tasks really run: real AWS, or a LocalStack that serves ECS
    (its tasks are Docker containers), reached through localstack-client's
    endpoint rules with every AWS client of the process pointed at it."""
    from harness.backends.docker_engine import NoDockerEngine
    from harness.backends.real_aws import DEFAULT_BUDGET, REAL_AWS, real_aws, real_parts, scenario_reason

    where, cleanup, env = REAL_AWS, "harness aws cleanup", {}
    if backend == "localstack":
        from harness.backends.localstack import LOCALSTACK, cleanup_command, endpoint_url, problem_here, process_env

        url = endpoint_url()
        problem = problem_here(url)
        if problem is not None:
            pytest.skip(problem)
        where, cleanup = LOCALSTACK, cleanup_command(url)
        env = process_env(url, os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    reason = scenario_reason(request.node.get_closest_marker, where)
    if reason is not None:
        pytest.skip(reason)
    try:
        parts = request.config.stash.get(real_aws_parts_key, real_parts)()
    except NoDockerEngine as err:
        pytest.skip(f"not measured on {where}: the scenario's images are built here with Docker, and {err}")
    marker = request.node.get_closest_marker("real_aws")
    budget = float(marker.kwargs.get("budget", DEFAULT_BUDGET)) * request.config.getoption("harness_aws_budget_scale")
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def say(line: str) -> None:
        """The run's lines (its id first: what `harness aws cleanup` needs if the run is killed) go
        to the terminal as they happen, not to the test's captured output."""
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(line, file=sys.stderr, flush=True)

    posing = request.config.stash.get(aws_dry_run_key, None)
    with pytest.MonkeyPatch.context() as patch, \
            posing.scenario(say) if posing else contextlib.nullcontext({}) as seen:
        for name, value in env.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        with real_aws(parts, request.node.nodeid, budget, out=say, where=where, cleanup=cleanup) as real:
            seen.update(run_id=real.run.id, budget=budget)
            yield real
            report = request.node.stash.get(call_report_key, None)
            if report is not None and report.failed:  # pytest does not throw a test's failure into its fixtures
                real.run.ended = "failed"
    run = real.run
    if run.failed:  # an error of the scenario's, not a pass: what is left costs money until removed
        pytest.fail(f"run {run.id}: teardown left {len(run.failed)} resource(s) on {where} "
                    f"({', '.join(str(item) for item, _ in run.failed)}): `{run.cleanup}` finishes the job",
                    pytrace=False)
