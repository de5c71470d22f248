"""Rollback in seconds, and the failures no health check sees: the deploy tool on
ECS of 2026 (the service deployments API, blue/green, a bake with alarms).

- A release that passes every check and then trips an alarm is caught during the
  bake and rolled back; the revision is marked known good only after the bake.
- On blue/green, a failure while ECS still holds blue is rolled back by moving
  traffic back to blue (StopServiceDeployment ROLLBACK): no task starts.
- Where the service deployments API is denied, the tool says so once and judges
  from DescribeServices as before.

The rolling ones run on real AWS too (`--backend aws`, or a LocalStack that
serves ECS); the blue/green, linear and canary ones need the simulator's
load balancer, and say so there.
"""
from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse

from ecs_template_deploy import knowngood
from ecs_template_deploy.clock import iso
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_ROLLED_BACK
from harness.worlds import ToolWorld

pytestmark = pytest.mark.real_aws(budget=1800)

POLL = 5.0
WAIT = ("--poll-interval", str(POLL))
CLOCK_SKEW = 30.0  # on real AWS: how far this machine's clock may be from AWS's
BLUE_GREEN_ONLY_SIMULATED = pytest.mark.simulator_only(
    "the native blue/green load balancer (two target groups, a production and a test listener rule) is built for the "
    "simulator only")


@pytest.fixture
def alarm(aws):
    """An alarm named for the run (`alarm.name`); `alarm()` puts it in ALARM."""
    cloudwatch = aws.client("cloudwatch")
    name = getattr(aws, "prefix", "") + "HighErrors"
    cloudwatch.put_metric_alarm(AlarmName=name, MetricName="5xx", Namespace="App", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    trip = lambda: cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="errors")  # noqa: E731
    trip.name = name
    return trip


def completes_then(aws, world: ToolWorld, seconds: float, action) -> None:
    """Run `action` `seconds` after the newest deployment of the service completes."""
    def check() -> None:
        primary = aws.sim.service("web").primary
        if primary.rollout_state == "COMPLETED" and len(aws.sim.service("web").deployments) == 1 and \
                primary.task_definition_arn.endswith(":2"):
            aws.clock.call_later(seconds, action)
        else:
            aws.clock.call_later(1, check)
    aws.clock.call_later(1, check)


@pytest.mark.simulator_only("it trips the alarm 120 s after the rollout completes, on the simulator's clock; on real "
                            "AWS that would be a thread racing the tool")
def test_an_alarm_after_a_rolling_deployment_completed_is_caught_in_the_bake_and_rolled_back(aws, alarm):
    world = ToolWorld.build(aws, desired=2)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    completes_then(aws, world, 120, alarm)  # the release passes every check, then misbehaves
    run = world.run("deploy", "--tag", "v2", "--bake", "600", "--alarm", alarm.name, *WAIT)
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert f"during the bake: alarm(s) in ALARM: {alarm.name}" in run.result["message"]
    assert run.result["returnedTo"].endswith("/web:1") and world.known_good() == "web:1"
    assert knowngood.read_mark(world.ecs, "web:2") is None  # never marked: its bake did not pass
    assert run.result["decidedAt"] - run.result["observedAt"] <= POLL


def test_a_bake_that_passes_marks_the_revision_only_after_it(aws):
    world = ToolWorld.build(aws, desired=2)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    marks = []
    world.session = lambda base=world.session: _recording_marks(base(), marks, aws)
    run = world.run("deploy", "--tag", "v2", "--bake", "300", *WAIT)
    assert run.code == EXIT_OK and "baked 300 s" in run.result["message"], run.stderr
    completed = world.service().primary.updated_at  # when ECS says the rollout completed
    skew = 0 if world.simulated else CLOCK_SKEW  # marks are timed here by this machine's clock
    marked = [t for t, arn, keys in marks if arn.endswith("/" + world.rev(2)) and knowngood.TAG in keys]
    assert marked and marked[0] >= completed + 300 - skew
    assert world.known_good() == world.rev(2)


def _recording_marks(session, marks: list, aws):
    session.events.register("provide-client-params.ecs.TagResource", lambda params, **_: marks.append(
        (aws.clock.now(), params["resourceArn"], {tag["key"] for tag in params["tags"]})))
    return session


@pytest.mark.real_aws(budget=2700)  # 525 s in the dry run; a crash 400 s in, then the way back, on Fargate
def test_a_task_failing_during_the_bake_rolls_back(aws):
    world = ToolWorld.build(aws, desired=2)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    world.declare_image("v2", crash_after=400)  # healthy for minutes, then crashes
    run = world.run("deploy", "--tag", "v2", "--bake", "900", *WAIT)
    assert run.code == EXIT_ROLLED_BACK and "during the bake" in run.result["message"], run.stderr
    assert world.steady_on() == world.rev(1)


def test_an_alarm_that_does_not_exist_is_refused_before_anything_changes(aws):
    world = ToolWorld.build(aws, desired=2)
    run = world.run("deploy", "--tag", "v1", "--alarm", "NoSuchAlarm", *WAIT)
    assert run.code == EXIT_BAD_INPUT and "--alarm NoSuchAlarm: no CloudWatch alarm" in run.stderr
    assert world.revisions() == []


@BLUE_GREEN_ONLY_SIMULATED
def test_on_blue_green_a_crashing_green_is_rolled_back_by_a_traffic_shift_that_starts_no_task(aws):
    world = ToolWorld.build(aws, desired=2, strategy="BLUE_GREEN", bakeTimeInMinutes=10)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    aws.sim.declare_image("web:crash", crash_after=5)
    before = len(aws.sim.tasks)
    run = world.run("deploy", "--tag", "crash", *WAIT)
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert "traffic shifted back to web:1 (blue)" in run.result["message"]
    assert "StopServiceDeployment" in run.calls
    green_tasks = len(aws.sim.tasks) - before
    assert green_tasks >= 2 and all(t.task_definition_arn.endswith(":2") for t in list(aws.sim.tasks.values())[before:])
    assert world.production_share() == 0 and world.steady_on() == "web:1"


@BLUE_GREEN_ONLY_SIMULATED
def test_on_blue_green_an_alarm_in_ecs_bake_shifts_traffic_back_within_a_poll(aws, alarm):
    world = ToolWorld.build(aws, desired=2, strategy="BLUE_GREEN", bakeTimeInMinutes=10)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK

    def alarm_once_live() -> None:
        if world.production_share() == 100:
            aws.clock.call_later(120, alarm)
        else:
            aws.clock.call_later(1, alarm_once_live)

    aws.clock.call_later(1, alarm_once_live)
    run = world.run("deploy", "--tag", "v2", "--alarm", alarm.name, *WAIT)
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    live = [e["t"] for e in aws.sim.timeline.events  # the last shift to green: v2's (v1 came in blue/green too)
            if e["message"].startswith("traffic ") and "production 100%" in e["message"]][-1]
    assert 0 <= run.result["trafficBackAt"] - (live + 120) <= POLL  # back on blue within a poll of the alarm
    assert world.production_share() == 0
    # blue's deployment is old: its history (v1's own rollout) is not streamed again
    streamed = [e["at"] for e in run.kinds("service-event")]
    assert streamed and min(streamed) >= iso(run.started)


def test_without_the_service_deployments_api_it_says_so_once_and_judges_as_before(aws):
    world = ToolWorld.build(aws, desired=2)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    session = world.session()
    denied = []

    def deny(params, **_):
        denied.append(params)
        return AWSResponse("https://ecs.us-east-1.amazonaws.com/", 400, {}, None), {
            "Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: ecs:DescribeServiceDeployments"},
            "ResponseMetadata": {"HTTPStatusCode": 400}}

    session.events.register("before-call.ecs.DescribeServiceDeployments", deny)
    run = world.run("deploy", "--tag", "v2", *WAIT, session=session)
    assert run.code == EXIT_OK
    warnings = [line for line in run.kinds("warning") if "service deployments" in line["message"]]
    assert len(warnings) == 1 and len(denied) == 1  # asked once, said once, then DescribeServices alone


@BLUE_GREEN_ONLY_SIMULATED
def test_rollback_during_a_blue_green_deployment_shifts_traffic_back_and_says_so(aws):
    world = ToolWorld.build(aws, desired=2, strategy="BLUE_GREEN", bakeTimeInMinutes=10)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    assert world.run("deploy", "--tag", "v2", "--no-wait").code == EXIT_OK
    aws.clock.run_until(lambda: world.production_share() == 100, limit=900)  # v2 is live, in ECS's bake
    before = len(aws.sim.tasks)
    run = world.run("rollback", *WAIT)
    assert run.code == EXIT_OK, run.stderr
    assert "traffic shifted back to web:1 (blue)" in run.result["message"] and "StopServiceDeployment" in run.calls
    assert "UpdateService" not in run.calls and len(aws.sim.tasks) == before  # no task started for the way back
    assert world.production_share() == 0 and world.steady_on() == "web:1"


@BLUE_GREEN_ONLY_SIMULATED
@pytest.mark.parametrize("strategy, configuration", [
    ("CANARY", {"canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}}),
    ("LINEAR", {"linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2}}),
])
def test_on_canary_and_linear_an_alarm_with_part_of_production_on_green_shifts_it_all_back(
        aws, alarm, strategy, configuration):
    world = ToolWorld.build(aws, desired=2, strategy=strategy, **configuration)
    assert world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    shares: list[int] = []

    def alarm_at_first_step() -> None:
        share = world.production_share()
        if 0 < share < 100:  # the canary, or the first linear step
            shares.append(share)
            alarm()
        else:
            aws.clock.call_later(1, alarm_at_first_step)

    aws.clock.call_later(1, alarm_at_first_step)
    run = world.run("deploy", "--tag", "v2", "--alarm", alarm.name, *WAIT)
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert shares == [10 if strategy == "CANARY" else 25]
    assert "StopServiceDeployment" in run.calls and "traffic shifted back to web:1 (blue)" in run.result["message"]
    progress = [line.get("productionShare") for line in run.kinds("rollout")]
    assert shares[0] in progress  # the progress lines showed the traffic share
    assert world.production_share() == 0 and world.steady_on() == "web:1"
