"""A rollback stopped right after its UpdateService may finish while nobody
watches. The re-run the tool asks for ("next: the same command") must then
finish that rollback (mark it), not go one further back: to the very revision
the service was rolled back from. And only that: a service put back on an old
revision some other way is rolled back as asked, never left with "done".
In-process on the virtual clock, so the rollback can be made to finish before
the re-run, which a wall-clock kill test cannot arrange.
"""
from __future__ import annotations

from ecs_template_deploy import knowngood
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_OK
from harness.worlds import CLUSTER, SERVICE, ToolWorld


def deployed(aws, *tags: str) -> ToolWorld:
    world = ToolWorld.build(aws, desired=2)
    for tag in tags:
        assert world.run("deploy", "--tag", tag).code == EXIT_OK
    return world


def stopped_after_update(world: ToolWorld):
    """`rollback`, interrupted the moment AWS has applied its UpdateService (SIGINT
    there: the process ends without watching, as a kill would leave it)."""
    session = world.session()

    def interrupt(**_):
        raise KeyboardInterrupt

    session.events.register("after-call.ecs.UpdateService", interrupt)
    return world.run("rollback", session=session)


def test_rerunning_a_rollback_that_finished_unwatched_stays_and_marks_it(aws):
    world = deployed(aws, "v1", "v2")
    stopped = stopped_after_update(world)
    assert stopped.code == 130, stopped.stderr
    aws.clock.sleep(900)
    assert world.steady_on() == "web:1"  # finished, nobody marked it
    assert knowngood.read_mark(world.ecs, "web:2") is None  # rolled back from: recorded before the update

    again = world.run("rollback")

    assert again.code == EXIT_OK, again.stderr
    assert "UpdateService" not in again.calls  # nothing moved: web:2 is what it was rolled back from
    assert "found the return to web:1 finished" in again.result["actions"]
    assert world.steady_on() == "web:1" and world.known_good() == "web:1"
    assert world.service().tags.get(knowngood.RETURNING) == ""  # marking cleared the note


def test_a_second_deliberate_rollback_after_a_finished_one_goes_further_back(aws):
    """A rollback that was seen through cleared its note: the next `rollback` moves on,
    further back, never to the revision the first one rolled back from."""
    world = deployed(aws, "v1", "v2", "v3")
    assert world.run("rollback").code == EXIT_OK and world.steady_on() == "web:2"

    further = world.run("rollback")

    assert further.code == EXIT_OK, further.stderr
    assert "UpdateService" in further.calls
    assert world.steady_on() == "web:1"
    assert knowngood.read_mark(world.ecs, "web:3") is None and knowngood.read_mark(world.ecs, "web:2") is None


def test_rollback_from_a_rerelease_of_a_proven_revision_goes_back_not_along(aws):
    """A deploy re-releasing an older proven revision is not a rollback in progress:
    `rollback` during it returns to where the service was, not on to the release."""
    world = deployed(aws, "v1", "v2")
    web1 = world.ecs.describe_task_definition(taskDefinition="web:1")["taskDefinition"]["taskDefinitionArn"]
    world.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=web1)  # by hand: web:2 stays proven
    aws.clock.sleep(900)
    deploy = world.run("deploy", "--tag", "v2", "--no-wait")  # web:2 again (reused), rolling out
    assert deploy.code == EXIT_OK and deploy.lines[0]["taskDefinitionArn"].endswith("/web:2")
    aws.clock.sleep(5)

    back = world.run("rollback")

    assert back.code == EXIT_OK, back.stderr
    assert "in progress; following it" not in " ".join(line.get("message", "") for line in back.lines)
    assert back.result["returnedTo"].endswith("/web:1") and world.steady_on() == "web:1"


def test_a_service_put_back_on_an_old_known_good_revision_by_hand_is_rolled_back_as_asked(aws):
    """Steady on a known-good revision that is not the last known good, with no note
    of ours: someone else moved it (the console, Terraform, another pipeline), and a
    user who runs `rollback` because it is bad must get a rollback, not an "ok"."""
    world = deployed(aws, "v1", "v2", "v3")
    web1 = world.ecs.describe_task_definition(taskDefinition="web:1")["taskDefinition"]["taskDefinitionArn"]
    world.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=web1)
    aws.clock.sleep(900)
    assert world.steady_on() == "web:1" and world.known_good() == "web:3"

    asked = world.run("rollback")

    assert asked.code == EXIT_OK, asked.stderr
    assert "UpdateService" in asked.calls
    assert world.steady_on() == "web:3"


def test_rerunning_a_rollback_that_finished_and_marked_says_it_is_done_and_changes_nothing(aws):
    """The job killed after the rollback's last call (the service steady on web:1 and
    marked), then retried: nothing older is known good, web:2 was rolled back from.
    The re-run must neither undo the rollback nor leave the reader guessing."""
    world = deployed(aws, "v1", "v2")
    assert world.run("rollback").code == EXIT_OK and world.steady_on() == "web:1"

    again = world.run("rollback")

    assert again.code == EXIT_BAD_INPUT, again.stderr
    assert "service web runs web:1, steady, and it is the last known-good revision" in again.stderr
    assert "a rollback that ended here is done" in again.stderr
    assert "UpdateService" not in again.calls and world.steady_on() == "web:1"
