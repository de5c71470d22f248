"""Semantics page, "Application Auto Scaling": a scalable target in moto's
Application Auto Scaling, driven by the scenario; scale-in is suspended while a
deployment is in progress, scale-out continues."""
from __future__ import annotations

import pytest

from harness.ecs.scaling import ScalingError


@pytest.fixture
def scalable(ecs, aws):
    ecs.service(ecs.task_definition("nginx:1"), desired=2)
    aas = aws.client("application-autoscaling")
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/c/web",
                                 ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=6)
    ecs.settle()
    return aas


def test_scenario_driven_desired_count_is_clamped_to_the_scalable_target(ecs, aws, scalable):
    aws.sim.scaling.set_desired("web", 10)
    ecs.settle()
    assert (ecs.describe()["desiredCount"], ecs.describe()["runningCount"]) == (6, 6)


def test_desired_count_over_time(ecs, aws, scalable):
    now = aws.clock.now()
    aws.sim.scaling.set_desired("web", 4, at=now + 100)
    aws.sim.scaling.set_desired("web", 1, at=now + 400)
    counts = []
    for _ in range(10):
        aws.clock.sleep(100)
        counts.append(ecs.describe()["desiredCount"])
    assert counts == [4, 4, 4, 1, 1, 1, 1, 1, 1, 1]


def test_scale_in_is_suspended_during_a_deployment_and_applied_after(ecs, aws, scalable):
    aws.sim.scaling.set_desired("web", 4)
    ecs.settle()
    ecs.update(taskDefinition=ecs.task_definition("nginx:2"))
    aws.clock.sleep(10)
    aws.sim.scaling.set_desired("web", 1)          # scale-in while IN_PROGRESS: waits
    assert ecs.describe()["desiredCount"] == 4
    ecs.settle()
    assert ecs.describe()["desiredCount"] == 1
    assert ecs.describe()["runningCount"] == 1


def test_scale_out_continues_during_a_deployment(ecs, aws, scalable):
    ecs.update(taskDefinition=ecs.task_definition("nginx:2"))
    aws.clock.sleep(10)
    aws.sim.scaling.set_desired("web", 5)
    assert ecs.describe()["desiredCount"] == 5
    ecs.settle()
    assert ecs.describe()["runningCount"] == 5


def test_target_tracking_load_sets_desired_count(ecs, aws, scalable):
    scalable.put_scaling_policy(
        PolicyName="cpu", ServiceNamespace="ecs", ResourceId="service/c/web",
        ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={"TargetValue": 50.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    aws.sim.scaling.set_load("web", 100.0)     # 2 tasks at 100% for a 50% target -> 4
    assert ecs.describe()["desiredCount"] == 4


def test_driving_a_service_without_a_scalable_target_is_an_error_that_says_what_to_do(ecs, aws):
    ecs.service(ecs.task_definition(), name="lonely")
    with pytest.raises(ScalingError, match="has no scalable target ecs:service:DesiredCount; register one first"):
        aws.sim.scaling.set_desired("lonely", 3)
