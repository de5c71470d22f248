"""Known good means proven good: only a bake this tool saw pass, or a person
naming a revision, makes it known good; an alarm already firing is said first
and holds the bake; ECS's COMPLETED, or ECS's circuit breaker returning to a
revision, proves nothing. On the simulator's virtual clock, in-process (the
pipeline-driven versions, with real processes and signals, are in
tests/faults/test_pipeline_known_good.py)."""
from __future__ import annotations

import pytest

from ecs_template_deploy import knowngood
from ecs_template_deploy.errors import EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK
from harness.worlds import ToolWorld
from harness.worlds.images import push_images

WAIT = ("--poll-interval", "5")
ALARM = "HighErrors"


def with_alarm(aws, *, period: int = 60, periods: int = 1):
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName=ALARM, MetricName="5xx", Namespace="App", Statistic="Sum", Period=period,
                                EvaluationPeriods=periods, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    return lambda state: cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue=state, StateReason=f"test: {state}")


def when_steady_on(aws, tool_world: ToolWorld, revision: str, seconds: float, action) -> None:
    """Run `action` `seconds` after the service is first steady on `revision` (virtual time)."""
    def check() -> None:
        if tool_world.steady_on() == revision:
            aws.clock.call_later(seconds, action)
        else:
            aws.clock.call_later(1, check)
    aws.clock.call_later(1, check)


def bake_state(tool_world: ToolWorld, revision: str) -> str | None:
    record = knowngood.read_bake(tool_world.ecs, tool_world.ecs.describe_task_definition(taskDefinition=revision)
                                 ["taskDefinition"]["taskDefinitionArn"])
    return record.state if record else None


def stopped_once_baking(tool_world: ToolWorld):
    """A session whose process stops (Ctrl-C) right after AWS recorded the start of
    a bake: what AWS holds then is what a kill during the bake leaves."""
    session = tool_world.session()
    starting: list[bool] = []

    def note(params, **_):
        starting.append(any(t["key"] == knowngood.BAKE for t in params.get("tags", [])))

    def stop(**_):
        if starting and starting[-1]:
            raise KeyboardInterrupt

    session.events.register("provide-client-params.ecs.TagResource", note)
    session.events.register("after-call.ecs.TagResource", stop)
    return session


@pytest.fixture
def tool_world(aws):
    built = ToolWorld.build(aws, desired=2)
    assert built.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    return built


def test_an_alarm_already_in_alarm_is_said_first_and_a_revision_is_never_marked_while_it_fires(aws, tool_world):
    """The CI job retried while the alarm its failed release tripped is still firing."""
    set_alarm = with_alarm(aws)
    set_alarm("ALARM")

    run = tool_world.run("deploy", "--tag", "v2", "--alarm", ALARM, "--bake", "20", *WAIT)

    first = run.lines[0]
    assert first["kind"] == "warning" and f"alarm {ALARM} is already in ALARM" in first["message"], run.lines[:2]
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert "did not leave ALARM within 120 s" in run.result["message"]  # 60 s period x (1 + 1)
    assert knowngood.read_mark(tool_world.ecs, "web:2") is None
    assert bake_state(tool_world, "web:2") == knowngood.FAILED
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"
    assert not any("marked web:2 known good" in line.get("message", "") for line in run.lines)


def test_a_fix_for_an_ongoing_incident_is_deployable_and_proven_once_the_alarm_clears(aws, tool_world):
    set_alarm = with_alarm(aws)
    set_alarm("ALARM")
    when_steady_on(aws, tool_world, "web:2", 45, lambda: set_alarm("OK"))  # the fix works: the alarm clears

    run = tool_world.run("deploy", "--tag", "v2", "--alarm", ALARM, "--bake", "60", *WAIT)

    assert run.code == EXIT_OK, run.stderr
    assert run.lines[0]["kind"] == "warning"
    actions = [line["message"] for line in run.lines if line.get("kind") == "action"]
    assert any(f"alarm(s) {ALARM} left ALARM: baking web:2 60 s from now" in a for a in actions), actions
    assert tool_world.known_good() == "web:2" and bake_state(tool_world, "web:2") == knowngood.PASSED


def test_an_alarm_that_leaves_alarm_and_fires_again_during_the_bake_fails_the_deploy(aws, tool_world):
    set_alarm = with_alarm(aws)
    set_alarm("ALARM")
    when_steady_on(aws, tool_world, "web:2", 20, lambda: set_alarm("OK"))
    when_steady_on(aws, tool_world, "web:2", 50, lambda: set_alarm("ALARM"))

    run = tool_world.run("deploy", "--tag", "v2", "--alarm", ALARM, "--bake", "120", *WAIT)

    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert f"during the bake: alarm(s) in ALARM: {ALARM}" in run.result["message"]
    assert tool_world.known_good() == "web:1" and knowngood.read_mark(tool_world.ecs, "web:2") is None


def test_a_bake_killed_halfway_proves_nothing_and_the_next_release_returns_to_the_last_proven_one(aws, tool_world):
    tool_world.aws.sim.declare_image(f"{tool_world.repository_uri}:crash", crash_after=5)
    stopped = tool_world.run("deploy", "--tag", "v2", "--bake", "60", *WAIT, session=stopped_once_baking(tool_world))
    assert stopped.code == 130 and tool_world.steady_on() == "web:2"
    assert bake_state(tool_world, "web:2") == knowngood.STARTED

    failing = tool_world.run("deploy", "--tag", "crash", *WAIT)

    assert failing.code == EXIT_ROLLED_BACK, failing.stderr
    assert failing.result["returnedTo"].endswith("/web:1")  # the last proven one, not the unbaked web:2
    assert knowngood.read_mark(tool_world.ecs, "web:2") is None
    assert not any("web:2 known good" in line.get("message", "") for line in failing.lines)
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"


def test_a_rerun_finds_the_unfinished_bake_and_bakes_it_again_in_full(aws, tool_world):
    assert tool_world.run("deploy", "--tag", "v2", "--bake", "60", *WAIT, session=stopped_once_baking(tool_world)).code == 130

    again = tool_world.run("deploy", "--tag", "v2", "--bake", "60", *WAIT)

    assert again.code == EXIT_OK, again.stderr
    actions = [line["message"] for line in again.lines if line.get("kind") == "action"]
    assert any("web:2's bake, started at" in a and "never finished: baking it again in full" in a for a in actions)
    assert "baked 60 s" in again.result["message"] and tool_world.known_good() == "web:2"


def test_a_revision_that_failed_its_bake_is_never_promoted_by_the_next_deploy(aws, tool_world):
    set_alarm = with_alarm(aws)
    tool_world.aws.sim.declare_image(f"{tool_world.repository_uri}:crash", crash_after=5)
    when_steady_on(aws, tool_world, "web:2", 30, lambda: set_alarm("ALARM"))
    assert tool_world.run("deploy", "--tag", "v2", "--alarm", ALARM, "--bake", "120", *WAIT).code == EXIT_ROLLED_BACK
    set_alarm("OK")

    failing = tool_world.run("deploy", "--tag", "crash", *WAIT)

    assert failing.code == EXIT_ROLLED_BACK and failing.result["returnedTo"].endswith("/web:1"), failing.stderr
    assert bake_state(tool_world, "web:2") == knowngood.FAILED and knowngood.read_mark(tool_world.ecs, "web:2") is None


def test_ecs_returning_to_a_revision_nobody_proved_is_followed_on_to_the_last_known_good(aws):
    tool_world = ToolWorld.build(aws, desired=2, circuit_breaker=True)
    tool_world.aws.sim.declare_image(f"{tool_world.repository_uri}:crash", crash_after=5)
    assert tool_world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    assert tool_world.run("deploy", "--tag", "v2", "--no-wait").code == EXIT_OK  # COMPLETED in ECS, never baked here
    aws.clock.sleep(600)
    assert tool_world.steady_on() == "web:2" and tool_world.known_good() == "web:1"

    run = tool_world.run("deploy", "--tag", "crash", "--failure-threshold", "9", *WAIT)  # ECS's breaker decides

    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert "ECS's circuit breaker rolled back to web:2" in run.result["message"]
    assert "not known good; returned to known-good web:1" in run.result["message"]
    assert run.result["returnedTo"].endswith("/web:1") and tool_world.steady_on() == "web:1"
    assert knowngood.read_mark(tool_world.ecs, "web:2") is None


def test_with_nothing_known_good_a_failed_deploy_says_so_first_and_names_the_way_back(aws):
    tool_world = ToolWorld.build(aws, desired=2)  # Terraform's service on the template; the tool never deployed it
    tool_world.aws.sim.declare_image(f"{tool_world.repository_uri}:crash", crash_after=5)

    run = tool_world.run("deploy", "--tag", "crash", *WAIT)

    assert run.lines[0]["kind"] == "warning" and "no revision of web is known good yet" in run.lines[0]["message"]
    assert run.code == EXIT_NOT_RECOVERED, run.stderr
    assert "no known-good revision of web to roll back to" in run.result["message"]
    assert run.result["next"] == ("ecs-template-deploy rollback --cluster prod --service web --to web-template:1 "
                                  "--family web-template")
    assert knowngood.read_mark(tool_world.ecs, "web-template:1") is None  # COMPLETED in ECS, never proven here

    named = tool_world.run_argv(run.result["next"].split()[1:])

    assert named.code == EXIT_OK, named.stderr
    assert tool_world.steady_on() == "web-template:1" and tool_world.known_good() == "web-template:1"
    assert bake_state(tool_world, "web-template:1") == knowngood.NAMED


def test_rollback_to_the_revision_that_runs_names_it_known_good_without_moving_anything(aws):
    tool_world = ToolWorld.build(aws, desired=2)

    run = tool_world.run("rollback", "--to", "web-template:1", "--family", "web-template")

    assert run.code == EXIT_OK, run.stderr
    assert "UpdateService" not in run.calls
    assert tool_world.known_good() == "web-template:1"
    assert "marked web-template:1 known good" in run.result["actions"]


def test_a_return_to_known_good_that_fails_keeps_it_known_good_so_the_printed_next_finishes_the_job(aws, tool_world):
    """web:1's image is deleted from ECR, so the way back from a crashing v2 fails
    too (exit 4). web:1 proved itself; what failed was outside it. Once the image
    is pushed again, the `next:` the deploy printed returns to web:1 and proves it."""
    tool_world.declare_image("crash", crash_after=5)
    tool_world.ecr.batch_delete_image(repositoryName=tool_world.names.repository, imageIds=[{"imageTag": "v1"}])

    failed = tool_world.run("deploy", "--tag", "crash", *WAIT)

    assert failed.code == EXIT_NOT_RECOVERED, failed.stderr
    assert failed.result["standing"]["knownGood"].endswith("/web:1")
    assert knowngood.read_mark(tool_world.ecs, "web:2") is None and bake_state(tool_world, "web:2") == knowngood.FAILED
    push_images(tool_world.ecr, tool_world.names.repository, ["v1"])

    again = tool_world.run_argv(failed.result["next"].split()[1:] + list(WAIT))

    assert again.code == EXIT_OK, "\n".join(str(line) for line in again.lines)
    assert any("starting it over in a new deployment" in line.get("message", "") for line in again.lines)
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"


def test_a_failed_return_is_started_over_even_when_the_failed_release_has_drained(aws, tool_world):
    """v2 crashes only after it was steady (during the bake): its deployment drains, and
    the failed return (web:1's image deleted) is the service's only deployment. The
    printed `rollback` must still start it over, not say "nothing changed" while the
    service runs no task."""
    tool_world.ecr.batch_delete_image(repositoryName=tool_world.names.repository, imageIds=[{"imageTag": "v1"}])
    tool_world.declare_image("crash", crash_after=120)
    failed = tool_world.run("deploy", "--tag", "crash", "--bake", "300", *WAIT)
    assert failed.code == EXIT_NOT_RECOVERED and failed.result["next"].split()[1] == "rollback", failed.stderr
    push_images(tool_world.ecr, tool_world.names.repository, ["v1"])

    again = tool_world.run_argv(failed.result["next"].split()[1:] + list(WAIT))

    assert again.code == EXIT_OK, again.stderr
    assert any("starting it over in a new deployment" in line.get("message", "") for line in again.lines)
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"
