"""judge(): one poll's observations -> verdict, on realistic ECS shapes."""
from __future__ import annotations

import pytest

from ecs_template_deploy.verdict import State, judge
from ecs_template_deploy.views import Service, ServiceDeployment, StoppedTask, is_steady_state_event
from ecs_template_deploy.watch import RolloutWatcher
from watch_shapes import crashed, deployment, event, service, stopped_task, td

NEW, OLD = "ecs-svc/2222222222", "ecs-svc/1111111111"


def rolling(new_running: int = 1, old_running: int = 4, **kw) -> Service:
    return Service(service([
        deployment(NEW, 8, running=new_running, pending=1, **kw),
        deployment(OLD, 7, status="ACTIVE", running=old_running, rollout="COMPLETED"),
    ]))


def test_rollout_with_old_tasks_still_running_is_in_progress():
    assert judge(rolling(), NEW).state is State.IN_PROGRESS


@pytest.mark.parametrize("others, state, reason", [
    pytest.param([], State.SUCCEEDED, "web:8 reached a steady state", id="only-ours-listed-is-success"),
    pytest.param([deployment(OLD, 7, status="ACTIVE", running=1, rollout="COMPLETED")], State.IN_PROGRESS, "",
                 id="old-still-listed-is-not-yet-success"),
])
def test_our_completed_deployment_is_success_once_no_other_deployment_is_listed(others, state, reason):
    verdict = judge(Service(service([deployment(NEW, 8, running=4, rollout="COMPLETED"), *others])), NEW)
    assert verdict.state is state
    assert verdict.reason == reason  # in progress says nothing yet


@pytest.mark.parametrize("running, expected", [(4, State.SUCCEEDED), (3, State.IN_PROGRESS)])
def test_without_rollout_state_success_is_what_the_services_stable_waiter_says(running, expected):
    svc = Service(service([deployment(NEW, 8, running=running, rollout=None)]))
    assert svc.is_stable is (running == 4)
    assert judge(svc, NEW).state is expected


def test_crashed_essential_container_fails_at_the_first_task():
    task = StoppedTask(crashed("t1", 8, NEW))
    verdict = judge(rolling(), NEW, [task])
    assert verdict.state is State.FAILED
    assert verdict.reason == "a task of web:8 failed: Essential container in task exited (app: exit code 1)"
    assert verdict.failed_tasks == (task,)
    assert verdict.first_failure_at == task.stopped_at


def test_image_missing_from_ecr_is_a_failure():
    task = StoppedTask(stopped_task(
        "t1", 8, NEW, stop_code="TaskFailedToStart",
        reason="CannotPullContainerError: pull image manifest has been retried 5 time(s): "
               "failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2: not found"))
    assert task.is_failure
    verdict = judge(rolling(), NEW, [task])
    assert verdict.state is State.FAILED
    assert "CannotPullContainerError" in verdict.reason


@pytest.mark.parametrize("reason", [
    "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123)",
    "Task failed container health checks",
])
def test_health_check_failures_count_although_the_scheduler_stopped_them(reason):
    task = StoppedTask(stopped_task("t1", 8, NEW, stop_code="ServiceSchedulerInitiated", reason=reason,
                                    last_status="DEACTIVATING"))
    assert task.is_failure and not task.is_final
    assert judge(rolling(), NEW, [task]).state is State.FAILED


@pytest.mark.parametrize("stop_code, reason", [
    ("ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/2222222222)"),
    ("ServiceSchedulerInitiated", "Service web deployment replaced the task"),
    ("UserInitiated", "Task stopped by user"),
    ("SpotInterruption", "Your Spot Task was interrupted."),
])
def test_deliberate_stops_are_not_failures(stop_code, reason):
    task = StoppedTask(stopped_task("t1", 8, NEW, stop_code=stop_code, reason=reason, exit_code=137))
    assert not task.is_failure
    assert judge(rolling(), NEW, [task]).state is State.IN_PROGRESS


def test_threshold_waits_for_that_many_failures():
    one = [StoppedTask(crashed("t1", 8, NEW, stopped=10))]
    two = one + [StoppedTask(crashed("t2", 8, NEW, stopped=20))]
    assert judge(rolling(), NEW, one, failure_threshold=2).state is State.IN_PROGRESS
    verdict = judge(rolling(), NEW, two, failure_threshold=2)
    assert verdict.state is State.FAILED
    assert verdict.reason.startswith("2 tasks of web:8 failed")
    assert verdict.first_failure_at == one[0].stopped_at


def test_failures_of_another_deployment_are_ignored():
    other = StoppedTask(crashed("t1", 7, OLD))
    assert judge(rolling(), NEW, [other]).state is State.IN_PROGRESS


def test_failed_tasks_counter_is_evidence_even_without_the_stopped_tasks():
    verdict = judge(rolling(failed=1), NEW, [])
    assert verdict.state is State.FAILED
    assert "1 task(s) of web:8 failed" in verdict.reason


@pytest.mark.parametrize("rollback", [True, False])
def test_rollout_state_failed_says_whether_ecs_rolls_back(rollback):
    svc = Service(service([
        deployment(NEW, 8, failed=3, rollout="FAILED", reason="ECS deployment circuit breaker: tasks failed to start."),
        deployment(OLD, 7, status="ACTIVE", running=4, rollout="COMPLETED"),
    ], breaker=True, rollback=rollback))
    verdict = judge(svc, NEW)
    assert verdict.state is State.FAILED
    assert verdict.reason == "ECS deployment circuit breaker: tasks failed to start."
    assert verdict.ecs_rolls_back is rollback


def test_circuit_breaker_rollback_makes_primary_no_longer_ours():
    rollback_id = "ecs-svc/3333333333"
    svc = Service(service([
        deployment(rollback_id, 7, running=2, pending=2),
        deployment(NEW, 8, status="ACTIVE", failed=3, rollout="FAILED",
                   reason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111111111."),
    ], breaker=True, rollback=True))
    verdict = judge(svc, NEW)
    assert verdict.state is State.ROLLED_BACK_BY_ECS
    assert verdict.ecs_rolls_back
    assert verdict.now_primary == td(7)


def test_stable_service_on_old_revision_after_breaker_is_a_rollback_not_a_success():
    svc = Service(service([deployment("ecs-svc/3333333333", 7, running=4, rollout="COMPLETED")],
                          breaker=True, rollback=True))
    assert svc.is_stable  # what the services_stable waiter (and fabfuel) would call success
    verdict = judge(svc, NEW, [StoppedTask(crashed("t1", 8, NEW))])
    assert verdict.state is State.ROLLED_BACK_BY_ECS
    assert verdict.now_primary == td(7)


def test_another_deploy_over_ours_is_superseded():
    svc = Service(service([
        deployment("ecs-svc/4444444444", 9, running=0, pending=4),
        deployment(NEW, 8, status="ACTIVE", running=4),
    ]))
    verdict = judge(svc, NEW)
    assert verdict.state is State.SUPERSEDED
    assert "web:9" in verdict.reason


def test_threshold_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        judge(rolling(), NEW, failure_threshold=0)


@pytest.mark.parametrize("message, steady", [
    ("(service web) has reached a steady state.", True),
    ("service web has reached a steady state.", True),
    ("(service web) has started 2 tasks: (task 0123).", False),
])
def test_both_steady_state_wordings_match(message, steady):
    event("e1", message, 0)  # the fixture is a valid ServiceEvent
    assert is_steady_state_event(message) is steady


def test_a_revision_no_deployment_runs_any_more_resolves_to_nothing_and_is_superseded():
    svc = Service(service([deployment("ecs-svc/4444444444", 9, running=4, rollout="COMPLETED")]))
    assert RolloutWatcher.resolve(svc, td(9)) == "ecs-svc/4444444444"
    assert RolloutWatcher.resolve(svc, td(8)) == ""
    assert judge(svc, "").state is State.SUPERSEDED


# -- ECS's service deployment record and watched alarms ---------------------------

def record(status: str, **extra) -> ServiceDeployment:
    return ServiceDeployment({"serviceDeploymentArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/abc",
                              "status": status, **extra})


@pytest.mark.parametrize("status", ["ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"])
def test_ecs_rolling_back_in_its_record_is_followed_before_anything_else(status):
    # DescribeServices still shows ours PRIMARY and healthy-looking: the record knows better
    verdict = judge(rolling(), NEW, record=record(status, rollback={"reason": "alarm HighErrors in ALARM"}))
    assert verdict.state is State.ROLLED_BACK_BY_ECS
    assert verdict.ecs_rolls_back
    assert verdict.reason == "alarm HighErrors in ALARM"


def test_a_failed_ecs_rollback_is_a_failure_the_tool_must_handle():
    verdict = judge(rolling(), NEW, record=record("ROLLBACK_FAILED", statusReason="blue revision gone"))
    assert verdict.state is State.FAILED
    assert not verdict.ecs_rolls_back
    assert "blue revision gone" in verdict.reason


def test_a_stopped_deployment_is_a_failure():
    assert judge(rolling(), NEW, record=record("STOPPED")).state is State.FAILED


def test_the_record_saying_successful_is_success_although_blue_is_still_listed():
    # blue/green keeps blue's deployment listed until clean-up; ECS's record decides
    assert judge(rolling(), NEW, record=record("SUCCESSFUL")).state is State.SUCCEEDED
    assert judge(rolling(), NEW, record=record("IN_PROGRESS")).state is State.IN_PROGRESS


def test_task_failures_win_over_a_record_still_in_progress():
    stopped = [StoppedTask(crashed("t1", 8, NEW))]
    assert judge(rolling(), NEW, stopped, record=record("IN_PROGRESS")).state is State.FAILED


def test_a_watched_alarm_fails_our_deployment_and_names_the_alarm():
    verdict = judge(rolling(), NEW, alarms=["HighErrors", "Latency"])
    assert verdict.state is State.FAILED
    assert "HighErrors, Latency" in verdict.reason


def test_an_alarm_does_not_fail_a_deployment_that_is_no_longer_ours():
    svc = Service(service([
        deployment(OLD, 7, running=4, rollout="COMPLETED"),
        deployment(NEW, 8, status="ACTIVE", running=0, rollout="FAILED"),
    ], breaker=True, rollback=True))
    verdict = judge(svc, NEW, alarms=["HighErrors"])
    assert verdict.state is State.ROLLED_BACK_BY_ECS
    assert "HighErrors" not in verdict.reason
