"""Semantics page 2025, "CloudWatch alarm rollback", for rolling updates: an alarm
entering ALARM while the deployment rolls out or bakes fails it; with rollback, the
service returns to the last completed deployment."""
from __future__ import annotations

import pytest

BAKE = 300  # Params.alarm_bake_seconds: watched this long after scale-in


@pytest.fixture
def cloudwatch(aws):
    client = aws.client("cloudwatch")
    client.put_metric_alarm(AlarmName="HighErrors", MetricName="5xx", Namespace="App", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    return client


def alarmed(ecs, rollback: bool = True, breaker: bool = False, enable: bool = True) -> str:
    first = ecs.task_definition("app:v1")
    ecs.service(first, desired=2, deploymentConfiguration={
        "maximumPercent": 200, "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": breaker, "rollback": breaker},
        "alarms": {"alarmNames": ["HighErrors"], "enable": enable, "rollback": rollback}})
    ecs.settle(600)
    return first


def alarm(cloudwatch, state: str = "ALARM") -> None:
    cloudwatch.set_alarm_state(AlarmName="HighErrors", StateValue=state, StateReason="test")


def alarm_during_rollout(ecs, aws, cloudwatch, after: float = 20) -> str:
    """Deploy app:v2 and move the alarm into ALARM `after` seconds in; returns v2's task definition."""
    second = ecs.task_definition("app:v2")
    ecs.update(taskDefinition=second)
    aws.clock.sleep(after)
    alarm(cloudwatch)
    return second


def primary(ecs) -> dict:
    return next(d for d in ecs.describe()["deployments"] if d["status"] == "PRIMARY")


def record(ecs) -> dict:
    arn = ecs.describe()["currentServiceDeployment"]
    return ecs.client.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]


def test_an_alarm_during_the_rollout_fails_it_and_rolls_back_to_the_last_completed(ecs, aws, cloudwatch):
    first = alarmed(ecs)
    alarm_during_rollout(ecs, aws, cloudwatch)
    aws.clock.sleep(5)
    failed = record(ecs)
    assert failed["status"] == "ROLLBACK_IN_PROGRESS"
    assert failed["alarms"] == {"status": "TRIGGERED", "alarmNames": ["HighErrors"], "triggeredAlarmNames": ["HighErrors"]}
    assert primary(ecs)["taskDefinition"] == first
    assert any("alarm(s) detected: HighErrors" in e for e in ecs.events())
    alarm(cloudwatch, "OK")
    ecs.settle(900)
    assert record(ecs)["status"] == "ROLLBACK_SUCCESSFUL" and ecs.describe()["taskDefinition"] == first


def test_without_rollback_the_alarm_fails_the_deployment_and_no_new_tasks_start(ecs, aws, cloudwatch):
    alarmed(ecs, rollback=False)
    second = alarm_during_rollout(ecs, aws, cloudwatch)
    aws.clock.sleep(5)
    started = len(aws.sim.service("web").primary.tasks)
    ecs.settle(600)
    assert (primary(ecs)["taskDefinition"], primary(ecs)["rolloutState"]) == (second, "FAILED")
    assert record(ecs)["status"] == "STOPPED"
    assert len(aws.sim.service("web").primary.tasks) == started


def test_the_deployment_stays_in_progress_through_the_bake_and_an_alarm_then_still_fails_it(ecs, aws, cloudwatch):
    first = alarmed(ecs)
    ecs.update(taskDefinition=ecs.task_definition("app:v2"))
    aws.clock.run_until(lambda: len(ecs.describe()["deployments"]) == 1, limit=900)  # scaled in: only v2 left
    assert primary(ecs)["rolloutState"] == "IN_PROGRESS"  # baking
    aws.clock.sleep(BAKE - 60)
    assert primary(ecs)["rolloutState"] == "IN_PROGRESS"
    alarm(cloudwatch)
    aws.clock.sleep(5)
    assert record(ecs)["status"] == "ROLLBACK_IN_PROGRESS" and primary(ecs)["taskDefinition"] == first


def test_after_the_bake_it_completes_and_a_later_alarm_changes_nothing(ecs, aws, cloudwatch):
    alarmed(ecs)
    second = ecs.task_definition("app:v2")
    ecs.update(taskDefinition=second)
    aws.clock.run_until(lambda: len(ecs.describe()["deployments"]) == 1, limit=900)
    scaled_in = aws.clock.now()
    aws.clock.run_until(lambda: primary(ecs)["rolloutState"] == "COMPLETED", limit=900)
    assert BAKE <= aws.clock.now() - scaled_in <= BAKE + 10
    alarm(cloudwatch)
    aws.clock.sleep(60)
    assert (primary(ecs)["taskDefinition"], record(ecs)["status"]) == (second, "SUCCESSFUL")


def test_an_alarm_already_in_alarm_when_the_deployment_starts_is_ignored(ecs, aws, cloudwatch):
    alarmed(ecs)
    alarm(cloudwatch)
    second = ecs.task_definition("app:v2")
    ecs.update(taskDefinition=second)
    ecs.settle(900)
    assert (primary(ecs)["taskDefinition"], primary(ecs)["rolloutState"]) == (second, "COMPLETED")


def test_alarms_not_enabled_are_not_watched(ecs, aws, cloudwatch):
    alarmed(ecs, enable=False)
    alarm_during_rollout(ecs, aws, cloudwatch)
    ecs.settle(900)
    assert primary(ecs)["rolloutState"] == "COMPLETED" and record(ecs)["alarms"]["status"] == "DISABLED"


def test_an_image_declared_to_misbehave_drives_its_alarm_once_it_serves(ecs, aws, cloudwatch):
    first = alarmed(ecs)
    aws.sim.declare_image("app:v2", alarm="HighErrors", alarm_after=60)
    ecs.update(taskDefinition=ecs.task_definition("app:v2"))
    aws.clock.run_until(lambda: record(ecs)["status"] not in ("PENDING", "IN_PROGRESS"), limit=900)
    assert record(ecs)["status"] == "ROLLBACK_IN_PROGRESS" and primary(ecs)["taskDefinition"] == first
    healthy = min(t.started_at for t in aws.sim.service("web").deployments[-1].tasks) + 40  # no health check: 40 s
    fired = next(e["t"] for e in aws.sim.timeline.events if e["message"].startswith("alarm HighErrors: ALARM"))
    assert fired == healthy + 60


def test_with_the_breaker_too_the_first_to_trip_wins(ecs, aws, cloudwatch):
    alarmed(ecs, breaker=True)
    aws.sim.declare_image("app:crash", crash_after=1)
    ecs.update(taskDefinition=ecs.task_definition("app:crash"))
    aws.clock.run_until(lambda: record(ecs)["status"] not in ("PENDING", "IN_PROGRESS"), limit=900)
    alarm(cloudwatch)  # too late: the breaker tripped first
    aws.clock.sleep(5)
    tripped = record(ecs)
    assert tripped["deploymentCircuitBreaker"]["status"] == "TRIGGERED" and tripped["alarms"]["status"] == "MONITORING"


def test_rolling_back_a_healthy_release_keeps_minimum_healthy_percent(ecs, aws, cloudwatch):
    """The alarm fails a release whose tasks pass every check: they keep serving until
    the rollback's tasks are healthy (no drop below desired with minimumHealthyPercent 100)."""
    first = alarmed(ecs)
    ecs.update(taskDefinition=ecs.task_definition("app:v2"))
    aws.clock.run_until(lambda: len(ecs.describe()["deployments"]) == 1, limit=900)
    alarm(cloudwatch)
    since = aws.clock.now()
    aws.clock.run_until(lambda: record(ecs)["status"] == "ROLLBACK_SUCCESSFUL", limit=1800)
    samples = [s for s in aws.sim.timeline.samples if s["t"] >= since and s["service"] == "web"]
    assert min(s["healthy"] for s in samples) >= 2
    assert ecs.describe()["taskDefinition"] == first
