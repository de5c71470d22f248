"""One-off tasks from the same rendered revision: `run`, and `deploy --run-before`
(say, database migrations) that stops the deploy, changing nothing else, if it fails.

With `--backend aws` (or a LocalStack that serves ECS) these run as real Fargate
tasks: the commands below are built into the images, and exit as declared."""
from __future__ import annotations

import pytest

from ecs_template_deploy.errors import EXIT_OK, EXIT_TASK_FAILED
from harness.faults.inject import Fault, FaultInjector
from harness.worlds import ToolWorld

pytestmark = pytest.mark.real_aws(budget=1500)

WAIT = ("--poll-interval", "5")
MIGRATE = "bin/migrate --yes"


def world_on_v1(aws, **commands) -> ToolWorld:
    """A service steady on v1; `commands`: how each one-off command behaves (exit_code, exit_after)."""
    world = ToolWorld.build(aws, desired=2, commands=commands)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    return world


def test_run_starts_a_task_of_the_rendered_revision_and_exits_with_its_code(aws):
    world = world_on_v1(aws, **{MIGRATE: {"exit_code": 0, "exit_after": 30}})
    run = world.run("run", "--tag", "v2", "--command", MIGRATE, "--env", "STEP=all", *WAIT)
    assert run.code == EXIT_OK, run.stderr
    task = world.ecs.describe_tasks(cluster=world.names.cluster, tasks=[run.result["taskArn"]])["tasks"][0]
    assert task["taskDefinitionArn"].endswith("/" + world.rev(2)) and task["startedBy"] == "ecs-template-deploy"
    assert task["overrides"]["containerOverrides"] == [{"name": "app", "command": ["bin/migrate", "--yes"],
                                                        "environment": [{"name": "STEP", "value": "all"}]}]
    deployed = world.run("deploy", "--tag", "v2", *WAIT)
    assert deployed.code == EXIT_OK and "RegisterTaskDefinition" not in deployed.calls  # the same revision, reused


def test_a_command_that_fails_gives_its_exit_code(aws):
    world = world_on_v1(aws, **{"bin/check": {"exit_code": 3, "exit_after": 5}})
    run = world.run("run", "--tag", "v1", "--command", "bin/check", *WAIT)
    assert run.code == 3 and run.result["exitCode"] == 3


@pytest.mark.simulator_only("an image in ECR when the tool looks and unpullable when ECS pulls it is a race with "
                            "the run on real AWS, which the simulator's declared pull failure is not")
def test_a_task_that_never_runs_to_an_exit_is_exit_6(aws):
    world = world_on_v1(aws)
    aws.sim.declare_image("web:v2", missing=True)  # pushed, and yet no task can pull it
    run = world.run("run", "--tag", "v2", "--command", MIGRATE, *WAIT)
    assert run.code == EXIT_TASK_FAILED and "without running to an exit" in run.stderr


def test_deploy_runs_the_migration_of_the_new_revision_before_it_updates_the_service(aws):
    world = world_on_v1(aws, **{MIGRATE: {"exit_code": 0, "exit_after": 60}})
    run = world.run("deploy", "--tag", "v2", "--run-before", MIGRATE, *WAIT)
    assert run.code == EXIT_OK, run.stderr
    assert run.calls.index("RunTask") < run.calls.index("UpdateService")
    stopped = [line for line in run.lines if line.get("kind") == "rollout" and line.get("status") == "STOPPED"]
    assert stopped, "the task's end was streamed"
    assert world.steady_on() == world.rev(2)


def test_a_failing_migration_stops_the_deploy_and_changes_nothing_else(aws):
    world = world_on_v1(aws, **{MIGRATE: {"exit_code": 1, "exit_after": 20}})
    run = world.run("deploy", "--tag", "v2", "--run-before", MIGRATE, *WAIT)
    assert run.code == EXIT_TASK_FAILED
    assert (f"exited 1: the service was not changed ({world.rev(2)} stays registered: a re-run reuses it)"
            in run.stderr)
    assert "UpdateService" not in run.calls and world.steady_on() == world.rev(1)


def test_a_lost_run_task_reply_starts_no_second_task(aws):
    world = world_on_v1(aws, **{MIGRATE: {"exit_code": 0, "exit_after": 20}})
    session = world.session()
    injector = FaultInjector(session, Fault.LOST_REPLY, at=1, operation="RunTask")
    before = world.one_off_tasks()
    run = world.run("run", "--tag", "v1", "--command", MIGRATE, *WAIT, session=session)
    assert run.code == EXIT_OK, run.stderr
    assert injector.fired == ["ecs.RunTask"] and run.calls.count("RunTask") == 2  # asked again, after the lost reply
    assert len(world.one_off_tasks()) - len(before) == 1  # one task: the clientToken made the second ask the same
