"""A one-off task outlives the run that started it: after Ctrl-C (or SIGTERM) the
task keeps running, and the `next:` the tool prints is the same command. Running
it must follow that task to its end, never start the same migration a second
time while the first still runs. In-process on the virtual clock."""
from __future__ import annotations

import shlex

from ecs_template_deploy.errors import EXIT_OK, EXIT_TASK_FAILED
from harness.worlds import ToolWorld

MIGRATE = "bin/migrate --yes"


def test_the_next_command_after_a_stopped_run_follows_the_task_still_running(aws):
    world = ToolWorld.build(aws, desired=2)
    aws.sim.declare_command(MIGRATE.split(), exit_code=0, exit_after=300)
    session = world.session()
    session.events.register("before-call.ecs.DescribeTasks", lambda **_: (_ for _ in ()).throw(KeyboardInterrupt))
    stopped = world.run("run", "--tag", "v1", "--command", MIGRATE, "--poll-interval", "5", session=session)
    assert stopped.code == 130 and len(world.one_off_tasks()) == 1
    again = [word for word in shlex.split(stopped.result["next"])[1:] if word != "--json"]  # what it printed

    rerun = world.run_argv(again)

    assert rerun.code == EXIT_OK, rerun.stderr
    assert "RunTask" not in rerun.calls and len(world.one_off_tasks()) == 1
    assert any("still running: following it" in line.get("message", "") for line in rerun.lines)


def test_a_different_command_is_not_taken_for_the_one_still_running(aws):
    world = ToolWorld.build(aws, desired=2)
    aws.sim.declare_command(MIGRATE.split(), exit_code=0, exit_after=300)
    aws.sim.declare_command(["bin/report"], exit_code=0, exit_after=10)
    session = world.session()
    session.events.register("before-call.ecs.DescribeTasks", lambda **_: (_ for _ in ()).throw(KeyboardInterrupt))
    assert world.run("run", "--tag", "v1", "--command", MIGRATE, session=session).code == 130

    other = world.run("run", "--tag", "v1", "--command", "bin/report", "--poll-interval", "5")

    assert other.code == EXIT_OK and "RunTask" in other.calls and len(world.one_off_tasks()) == 2


def test_a_task_still_running_at_the_timeout_is_left_running_said_and_followed_by_the_printed_next(aws):
    """A migration longer than --timeout: exit 6 with the task left running, how to
    stop it, and a `next:` that follows it to its end instead of starting it again."""
    world = ToolWorld.build(aws, desired=2)
    aws.sim.declare_command(MIGRATE.split(), exit_code=0, exit_after=500)

    timed_out = world.run("run", "--tag", "v1", "--command", MIGRATE, "--timeout", "300", "--poll-interval", "5")

    assert timed_out.code == EXIT_TASK_FAILED, timed_out.stderr
    task = world.one_off_tasks()[0].rsplit("/", 1)[-1]
    assert "is still running at --timeout; it is left running" in timed_out.stderr
    assert f"aws ecs stop-task --cluster {world.names.cluster} --task {task}" in timed_out.stderr
    again = [word for word in shlex.split(timed_out.result["next"])[1:] if word != "--json"]
    assert again[:1] == ["run"]

    rerun = world.run_argv(again)  # another 300 s: the migration's 500 are over within them

    assert rerun.code == EXIT_OK, rerun.stderr
    assert "RunTask" not in rerun.calls and len(world.one_off_tasks()) == 1
