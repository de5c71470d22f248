"""Reading a rollout: DescribeServices deployments and stopped tasks -> evidence.

Three layers, so each can be tested on its own:

- small objects over the AWS response dicts (`Deployment`, `StoppedTask`) whose
  properties say what the fields mean;
- `judge()`, a pure function that turns one poll's observations into a
  `Verdict` (in progress, succeeded, failed with a reason, replaced by ECS's
  circuit breaker rollback or by another deployment);
- `RolloutWatcher`, which polls with an ECS client and the `now`/`sleep`
  callables it is given (the harness passes its virtual clock), emits progress
  events as data to a sink, and stops as soon as the evidence decides.

Failure is decided on evidence, not on a timeout: the deployment's
`rolloutState` FAILED, tasks of the deployment stopped for a failure reason
(`failure_threshold` of them, default the first), or the PRIMARY deployment
being no longer ours. The timeout is the last resort.

Renderers for the events (terminal, plain CI lines, JSON lines) are at the end.
"""
from __future__ import annotations

import datetime as _dt
import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence, TextIO

from .errors import ServiceNotFoundError, aws_call

DEFAULT_POLL_INTERVAL = 5.0
DEFAULT_TIMEOUT = 1800.0
DEFAULT_FAILURE_THRESHOLD = 1

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
# Stops that are somebody's decision or the infrastructure's, never the app's.
NOT_FAILURE_STOP_CODES = frozenset(
    {"UserInitiated", "ServiceSchedulerInitiated", "SpotInterruption", "TerminationNotice", "InfrastructureHealth"}
)


def _epoch(value: Any) -> float | None:
    """AWS timestamps arrive as datetimes from botocore; accept epoch numbers too."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.timestamp()
    return float(value)


def revision_name(task_definition_arn: str | None) -> str:
    """`arn:...:task-definition/web:7` -> `web:7` (a bare `web:7` passes through)."""
    if not task_definition_arn:
        return "-"
    return task_definition_arn.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Deployment:
    """One element of DescribeServices `services[].deployments`."""

    raw: Mapping[str, Any]

    @property
    def id(self) -> str:
        return self.raw["id"]

    @property
    def status(self) -> str:
        return self.raw.get("status", "")

    @property
    def is_primary(self) -> bool:
        return self.status == "PRIMARY"

    @property
    def task_definition(self) -> str:
        return self.raw.get("taskDefinition", "")

    @property
    def revision(self) -> str:
        return revision_name(self.task_definition)

    @property
    def desired_count(self) -> int:
        return int(self.raw.get("desiredCount", 0))

    @property
    def running_count(self) -> int:
        return int(self.raw.get("runningCount", 0))

    @property
    def pending_count(self) -> int:
        return int(self.raw.get("pendingCount", 0))

    @property
    def failed_tasks(self) -> int:
        return int(self.raw.get("failedTasks", 0))

    @property
    def rollout_state(self) -> str | None:
        """IN_PROGRESS | COMPLETED | FAILED, or None where ECS does not report it."""
        return self.raw.get("rolloutState")

    @property
    def rollout_state_reason(self) -> str:
        return self.raw.get("rolloutStateReason", "")

    @property
    def has_failed(self) -> bool:
        return self.rollout_state == "FAILED"

    @property
    def created_at(self) -> float | None:
        return _epoch(self.raw.get("createdAt"))

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


@dataclass(frozen=True)
class Service:
    """One element of DescribeServices `services`."""

    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.raw.get("serviceName", "")

    @property
    def arn(self) -> str:
        return self.raw.get("serviceArn", "")

    @property
    def task_definition(self) -> str:
        return self.raw.get("taskDefinition", "")

    @property
    def desired_count(self) -> int:
        return int(self.raw.get("desiredCount", 0))

    @property
    def running_count(self) -> int:
        return int(self.raw.get("runningCount", 0))

    @property
    def deployments(self) -> list[Deployment]:
        return [Deployment(d) for d in self.raw.get("deployments", [])]

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.is_primary), None)

    def deployment(self, deployment_id: str) -> Deployment | None:
        return next((d for d in self.deployments if d.id == deployment_id), None)

    @property
    def circuit_breaker_rolls_back(self) -> bool:
        breaker = self.raw.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
        return bool(breaker.get("enable") and breaker.get("rollback"))

    @property
    def is_stable(self) -> bool:
        """botocore's `services_stable` waiter, exactly: one deployment, running == desired."""
        return len(self.raw.get("deployments", [])) == 1 and self.running_count == self.desired_count

    @property
    def events(self) -> list[Mapping[str, Any]]:
        """Service events, oldest first (ECS lists them newest first)."""
        return list(reversed(self.raw.get("events", [])))

    @property
    def tags(self) -> dict[str, str]:
        return {t["key"]: t["value"] for t in self.raw.get("tags", [])}


def is_steady_state_event(message: str) -> bool:
    return bool(STEADY_STATE.match(message.strip()))


@dataclass(frozen=True)
class StoppedTask:
    """One element of DescribeTasks `tasks` whose desiredStatus is STOPPED."""

    raw: Mapping[str, Any]

    @property
    def arn(self) -> str:
        return self.raw["taskArn"]

    @property
    def task_definition(self) -> str:
        return self.raw.get("taskDefinitionArn", "")

    @property
    def started_by(self) -> str:
        return self.raw.get("startedBy", "")

    @property
    def last_status(self) -> str:
        return self.raw.get("lastStatus", "")

    @property
    def is_final(self) -> bool:
        """STOPPED for good: nothing about it will change on a later describe."""
        return self.last_status == "STOPPED"

    @property
    def stop_code(self) -> str:
        return self.raw.get("stopCode", "")

    @property
    def stopped_reason(self) -> str:
        return self.raw.get("stoppedReason", "")

    @property
    def stopped_at(self) -> float | None:
        """When the stop began: stoppingAt if known, else stoppedAt."""
        for key in ("stoppingAt", "executionStoppedAt", "stoppedAt"):
            value = _epoch(self.raw.get(key))
            if value is not None:
                return value
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
        if any(marker in reasons for marker in FAILURE_REASONS):
            return True
        if self.stop_code in FAILURE_STOP_CODES:
            return True
        return False

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


# --------------------------------------------------------------------------- verdict


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
) -> Verdict:
    """What one poll's observations say about deployment `deployment_id`.

    `stopped` are the stopped tasks started by that deployment (others are
    ignored). Pure: no clock, no API.
    """
    if failure_threshold < 1:
        raise ValueError(f"failure threshold must be at least 1, got {failure_threshold}")
    ours = service.deployment(deployment_id)
    primary = service.primary
    failures = tuple(t for t in stopped if t.started_by in ("", deployment_id) and t.is_failure)

    if ours is None or not ours.is_primary:
        heading_to = primary.task_definition if primary else service.task_definition
        if ours is not None and ours.has_failed:
            return Verdict(State.ROLLED_BACK_BY_ECS, ours.rollout_state_reason or "ECS marked the deployment FAILED",
                           ecs_rolls_back=True, now_primary=heading_to, failed_tasks=failures)
        if ours is None and failures and service.circuit_breaker_rolls_back:
            # The circuit breaker acted and the failed deployment drained between
            # two polls: our failed tasks are the evidence.
            return Verdict(State.ROLLED_BACK_BY_ECS, _failure_summary(failures, revision_name(failures[0].task_definition)),
                           ecs_rolls_back=True, now_primary=heading_to, failed_tasks=failures)
        return Verdict(State.SUPERSEDED,
                       f"another deployment ({revision_name(heading_to)}) replaced ours",
                       now_primary=heading_to, failed_tasks=failures)

    if ours.has_failed:
        return Verdict(State.FAILED, ours.rollout_state_reason or "ECS marked the deployment FAILED",
                       ecs_rolls_back=service.circuit_breaker_rolls_back, failed_tasks=failures)
    if len(failures) >= failure_threshold:
        return Verdict(State.FAILED, _failure_summary(failures, ours.revision), failed_tasks=failures)
    if not failures and ours.failed_tasks >= failure_threshold:
        return Verdict(State.FAILED, f"{ours.failed_tasks} task(s) of {ours.revision} failed to start or pass health checks")

    alone = len(service.deployments) == 1
    if alone and ours.rollout_state == "COMPLETED":
        return Verdict(State.SUCCEEDED, f"{ours.revision} reached a steady state")
    if alone and ours.rollout_state is None and service.is_stable:
        return Verdict(State.SUCCEEDED, f"{ours.revision} reached a steady state")
    return Verdict(State.IN_PROGRESS)


def _failure_summary(failures: Sequence[StoppedTask], revision: str) -> str:
    first = min(failures, key=lambda t: t.stopped_at if t.stopped_at is not None else float("inf"))
    count = f"{len(failures)} tasks of {revision} failed" if len(failures) > 1 else f"a task of {revision} failed"
    return f"{count}: {first.failure_reason}"


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class ProgressEvent:
    """What a watcher saw, as data: renderers turn it into text."""

    kind: str  # "service-event" | "rollout" | "task-failed" | "verdict" | "action"
    at: float  # epoch seconds, from the clock the watcher was given
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"at": _iso(self.at), "kind": self.kind, "message": self.message, **self.data}


Sink = Callable[[ProgressEvent], None]


def discard(_: ProgressEvent) -> None:
    """A sink for callers that only want the outcome."""


def _iso(at: float) -> str:
    return _dt.datetime.fromtimestamp(at, _dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- watcher


@dataclass
class Outcome:
    """How a watch ended, with the timeline numbers the benchmark reads."""

    verdict: Verdict
    deployment_id: str
    task_definition: str
    started_at: float
    decided_at: float
    polls: int
    service: Service | None = None

    @property
    def state(self) -> State:
        return self.verdict.state

    @property
    def succeeded(self) -> bool:
        return self.verdict.state is State.SUCCEEDED

    @property
    def first_failure_at(self) -> float | None:
        return self.verdict.first_failure_at


class RolloutWatcher:
    """Polls one service until a deployment's rollout is decided.

    `ecs` is a boto3 ECS client (build it with adaptive retries at the CLI
    edge); `now()` returns epoch seconds and `sleep(seconds)` waits, so a
    virtual clock drives the whole thing in tests and in the harness.
    """

    def __init__(
        self,
        ecs: Any,
        *,
        now: Callable[[], float],
        sleep: Callable[[float], None],
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        sink: Sink = discard,
    ) -> None:
        if poll_interval <= 0:
            raise ValueError(f"poll interval must be positive, got {poll_interval}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if failure_threshold < 1:
            raise ValueError(f"failure threshold must be at least 1, got {failure_threshold}")
        self.ecs = ecs
        self.now = now
        self.sleep = sleep
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.failure_threshold = failure_threshold
        self.sink = sink
        # Service events already streamed, across watches (a deploy, then its rollback).
        self._seen_events: set[str] = set()
        # Stopped tasks described once and for all (they do not change any more).
        self._known_tasks: dict[str, StoppedTask] = {}

    # -- reading AWS ----------------------------------------------------------

    def describe(self, cluster: str, service: str) -> Service:
        with aws_call("ecs:DescribeServices"):
            answer = self.ecs.describe_services(cluster=cluster, services=[service], include=["TAGS"])
        found = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
        if not found:
            raise ServiceNotFoundError(
                f"service {service!r} not found in cluster {cluster!r}: check --service and --cluster"
            )
        return Service(found[0])

    def _stopped_tasks(self, cluster: str, service: str, deployment_id: str) -> list[StoppedTask]:
        """Stopped (or stopping) tasks of one deployment.

        ListTasks by service name and desiredStatus STOPPED (AWS allows no other
        filter next to `startedBy`), then DescribeTasks only for tasks not seen
        before: a task that is STOPPED, already a failure, or another
        deployment's is remembered for the watcher's lifetime.
        """
        arns: list[str] = []
        with aws_call("ecs:ListTasks"):
            paginator = self.ecs.get_paginator("list_tasks")
            for page in paginator.paginate(cluster=cluster, serviceName=service, desiredStatus="STOPPED"):
                arns.extend(page.get("taskArns", []))
        fresh = [arn for arn in arns if arn not in self._known_tasks]
        stopping: dict[str, StoppedTask] = {}
        for start in range(0, len(fresh), 100):
            with aws_call("ecs:DescribeTasks"):
                answer = self.ecs.describe_tasks(cluster=cluster, tasks=fresh[start:start + 100])
            for raw in answer.get("tasks", []):
                task = StoppedTask(raw)
                if task.is_final or task.is_failure or task.started_by != deployment_id:
                    self._known_tasks[task.arn] = task
                else:
                    # ours, still stopping, no failure reason (yet): judge it now, look again next poll
                    stopping[task.arn] = task
        found = (self._known_tasks.get(arn) or stopping.get(arn) for arn in arns)
        return [task for task in found if task is not None and task.started_by == deployment_id]

    # -- the loop ---------------------------------------------------------------

    @staticmethod
    def resolve(service: Service, task_definition: str | None) -> str:
        """The id of the deployment to watch: the newest one running `task_definition`
        (the PRIMARY one if no task definition is given); "" if none runs it any more."""
        if task_definition:
            ours = [d for d in service.deployments if _same_revision(d.task_definition, task_definition)]
            if ours:
                return max(ours, key=lambda d: (d.is_primary, d.created_at or 0.0)).id
        primary = service.primary
        if primary is None:
            raise ServiceNotFoundError(f"service {service.name!r} has no PRIMARY deployment: is it a CODE_DEPLOY or EXTERNAL service?")
        if task_definition:
            return ""  # nothing runs it any more: judge() reports what replaced it
        return primary.id

    def watch(
        self,
        cluster: str,
        service: str,
        *,
        deployment_id: str | None = None,
        task_definition: str | None = None,
        since: float | None = None,
        timeout: float | None = None,
    ) -> Outcome:
        """Poll until the deployment (by id, else the PRIMARY one) is decided.

        Service events created at or after `since` are streamed; by default,
        those created after the watched deployment was (so a re-run shows the
        rollout so far, and nothing from before the deploy).
        `timeout` overrides the watcher's own for this watch.
        """
        timeout = self.timeout if timeout is None else timeout
        started = self.now()
        deadline = started + timeout
        seen_events = self._seen_events
        reported_failures: set[str] = set()
        last_progress: Any = None
        polls = 0
        while True:
            polls += 1
            snapshot = self.describe(cluster, service)
            if deployment_id is None:
                deployment_id = self.resolve(snapshot, task_definition)
            ours = snapshot.deployment(deployment_id)
            if task_definition is None and ours is not None:
                task_definition = ours.task_definition
            if since is None:
                created = ours.created_at if ours is not None else None
                # 1 ms after: ECS timestamps have millisecond precision, and what
                # happened at the very moment of the update is the old deployment's
                since = created + 0.001 if created is not None else started
            self._emit_events(snapshot, since, seen_events)
            progress = [d.progress() for d in snapshot.deployments]
            if progress != last_progress:
                last_progress = progress
                self._emit_progress(snapshot)
            stopped = self._stopped_tasks(cluster, snapshot.name or service, deployment_id) if deployment_id else []
            for task in stopped:
                if task.is_failure and task.arn not in reported_failures:
                    reported_failures.add(task.arn)
                    self.sink(ProgressEvent("task-failed", self.now(), f"task {task.arn.rsplit('/', 1)[-1]} of "
                                            f"{revision_name(task.task_definition)} failed: {task.failure_reason}",
                                            {"task": task.arn, "revision": revision_name(task.task_definition),
                                             "stopCode": task.stop_code, "reason": task.failure_reason}))
            verdict = judge(snapshot, deployment_id, stopped, failure_threshold=self.failure_threshold)
            if not verdict.state.is_final and self.now() >= deadline:
                verdict = Verdict(State.TIMED_OUT,
                                  f"no decision after {timeout:g} s (--timeout)",
                                  failed_tasks=verdict.failed_tasks)
            if verdict.state.is_final:
                outcome = Outcome(verdict, deployment_id, task_definition or "", started, self.now(), polls, snapshot)
                self.sink(ProgressEvent("verdict", outcome.decided_at,
                                        f"{revision_name(task_definition)}: {verdict.state.value}"
                                        + (f": {verdict.reason}" if verdict.reason else ""),
                                        {"state": verdict.state.value, "revision": revision_name(task_definition),
                                         "deployment": deployment_id, "reason": verdict.reason}))
                return outcome
            self.sleep(min(self.poll_interval, max(deadline - self.now(), 0.0)) or self.poll_interval)

    def watch_replacement(self, cluster: str, service: str, replaced_id: str, *, since: float | None = None,
                          timeout: float | None = None) -> Outcome:
        """Follow the deployment that replaces `replaced_id` (ECS's circuit breaker
        rollback) until it is decided. Waits for it to appear first."""
        timeout = self.timeout if timeout is None else timeout
        started = self.now()
        deadline = started + timeout
        while True:
            snapshot = self.describe(cluster, service)
            primary = snapshot.primary
            if primary is not None and primary.id != replaced_id:
                outcome = self.watch(cluster, service, deployment_id=primary.id, since=since,
                                     timeout=max(deadline - self.now(), self.poll_interval))
                outcome.started_at = started
                return outcome
            if self.now() >= deadline:
                verdict = Verdict(State.TIMED_OUT, f"ECS started no rollback within {timeout:g} s")
                return Outcome(verdict, replaced_id, "", started, self.now(), 0, snapshot)
            self.sleep(self.poll_interval)

    def _emit_events(self, snapshot: Service, since: float, seen: set[str]) -> None:
        for event in snapshot.events:
            created = _epoch(event.get("createdAt"))
            if event.get("id") in seen or (created is not None and created < since):
                continue
            seen.add(event.get("id"))
            message = event.get("message", "")
            self.sink(ProgressEvent("service-event", created if created is not None else self.now(), message,
                                    {"steady": is_steady_state_event(message)}))

    def _emit_progress(self, snapshot: Service) -> None:
        parts = [
            f"{d.revision} {d.status.lower()} {d.running_count}/{d.desired_count} running"
            + (f", {d.pending_count} pending" if d.pending_count else "")
            + (f", {d.failed_tasks} failed" if d.failed_tasks else "")
            + (f" [{d.rollout_state.lower()}]" if d.rollout_state else "")
            for d in snapshot.deployments
        ]
        self.sink(ProgressEvent("rollout", self.now(), "; ".join(parts),
                                {"running": snapshot.running_count, "desired": snapshot.desired_count,
                                 "deployments": [d.progress() for d in snapshot.deployments]}))


def _same_revision(a: str, b: str) -> bool:
    """ARN or `family:revision`: compare the `family:revision` part."""
    return revision_name(a) == revision_name(b)


# --------------------------------------------------------------------------- renderers


class PlainRenderer:
    """One plain line per event, for CI logs: `<time> <kind> <message>`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, event: ProgressEvent) -> None:
        print(f"{_iso(event.at)} {event.kind:<13} {event.message}", file=self.stream, flush=True)


class JsonRenderer:
    """One JSON object per line (`--json`)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, event: ProgressEvent) -> None:
        print(json.dumps(event.as_dict(), default=str), file=self.stream, flush=True)


class TerminalRenderer:
    """Short, coloured lines for a person at a terminal."""

    COLOURS = {"service-event": "2", "rollout": "36", "task-failed": "31", "action": "33"}
    VERDICT_COLOURS = {State.SUCCEEDED.value: "32", State.IN_PROGRESS.value: "36"}

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, event: ProgressEvent) -> None:
        clock = _dt.datetime.fromtimestamp(event.at, _dt.timezone.utc).strftime("%H:%M:%S")
        if event.kind == "verdict":
            colour = self.VERDICT_COLOURS.get(event.data.get("state"), "1;31")
        else:
            colour = self.COLOURS.get(event.kind, "0")
        print(f"\033[2m{clock}\033[0m \033[{colour}m{event.message}\033[0m", file=self.stream, flush=True)


def renderer_for(stream: TextIO, *, json_lines: bool = False, environ: Mapping[str, str] | None = None) -> Sink:
    """JSON lines if asked; coloured lines on a terminal outside CI; plain lines otherwise."""
    if json_lines:
        return JsonRenderer(stream)
    environ = environ if environ is not None else {}
    interactive = getattr(stream, "isatty", lambda: False)() and not environ.get("CI") and not environ.get("NO_COLOR")
    return TerminalRenderer(stream) if interactive else PlainRenderer(stream)
