"""`judge()`: one poll's observations -> a `Verdict` on one deployment. Pure.

Failure is decided on evidence, not on a timeout: the deployment's
`rolloutState` FAILED, tasks of the deployment stopped for a failure reason
(`failure_threshold` of them, default the first), or the PRIMARY deployment
being no longer ours (ECS's circuit breaker rolled back, or someone deployed
over us). The watcher adds the last resort, the timeout.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Sequence

from .views import Service, ServiceDeployment, StoppedTask, revision_name

DEFAULT_FAILURE_THRESHOLD = 1


class State(str, enum.Enum):
    IN_PROGRESS = "in-progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # The PRIMARY deployment is no longer ours: ECS's circuit breaker rolled back
    # (our deployment FAILED) or someone else deployed over us.
    ROLLED_BACK_BY_ECS = "rolled-back-by-ecs"
    SUPERSEDED = "superseded"
    TIMED_OUT = "timed-out"

    @property
    def is_final(self) -> bool:
        return self is not State.IN_PROGRESS


@dataclass(frozen=True)
class Verdict:
    state: State
    reason: str = ""
    # ECS is (or will be) rolling the service back itself: follow, do not fight.
    ecs_rolls_back: bool = False
    # The task definition the service is heading to when it is no longer ours.
    now_primary: str = ""
    failed_tasks: tuple[StoppedTask, ...] = ()
    # --on-pause rollback: (service deployment ARN, hook id) to answer ROLLBACK, once the
    # failure is written on the revision (a kill after the answer must leave it failed)
    pause_answer: tuple[str, str] | None = None

    @property
    def first_failure_at(self) -> float | None:
        times = [t.stopped_at for t in self.failed_tasks if t.stopped_at is not None]
        return min(times) if times else None


def judge(
    service: Service,
    deployment_id: str,
    stopped: Sequence[StoppedTask] = (),
    *,
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
    record: ServiceDeployment | None = None,
    alarms: Sequence[str] = (),
) -> Verdict:
    """What one poll's observations say about deployment `deployment_id`.

    `stopped` are the stopped tasks started by that deployment (others are
    ignored); `record` is ECS's service deployment for it, where the service
    deployments API can be read; `alarms` are the watched CloudWatch alarms
    that went into ALARM during the watch. No clock, no API.
    """
    if failure_threshold < 1:
        raise ValueError(f"failure threshold must be at least 1, got {failure_threshold}")
    ours = service.deployment(deployment_id)
    primary = service.primary
    failures = tuple(t for t in stopped if t.started_by in ("", deployment_id) and t.is_failure)

    if record is not None and record.is_rolling_back:  # ECS's own word first, where it gives one
        return Verdict(State.ROLLED_BACK_BY_ECS, record.rollback_reason or record.status_reason or
                       f"ECS rolls the deployment back ({record.status})", ecs_rolls_back=True,
                       now_primary=primary.task_definition if primary else service.task_definition,
                       failed_tasks=failures)
    if record is not None and record.status == "ROLLBACK_FAILED":
        return Verdict(State.FAILED, record.status_reason or "ECS's rollback of the deployment failed",
                       failed_tasks=failures)
    if alarms and ours is not None and ours.is_primary:
        return Verdict(State.FAILED, f"alarm(s) in ALARM: {', '.join(alarms)}", failed_tasks=failures)
    if ours is None or not ours.is_primary:
        heading_to = primary.task_definition if primary else service.task_definition
        if ours is not None and ours.has_failed:
            return Verdict(State.ROLLED_BACK_BY_ECS, ours.rollout_state_reason or "ECS marked the deployment FAILED",
                           ecs_rolls_back=True, now_primary=heading_to, failed_tasks=failures)
        if ours is None and failures and service.circuit_breaker_rolls_back:
            # The circuit breaker acted and the failed deployment drained between
            # two polls: our failed tasks are the evidence.
            return Verdict(State.ROLLED_BACK_BY_ECS, failure_summary(failures, revision_name(failures[0].task_definition)),
                           ecs_rolls_back=True, now_primary=heading_to, failed_tasks=failures)
        return Verdict(State.SUPERSEDED, f"another deployment ({revision_name(heading_to) or '-'}) replaced ours",
                       now_primary=heading_to, failed_tasks=failures)

    if ours.has_failed:
        return Verdict(State.FAILED, ours.rollout_state_reason or "ECS marked the deployment FAILED",
                       ecs_rolls_back=service.circuit_breaker_rolls_back, failed_tasks=failures)
    if len(failures) >= failure_threshold:
        return Verdict(State.FAILED, failure_summary(failures, ours.revision), failed_tasks=failures)
    if not failures and ours.failed_tasks >= failure_threshold:
        return Verdict(State.FAILED, f"{ours.failed_tasks} task(s) of {ours.revision} failed to start or pass health checks")
    if record is not None and record.status == "STOPPED":
        return Verdict(State.FAILED, record.status_reason or "ECS stopped the deployment", failed_tasks=failures)
    if record is not None and record.status == "SUCCESSFUL":
        return Verdict(State.SUCCEEDED, f"{ours.revision} reached a steady state")
    if service.steady_on and ours.task_definition == service.steady_on:
        return Verdict(State.SUCCEEDED, f"{ours.revision} reached a steady state")
    return Verdict(State.IN_PROGRESS)


def failure_summary(failures: Sequence[StoppedTask], revision: str) -> str:
    first = min(failures, key=lambda t: t.stopped_at if t.stopped_at is not None else float("inf"))
    count = f"{len(failures)} tasks of {revision} failed" if len(failures) > 1 else f"a task of {revision} failed"
    return f"{count}: {first.failure_reason}"
