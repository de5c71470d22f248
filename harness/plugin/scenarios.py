"""The plugin's scenario part: the approaches as a parameter, and a world per
approach to run a claim in (``harness.worlds.approach``).

- A test that takes ``approach`` runs once per row of the table of approaches
  (``harness.approaches.TABLE``) and per approach described in an ``--approach
  FILE`` (only those with ``--only-approaches``), its id the approach's name; it
  gets the row.
- ``make_approach_world(terraform=...)`` builds the world on this worker's ``scenario_server``:

  * ``terraform=True``: the approach's real configuration, applied once per
    approach per worker and shared by the scenarios that follow (each brings it
    to the version it starts from with ``ensure_deployed``, so none depends on
    running after another). Never destroyed: the server goes with the worker.
  * ``terraform=False``: what needs no Terraform. The boto3 stand-in builds what
    the configuration would, fresh for the test; an approach without one (its
    CD runs Terraform) falls back to the shared Terraform world.
  * ``instance="worker"``: a second world of the approach in the same test (a
    release of two services); a Terraform one is applied beside the shared one
    and shared per instance in the same way.

  Without Terraform (not installed, or ``--no-terraform``) a scenario that needs
  it is skipped with the reason, and the report shows its cells as not measured.

The server's virtual time moves only when a scenario or CD sleeps (speed 0):
measured simulated seconds do not depend on how loaded the machine is. Each
scenario's wall time (Terraform, simulator, the rest) goes to the results as a
timing record for bench/compare.py.
"""
from __future__ import annotations

import contextlib
import math
import sys
import time
from typing import Any, Callable, Iterator

import pytest

from harness.approaches import Entry, NoStandIn, rows
from harness.plugin.measurements import Measurements
from harness.plugin.state import backend_key, profile_key
from harness.worlds.approach import ApproachWorlds, World, unique_name

SCENARIO_SPEED = 0.0  # virtual seconds per wall second on the scenarios' server: only sleeps move time


def phase_period(params: Any, poll: float = 5.0) -> float:
    """Seconds within which the simulator's periodic passes all repeat (the scheduler, target
    group and container health checks, hook callbacks, CD's poll; 60 at least, for target groups
    of a configuration's own): each scenario starts on a multiple of it (``HarnessServer.align``),
    so which scenarios ran before on this worker, and for how long, changes none of its seconds."""
    intervals = [params.scheduler_interval, params.tg_health_interval, params.container_health_interval,
                 params.hook_callback_delay, poll, 60.0]
    if not all(float(v).is_integer() and v > 0 for v in intervals):
        return 3600.0
    return float(min(math.lcm(*(int(v) for v in intervals)), 3600))


SENSITIVITY_ARG = "sensitivity_profile"  # a scenario taking it runs once per other bundled timing profile
QUICK_MODES = ("crash-at-once",)  # --sensitivity quick: the only column an approach without a stand-in replays


def other_profiles(config: pytest.Config) -> list[Any]:
    """The bundled timing profiles the sensitivity pass replays the matrix under: every one but the run's
    own; none without --sensitivity, or where tasks really run (their seconds are the backend's)."""
    from harness.ecs import profiles

    if config.getoption("harness_sensitivity", "off") == "off" or config.stash.get(backend_key, "moto") not in ("moto", "server"):
        return []
    own = config.stash.get(profile_key, None)
    return [profiles.load(name) for name in profiles.BUNDLED if own is None or name != own.name]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "approach" in metafunc.fixturenames:
        chosen = rows()
        if metafunc.config.getoption("harness_only_described", False):
            chosen = tuple(row for row in chosen if row.described)
        metafunc.parametrize("approach", [pytest.param(row, id=row.name) for row in chosen])
    if SENSITIVITY_ARG in metafunc.fixturenames:
        # None (deselected below) when there is no pass: an empty parameter list would read as a skip
        others = other_profiles(metafunc.config) or [None]
        metafunc.parametrize(SENSITIVITY_ARG, [pytest.param(p, id=p.name if p is not None else "none") for p in others])


def replayed_under_other_profile(item: pytest.Item) -> bool:
    """Does this sensitivity cell run? Not without a pass; with ``quick``, an approach without a boto3
    stand-in (its own Terraform world; 4a/4b's CD is Terraform) replays only ``QUICK_MODES``: each of its
    cells costs seconds of wall time."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or SENSITIVITY_ARG not in callspec.params:
        return True
    if callspec.params[SENSITIVITY_ARG] is None:
        return False
    approach, mode = callspec.params.get("approach"), callspec.params.get("mode")
    quick = item.config.getoption("harness_sensitivity", "off") == "quick"
    return not (quick and isinstance(approach, Entry) and not approach.stand_in
                and getattr(mode, "key", None) not in QUICK_MODES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--only-approaches``: the described approaches' scenarios only (the deploy
    tool's own scenarios, which take no approach, are deselected too); the sensitivity
    cells this run does not replay (``replayed_under_other_profile``)."""
    unreplayed = [item for item in items if not replayed_under_other_profile(item)]
    if unreplayed:
        config.hook.pytest_deselected(items=unreplayed)
        items[:] = [item for item in items if replayed_under_other_profile(item)]
    if not config.getoption("harness_only_described", False):
        return
    def replays_an_approach(item: pytest.Item) -> bool:
        callspec = getattr(item, "callspec", None)
        return callspec is not None and "approach" in callspec.params

    drop = [item for item in items if item.nodeid.startswith("scenarios/") and not replays_an_approach(item)]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item not in drop]


def terraform_problem(config: pytest.Config) -> str | None:
    """Why Terraform cannot run in this session, or None."""
    if config.getoption("harness_no_terraform", False):
        return "--no-terraform was given"
    from harness.terraform.fixtures import required, settings_key

    problem = config.stash[settings_key].problem()
    if problem is not None and required():
        pytest.fail(f"HARNESS_REQUIRE_TERRAFORM=1 but Terraform cannot run: {problem}", pytrace=False)
    return problem


@pytest.fixture
def needs_terraform(request: pytest.FixtureRequest) -> None:
    problem = terraform_problem(request.config)
    if problem is not None:
        pytest.skip(f"not measured: needs Terraform ({problem})")


@pytest.fixture(scope="session")
def scenario_server(pytestconfig: pytest.Config) -> Iterator[Any]:
    """One `harness serve` per worker for every scenario world, recording API
    calls server-side too (CD that is Terraform is not seen by botocore hooks),
    timed by --profile."""
    from harness.server import HarnessServer

    profile = pytestconfig.stash.get(profile_key, None)
    with HarnessServer(speed=SCENARIO_SPEED, params=profile.params if profile is not None else None) as server:
        yield server


@pytest.fixture(scope="session")
def approach_worlds(scenario_server: Any) -> ApproachWorlds:
    return ApproachWorlds(scenario_server)


@pytest.fixture
def make_approach_world(request: pytest.FixtureRequest, approach: Entry, measurements: Measurements) -> Iterator[Callable[..., World]]:
    """``make_approach_world(terraform=True|False, instance="", **configuration)``: see the module docstring.
    ``configuration`` varies a stand-in (``harness.worlds.stand_in``); an approach
    without one is skipped when it is given. Where tasks really run (``--backend
    aws``, or a LocalStack that serves ECS) see ``wall_clock_world``."""
    backend = request.config.stash.get(backend_key, "moto")
    if backend in ("aws", "localstack"):
        yield from wall_clock_world(request, approach, measurements)
        return
    if backend not in ("moto", "server"):
        pytest.skip(f"not measured: the scenarios need the ECS simulator (harness serve); --backend {backend} "
                    "has none: use --backend moto or server")
    scenario_server = request.getfixturevalue("scenario_server")
    other = sensitivity_profile_of(request.node)
    with contextlib.ExitStack() as timing:
        if other is not None:  # a cell of the sensitivity pass: the same worlds, timed by another profile
            timing.enter_context(scenario_server.using_params(other.params))
        yield from _served_world(request, approach, measurements, scenario_server)


def sensitivity_profile_of(item: pytest.Item) -> Any:
    """The other timing profile a sensitivity cell runs under (``--sensitivity``), None for any other test."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(SENSITIVITY_ARG) if callspec is not None else None


def _served_world(request: pytest.FixtureRequest, approach: Entry, measurements: Measurements,
                  scenario_server: Any) -> Iterator[Callable[..., World]]:
    approach_worlds = request.getfixturevalue("approach_worlds")
    scenario_server.align(phase_period(scenario_server.params))
    test = request.node.nodeid
    if approach.described:
        from harness.approaches.described import Described, report_parameters

        described = approach.cls()
        if not issubclass(described, Described):
            raise TypeError(f"{approach.name} is marked described, yet its class {described.__name__} is not Described")
        # its labels go with the results: a report written elsewhere (a shard merge) has no registry of it
        measurements.parameters({"described_approaches": {approach.name: {
            **report_parameters(described.description), "label": approach.label,
            "short_label": approach.short_label}}})
    used: list[tuple[World, float, float]] = []  # each world this test used, and its counters when it got it
    runners: list[Any] = []  # the Terraform runner, when a world needed one

    def make(terraform: bool, instance: str = "", **configuration: Any) -> World:
        # instance: a second world of the same approach (a release's second service); a
        # stand-in is fresh for every call anyway, a Terraform world is shared per instance
        if not terraform:
            try:
                built = approach_worlds.stand_in(approach, unique_name(test, len(used) + 1), **configuration)
                used.append((built, 0.0, 0.0))
                return built
            except NoStandIn:
                pass
        problem = approach.cls().variation_problem(configuration) if configuration else None
        if problem is not None:
            pytest.skip(f"not measured: {approach.name} runs on its own Terraform configuration here: {problem}")
        problem = terraform_problem(request.config)
        if problem is not None:
            measurements.parameters({"terraform_not_run": {problem: True}})
            pytest.skip(f"not measured: {approach.name} needs Terraform here ({problem})")
        from harness.terraform.fixtures import provider_unavailable, skip_without_provider
        from harness.terraform.runner import TerraformError

        runner = request.getfixturevalue("terraform")
        runners.append(runner)
        before, count = approach_worlds.terraform_seconds(), len(approach_worlds.built)
        try:
            shared = approach_worlds.terraform(approach, runner, instance, **configuration)
        except TerraformError as err:
            # no provider here (offline, no mirror): a report with reasons beats a wall of errors
            if provider_unavailable(err):
                measurements.parameters({"terraform_not_run": {"`terraform init` could not install the AWS provider": True}})
            skip_without_provider(err, f"not measured: {approach.name}")
            if approach.described:  # a team's configuration the emulator cannot build: its cells say why
                from harness.terraform.runner import errors_by_resource

                pytest.skip(f"not measured: {approach.name}'s Terraform configuration did not apply against "
                            f"the emulator: {'; '.join(errors_by_resource(err.output)) or err}")
            raise
        # Said only once a world is applied: the report's "Terraform ... really ran" is never a guess.
        # Keys, not values: workers (or shards) that ran Terraform differently are all named, never a conflict.
        measurements.parameters({"terraform": {"version": {runner.version(): True},
                                               "provider": {runner.provider_mode(): True}}})
        if len(approach_worlds.built) > count:  # built for this test: its building counts
            used.append((shared, 0.0, shared.terraform_seconds() - (approach_worlds.terraform_seconds() - before)))
        else:
            used.append((shared, shared.simulation_seconds, shared.terraform_seconds()))
        return shared

    started = time.perf_counter()
    yield make
    scenario_server.check()
    measurements.timing({
        "test": test, "approach": approach.name, "wall": time.perf_counter() - started,
        "simulation": sum(w.simulation_seconds - sim for w, sim, _ in used),
        "terraform": sum(w.terraform_seconds() - tf for w, _, tf in used),
        # this worker's memory: its own peak, and its long-lived AWS providers' now (bench/compare.py)
        "rss": peak_rss_bytes(), "provider_rss": sum(runner.provider_rss_bytes() for runner in runners[:1]),
    })


def wall_clock_world(request: pytest.FixtureRequest, approach: Entry,
                     measurements: Measurements) -> Iterator[Callable[..., World]]:
    """``make_approach_world`` on a backend where tasks really run, for a scenario marked
    ``real_aws(budget=...)``: the ``aws`` fixture's run (its skips, its budget clock,
    its teardown of everything named for it) holds the approach's own Terraform
    configuration, applied there by real Terraform (``harness.worlds.wall_clock``);
    ``terraform=False`` gets the same (a stand-in is the simulator's short-cut)."""
    from harness.backends.localstack import LOCALSTACK
    from harness.backends.real_aws import REAL_AWS
    from harness.worlds.wall_clock import WallClockPlace

    where = LOCALSTACK if request.config.stash.get(backend_key, "moto") == "localstack" else REAL_AWS
    # what cannot run whatever the backend says: before its run is started
    if approach.described:
        pytest.skip(f"not measured on {where}: a described approach's CD runs as a command on the ECS "
                    "simulator's clock (harness serve); use --backend moto or server")
    problem = terraform_problem(request.config)
    if problem is not None:
        measurements.parameters({"terraform_not_run": {problem: True}})
        pytest.skip(f"not measured on {where}: {approach.name} needs Terraform ({problem})")
    real = request.getfixturevalue("aws")  # skips here what cannot run there, with the reason

    runner = request.getfixturevalue("terraform")
    place = WallClockPlace(real)
    mode = (runner.provider_mode() if place.terraform_endpoint is not None  # a LocalStack, a dry run's server
            else "a provider start per command (real AWS: the caller's credentials)")
    worlds = ApproachWorlds(place, session=real.session)

    def make(terraform: bool, instance: str = "", **configuration: Any) -> World:
        problem = approach.cls().variation_problem(configuration) if configuration else None
        if problem is not None:
            pytest.skip(f"not measured on {real.where}: {approach.name} runs on its own Terraform configuration: "
                        f"{problem}")
        from harness.terraform.fixtures import skip_without_provider
        from harness.terraform.runner import TerraformError

        try:
            built = worlds.terraform(approach, runner, instance, **configuration)
        except TerraformError as err:
            skip_without_provider(err, f"not measured on {real.where}: {approach.name}")
            raise
        measurements.parameters({"terraform": {"version": {runner.version(): True}, "provider": {mode: True}}})
        return built

    started = time.perf_counter()
    yield make
    measurements.timing({"test": request.node.nodeid, "approach": approach.name, "wall": time.perf_counter() - started,
                         "simulation": 0.0, "terraform": worlds.terraform_seconds(), "rss": peak_rss_bytes(),
                         "provider_rss": 0})


def peak_rss_bytes() -> int:
    """This process's peak resident memory (0 where the platform does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS counts bytes, Linux KiB
