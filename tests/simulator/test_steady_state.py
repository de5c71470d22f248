"""Semantics page, "Steady state and events", and the issue's proof with
botocore's own `services_stable` waiter (what `aws ecs wait services-stable` runs)."""
from __future__ import annotations

import botocore.exceptions
import pytest


def _stable_by_rule(sample: dict) -> bool:
    """botocore's rule: exactly one deployment and runningCount == desiredCount."""
    return len(sample["deployments"]) == 1 and sample["running"] == sample["desired"]


def test_deployment_completes_when_alone_full_and_healthy_then_steady_state_is_logged(ecs, aws):
    ecs.settled_service(desired=3)
    ecs.update(taskDefinition=ecs.task_definition("nginx:2"))
    ecs.settle()
    service = ecs.describe()
    (primary,) = service["deployments"]
    assert primary["rolloutState"] == "COMPLETED"
    completed = [e for e in service["events"] if e["message"].endswith("deployment completed.")]
    steady = [e for e in service["events"] if e["message"] == "(service web) has reached a steady state."]
    assert len(completed) == 2 and len(steady) == 2
    assert completed[0]["createdAt"] == steady[0]["createdAt"]


def test_events_name_started_and_stopped_tasks(ecs, aws):
    ecs.settled_service(desired=2)
    ecs.update(taskDefinition=ecs.task_definition("nginx:2"))
    ecs.settle()
    messages = ecs.events()
    started = [m for m in messages if m.startswith("(service web) has started 2 tasks: (task ")]
    stopped = [m for m in messages if m.startswith("(service web) has stopped 2 running tasks: (task ")]
    assert len(started) == 2 and len(stopped) == 1


def test_services_stable_waiter_succeeds_exactly_when_ecs_rule_holds(ecs, aws):
    """The waiter returns at its first poll after the service has one deployment
    and runningCount == desiredCount, never before."""
    ecs.settled_service(desired=4)
    ecs.update(taskDefinition=ecs.task_definition("nginx:2"))
    started = aws.clock.now()
    with aws.virtual_sleep():
        ecs.client.get_waiter("services_stable").wait(cluster="c", services=["web"])
    returned = aws.clock.now()
    samples = [s for s in aws.sim.timeline.samples if s["t"] >= started]
    first_stable = next(s["t"] for s in samples if _stable_by_rule(s))
    assert all(not _stable_by_rule(s) for s in samples if s["t"] < first_stable)
    assert first_stable <= returned < first_stable + 15      # the waiter polls every 15 s
    service = ecs.describe()
    assert len(service["deployments"]) == 1 and service["runningCount"] == service["desiredCount"] == 4


def test_services_stable_waiter_times_out_on_a_deployment_whose_tasks_crash(ecs, aws):
    ecs.settled_service(desired=2)
    aws.sim.declare_image("nginx:crash", crash_after=20)
    ecs.update(taskDefinition=ecs.task_definition("nginx:crash"))
    started = aws.clock.now()
    with aws.virtual_sleep(), pytest.raises(botocore.exceptions.WaiterError, match="Max attempts exceeded"):
        ecs.client.get_waiter("services_stable").wait(cluster="c", services=["web"])
    assert aws.clock.now() - started >= 15 * 39          # 40 attempts, 15 s apart, all virtual
    assert len(ecs.describe()["deployments"]) == 2
