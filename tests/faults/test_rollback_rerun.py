"""A rollback killed after its UpdateService may finish while nobody watches. The
re-run the tool asks for ("next: the same command") must then finish that
rollback (mark it), not go one further back: to the very revision the service
was rolled back from. In-process on the virtual clock, so the rollback can be
made to finish before the re-run, which a wall-clock kill test cannot arrange.
"""
from __future__ import annotations

from ecs_template_deploy.errors import EXIT_OK
from harness.worlds import CLUSTER, SERVICE, ToolWorld


def killed_rollback_finished(aws) -> ToolWorld:
    """web:1 then web:2 deployed and known good; then what a rollback killed right
    after its UpdateService leaves: the service sent back to web:1, unmarked, and
    (here) steady on it by the time anyone looks again."""
    world = ToolWorld.build(aws, desired=2)
    assert world.run("deploy", "--tag", "v1").code == EXIT_OK
    assert world.run("deploy", "--tag", "v2").code == EXIT_OK
    web1 = world.ecs.describe_task_definition(taskDefinition="web:1")["taskDefinition"]["taskDefinitionArn"]
    world.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=web1)
    aws.clock.sleep(900)
    assert world.steady_on() == "web:1" and world.known_good() == "web:2"
    return world


def test_rerunning_a_rollback_that_finished_unwatched_stays_and_marks_it(aws):
    world = killed_rollback_finished(aws)

    again = world.run("rollback")

    assert again.code == EXIT_OK, again.stderr
    assert "UpdateService" not in again.calls  # nothing moved: web:2 is what it was rolled back from
    assert "found the return to web:1 finished" in again.result["actions"]
    assert world.steady_on() == "web:1" and world.known_good() == "web:1"


def test_a_second_deliberate_rollback_after_a_watched_one_still_goes_back(aws):
    """The rule only covers returns nobody saw through: a rollback the tool watched
    re-marks its revision, so the next `rollback` moves on as before."""
    world = killed_rollback_finished(aws)
    assert world.run("rollback").code == EXIT_OK  # finishes the return: web:1 is the last known good now

    further = world.run("rollback")

    assert further.code == EXIT_OK, further.stderr
    assert "UpdateService" in further.calls
    assert world.steady_on() == "web:2"
