"""Semantics page, "Rolling update arithmetic"."""
from __future__ import annotations

import pytest

from harness.ecs.scheduler import bounds


@pytest.mark.parametrize(
    ("desired", "low", "high", "expected"),
    [(4, 50, 200, (2, 8)), (2, 75, 100, (2, 2)), (3, 50, 150, (2, 4)), (5, 100, 130, (5, 6))],
)
def test_minimum_rounds_up_and_maximum_rounds_down(desired, low, high, expected):
    """minimumHealthyPercent rounds UP; maximumPercent rounds DOWN."""
    assert bounds(desired, low, high) == expected


def _roll(ecs, aws, probe, desired, low, high, seconds=900, **td):
    ecs.service(ecs.task_definition("nginx:1", **td), desired=desired,
                deploymentConfiguration={"minimumHealthyPercent": low, "maximumPercent": high})
    ecs.settle()
    ecs.update(taskDefinition=ecs.task_definition("nginx:2", **td))
    return probe(aws, seconds)


def test_min_50_percent_of_4_lets_the_scheduler_stop_2_old_tasks_first(ecs, aws, probe):
    """50% of 4 lets the scheduler stop 2 old tasks first (maximum 100%: no room to start)."""
    samples = _roll(ecs, aws, probe, desired=4, low=50, high=100)
    first_change = next(s for s in samples if s["healthy"] != 4 or s["alive"] != 4)
    assert first_change["healthy"] == 2          # two old tasks told to stop, none started yet
    assert min(s["healthy"] for s in samples) == 2
    assert samples[-1]["primary_running"] == 4 and samples[-1]["deployments"] == 1


def test_min_75_percent_of_2_with_max_100_lets_it_stop_none(ecs, aws, probe):
    """75% of 2 lets it stop none: with maximum 100% the rollout cannot progress."""
    samples = _roll(ecs, aws, probe, desired=2, low=75, high=100, seconds=600)
    assert all(s["healthy"] == 2 and s["primary_running"] == 0 and s["deployments"] == 2 for s in samples)


@pytest.mark.parametrize(("desired", "low", "high"), [(4, 100, 200), (4, 50, 150), (10, 90, 110), (3, 0, 100)])
def test_running_plus_pending_never_exceeds_maximum_and_healthy_never_drops_below_minimum(ecs, aws, probe, desired, low, high):
    """maximumPercent bounds RUNNING + PENDING; old tasks stop only while healthy >= minimum."""
    lower, upper = bounds(desired, low, high)
    samples = _roll(ecs, aws, probe, desired, low, high)
    assert max(s["alive"] for s in samples) <= upper
    assert min(s["healthy"] for s in samples) >= lower
    assert samples[-1]["primary_running"] == desired and samples[-1]["deployments"] == 1


def test_task_without_health_check_counts_as_healthy_40_seconds_after_running(ecs, aws):
    """No health check and no load balancer: RUNNING counts toward the minimum after 40 s."""
    ecs.service(ecs.task_definition(), desired=1)
    aws.clock.sleep(15)   # first scheduler pass at 5 s, pull 10 s, start 5 s -> RUNNING at 20 s
    task = aws.sim.service("web").primary.tasks[0]
    aws.clock.sleep(5)
    assert (task.last_status, task.healthy) == ("RUNNING", False)
    aws.clock.sleep(39)
    assert task.healthy is False
    aws.clock.sleep(1)
    assert task.healthy is True


def test_task_with_container_health_check_is_healthy_when_the_check_reports_healthy(ecs, aws):
    """Essential containers with a healthCheck: healthy when it reports HEALTHY."""
    check = {"command": ["CMD", "true"], "interval": 10, "retries": 3}
    ecs.service(ecs.task_definition(health_check=check), desired=1)
    aws.clock.sleep(20)   # RUNNING at 20 s
    (task,) = ecs.tasks()
    assert (task["lastStatus"], task["healthStatus"]) == ("RUNNING", "UNKNOWN")
    aws.clock.sleep(10)
    (task,) = ecs.tasks()
    assert task["healthStatus"] == "HEALTHY"
    assert task["containers"][0]["healthStatus"] == "HEALTHY"


def test_task_behind_a_load_balancer_is_healthy_after_the_target_group_check_passes(ecs, aws):
    """Behind a load balancer: healthy once the target group health check passes
    (interval 30 s x healthy threshold 5)."""
    tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
    ecs.service(ecs.task_definition(), desired=1, healthCheckGracePeriodSeconds=60,
                loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}])
    aws.clock.sleep(20)
    task = aws.sim.service("web").primary.tasks[0]
    aws.clock.sleep(149)
    assert task.healthy is False
    aws.clock.sleep(1)
    assert task.healthy is True
