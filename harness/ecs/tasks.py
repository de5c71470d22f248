"""Task lifecycle as a table of transitions driven by the virtual clock.

ECS's states are PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING,
STOPPING, DEPROVISIONING, STOPPED. The simulator collapses PROVISIONING and
ACTIVATING into PENDING, and DEPROVISIONING into STOPPED; DEACTIVATING is kept
because it is where a load-balanced task drains.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.clock import Timer

def ts(epoch: float) -> datetime:
    """A simulated instant as ECS's answers carry it."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


PENDING, RUNNING, DEACTIVATING, STOPPING, STOPPED = "PENDING", "RUNNING", "DEACTIVATING", "STOPPING", "STOPPED"

# lastStatus -> the states it may move to (the table the lifecycle obeys).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PENDING: (RUNNING, STOPPED),
    RUNNING: (DEACTIVATING, STOPPING, STOPPED),
    DEACTIVATING: (STOPPING,),
    STOPPING: (STOPPED,),
    STOPPED: (),
}
ALIVE = (PENDING, RUNNING, DEACTIVATING, STOPPING)

# ECS stopCode values and stoppedReason wording.
TASK_FAILED_TO_START = "TaskFailedToStart"
ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
USER_INITIATED = "UserInitiated"
SERVICE_SCHEDULER_INITIATED = "ServiceSchedulerInitiated"
REASON_ESSENTIAL_EXITED = "Essential container in task exited"
REASON_CONTAINER_HEALTH = "Task failed container health checks"
REASON_USER_DEFAULT = "Task stopped by user"


def reason_elb_health(target_group_arn: str) -> str:
    return f"Task failed ELB health checks in (target-group {target_group_arn})"


def reason_scaling(deployment_id: str) -> str:
    return f"Scaling activity initiated by (deployment {deployment_id})"


class TransitionError(RuntimeError):
    pass


@dataclass
class Container:
    """One container of a simulated task: what its task definition (or a RunTask
    override) says it runs, and how far it got."""

    name: str
    image: str
    digest: str | None
    essential: bool = True
    health_check: dict | None = None
    command: list[str] | None = None   # the task definition's, or a RunTask override's
    last_status: str = PENDING
    exit_code: int | None = None
    health_status: str = "UNKNOWN"


@dataclass(eq=False)
class Task:
    """A task the simulator runs: a deployment's or RunTask's, from PROVISIONING to
    STOPPED, with its timers (pull, start, health checks, drain) on the virtual clock.
    Compared by identity: two tasks are never equal, whatever their fields."""

    arn: str
    cluster_arn: str
    task_definition_arn: str
    started_by: str | None
    group: str
    created_at: float
    containers: list[Container]
    launch_type: str | None = None
    overrides: dict | None = None     # RunTask's `overrides`, as given
    tags: list[dict] = field(default_factory=list)  # {"key", "value"}: RunTask's, propagated, ECS-managed
    deployment: Any = None            # services.SimulatedDeployment, None for RunTask tasks
    last_status: str = PENDING
    desired_status: str = RUNNING
    health_status: str = "UNKNOWN"
    healthy: bool = False             # counts toward minimumHealthyPercent
    registered_target: bool = False
    target_group_arn: str | None = None  # the target group it registered in (its drain is that group's)
    served_traffic: bool = False      # passed the target group health check at least once
    pull_started_at: float | None = None
    pull_stopped_at: float | None = None
    started_at: float | None = None
    stopping_at: float | None = None
    execution_stopped_at: float | None = None
    stopped_at: float | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    failed: bool = False
    timers: list["Timer"] = field(default_factory=list)
    # what ECS shows of where and how the task runs (placement.Placement): None for
    # the fields ECS leaves out of such a task
    placement: Any = None
    provisioning: bool = False        # Fargate, before its ENI is attached: lastStatus PROVISIONING

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def alive(self) -> bool:
        return self.last_status != STOPPED

    @property
    def wanted(self) -> bool:
        """Still meant to run (not yet told to stop)."""
        return self.desired_status == RUNNING

    def move(self, state: str) -> None:
        if state not in TRANSITIONS[self.last_status]:
            raise TransitionError(f"task {self.id}: {self.last_status} -> {state} is not a transition ECS makes")
        self.last_status = state
        for c in self.containers:
            c.last_status = state if state in (RUNNING, STOPPED) else c.last_status

    def describe(self, include_tags: bool = False) -> dict[str, Any]:
        """The task as DescribeTasks shows it."""
        def opt(value):
            return ts(value) if value is not None else None

        out = {
            "taskArn": self.arn,
            "clusterArn": self.cluster_arn,
            "taskDefinitionArn": self.task_definition_arn,
            "lastStatus": self.last_status,
            "desiredStatus": self.desired_status,
            "healthStatus": self.health_status,
            "group": self.group,
            "createdAt": ts(self.created_at),
            "launchType": self.launch_type,
            "startedBy": self.started_by,
            "pullStartedAt": opt(self.pull_started_at),
            "pullStoppedAt": opt(self.pull_stopped_at if self.started_at is not None else None),
            "startedAt": opt(self.started_at),
            "stoppingAt": opt(self.stopping_at),
            "executionStoppedAt": opt(self.execution_stopped_at),
            "stoppedAt": opt(self.stopped_at),
            "stopCode": self.stop_code,
            "stoppedReason": self.stopped_reason,
            "version": 1,
            "containers": [
                {
                    "containerArn": self.arn.replace(":task/", ":container/") + f"/{c.name}",
                    "taskArn": self.arn,
                    "name": c.name,
                    "image": c.image,
                    "imageDigest": c.digest,
                    "lastStatus": c.last_status,
                    "exitCode": c.exit_code,
                    "healthStatus": c.health_status,
                }
                for c in self.containers
            ],
            "tags": [dict(t) for t in self.tags] if include_tags else None,
            "overrides": self._described_overrides(),
        }
        if self.placement is not None:
            out.update(self.placement.describe(self))
        if self.provisioning and self.last_status == PENDING:   # no pull yet: the task waits for its interface
            out.update(lastStatus="PROVISIONING", pullStartedAt=None, pullStoppedAt=None)
        return {k: v for k, v in out.items() if v is not None}

    def _described_overrides(self) -> dict[str, Any]:
        """As ECS shows them: every container named, with what the override set."""
        given = {o["name"]: o for o in (self.overrides or {}).get("containerOverrides", []) if o.get("name")}
        out: dict[str, Any] = {"containerOverrides": [{**given.get(c.name, {}), "name": c.name} for c in self.containers],
                               "inferenceAcceleratorOverrides": []}
        for key, value in (self.overrides or {}).items():
            if key != "containerOverrides":
                out[key] = value
        return out

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


class TaskRunner:
    """Moves tasks through the table on the clock: pull, start, health, crash, drain, stop.

    `on_failure(task)` is told when a task fails (fails to start, crashes, fails
    health checks) so the deployment can count it; `on_healthy(task)` when it
    starts counting as healthy; `on_running(task)` when it reaches RUNNING;
    `on_stopped(task)` when it reaches STOPPED.
    """

    def __init__(self, clock, params, images, on_failure, on_stopped, on_healthy=lambda task: None,
                 on_running=lambda task: None, target_group_timing=lambda arn: None):
        self.clock = clock
        self.params = params
        # target group ARN -> its own health check and drain settings (None: the parameters')
        self.target_group_timing = target_group_timing
        self.images = images
        self.on_failure = on_failure
        # tasks of each image that reached RUNNING, for images failing every N-th one
        self._started_of: dict[str, int] = {}
        self.on_stopped = on_stopped
        self.on_healthy = on_healthy
        self.on_running = on_running

    def _at(self, task: Task, delay: float, fn) -> None:
        task.timers.append(self.clock.call_later(max(0.0, delay), fn))

    def launch(self, task: Task, pull_error: str | None, target_group_arn: str | None, grace: float) -> None:
        """Start pulling now; RUNNING after pull + start; then health or crash."""
        from harness.ecs.images import ImagePullError

        behaviours = [self.images.behaviour(c.image, c.digest, c.command) for c in task.containers]
        pull = max(self._pull_seconds(b, task.provisioning) for b in behaviours)
        # Fargate first attaches the task's network interface (PROVISIONING), then pulls: the
        # provisioning comes out of the pull's time, so a task is RUNNING when it always was
        provisioning = min(self.params.fargate_provisioning_seconds, pull) if task.provisioning else 0.0
        task.pull_started_at = self.clock.now() + provisioning
        if task.provisioning:
            self._at(task, provisioning, lambda: setattr(task, "provisioning", False))
        error = pull_error
        if error is None:
            for c in task.containers:
                if c.digest is None:   # versionConsistency disabled: resolve the tag at task start
                    try:
                        c.digest = self.images.resolve(c.image)
                    except ImagePullError as err:
                        error = str(err)
                        break
        if error is not None:
            self._at(task, pull, lambda: self.fail(task, TASK_FAILED_TO_START, error))
            return
        start = max(b.start_seconds if b.start_seconds is not None else self.params.container_start_seconds for b in behaviours)
        task.pull_stopped_at = task.pull_started_at - provisioning + pull
        self._at(task, pull + start, lambda: self._running(task, behaviours, target_group_arn, grace))

    def _pull_seconds(self, behaviour: Any, provisioning: bool) -> float:
        """An image's pull, its network interface's attachment included on Fargate:
        declared, else from its declared size where the profile gives a pull rate,
        else the profile's pull time."""
        p = self.params
        if behaviour.pull_seconds is not None:
            return float(behaviour.pull_seconds)
        if behaviour.size_mb is not None and p.image_pull_mb_per_second:
            return (p.fargate_provisioning_seconds if provisioning else 0.0) + behaviour.size_mb / p.image_pull_mb_per_second
        return p.image_pull_seconds

    def _running(self, task: Task, behaviours, target_group_arn: str | None, grace: float) -> None:
        now = self.clock.now()
        task.started_at = now
        task.move(RUNNING)
        self.on_running(task)
        p = self.params
        exits = [(b.exit[0], b.exit[1], c.name) for c, b in zip(task.containers, behaviours, strict=True) if c.essential and b.exit]
        if exits:
            after, code, name = min(exits)
            self._at(task, after, lambda: self._exit(task, name, code))
        checked = [(c, b) for c, b in zip(task.containers, behaviours, strict=True) if c.essential and c.health_check]
        verdicts: list[tuple[float, bool, str]] = []   # (delay, healthy?, reason if not)
        for c, b in checked:
            hc = c.health_check or {}
            interval = hc.get("interval", p.container_health_interval)
            if b.container_health == "pass":
                verdicts.append((interval, True, ""))
            else:
                delay = hc.get("startPeriod", p.container_health_start_period) + interval * hc.get("retries", p.container_health_retries)
                verdicts.append((delay, False, REASON_CONTAINER_HEALTH))
        if target_group_arn:
            task.registered_target = True
            task.target_group_arn = target_group_arn
            group = self.target_group_timing(target_group_arn)
            interval = group.interval if group else p.tg_health_interval
            healthy = group.healthy if group else p.tg_healthy_threshold
            unhealthy = group.unhealthy if group else p.tg_unhealthy_threshold
            if all(b.target_health == "pass" for b in behaviours) and not self._trickles(task, behaviours):
                verdicts.append((interval * healthy, True, ""))
            else:
                delay = max(grace, interval * unhealthy)
                verdicts.append((delay, False, reason_elb_health(target_group_arn)))
        if not verdicts:
            # No health check, no load balancer: RUNNING is healthy, but ECS waits
            # before counting it toward minimumHealthyPercent.
            self._at(task, p.no_health_check_wait, lambda: self._healthy(task))
            return
        failing = [v for v in verdicts if not v[1]]
        if failing:
            delay, _, reason = min(failing)
            self._at(task, delay, lambda: self._unhealthy(task, reason))
        else:
            delay = max(v[0] for v in verdicts)
            if checked:
                self._at(task, max(v[0] for v in verdicts[: len(checked)]), lambda: self._container_health(task, "HEALTHY"))
            self._at(task, delay, lambda: self._healthy(task))

    def _trickles(self, task: Task, behaviours) -> bool:
        """Whether this task is the N-th of an image whose every N-th task fails its
        target group checks (counted per image, in the order tasks reach RUNNING)."""
        fails = False
        for c, b in zip(task.containers, behaviours, strict=True):
            if b.target_health_fails_every:
                self._started_of[c.image] = count = self._started_of.get(c.image, 0) + 1
                fails = fails or count % b.target_health_fails_every == 0
        return fails

    def _container_health(self, task: Task, status: str) -> None:
        if task.last_status == RUNNING:
            task.health_status = status
            for c in task.containers:
                if c.health_check:
                    c.health_status = status

    def _healthy(self, task: Task) -> None:
        if task.last_status == RUNNING and task.wanted:
            task.healthy = True
            task.served_traffic = task.registered_target
            if any(c.health_check for c in task.containers):
                self._container_health(task, "HEALTHY")
            self.on_healthy(task)

    def _unhealthy(self, task: Task, reason: str) -> None:
        if task.last_status != RUNNING or not task.wanted:
            return
        if reason == REASON_CONTAINER_HEALTH:
            self._container_health(task, "UNHEALTHY")
        self.fail(task, SERVICE_SCHEDULER_INITIATED, reason, drain=True)

    def _exit(self, task: Task, container: str, code: int) -> None:
        """An essential container exits: the task stops (a one-off task is done;
        a service task has failed and will be replaced, whatever the code)."""
        # a task already told to stop is draining: its exit is not a failure
        if task.last_status != RUNNING or not task.wanted:
            return
        for c in task.containers:
            if c.name == container:
                c.exit_code = code
        self.fail(task, ESSENTIAL_CONTAINER_EXITED, REASON_ESSENTIAL_EXITED)

    def fail(self, task: Task, code: str, reason: str, drain: bool = False) -> None:
        if not task.alive or task.failed:
            return
        task.failed = True
        self.stop(task, code, reason, drain=drain)
        self.on_failure(task)

    def stop(self, task: Task, code: str, reason: str, drain: bool = True) -> None:
        """Ask a task to stop: a target that served traffic drains first, then SIGTERM.

        A load balancer routes only to targets that passed its health check, and
        ELB completes deregistration at once for a target with no connections
        (ALB docs, "Deregistration delay"): a task that never turned healthy
        stops without waiting out the delay.
        """
        if not task.alive or (not task.wanted and task.stop_code):
            return
        now = self.clock.now()
        task.cancel_timers()
        task.desired_status = STOPPED
        task.healthy = False
        task.stop_code, task.stopped_reason = code, reason
        task.stopping_at = now
        if task.last_status == PENDING or task.failed and not drain:
            self._stopped(task)
            return
        if task.last_status == RUNNING and task.served_traffic and drain:
            task.move(DEACTIVATING)
            group = self.target_group_timing(task.target_group_arn) if task.target_group_arn else None
            delay = group.deregistration_delay if group else self.params.deregistration_delay
            self._at(task, delay, lambda: self._sigterm(task))
        else:
            self._sigterm(task)

    def _sigterm(self, task: Task) -> None:
        task.move(STOPPING)
        self._at(task, min(self.params.sigterm_exit_seconds, self.params.stop_timeout), lambda: self._stopped(task))

    def _stopped(self, task: Task) -> None:
        now = self.clock.now()
        if task.last_status == RUNNING:
            task.move(STOPPING)
        task.move(STOPPED)
        task.desired_status = STOPPED
        task.healthy = False
        task.execution_stopped_at = task.stopped_at = now
        for c in task.containers:
            c.last_status = STOPPED
        task.timers.clear()
        self.on_stopped(task)
