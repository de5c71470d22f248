"""Small read-only views of ECS answers, and the one way to name a revision.

Each view wraps one response dict (`raw`) and says what its fields mean, so the
rest of the tool never digs in dicts. Revisions are named `family:revision`
(`web:7`) everywhere: `revision_name` turns an ARN (or a short reference) into
that, and two spellings of one revision compare equal through it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Mapping, Protocol, TypeVar, overload

from .clock import epoch

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs.type_defs import (DeploymentTypeDef, ServiceDeploymentTypeDef, ServiceTypeDef, TagTypeDef,
                                          TaskDefinitionTypeDef, TaskTypeDef)

T = TypeVar("T")


class _Answer(Protocol):
    @property
    def raw(self) -> Mapping[str, Any]: ...


class Field(Generic[T]):
    """A view's field read from one key of its answer: ``name = text("serviceName")``
    says once what a dozen near-identical properties said each time."""

    def __init__(self, key: str, read: Callable[[Any], T], doc: str = "") -> None:
        self.key, self.read, self.__doc__ = key, read, doc or f"The answer's {key}."

    @overload
    def __get__(self, view: None, owner: type) -> Field[T]: ...
    @overload
    def __get__(self, view: _Answer, owner: type) -> T: ...
    def __get__(self, view: _Answer | None, owner: type) -> Field[T] | T:
        return self if view is None else self.read(view.raw.get(self.key))


def text(key: str, doc: str = "") -> Field[str]:
    """A string field; "" where the answer lacks it."""
    return Field(key, lambda value: value if isinstance(value, str) else "", doc)


def count(key: str, doc: str = "") -> Field[int]:
    """A count; 0 where the answer lacks it."""
    return Field(key, lambda value: int(value or 0), doc)


def moment(key: str, doc: str = "") -> Field[float | None]:
    """A timestamp as epoch seconds (``clock.epoch``); None where the answer lacks it."""
    return Field(key, epoch, doc)


# ECS writes this when a service settles; newer logs drop the parentheses.
STEADY_STATE = re.compile(r"^\(?service (?P<service>\S+?)\)? has reached a steady state\.?$")

# stopCode values that say the task itself failed. `TaskFailedToStart` covers
# CannotPullContainerError, ResourceInitializationError and friends.
FAILURE_STOP_CODES = frozenset({"TaskFailedToStart", "EssentialContainerExited"})
# Reasons that mark a failure even when the scheduler did the stopping (ECS
# stops unhealthy tasks with stopCode ServiceSchedulerInitiated).
FAILURE_REASONS = (
    "failed elb health checks",
    "failed container health checks",
    "essential container in task exited",
    "cannotpullcontainererror",
    "cannotstartcontainererror",
    "cannotcreatecontainererror",
    "resourceinitializationerror",
    "outofmemoryerror",
    "task failed to start",
)


def revision_name(arn_or_name: str | None) -> str:
    """`arn:...:task-definition/web:7` or `web:7` -> `web:7`; "" for nothing."""
    return (arn_or_name or "").rsplit("/", 1)[-1]


def family_of(arn_or_name: str) -> str:
    """`arn:...:task-definition/web:3`, `web:3` or `web` -> `web`."""
    return revision_name(arn_or_name).split(":", 1)[0]


def revision_of(arn_or_name: str) -> int | None:
    _, sep, revision = revision_name(arn_or_name).partition(":")
    return int(revision) if sep and revision.isdigit() else None


def same_revision(a: str | None, b: str | None) -> bool:
    """ARN or `family:revision`: the same revision however it is spelt."""
    return bool(a) and bool(b) and revision_name(a) == revision_name(b)


def tags_of(raw: Iterable[TagTypeDef] | Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """ECS's `[{"key": k, "value": v}]` -> `{k: v}`."""
    return {t["key"]: t["value"] for t in raw or []}


@dataclass(frozen=True)
class TaskDefinition:
    """A described task definition revision and its tags."""

    raw: TaskDefinitionTypeDef
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return self.raw["taskDefinitionArn"]

    @property
    def name(self) -> str:
        return revision_name(self.arn)

    @property
    def family(self) -> str:
        return self.raw["family"]

    @property
    def revision(self) -> int:
        return int(self.raw["revision"])

    @property
    def is_active(self) -> bool:
        return self.raw.get("status", "ACTIVE") == "ACTIVE"

    registered_at = moment("registeredAt")

    @property
    def container_definitions(self) -> list[Mapping[str, Any]]:
        return list(self.raw.get("containerDefinitions", []))

    @property
    def images(self) -> dict[str, str]:
        """Container name -> image."""
        return {c["name"]: c.get("image", "") for c in self.container_definitions}


@dataclass(frozen=True)
class Deployment:
    """One element of DescribeServices `services[].deployments`."""

    raw: DeploymentTypeDef

    id = text("id")
    status = text("status")

    @property
    def is_primary(self) -> bool:
        return self.status == "PRIMARY"

    task_definition = text("taskDefinition")

    @property
    def revision(self) -> str:
        return revision_name(self.task_definition)

    desired_count = count("desiredCount")
    running_count = count("runningCount")
    pending_count = count("pendingCount")
    failed_tasks = count("failedTasks")

    @property
    def rollout_state(self) -> str | None:
        """IN_PROGRESS | COMPLETED | FAILED, or None where ECS does not report it."""
        return self.raw.get("rolloutState")

    rollout_state_reason = text("rolloutStateReason")

    @property
    def has_failed(self) -> bool:
        return self.rollout_state == "FAILED"

    @property
    def is_completed(self) -> bool:
        return self.rollout_state == "COMPLETED"

    created_at = moment("createdAt")
    updated_at = moment("updatedAt")

    def progress(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "revision": self.revision,
            "running": self.running_count,
            "pending": self.pending_count,
            "desired": self.desired_count,
            "failed": self.failed_tasks,
            "rollout": self.rollout_state,
        }

    def summary(self) -> str:
        """`web:2 primary 0/4 running, 4 pending, 4 failed [in_progress]`."""
        return (f"{self.revision} {self.status.lower()} {self.running_count}/{self.desired_count} running"
                + (f", {self.pending_count} pending" if self.pending_count else "")
                + (f", {self.failed_tasks} failed" if self.failed_tasks else "")
                + (f" [{self.rollout_state.lower()}]" if self.rollout_state else ""))


@dataclass(frozen=True)
class Service:
    """One element of DescribeServices `services`."""

    raw: ServiceTypeDef

    name = text("serviceName")
    arn = text("serviceArn")
    cluster_arn = text("clusterArn")
    task_definition = text("taskDefinition")
    desired_count = count("desiredCount")
    running_count = count("runningCount")
    pending_count = count("pendingCount")
    current_service_deployment = text("currentServiceDeployment", """The ARN of the service's newest service deployment ("" where ECS has none).""")

    @property
    def strategy(self) -> str:
        """ROLLING, BLUE_GREEN, LINEAR or CANARY (how ECS rolls a new revision out)."""
        return (self.raw.get("deploymentConfiguration") or {}).get("strategy") or "ROLLING"

    @property
    def pauses(self) -> bool:
        """Its deployments stop at a PAUSE lifecycle hook somewhere (deploymentConfiguration.lifecycleHooks)."""
        hooks = (self.raw.get("deploymentConfiguration") or {}).get("lifecycleHooks") or []
        return any(h.get("targetType") == "PAUSE" for h in hooks)

    @property
    def minimum_healthy_percent(self) -> float:
        return (self.raw.get("deploymentConfiguration") or {}).get("minimumHealthyPercent", 100)

    @property
    def maximum_percent(self) -> float:
        return (self.raw.get("deploymentConfiguration") or {}).get("maximumPercent", 200)

    @property
    def scheduling_strategy(self) -> str:
        """REPLICA, or DAEMON (one task per container instance)."""
        return self.raw.get("schedulingStrategy") or "REPLICA"

    @property
    def strategy_waits(self) -> float:
        """Seconds a blue/green, linear or canary deployment waits on purpose (its
        bake, the waits between traffic steps): a deploy's --timeout comes on top."""
        config = self.raw.get("deploymentConfiguration") or {}
        if self.strategy not in SHIFTING_STRATEGIES:
            return 0.0
        waits = 60.0 * (config.get("bakeTimeInMinutes") or 0)
        if self.strategy == "LINEAR":
            linear = config.get("linearConfiguration") or {}
            steps = -(-100.0 // float(linear.get("stepPercent", 10.0)))  # ceil
            waits += 60.0 * linear.get("stepBakeTimeInMinutes", 6) * max(steps - 1, 0)
        if self.strategy == "CANARY":
            waits += 60.0 * (config.get("canaryConfiguration") or {}).get("canaryBakeTimeInMinutes", 10)
        return waits

    @property
    def deployment_controller(self) -> str:
        """ECS (rolling updates the tool drives), CODE_DEPLOY or EXTERNAL."""
        controller = self.raw.get("deploymentController")
        return (controller.get("type") if controller else None) or "ECS"

    @property
    def deployments(self) -> list[Deployment]:
        return [Deployment(d) for d in self.raw.get("deployments", [])]

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.is_primary), None)

    def deployment(self, deployment_id: str) -> Deployment | None:
        return next((d for d in self.deployments if d.id == deployment_id), None)

    @property
    def task_definitions_in_use(self) -> set[str]:
        """The service's task definition and every one a deployment still uses."""
        arns = {self.task_definition} if self.task_definition else set()
        arns.update(d.task_definition for d in self.deployments if d.task_definition)
        return arns

    @property
    def circuit_breaker_rolls_back(self) -> bool:
        breaker = self.raw.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
        return bool(breaker.get("enable") and breaker.get("rollback"))

    @property
    def is_stable(self) -> bool:
        """botocore's `services_stable` waiter, exactly: one deployment, running == desired."""
        return len(self.raw.get("deployments", [])) == 1 and self.running_count == self.desired_count

    @property
    def is_steady(self) -> bool:
        """Settled at full strength: botocore's `services_stable` (one deployment, every
        desired task running) and, where ECS reports one, a COMPLETED rollout (a deployment
        with every task running that is still IN_PROGRESS, in a blue/green bake or at a
        lifecycle hook, has not finished). Stricter than `steady_on`, which trusts COMPLETED
        without counting tasks: the revision a service settled on stays its revision when
        one of its tasks dies later."""
        primary = self.primary
        return self.is_stable and primary is not None and primary.rollout_state in (None, "COMPLETED")

    @property
    def steady_on(self) -> str:
        """The revision the service is steady on (one deployment, COMPLETED or stable), else ""."""
        primary = self.primary
        if primary is None or len(self.deployments) != 1:
            return ""
        if primary.is_completed or (primary.rollout_state is None and self.is_stable):
            return primary.task_definition
        return ""

    @property
    def rollout_state(self) -> str:
        """The PRIMARY deployment's rollout state, for reports ("-" where ECS says none)."""
        primary = self.primary
        return (primary.rollout_state or "-") if primary else "-"

    @property
    def events(self) -> list[Mapping[str, Any]]:
        """Service events, oldest first (ECS lists them newest first)."""
        return list(reversed(self.raw.get("events", [])))

    @property
    def tags(self) -> dict[str, str]:
        return tags_of(self.raw.get("tags"))


def stuck_rolling_update(desired: int, minimum_percent: float, maximum_percent: float, *, strategy: str = "ROLLING",
                         scheduling: str = "REPLICA") -> tuple[int, int] | None:
    """(fewest tasks ECS must keep, most it may run) when they leave a rolling update
    of a replica service no room to replace a task (maximumPercent 100 with
    minimumHealthyPercent 100), else None. ECS rounds the minimum up and the maximum
    down. Blue/green-family strategies and DAEMON services do not replace that way."""
    if desired <= 0 or strategy != "ROLLING" or scheduling != "REPLICA":
        return None
    floor = -(-desired * minimum_percent // 100)
    ceiling = desired * maximum_percent // 100
    return (int(floor), int(ceiling)) if ceiling <= floor else None


def is_steady_state_event(message: str) -> bool:
    return bool(STEADY_STATE.match(message.strip()))


@dataclass(frozen=True)
class StoppedTask:
    """One element of DescribeTasks `tasks` whose desiredStatus is STOPPED."""

    raw: TaskTypeDef

    @property
    def arn(self) -> str:
        return self.raw["taskArn"]

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    task_definition = text("taskDefinitionArn")
    started_by = text("startedBy")
    last_status = text("lastStatus")

    @property
    def is_final(self) -> bool:
        """STOPPED for good: nothing about it will change on a later describe."""
        return self.last_status == "STOPPED"

    stop_code = text("stopCode")
    stopped_reason = text("stoppedReason")

    @property
    def stopped_at(self) -> float | None:
        """When the stop began: stoppingAt if known, else stoppedAt."""
        for value in (self.raw.get("stoppingAt"), self.raw.get("executionStoppedAt"), self.raw.get("stoppedAt")):
            if value is not None:
                return epoch(value)
        return None

    @property
    def containers(self) -> list[Mapping[str, Any]]:
        return list(self.raw.get("containers", []))

    def _reasons(self) -> Iterable[str]:
        yield self.stopped_reason
        for container in self.containers:
            yield container.get("reason", "")

    @property
    def is_failure(self) -> bool:
        """The application failed (crash, pull error, health checks); not a scale-in,
        a deployment replacing it, a user's stop or a Spot interruption."""
        reasons = " ".join(self._reasons()).lower()
        return any(marker in reasons for marker in FAILURE_REASONS) or self.stop_code in FAILURE_STOP_CODES

    @property
    def failure_reason(self) -> str:
        """One line: what failed, naming the container and its exit code or error."""
        parts = []
        for container in self.containers:
            detail = container.get("reason") or (
                f"exit code {container['exitCode']}" if container.get("exitCode") not in (None, 0) else ""
            )
            if detail:
                parts.append(f"{container.get('name', '?')}: {detail}")
        reason = self.stopped_reason or self.stop_code or "stopped"
        return f"{reason} ({'; '.join(parts)})" if parts else reason


@dataclass(frozen=True)
class PausedHook:
    """A PAUSE lifecycle hook holding a deployment at its stage until someone calls
    ContinueServiceDeployment (CONTINUE or ROLLBACK), or it expires and ECS takes
    its `timeout_action`."""

    hook_id: str
    expires_at: float | None
    timeout_action: str


# The service deployments API's statuses (2024-25)
ROLLING_BACK = frozenset({"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"})
ONGOING = frozenset({"PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"})
SHIFTING_STRATEGIES = frozenset({"BLUE_GREEN", "LINEAR", "CANARY"})


@dataclass(frozen=True)
class ServiceDeployment:
    """One element of DescribeServiceDeployments `serviceDeployments`: ECS's own
    record of a deployment, with what watches it and, for blue/green, linear and
    canary, the lifecycle stage and the traffic it gives the new revision."""

    raw: ServiceDeploymentTypeDef

    arn = text("serviceDeploymentArn")
    status = text("status")
    status_reason = text("statusReason")

    @property
    def is_ongoing(self) -> bool:
        return self.status in ONGOING

    @property
    def is_rolling_back(self) -> bool:
        """ECS is taking it back (its circuit breaker, an alarm, a hook, a stop)."""
        return self.status in ROLLING_BACK

    @property
    def rollback_reason(self) -> str:
        return (self.raw.get("rollback") or {}).get("reason", "")

    lifecycle_stage = text("lifecycleStage")

    @property
    def paused_hooks(self) -> tuple["PausedHook", ...]:
        """PAUSE lifecycle hooks of this deployment awaiting ContinueServiceDeployment (none once
        it is no longer in progress: a stopped or rolled-back deployment holds nothing)."""
        if not self.is_ongoing:
            return ()
        return tuple(PausedHook(h.get("hookId", ""), epoch(h.get("expiresAt")), h.get("timeoutAction", ""))
                     for h in self.raw.get("lifecycleHookDetails") or []
                     if h.get("targetType") == "PAUSE" and h.get("status") == "AWAITING_ACTION")

    @property
    def keeps_blue(self) -> bool:
        """A blue/green-family deployment that has not cleaned blue up yet: a
        rollback is a traffic shift."""
        return self.is_ongoing and bool(self.lifecycle_stage) and self.lifecycle_stage != "CLEAN_UP"

    @property
    def production_share(self) -> float | None:
        """The share of production traffic ECS asked for the new revision (blue/green family)."""
        return (self.raw.get("targetServiceRevision") or {}).get("requestedProductionTrafficWeight")

    @property
    def triggered_alarms(self) -> list[str]:
        return list((self.raw.get("alarms") or {}).get("triggeredAlarmNames") or [])

    def summary(self) -> str:
        """`IN_PROGRESS, PRODUCTION_TRAFFIC_SHIFT, 50% production`."""
        parts = [self.status]
        if self.lifecycle_stage:
            parts.append(self.lifecycle_stage)
        if self.production_share is not None:
            parts.append(f"{self.production_share:g}% production")
        return ", ".join(parts)
