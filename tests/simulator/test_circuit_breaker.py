"""Semantics page, "Circuit breaker and rollback", and the issue's proof:
a crashing deploy with circuit breaker + rollback ends back on the previous
task definition, the bad deployment FAILED, with the events ECS logs."""
from __future__ import annotations

import pytest

from harness.ecs import scheduler
from harness.ecs.services import circuit_breaker_threshold

BREAKER = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}


@pytest.mark.parametrize(("desired", "threshold"), [(1, 3), (4, 3), (6, 3), (7, 4), (10, 5), (399, 200), (1000, 200)])
def test_failure_threshold_is_half_desired_at_least_3_at_most_200(desired, threshold):
    assert circuit_breaker_threshold(desired) == threshold


def _deploy_bad(ecs, aws, desired=4, breaker=BREAKER, bad="app:crash"):
    good = ecs.task_definition("app:good")
    ecs.service(good, desired=desired, deploymentConfiguration=breaker)
    ecs.settle()
    aws.sim.declare_image(bad, crash_after=10)
    ecs.update(taskDefinition=ecs.task_definition(bad))
    return good


def test_failed_tasks_reaching_the_threshold_fails_the_rollout_and_stops_launches(ecs, aws):
    """failedTasks counts tasks that failed; at the threshold rolloutState becomes
    FAILED and the deployment launches no more tasks."""
    _deploy_bad(ecs, aws, desired=4, breaker={"deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    ecs.settle(900)
    service = ecs.describe()
    bad = service["deployments"][0]
    assert (bad["status"], bad["rolloutState"], bad["failedTasks"]) == ("PRIMARY", "FAILED", 3)
    assert bad["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    launched = len(aws.sim.service("web").primary.tasks)
    ecs.settle(900)
    assert len(aws.sim.service("web").primary.tasks) == launched
    assert service["runningCount"] == 4  # the old deployment keeps serving


def test_without_circuit_breaker_a_crashing_deployment_retries_forever(ecs, aws):
    _deploy_bad(ecs, aws, desired=2, breaker={})
    ecs.settle(1800)
    bad = ecs.describe()["deployments"][0]
    assert bad["rolloutState"] == "IN_PROGRESS" and bad["failedTasks"] > 20


def test_crashing_deploy_with_rollback_returns_to_the_previous_task_definition_with_ecs_events(ecs, aws):
    """The issue's proof: back on the previous task definition, rolloutState FAILED
    on the bad deployment, and the event sequence ECS logs."""
    good = _deploy_bad(ecs, aws, desired=4)
    seen_failed = set()
    for _ in range(200):
        aws.clock.sleep(5)
        for d in ecs.describe()["deployments"]:
            if d["rolloutState"] == "FAILED":
                seen_failed.add((d["id"], d["taskDefinition"].rsplit("/", 1)[-1], d["status"]))
    service = ecs.describe()
    assert service["taskDefinition"] == good
    (final,) = service["deployments"]
    assert (final["taskDefinition"], final["rolloutState"], service["runningCount"]) == (good, "COMPLETED", 4)
    (bad_id, bad_td, bad_status), = seen_failed
    assert (bad_td, bad_status) == ("app:2", "ACTIVE")
    good_id = aws.sim.service("web").history[0].id
    assert final["rolloutStateReason"] in (
        f"ECS deployment circuit breaker: rolling back to deploymentId {good_id}.",
        f"ECS deployment {final['id']} completed.",
    )
    story = [m for m in ecs.events() if "has started" not in m and "has stopped" not in m]
    assert story == [
        f"(service web) (deployment {good_id}) deployment completed.",
        "(service web) has reached a steady state.",
        f"(service web) (deployment {bad_id}) deployment failed: tasks failed to start.",
        f"(service web) (deployment {bad_id}) rolling back to deployment {good_id}.",
        f"(service web) (deployment {final['id']}) deployment completed.",
        "(service web) has reached a steady state.",
    ]


def test_rollback_goes_to_the_last_completed_deployment_not_revision_minus_one(ecs, aws):
    """With rollback: true ECS rolls back to the last deployment that COMPLETED."""
    v1 = ecs.task_definition("app:v1")
    ecs.service(v1, desired=2, deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    ecs.settle()
    aws.sim.declare_image("app:v2", crash_after=5)
    ecs.update(taskDefinition=ecs.task_definition("app:v2"))   # fails, no rollback
    ecs.settle(900)
    assert ecs.describe()["deployments"][0]["rolloutState"] == "FAILED"
    aws.sim.declare_image("app:v3", crash_after=5)
    ecs.update(taskDefinition=ecs.task_definition("app:v3"), deploymentConfiguration=BREAKER)
    ecs.settle(1800)
    service = ecs.describe()
    assert service["taskDefinition"] == v1
    assert [d["taskDefinition"] for d in service["deployments"]] == [v1]


def test_rollback_deployment_states_its_reason_while_in_progress(ecs, aws):
    _deploy_bad(ecs, aws, desired=2)
    for _ in range(300):
        aws.clock.sleep(2)
        primary = ecs.describe()["deployments"][0]
        if "rolling back" in primary["rolloutStateReason"]:
            break
    assert primary["rolloutState"] == "IN_PROGRESS"
    assert primary["rolloutStateReason"].startswith("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/")


@pytest.mark.parametrize(("config", "desired", "threshold"), [
    ({"type": "COUNT", "value": 7}, 100, 7),
    ({"type": "UNBOUNDED_PERCENT", "value": 50}, 1000, 500),
    ({"type": "BOUNDED_PERCENT", "value": 10}, 10, 3),
])
def test_threshold_configuration_changes_the_threshold_newer_ecs(config, desired, threshold):
    """Newer ECS: thresholdConfiguration (modelled: COUNT, BOUNDED_PERCENT, UNBOUNDED_PERCENT)."""
    assert circuit_breaker_threshold(desired, config) == threshold


def test_threshold_configuration_count_trips_the_breaker_at_that_count(ecs, aws):
    _deploy_bad(ecs, aws, desired=10, breaker={"deploymentCircuitBreaker": {
        "enable": True, "rollback": False, "thresholdConfiguration": {"type": "COUNT", "value": 12}}})
    ecs.settle(1800)
    bad = ecs.describe()["deployments"][0]
    assert (bad["rolloutState"], bad["failedTasks"]) == ("FAILED", 12)


@pytest.mark.parametrize(("reset", "kept"), [(None, False), (True, False), (False, True)])
def test_a_healthy_task_resets_the_failure_count_unless_reset_on_healthy_task_is_false(ecs, aws, reset, kept):
    """resetOnHealthyTask (default true): a task reaching a healthy state resets
    failedTasks to 0, which is why tasks that pass their checks and crash later
    may never trip the breaker (AWS knowledge center)."""
    breaker = {"enable": True, "rollback": False, "thresholdConfiguration": {"type": "COUNT", "value": 100}}
    if reset is not None:
        breaker["resetOnHealthyTask"] = reset
    ecs.service(ecs.task_definition("app:1"), desired=4, deploymentConfiguration={"deploymentCircuitBreaker": breaker})
    ecs.settle()
    aws.sim.declare_image("app:2", crash_after=30)
    ecs.update(taskDefinition=ecs.task_definition("app:2"))
    service = aws.sim.service("web")
    assert aws.clock.run_until(lambda: service.primary.failed_tasks > 0, limit=600)
    failed = service.primary.failed_tasks
    scheduler.on_task_healthy(aws.sim, service, service.primary)   # one of its tasks turns healthy
    assert service.primary.failed_tasks == (failed if kept else 0)
    assert ecs.describe()["deployments"][0]["failedTasks"] == service.primary.failed_tasks
