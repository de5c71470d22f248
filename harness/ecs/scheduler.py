"""The service scheduler's pass: rolling-update arithmetic, steady state, and
the deployment circuit breaker with rollback.

One pass per service every `scheduler_interval` seconds:
- max = floor(desired x maximumPercent / 100) bounds RUNNING + PENDING (every
  task not yet STOPPED, draining ones included);
- min = ceil(desired x minimumHealthyPercent / 100) bounds healthy tasks;
- start tasks for the PRIMARY deployment (unless its rollout FAILED) within max;
- stop tasks of older deployments (unhealthy first) only while healthy >= min.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from harness.ecs import deployments as records
from harness.ecs import strategies
from harness.ecs.services import ACTIVE, COMPLETED, FAILED, IN_PROGRESS, INACTIVE, PRIMARY, SimulatedDeployment, SimulatedService, circuit_breaker_threshold
from harness.ecs.tasks import RUNNING, SERVICE_SCHEDULER_INITIATED, reason_scaling

if TYPE_CHECKING:
    from harness.ecs.cluster import Cluster


def bounds(desired: int, min_percent: int, max_percent: int) -> tuple[int, int]:
    """(minimum healthy tasks rounded up, maximum running+pending rounded down)."""
    return math.ceil(desired * min_percent / 100), math.floor(desired * max_percent / 100)


def breaker_threshold(service: SimulatedService) -> int:
    return circuit_breaker_threshold(service.desired_count, service.circuit_breaker.get("thresholdConfiguration"))


def last_completed(service: SimulatedService, exclude: SimulatedDeployment | None = None) -> SimulatedDeployment | None:
    """What a rollback returns to: the newest deployment that reached COMPLETED."""
    return next((d for d in reversed(service.history) if d.rollout_state == COMPLETED and d is not exclude), None)


def alarm_bake(sim: "Cluster", deployment: SimulatedDeployment) -> float:
    """A rolling deployment watched by alarms stays IN_PROGRESS this long after
    scale-in (ECS derives it from the alarms; the length is a parameter)."""
    record = deployment.service_deployment
    watched = record is not None and deployment is record.deployment and record.alarms.get("status") == records.MONITORING
    return sim.params.alarm_bake_seconds if watched else 0.0


def run_pass(sim: "Cluster", service: SimulatedService) -> None:
    if service.status != "ACTIVE" and not service.tasks():
        return
    primary = service.primary
    record = primary.service_deployment
    if record is not None and record.status == records.PENDING:
        sim.record_moves(service, record, records.IN_PROGRESS)
    if primary.shift is not None and primary.rollout_state == IN_PROGRESS:
        strategies.run_pass(sim, service, primary)  # blue/green, linear, canary: their own lifecycle
        return
    desired = service.desired_count if service.status == "ACTIVE" else 0
    lower, upper = bounds(desired, service.min_healthy_percent, service.max_percent)
    all_alive = [t for t in service.tasks() if t.alive]
    healthy = sum(1 for t in all_alive if t.healthy and t.wanted)

    # 1. Start tasks for the PRIMARY deployment within maximumPercent (unless ECS
    #    is throttling starts after repeated failures to start).
    primary_wanted = primary.wanted_tasks()
    if primary.rollout_state != FAILED and sim.clock.now() >= primary.throttled_until:
        room = max(0, upper - len(all_alive))
        to_start = min(max(0, desired - len(primary_wanted)), room)
        if to_start:
            sim.start_service_tasks(service, primary, to_start)

    # 2. Scale in PRIMARY beyond desired (unhealthy and youngest first).
    extra = len(primary_wanted) - desired
    if extra > 0:
        victims = sorted(primary_wanted, key=lambda t: (t.healthy, -t.created_at))[:extra]
        sim.stop_service_tasks(service, victims, reason_scaling(primary.id))
        healthy -= sum(1 for t in victims if t.healthy)

    # 3. Drain older deployments while the healthy count stays >= minimum.
    old = [t for d in service.deployments[1:] for t in d.wanted_tasks()]
    if old:
        unhealthy_old = [t for t in old if not t.healthy]
        healthy_old = [t for t in old if t.healthy]
        spare = max(0, healthy - lower) if service.status == "ACTIVE" else len(healthy_old)
        victims = unhealthy_old + healthy_old[:spare]
        by_deployment: dict[str, list] = {}
        for t in victims:
            by_deployment.setdefault(t.deployment.id, []).append(t)
        for tasks in by_deployment.values():
            sim.stop_service_tasks(service, tasks, reason_scaling(primary.id))

    # 4. Drained deployments disappear; a lone, full, healthy PRIMARY completes.
    for d in list(service.deployments[1:]):
        if not d.alive_tasks():
            d.status = INACTIVE
            d.updated_at = sim.clock.now()
            service.deployments.remove(d)
            strategies.drained(sim, service, d)
    watch_alarms(sim, service, primary)
    settled = (
        primary.rollout_state == IN_PROGRESS
        and len(service.deployments) == 1
        and primary.count(RUNNING) == desired
        and all(t.healthy for t in primary.alive_tasks())
        and len(primary.alive_tasks()) == desired
    )
    if settled and primary.settled_at is None:
        primary.settled_at = sim.clock.now()
    if settled and primary.settled_at is not None and sim.clock.now() >= primary.settled_at + alarm_bake(sim, primary):
        sim.complete_deployment(service, primary)
    steady = (
        len(service.deployments) == 1
        and primary.rollout_state == COMPLETED
        and primary.count(RUNNING) == desired
        and len(primary.alive_tasks()) == desired
    )
    if steady and not service.steady:
        sim.event(service, f"(service {service.name}) has reached a steady state.")
    service.steady = steady
    if steady and service.deferred_scale_in is not None:
        target, service.deferred_scale_in = service.deferred_scale_in, None
        sim.set_desired_count(service, target, source="autoscaling")


def on_task_failed(sim: "Cluster", service: SimulatedService, deployment: SimulatedDeployment) -> None:
    """Count the failure; trip the circuit breaker at its threshold."""
    if deployment.rollout_state != IN_PROGRESS:
        return
    deployment.failed_tasks += 1
    deployment.updated_at = sim.clock.now()
    record = deployment.service_deployment
    own = record is not None and deployment is record.deployment
    if own and record.breaker.get("status") == records.MONITORING:
        record.breaker["failureCount"] = deployment.failed_tasks
    breaker = service.circuit_breaker
    if not breaker.get("enable") or deployment.status != PRIMARY or deployment.shift is not None:
        return  # the circuit breaker watches rolling updates only
    if deployment.failed_tasks < breaker_threshold(service):
        return
    fail_deployment(sim, service, deployment, monitor="breaker", rollback=bool(breaker.get("rollback")),
                    reason="ECS deployment circuit breaker: tasks failed to start.",
                    event="deployment failed: tasks failed to start.",
                    rollback_reason="Service deployment rolled back because the circuit breaker threshold was exceeded.")


def fail_deployment(sim: "Cluster", service: SimulatedService, deployment: SimulatedDeployment, *, monitor: str, rollback: bool,
                    reason: str, event: str, rollback_reason: str) -> None:
    """A monitor (the circuit breaker, or alarms) failed the deployment: FAILED, no
    new tasks; with rollback, back to the last completed deployment."""
    record = deployment.service_deployment
    deployment.rollout_state = FAILED
    deployment.rollout_state_reason = reason
    sim.event(service, f"(service {service.name}) (deployment {deployment.id}) {event}")
    if record is not None and deployment is not record.deployment:
        # the rollback itself failed: ECS does not roll back a rollback
        sim.record_moves(service, record, records.ROLLBACK_FAILED, f"Service deployment rollback failed: {reason}")
        return
    if record is not None:
        (record.breaker if monitor == "breaker" else record.alarms)["status"] = records.TRIGGERED
    target = last_completed(service, exclude=deployment) if rollback else None
    if target is None:  # rollback off, or nothing ever completed: nothing to roll back to
        if record is not None:
            record.stopped_at = sim.clock.now()
            sim.record_moves(service, record, records.STOPPED, f"Service deployment failed: {reason}")
        return
    sim.event(service, f"(service {service.name}) (deployment {deployment.id}) rolling back to deployment {target.id}.")
    if record is not None:
        record.rollback = {"reason": rollback_reason, "startedAt": sim.clock.now(),
                           "serviceRevisionArn": target.revision.arn if target.revision else ""}
        sim.record_moves(service, record, records.ROLLBACK_IN_PROGRESS)
    sim.roll_back(service, deployment, target)
    # The failed deployment stops launching: its tasks not yet healthy stop now; its
    # healthy ones (an alarm failed a release that passes its checks) serve on and
    # are scaled in like any ACTIVE deployment's, as the rollback's tasks become
    # healthy: minimumHealthyPercent holds through a rollback too.
    for t in deployment.wanted_tasks():
        if not t.healthy:
            sim.runner.stop(t, SERVICE_SCHEDULER_INITIATED, reason_scaling(service.primary.id))
    deployment.status = ACTIVE


def watch_alarms(sim: "Cluster", service: SimulatedService, deployment: SimulatedDeployment) -> None:
    """deploymentConfiguration.alarms: an alarm entering ALARM while the deployment
    rolls out (or bakes after it) fails it; one already in ALARM at the start is
    ignored. Rollbacks are not watched (ECS does not roll back a rollback)."""
    record = deployment.service_deployment
    if record is None or deployment is not record.deployment or record.alarms.get("status") != records.MONITORING:
        return
    if deployment.rollout_state != IN_PROGRESS:
        return
    states = sim.alarm_states(service, record.alarms["alarmNames"])
    triggered = sorted(name for name, state in states.items() if state == "ALARM" and name not in deployment.alarms_ignored)
    if not triggered:
        return
    record.alarms["triggeredAlarmNames"] = triggered
    config = service.deployment_configuration.get("alarms") or {}
    fail_deployment(sim, service, deployment, monitor="alarms", rollback=bool(config.get("rollback")),
                    reason=f"ECS deployment alarm(s) in ALARM: {', '.join(triggered)}.",
                    event=f"deployment failed: alarm(s) detected: {', '.join(triggered)}.",
                    rollback_reason=f"Service deployment rolled back because alarm(s) {', '.join(triggered)} went into ALARM.")


def on_start_failed(sim: "Cluster", service: SimulatedService, deployment: SimulatedDeployment) -> None:
    """A task of the deployment went PENDING -> STOPPED: after several in a row ECS
    throttles new starts, leaving a gap that doubles up to 27 minutes, and says
    it is unable to consistently start tasks. Tasks that reached RUNNING never
    count; a new deployment starts afresh."""
    deployment.start_failures += 1
    p = sim.params
    if deployment.start_failures < p.throttle_after_failures:
        return
    first = deployment.throttle_delay == 0
    deployment.throttle_delay = min(p.throttle_max_delay, p.throttle_first_delay if first else deployment.throttle_delay * 2)
    deployment.throttled_until = sim.clock.now() + deployment.throttle_delay
    if first:
        sim.event(service, f"(service {service.name}) is unable to consistently start tasks successfully.")


def on_task_running(deployment: SimulatedDeployment) -> None:
    deployment.start_failures = 0
    deployment.throttle_delay = 0.0
    deployment.throttled_until = 0.0


def on_task_healthy(sim: "Cluster", service: SimulatedService, deployment: SimulatedDeployment) -> None:
    """resetOnHealthyTask (default true): a healthy task resets the failure count,
    which is why a task that passes its checks and then crashes may never trip
    the breaker."""
    if deployment.rollout_state != IN_PROGRESS or deployment.status != PRIMARY:
        return
    if service.circuit_breaker.get("resetOnHealthyTask", True) and deployment.failed_tasks:
        deployment.failed_tasks = 0
        deployment.updated_at = sim.clock.now()
