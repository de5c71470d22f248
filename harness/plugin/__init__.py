"""The harness's pytest plugin: backend, markers, the order tests run in.

It is the one plugin: pytest loads it through the package's ``pytest11`` entry
point (``harness.plugin.autoload``), and it brings in the fixtures of each room
(``pytest_plugins`` below). Options live in one named
group; state lives in ``config.stash`` (keys in ``harness.plugin.state``).

Plain ``pytest`` is safe: moto keeps one set of backends per process and every
embedded test's ``mock_aws`` resets them all, so a session-long in-process
server (Terraform's endpoint, the scenarios' worlds) would lose its state to an
embedded test run after it in the same process. Tests that use such a server
are marked ``served`` and run after every embedded test, in each process; the
xdist scheduler (``harness.plugin.scheduling``) keeps that order per worker.
"""
from __future__ import annotations

import os
from typing import Any, Generator

import pytest

from harness.plugin.state import (
    aws_dry_run_key, backend_key, call_report_key, profile_key, real_aws_identity_key, real_aws_parts_key,
    served_started_key,
)

pytest_plugins = [
    "harness.terraform.fixtures",  # Terraform runner, endpoint, workspaces, skip check
    "harness.plugin.backends",  # aws: embedded moto + ECS simulator, or harness serve
    "harness.plugin.measurements",  # measurements fixture, --report-dir (default report/): merged report at the end
    "harness.plugin.scenario_lines",  # a line per scenario as it finishes, its skips grouped by reason in the summary
    "harness.plugin.scenarios",  # the approach parameter and its worlds
    "harness.plugin.scheduling",  # embedded before served, scenarios grouped by approach
    "harness.plugin.sharding",  # --shard K/N: one part of the matrix, for harness report merge
]

# Backends the scenarios run on: moto (embedded), server (harness serve in the process),
# localstack (checked: what it lacks is each scenario's not-measured reason; where it serves ECS,
# the real_aws scenarios run on it), aws (real AWS: only with --allow-real-aws and an allowed
# account, checked before any test runs).
BACKENDS = ("moto", "server", "localstack", "aws")
SENSITIVITY = ("off", "quick", "full")  # --sensitivity: how much of the matrix other profiles replay (harness.plugin.scenarios)

# name(arguments): what it means, as `pytest --markers` shows it
MARKERS = {
    "terraform": "terraform: needs a terraform (or tofu) binary and the AWS provider; skipped with the reason if missing",
    "served": "served: uses a session-long in-process harness server (set from the fixtures it uses); "
    "runs after every embedded test of its process",
    "last_in_world": "last_in_world: runs after the other scenarios of its approach (it reads what they did "
    "in the shared Terraform world)",
    "real_aws": "real_aws(budget=SECONDS): with --backend aws (or localstack, where it serves ECS) this scenario "
    "runs where tasks really run, on the wall clock, in a run of its own torn down after it, failing past SECONDS "
    "(default 1800)",
    "simulator_only": "simulator_only(reason): why this scenario cannot run where tasks really run (--backend aws "
    "and localstack skip it with the reason)",
}

def pytest_addoption(parser: pytest.Parser) -> None:
    """The harness's options, in its one group (--report-dir is the measurements room's:
    that room also loads alone, ``-p harness.plugin.measurements``)."""
    group = parser.getgroup("harness", "ECS Terraform/CD harness")
    group.addoption("--backend", dest="harness_backend", choices=BACKENDS, default="moto",
                    help="AWS backend: moto (in-process, default), server (harness serve over HTTP), localstack "
                    "(AWS_ENDPOINT_URL or LOCALSTACK_HOST; the scenarios say what it lacks, and where it serves ECS the "
                    "real_aws scenarios run on it) or aws (real AWS: "
                    "needs --allow-real-aws and HARNESS_AWS_ACCOUNTS)")
    group.addoption("--allow-real-aws", dest="harness_allow_real_aws", action="store_true", default=False,
                    help="let --backend aws create real resources (costing money) in an account listed in "
                    "HARNESS_AWS_ACCOUNTS; the caller's account is checked with STS before any test runs")
    group.addoption("--aws-dry-run", dest="harness_aws_dry_run", action="store_true", default=False,
                    help="with --backend aws: run the real path against harness serve posing as AWS in this process "
                    "and say, per scenario, what it would create (no credentials needed, nothing real touched)")
    group.addoption("--aws-budget-scale", dest="harness_aws_budget_scale", type=float, default=1.0, metavar="FACTOR",
                    help="with --backend aws or localstack: multiply every scenario's wall-clock budget by FACTOR (e.g. 2 where "
                    "image pulls are slow)")
    group.addoption("--profile", dest="harness_profile", default=None, metavar="NAME|FILE",
                    help="the simulator's timing profile: fargate, ec2-cached, fast (the default here: quick, "
                    "uncalibrated; `harness compare` runs fargate) or a profile file (docs/timing-profiles.md)")
    group.addoption("--sensitivity", dest="harness_sensitivity", choices=SENSITIVITY, default="off",
                    help="scenarios: replay the rollback matrix under every other bundled timing profile too, for the "
                    "report's sensitivity section: quick (approaches on their own Terraform world, 4a/4b and "
                    "the examples, only in the crash column: each of their cells costs seconds of wall time), full (every cell), off (the default here; "
                    "`harness compare` runs quick)")
    group.addoption("--no-terraform", dest="harness_no_terraform", action="store_true", default=False,
                    help="scenarios: measure only what needs no Terraform (the boto3 stand-in); "
                    "Terraform-backed cells are reported as not measured")
    group.addoption("--approach", dest="harness_approaches", action="append", default=[], metavar="FILE",
                    help="scenarios: also replay the approach described in FILE (harness.toml or pyproject.toml "
                    "with [tool.ecs-harness]; repeatable; see docs/own-approach.md)")
    parser.addini("harness_approaches", type="linelist", default=[],
                  help="approach description files replayed when no --approach is given (relative to the rootdir)")
    group.addoption("--only-approaches", dest="harness_only_described", action="store_true", default=False,
                    help="scenarios: replay only the approaches given with --approach, not the built-in six")


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)
    config.stash[backend_key] = config.getoption("harness_backend")
    config.stash[profile_key] = chosen_profile(config)
    config.stash[served_started_key] = False
    if not config.getoption("harness_aws_budget_scale") > 0:
        raise pytest.UsageError("--aws-budget-scale must be a number above 0 (e.g. 2 doubles every budget)")
    dry_run = config.getoption("harness_aws_dry_run")
    if dry_run and config.stash[backend_key] != "aws":
        raise pytest.UsageError("--aws-dry-run is what --backend aws would do: add --backend aws")
    if dry_run:
        from harness.backends.posing import PosingAws

        posing = config.stash[aws_dry_run_key] = PosingAws().start()  # per process: each xdist worker has its own
        config.stash[real_aws_parts_key] = posing.parts
        config.add_cleanup(posing.stop)
    elif config.stash[backend_key] == "aws" and not hasattr(config, "workerinput"):
        guard_real_aws(config)
    install_described(config)


def chosen_profile(config: pytest.Config) -> Any:
    """--profile's timing profile (``fast`` without it); a usage error, before any test, naming what is wrong."""
    from harness.ecs import profiles

    try:
        return profiles.load(config.getoption("harness_profile") or profiles.TESTS)
    except profiles.ProfileError as err:
        raise pytest.UsageError(f"--profile: {err}") from None


def guard_real_aws(config: pytest.Config) -> None:
    """--backend aws: refuse (a usage error, before any test) without --allow-real-aws or with
    credentials of an account not in HARNESS_AWS_ACCOUNTS."""
    from harness.backends.real_aws import RealAwsRefused, check, sts_client

    try:
        identity = check(config.getoption("harness_allow_real_aws"), sts_client)
    except RealAwsRefused as err:
        raise pytest.UsageError(str(err)) from None
    config.stash[real_aws_identity_key] = identity


def install_described(config: pytest.Config) -> None:
    """Load each --approach file, or without any the ini's ``harness_approaches``
    (every process: controller and xdist workers);
    a bad one stops the run before anything starts, with the file's own message."""
    files = config.getoption("harness_approaches", []) or [
        str(config.rootpath / path) for path in config.getini("harness_approaches")]
    if config.getoption("harness_only_described", False) and not files:
        raise pytest.UsageError("--only-approaches needs at least one --approach FILE")
    if not files:
        return
    from harness.approaches.described import DescriptionError, install, load

    for path in files:
        try:
            install(load(path))
        except DescriptionError as err:
            raise pytest.UsageError(str(err)) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                               ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the call phase's report on the item: a fixture's teardown reads how its test ended."""
    report = yield
    if report.when == "call":
        item.stash[call_report_key] = report
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one worker more than CPUs. The served tests wait a lot (the AWS
    provider's fixed 10 s after creating an ECS cluster and 2 x 30 s after creating a
    load balancer, Terraform starting its provider); a spare worker fills the gaps.
    First: xdist answers this hook too (CPUs), and an entry-point plugin registered
    before xdist's would otherwise be asked second, and never.
    PYTEST_XDIST_AUTO_NUM_WORKERS, xdist's own override, is left to xdist."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return (os.cpu_count() or 1) + 1


def pytest_report_header(config: pytest.Config) -> str:
    identity = config.stash.get(real_aws_identity_key, None)
    where = f" (account {identity.account}, {identity.arn})" if identity is not None else ""
    if config.stash.get(aws_dry_run_key, None) is not None:
        where = " (dry run: harness serve posing as AWS in this process; nothing real is touched)"
    return f"harness backend: {config.stash[backend_key]}{where}"


def refuse_embedded_after_served(config: pytest.Config) -> None:
    """Fail (with the reason) an embedded test that would wipe this process's server."""
    if config.stash.get(served_started_key, False):
        pytest.fail("an embedded (moto) test after a served one in the same process would reset the session's "
                    "server: run with the harness's ordering (plain `pytest`, or -n with --dist load/loadgroup)",
                    pytrace=False)
