"""The deploy tool's rollback scenarios, and an approach's replay, with ``--backend localstack`` on a
LocalStack that serves ECS, as a licensed one does: harness serve posing as it
(``tests/backends/posing_localstack.py``: LocalStack's own endpoints answered
as a licensed LocalStack answers them, every service probe and call served for
real; its clock and declared images stand in for the wall clock and Docker).
What runs is the wall-clock path real AWS takes, with the endpoint found by
localstack-client's rules (Terraform's provider pointed there too), no account
guard, and LocalStack named in every reason and in the cleanup command a killed
run names."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from test_real_aws_scenarios import SUMMARY

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = "scenarios/test_deploy_tool_rollback.py"
POSING = ["-p", "tests.backends.posing_localstack"]
REPLAYED = "scenarios/test_explicit_version.py::test_deployed_version_can_be_read_from_the_task_definition[template]"
NOT_BROUGHT = "scenarios/test_cd_permissions.py::test_cd_needs_only_the_permissions_it_calls[template]"
# Every rollback scenario's verdict is proven on this same wall-clock path, on this same harness
# serve, by tests/backends/test_real_aws_scenarios.py (--backend aws --aws-dry-run runs all of
# them). What LocalStack changes is the backend around a scenario, the same for each: no account
# guard, the endpoint by localstack-client's rules, LocalStack named in skip reasons and in the
# cleanup command. So a sample runs here: the plain path (a deploy), a rollback, the one scenario
# with a load balancer (ELBv2: every service the scenarios call is then called through LocalStack's
# endpoint), a fresh process finding what AWS holds, and the two that cannot run there (their reasons).
SAMPLED = ("test_first_deploy", "test_crashing_image", "test_failing_target_group", "test_rollback_command_from_a_fresh",
           "test_image_that_cannot_be_pulled", "test_prune_never_deregisters")


def run_pytest(*argv: str, **env: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items()  # no credentials, endpoint or allowlist of the developer's
             if not name.startswith(("AWS_", "HARNESS_AWS_", "LOCALSTACK_"))}
    return subprocess.run([sys.executable, "-m", "pytest", *argv, "--backend", "localstack", *POSING,
                           "-n", "0", "-p", "no:cacheprovider", "-rs"],
                          cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def licensed() -> SimpleNamespace:
    done = run_pytest(SCENARIOS, REPLAYED, NOT_BROUGHT, "-k", " or ".join(
        (*SAMPLED, "test_deployed_version_can_be_read", "test_cd_needs_only_the_permissions")))
    return SimpleNamespace(done=done, output=done.stdout + done.stderr,
                           summaries=[m.groupdict() for m in SUMMARY.finditer(done.stderr)])


def test_the_rollback_scenarios_run_on_a_licensed_localstack_without_the_real_aws_guard(licensed) -> None:
    assert licensed.done.returncode == 0, licensed.output[-3000:]
    # the sample's 4 scenarios that run there and the replay; the 2 that cannot and the one not brought say why
    assert re.search(r"\b5 passed, 3 skipped, 13 deselected\b", licensed.done.stdout.strip().splitlines()[-1]), \
        licensed.done.stdout[-1500:]
    assert len(licensed.summaries) == 5 and len({run["run"] for run in licensed.summaries}) == 5
    balanced = [run for run in licensed.summaries if "load balancer" in run["created"]]
    assert len(balanced) == 1 and "1 target group" in balanced[0]["created"], licensed.summaries
    for run in licensed.summaries:
        assert "1 ecs service (FARGATE)" in run["created"] and run["marked"] == "each named or tagged with the run id"
        assert run["left"] == "left nothing", run
    # a killed run's leftovers: the cleanup command names this LocalStack, found by localstack-client's rules
    first = licensed.summaries[0]["run"]
    assert re.search(rf"if this run is killed, `harness aws cleanup --endpoint-url http://127\.0\.0\.1:\d+ --run-id "
                     rf"{first}` removes what it left", licensed.done.stderr), licensed.done.stderr[:2000]


def test_what_cannot_run_there_says_so_naming_localstack(licensed) -> None:
    skipped = [line for line in licensed.done.stdout.splitlines() if line.startswith("SKIPPED")]
    rollback = [line for line in skipped if f"] {SCENARIOS}:" in line]
    assert len(rollback) == 2 and all("not measured on LocalStack: " in line for line in rollback), rollback
    replays = [line for line in skipped if "] scenarios/test_cd_permissions.py" in line]
    assert len(replays) == 1 and "not measured on LocalStack: CD's calls are read from what harness serve recorded" in replays[0], replays
    assert "real AWS:" not in "\n".join(skipped)


def test_an_approach_replays_there_on_its_own_terraform_applied_to_localstack(licensed) -> None:
    assert f"{REPLAYED} PASSED" in licensed.done.stdout or re.search(r"\b5 passed\b", licensed.done.stdout)
    replay = [run for run in licensed.summaries if "1 internet gateway" in run["created"] and "scalable target" in run["created"]]
    assert len(replay) == 1 and replay[0]["left"] == "left nothing", licensed.summaries


def test_without_a_docker_engine_the_scenarios_say_the_images_need_one() -> None:
    done = run_pytest(SCENARIOS, "-k", "test_crashing_image", POSING_LOCALSTACK_IMAGES="docker",
                      DOCKER_HOST="unix:///nonexistent/harness-test.sock")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "passed" not in done.stdout.strip().splitlines()[-1]
    assert re.search(r"SKIPPED .*not measured on LocalStack: the scenario's images are built here with Docker, and no "
                     r"Docker engine answers", done.stdout), done.stdout[-2000:]
    assert "tearing down" not in done.stderr  # skipped before any run began: nothing created


def test_a_teardown_that_leaves_something_is_an_error_naming_it_and_the_command_that_finishes_it() -> None:
    done = run_pytest(SCENARIOS, "-k", "test_first_deploy", POSING_LOCALSTACK_REFUSE="DeleteRole")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"\b1 passed, 18 deselected, 1 error\b", done.stdout.strip().splitlines()[-1]), done.stdout[-1500:]
    match = re.search(r"run (hr[0-9a-f]{8}): teardown left 1 resource\(s\) on LocalStack \(iam role \1-execution\): "
                      r"`harness aws cleanup --endpoint-url http://127\.0\.0\.1:\d+ --run-id \1` finishes the job",
                      done.stdout)
    assert match, done.stdout[-3000:]
    assert f"NOT deleted iam role {match.group(1)}-execution: " in done.stderr  # said as it happened, with AWS's reason


def test_status_of_a_licensed_localstack_says_the_deploy_tools_scenarios_run_on_it() -> None:
    from harness.commands.localstack import status_lines
    from posing_localstack import LicensedLocalStack

    with LicensedLocalStack(speed=0.0) as server:
        lines, ready = status_lines(server.url)
    assert ready and lines[0] == f"LocalStack 2026.3.0 (pro edition, licensed) at {server.url}"
    assert lines[1].startswith("serves every service the scenarios use: the deploy tool's scenarios run on it")
