"""Watching a rollout: poll the service and its stopped tasks until `judge()` decides.

`RolloutWatcher` polls with an ECS client and the `Clock` it is given (the
harness passes its virtual clock), emits progress events as data to a sink,
and stops as soon as the evidence decides; the timeout is the last resort.

A poll that fails (throttling, a 5xx, a lost connection, an expired token, any
refusal but access denied) is a poll that saw nothing: the watcher says so once,
backs off, and polls again until its deadline. It never ends a watch because
one call failed; if AWS cannot be read until the deadline, the verdict is a
timeout that says so, and the caller acts on it as on any timeout.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .clock import Clock, epoch, iso
from .errors import AccessDeniedError, AwsError, ServiceNotFoundError, aws_call
from .events import ProgressEvent, Sink, discard
from .resources import fetch_service
from .retry import Retrier
from .standing import Journal
from .verdict import DEFAULT_FAILURE_THRESHOLD, State, Verdict, judge
from .views import (
    Service, ServiceDeployment, StoppedTask, family_of, is_steady_state_event, revision_name, revision_of, same_revision,
)

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient

DEFAULT_POLL_INTERVAL = 5.0
DEFAULT_TIMEOUT = 1800.0
# What the tool does when the deployment it watches stops at a PAUSE lifecycle hook
# (ECS, 2026): wait for someone to answer it, answer it CONTINUE or ROLLBACK, or
# count the pause as a failure of the release (the tool's own rollback then).
ON_PAUSE = ("wait", "continue", "rollback", "fail")
ANSWER_RETRY_SECONDS = 300.0  # ContinueServiceDeployment throttled or failing: asked again this long
# Longest wait between polls while AWS does not answer (throttling: ask less often).
MAX_BLIND_DELAY = 30.0
# ContinueServiceDeployment's two answers to a PAUSE hook
PauseAnswer = Literal["CONTINUE", "ROLLBACK"]


def continue_paused(ecs: ECSClient, record_arn: str, hook_id: str, action: PauseAnswer) -> bool:
    """ContinueServiceDeployment for one PAUSE hook. False when it no longer awaits an
    answer (answered, expired, or its deployment ended: ECS refuses with
    InvalidParameterException or ConflictException); other failures raise."""
    try:
        with aws_call("ecs:ContinueServiceDeployment"):
            ecs.continue_service_deployment(serviceDeploymentArn=record_arn, hookId=hook_id, action=action)
    except AwsError as err:
        if err.code not in ("InvalidParameterException", "ConflictException"):
            raise
        return False
    return True


def _went_as(record: ServiceDeployment, hook_id: str, action: str) -> bool:
    """Whether a hook that no longer awaits an answer went as `action` asks: by the hook's
    own status (SUCCEEDED after CONTINUE, FAILED after ROLLBACK) or by its deployment's."""
    status = next((h.get("status") for h in record.raw.get("lifecycleHookDetails") or [] if h.get("hookId") == hook_id), "")
    if action == "ROLLBACK":
        return status == "FAILED" or record.is_rolling_back
    return status == "SUCCEEDED" or (not record.is_rolling_back and record.status in ("IN_PROGRESS", "SUCCESSFUL"))


def short_name(arn: str) -> str:
    return revision_name(arn) or "-"


# A service deployment made within this many seconds of an ecs-svc/ deployment is its record.
ADOPT_WITHIN = 10.0


# How long a composite alarm (no period of its own) may take to leave ALARM once its cause is gone.
COMPOSITE_CLEARS_WITHIN = 300.0


@dataclass(frozen=True)
class AlarmState:
    """One watched CloudWatch alarm as DescribeAlarms answered."""

    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    reason: str = ""
    since: float | None = None  # when it entered that state (AWS's time)
    # How long it needs to leave ALARM once its cause is gone: every evaluation
    # period it looks back over, plus one for the metric to arrive.
    clears_within: float = COMPOSITE_CLEARS_WITHIN

    @property
    def firing(self) -> bool:
        return self.state == "ALARM"


def alarm_states(answer: Mapping[str, Any]) -> dict[str, AlarmState]:
    """Name -> state, from a DescribeAlarms answer (metric and composite alarms)."""
    states = {}
    for raw in answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", []):
        period, periods = raw.get("Period"), raw.get("EvaluationPeriods")
        clears = float(period) * (int(periods) + 1) if period and periods else COMPOSITE_CLEARS_WITHIN
        states[raw["AlarmName"]] = AlarmState(raw["AlarmName"], raw.get("StateValue", ""), raw.get("StateReason", ""),
                                              epoch(raw.get("StateUpdatedTimestamp")), clears)
    return states


@dataclass(frozen=True)
class WaitOptions:
    """How `deploy` and `rollback` wait, as the CLI parsed and checked them."""

    poll_interval: float = DEFAULT_POLL_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    wait: bool = True  # deploy: watch the rollout at all
    rollback: bool = True  # deploy: return to known good on failure
    bake: float = 0.0  # deploy: keep watching this long after the deployment completed
    alarms: tuple[str, ...] = ()  # CloudWatch alarms whose ALARM fails the deploy (rollout and bake)
    on_pause: str = "wait"  # one of ON_PAUSE

    def __post_init__(self) -> None:
        if self.on_pause not in ON_PAUSE:
            raise ValueError(f"on_pause must be one of {', '.join(ON_PAUSE)}, got {self.on_pause!r}")
        if not self.poll_interval > 0:
            raise ValueError(f"poll interval must be positive, got {self.poll_interval}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        if self.failure_threshold < 1:
            raise ValueError(f"failure threshold must be at least 1, got {self.failure_threshold}")
        if not self.bake >= 0:
            raise ValueError(f"bake must be 0 or more seconds, got {self.bake}")

    @property
    def recovery_timeout(self) -> float:
        """How long to wait for the way back: never less than the default, however
        short the deploy's own --timeout (that bounds waiting for the new version,
        not for the service to be safe again)."""
        return max(self.timeout, DEFAULT_TIMEOUT)


@dataclass
class Outcome:
    """How a watch ended, with the timeline numbers the benchmark reads."""

    verdict: Verdict
    deployment_id: str
    task_definition: str
    started_at: float
    decided_at: float
    polls: int
    service: Service | None = None  # the last snapshot read
    observed_at: float | None = None  # when that snapshot was read: the verdict is about the service then
    record: ServiceDeployment | None = None  # ECS's service deployment, where the API could be read

    @property
    def state(self) -> State:
        return self.verdict.state

    @property
    def succeeded(self) -> bool:
        return self.verdict.state is State.SUCCEEDED

    @property
    def first_failure_at(self) -> float | None:
        return self.verdict.first_failure_at


@dataclass(frozen=True)
class _Look:
    """What one poll read."""

    snapshot: Service
    observed: float
    deployment_id: str
    stopped: list[StoppedTask]
    record: ServiceDeployment | None
    record_arn: str
    alarms: list[str]


class _Blind:
    """A streak of polls that read nothing: since when, and how long to wait next."""

    def __init__(self, watcher: "RolloutWatcher") -> None:
        self.watcher = watcher
        self.since: float | None = None
        self.delay = min(1.0, watcher.options.poll_interval)
        self.error: AwsError | None = None

    def failed(self, err: AwsError, deadline: float) -> None:
        now = self.watcher.clock.now()
        if self.since is None:
            self.since = now
            self.watcher.emit("warning", f"cannot read the rollout ({err}); retrying until the deadline, "
                                         f"{max(deadline - now, 0):.0f} s from now", action=err.action, code=err.code)
        self.error = err

    def wait(self, deadline: float) -> None:
        self.watcher.clock.sleep(max(min(self.delay, deadline - self.watcher.clock.now()), 0.0))
        self.delay = min(self.delay * 2, max(self.watcher.options.poll_interval, MAX_BLIND_DELAY))

    def recovered(self) -> None:
        if self.since is not None:
            self.watcher.emit("action", f"reading the rollout again after {self.watcher.clock.now() - self.since:.0f} s")
        self.since, self.error = None, None
        self.delay = min(1.0, self.watcher.options.poll_interval)

    def reason(self, timeout: float) -> str:
        assert self.since is not None  # asked only after failed(), which sets it
        return (f"could not read the rollout for the last {self.watcher.clock.now() - self.since:.0f} s "
                f"of the {timeout:g} s allowed: {self.error}")


class RolloutWatcher:
    """Polls one service until a deployment's rollout is decided.

    `ecs` is a boto3 ECS client (build it with adaptive retries at the CLI
    edge). Every snapshot read goes into `journal` (its last look at the
    service, for reports of where things stand).
    """

    def __init__(self, ecs: ECSClient, *, clock: Clock, options: WaitOptions = WaitOptions(), sink: Sink = discard,
                 journal: Journal | None = None, cloudwatch: Any = None,
                 alarms_at_start: dict[str, AlarmState] | None = None) -> None:
        if options.alarms and cloudwatch is None:
            raise ValueError("watching alarms needs a CloudWatch client")
        self.ecs = ecs
        self.cloudwatch = cloudwatch
        self.clock = clock
        self.options = options
        self.sink = sink
        self.journal = journal if journal is not None else Journal()
        # the service deployments API (2024-25): read while allowed, else DescribeServices alone
        self.deployments_api = True
        # Alarms already in ALARM when the deploy began (read before anything changed,
        # or at the first poll): they do not fail the rollout while they stay in ALARM
        # (they say nothing about the new revision yet), but no bake passes until
        # they have left it. Once one leaves ALARM, entering again fails the deploy.
        self._alarms_before: set[str] | None = (
            {name for name, state in alarms_at_start.items() if state.firing} if alarms_at_start is not None else None)
        self._alarm_info: dict[str, AlarmState] = dict(alarms_at_start or {})
        # Service events already streamed, across watches (a deploy, then its rollback).
        self._seen_events: set[str | None] = set()  # event ids (None for one ECS sent without)
        # Stopped tasks described once and for all (they do not change any more).
        self._known_tasks: dict[str, StoppedTask] = {}

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.sink(ProgressEvent(kind, self.clock.now(), message, data))

    # -- reading AWS ----------------------------------------------------------

    def describe(self, cluster: str, service: str) -> Service:
        snapshot = fetch_service(self.ecs, cluster, service)
        self.journal.saw(snapshot, self.clock.now())
        return snapshot

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

    def _record(self, arn: str) -> ServiceDeployment | None:
        """ECS's service deployment `arn`; None where the API is not there or not allowed."""
        if not arn or not self.deployments_api:
            return None
        try:
            with aws_call("ecs:DescribeServiceDeployments"):
                answer = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
        except AccessDeniedError as err:
            self.deployments_api = False
            self.emit("warning", f"cannot read ECS's service deployments ({err}): judging from DescribeServices alone")
            return None
        except AwsError as err:
            if err.code in ("UnknownOperationException", "InvalidAction", "UnsupportedFeatureException") or \
                    "Unknown operation" in str(err):  # an endpoint without the 2024 API
                self.deployments_api = False
                return None
            raise
        found = answer.get("serviceDeployments") or []
        return ServiceDeployment(found[0]) if found else None

    def current_record(self, snapshot: Service) -> ServiceDeployment | None:
        """The service's current service deployment (None where ECS has none, or the API is denied)."""
        return self._record(snapshot.current_service_deployment)

    def _alarms_in_alarm(self) -> list[str]:
        """Watched alarms that went into ALARM since watching began (one already in
        ALARM then does not count until it has left ALARM: see `alarms_firing`)."""
        if not self.options.alarms:
            return []
        with aws_call("cloudwatch:DescribeAlarms"):
            answer = self.cloudwatch.describe_alarms(AlarmNames=list(self.options.alarms))
        states = alarm_states(answer)
        self._alarm_info.update(states)
        now = {name for name, state in states.items() if state.firing}
        if self._alarms_before is None:
            self._alarms_before = now
        self._alarms_before &= now  # once it leaves ALARM, entering again counts
        return sorted(now - self._alarms_before)

    @property
    def alarms_firing(self) -> list[str]:
        """Watched alarms that were in ALARM when the deploy began and still were at
        the last look: until they leave it, the revision cannot be proven good."""
        return sorted(self._alarms_before or ())

    def _clears_within(self, names: list[str]) -> float:
        return max((self._alarm_info[n].clears_within for n in names if n in self._alarm_info),
                   default=COMPOSITE_CLEARS_WITHIN)

    def _look(self, cluster: str, service: str, deployment_id: str | None, task_definition: str | None,
              record_arn: str, adopt: bool = True, alarms: bool = True) -> "_Look":
        """One poll: the service, the deployment's stopped tasks, ECS's record, the alarms."""
        snapshot = self.describe(cluster, service)
        observed = self.clock.now()
        if deployment_id is None:
            deployment_id = self.resolve(snapshot, task_definition)
        ours = snapshot.deployment(deployment_id) if deployment_id else None
        adopting = not record_arn and adopt and ours is not None and ours.is_primary
        stopped = self._stopped_tasks(cluster, snapshot.name or service, deployment_id) if deployment_id else []
        record = self._record(record_arn or (snapshot.current_service_deployment if adopting else ""))
        if adopting and ours is not None and record is not None:  # adopting implies ours; said for the type checker
            # ECS links no ecs-svc/ id to its record: the service's current one is ours
            # if it was made with our deployment (a rollback's ecs-svc/ deployment, or
            # blue back in front, belong to an older record)
            made = epoch(record.raw.get("createdAt"))
            if made is None or ours.created_at is None or abs(made - ours.created_at) > ADOPT_WITHIN:
                record = None
            else:
                record_arn = record.arn
        return _Look(snapshot, observed, deployment_id, stopped, record, record_arn,
                     self._alarms_in_alarm() if alarms else [])

    def _report(self, look: "_Look", last: Any, reported: set[str]) -> Any:
        """Progress lines for what is new in `look`; returns what was shown."""
        progress = ([d.progress() for d in look.snapshot.deployments], look.record.summary() if look.record else "")
        if progress != last:
            line = "; ".join(d.summary() for d in look.snapshot.deployments)
            if look.record is not None and (look.record.lifecycle_stage or look.record.production_share is not None):
                line += f" ({look.record.summary()})"
            self.emit("rollout", line, running=look.snapshot.running_count, desired=look.snapshot.desired_count,
                      deployments=progress[0], serviceDeployment=look.record.raw.get("status") if look.record else None,
                      lifecycleStage=look.record.lifecycle_stage if look.record else None,
                      productionShare=look.record.production_share if look.record else None)
        for task in look.stopped:
            if task.is_failure and task.arn not in reported:
                reported.add(task.arn)
                self.emit("task-failed", f"task {task.id} of {revision_name(task.task_definition)} failed: "
                                         f"{task.failure_reason}",
                          task=task.arn, revision=revision_name(task.task_definition), stopCode=task.stop_code,
                          reason=task.failure_reason)
        for name in look.alarms:
            if f"alarm:{name}" not in reported:
                reported.add(f"alarm:{name}")
                self.emit("task-failed", f"alarm {name} is in ALARM", alarm=name)
        return progress

    # -- the loop ---------------------------------------------------------------

    @staticmethod
    def resolve(service: Service, task_definition: str | None) -> str:
        """The id of the deployment to watch: the newest one running `task_definition`
        (the PRIMARY one if no task definition is given); "" if none runs it any more."""
        if task_definition:
            ours = [d for d in service.deployments if same_revision(d.task_definition, task_definition)]
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
        record_arn: str = "",
        adopt: bool = True,
        alarms: bool = True,
        returning: bool = False,
    ) -> Outcome:
        """Poll until the deployment (by id, else the newest running
        `task_definition`, else the PRIMARY one) is decided. `record_arn` is its
        service deployment, where known (else the service's current one while
        ours is PRIMARY). `alarms`: whether the watched alarms judge this
        deployment (not on the way back to known good: the alarm that failed the
        new revision is still in ALARM then).

        Service events created at or after `since` are streamed; by default,
        those created after the watched deployment was (so a re-run shows the
        rollout so far, and nothing from before the deploy).
        `timeout` overrides the options' own for this watch. `returning`: this is the way
        back to a known-good revision (a pause there is answered CONTINUE whatever --on-pause
        says: waiting lets the hook's timeout restore the failed release, and rolling back
        or failing a return would leave the service on it).
        """
        timeout = self.options.timeout if timeout is None else timeout
        started = self.clock.now()
        deadline = started + timeout
        blind = _Blind(self)
        reported: set[str] = set()
        last_progress: Any = None
        polls = 0
        while True:
            polls += 1
            try:
                look = self._look(cluster, service, deployment_id, task_definition, record_arn, adopt, alarms)
            except AccessDeniedError:
                raise
            except AwsError as err:
                blind.failed(err, deadline)
                if self.clock.now() >= deadline:
                    return self._decide(Verdict(State.TIMED_OUT, blind.reason(timeout)), deployment_id or "",
                                        task_definition, started, polls)
                blind.wait(deadline)
                continue
            blind.recovered()
            deployment_id, record_arn = look.deployment_id, look.record_arn
            ours = look.snapshot.deployment(deployment_id)
            if task_definition is None and ours is not None:
                task_definition = ours.task_definition
            if since is None:
                created = ours.created_at if ours is not None else None
                # 1 ms after: ECS timestamps have millisecond precision, and what
                # happened at the very moment of the update is the old deployment's
                since = created + 0.001 if created is not None else started
            self._emit_events(look.snapshot, since)
            last_progress = self._report(look, last_progress, reported)
            verdict = judge(look.snapshot, deployment_id, look.stopped, failure_threshold=self.options.failure_threshold,
                            record=look.record, alarms=look.alarms)
            if not verdict.state.is_final:
                verdict = self._paused(look, reported, cluster, service, returning) or verdict
            if not verdict.state.is_final and self.clock.now() >= deadline:
                verdict = Verdict(State.TIMED_OUT, f"no decision after {timeout:g} s (--timeout)",
                                  failed_tasks=verdict.failed_tasks)
            if verdict.state.is_final:
                outcome = self._decide(verdict, deployment_id, task_definition, started, polls, look.observed)
                outcome.record = look.record
                return outcome
            self.clock.sleep(min(self.options.poll_interval, max(deadline - self.clock.now(), 0.0))
                             or self.options.poll_interval)

    def _paused(self, look: "_Look", reported: set[str], cluster: str, service: str,
                returning: bool = False) -> Verdict | None:
        """A PAUSE hook holding the watched deployment: said once (stage, expiry, what
        ECS does then), then answered as --on-pause says. A FAILED verdict for `fail`;
        None otherwise (the watch goes on: ECS moves on, or rolls back, which judge() sees).
        On the way back to known good (`returning`) every pause is answered CONTINUE."""
        record = look.record
        if record is None:
            return None
        mode = "return" if returning else self.options.on_pause
        for hook in record.paused_hooks:
            if f"pause:{hook.hook_id}" in reported:
                continue
            reported.add(f"pause:{hook.hook_id}")
            stage = record.lifecycle_stage or "its stage"
            until = f" until {iso(hook.expires_at)}" if hook.expires_at is not None else ""
            then = f", then ECS takes its timeout action {hook.timeout_action}" if hook.timeout_action else ""
            answer = {"wait": f"waiting for an answer: `ecs-template-deploy continue --cluster {cluster} --service "
                              f"{service}` goes on, with --rollback takes it back",
                      "continue": "answering CONTINUE (--on-pause continue)",
                      "return": f"answering CONTINUE: this is the way back to known good (--on-pause "
                                f"{self.options.on_pause} is for the release; a return waits for no one)",
                      "rollback": "answering ROLLBACK (--on-pause rollback)",
                      "fail": "counting it as a failure (--on-pause fail)"}[mode]
            self.emit("paused", f"paused at {stage}: PAUSE hook {hook.hook_id} awaits ContinueServiceDeployment{until}"
                                f"{then}; {answer}", hook=hook.hook_id, stage=record.lifecycle_stage,
                      expiresAt=iso(hook.expires_at) if hook.expires_at is not None else None, onPause=mode)
            if mode == "fail":
                return Verdict(State.FAILED, f"paused at {stage} by PAUSE hook {hook.hook_id} (--on-pause fail)")
            if mode == "rollback":   # answered by the Rollout, once the failure is written
                return Verdict(State.FAILED, f"paused at {stage} by PAUSE hook {hook.hook_id}, answered ROLLBACK "
                                             "(--on-pause rollback)", pause_answer=(record.arn, hook.hook_id))
            if mode in ("continue", "return"):
                self.answer_pause(record.arn, hook.hook_id, "CONTINUE")
        return None

    def answer_pause(self, record_arn: str, hook_id: str, action: PauseAnswer) -> bool:
        """ContinueServiceDeployment for one PAUSE hook, retried while AWS fails. When
        the hook no longer awaits an answer, ECS's record says what became of it: a
        retry after a lost reply finds this run's own answer applied (ECS rolling back
        after a ROLLBACK, going on after a CONTINUE), and that counts as answered; a
        deployment going the other way was answered by someone else (False, said)."""
        answered = Retrier(self.clock, self.sink).call(
            lambda: continue_paused(self.ecs, record_arn, hook_id, action),
            until=self.clock.now() + ANSWER_RETRY_SECONDS, what=f"answering PAUSE hook {hook_id}")
        if not answered:
            record = self._record(record_arn)
            if record is None or not _went_as(record, hook_id, action):
                where = f"{record.status}{', at ' + record.lifecycle_stage if record.lifecycle_stage else ''}" \
                    if record is not None else "its record unreadable"
                self.emit("paused", f"PAUSE hook {hook_id} no longer awaits an answer and its deployment is {where}: "
                                    f"not answered {action} by this run", hook=hook_id, action=action)
                return False
            self.emit("paused", f"PAUSE hook {hook_id} no longer awaits an answer: its deployment is {record.status}, "
                                f"as {action} asked (an earlier attempt's reply was lost, or someone answered alike)",
                      hook=hook_id, action=action)
            self.journal.did(f"found PAUSE hook {hook_id} answered {action}", service_changed=True)
            return True
        self.journal.did(f"answered PAUSE hook {hook_id}: {action}", service_changed=True)
        self.emit("paused", f"answered PAUSE hook {hook_id}: {action}", hook=hook_id, action=action)
        return True

    def bake(self, cluster: str, service: str, outcome: Outcome, seconds: float) -> Outcome:
        """Keep watching a deployment that succeeded until it has run `seconds` with
        every watched alarm out of ALARM: a task of it failing, a watched alarm going
        into ALARM, or the deployment no longer being ours fails it; else it has
        baked (SUCCEEDED).

        An alarm that was already in ALARM when the deploy began holds the bake
        clock: the revision cannot be proven good while it fires. It gets as long as
        it needs to leave ALARM once its cause is gone (`AlarmState.clears_within`,
        or the bake, whichever is longer); then the full bake runs from the moment it
        left. Still firing after that: the bake failed (the new revision did not
        clear it), and the deploy rolls back."""
        started = self.clock.now()
        held = self.alarms_firing
        patience = max(self._clears_within(held), seconds) if held else 0.0
        clean_since: float | None = None if held else started  # when every alarm was last seen out of ALARM
        name = short_name(outcome.task_definition)
        if held:
            self.emit("action", f"{name} reached a steady state; alarm(s) {', '.join(held)} already in ALARM before the "
                      f"deploy: waiting up to {patience:g} s for them to leave ALARM, then baking {seconds:g} s")
        else:
            self.emit("action", f"{name} reached a steady state: baking {seconds:g} s")
        blind = _Blind(self)
        reported: set[str] = set()
        last: Any = None
        polls = 0
        while True:
            until = (clean_since + seconds) if clean_since is not None else (started + patience)
            polls += 1
            try:
                look = self._look(cluster, service, outcome.deployment_id, outcome.task_definition,
                                  outcome.record.arn if outcome.record else "", adopt=False)
            except AccessDeniedError:
                raise
            except AwsError as err:
                blind.failed(err, until)
                if self.clock.now() >= until:  # could not see the bake through: not known to be good
                    return self._decide(Verdict(State.TIMED_OUT, blind.reason(self.clock.now() - started)),
                                        outcome.deployment_id, outcome.task_definition, started, polls)
                blind.wait(until)
                continue
            blind.recovered()
            last = self._report(look, last, reported)
            verdict = judge(look.snapshot, outcome.deployment_id, look.stopped,
                            failure_threshold=self.options.failure_threshold, record=look.record, alarms=look.alarms)
            if verdict.state is not State.SUCCEEDED and verdict.state is not State.IN_PROGRESS:
                failed = self._decide(Verdict(verdict.state, f"during the bake: {verdict.reason}", verdict.ecs_rolls_back,
                                              verdict.now_primary, verdict.failed_tasks),
                                      outcome.deployment_id, outcome.task_definition, started, polls, look.observed)
                failed.record = look.record
                return failed
            firing = self.alarms_firing  # only ever shrinks: one that left ALARM and came back failed above
            if firing:
                if self.clock.now() >= started + patience:
                    failed = self._decide(Verdict(State.FAILED, f"during the bake: alarm(s) {', '.join(firing)}, already "
                                                  f"in ALARM when the deploy began, did not leave ALARM within {patience:g} s "
                                                  f"of {name} running steady: {name} cannot be proven good"),
                                          outcome.deployment_id, outcome.task_definition, started, polls, look.observed)
                    failed.record = look.record
                    return failed
            elif clean_since is None:
                clean_since = look.observed
                self.emit("action", f"alarm(s) {', '.join(held)} left ALARM: baking {name} {seconds:g} s from now")
            if clean_since is not None and self.clock.now() >= clean_since + seconds:
                baked = self._decide(Verdict(State.SUCCEEDED, f"{name} baked {seconds:g} s"
                                             + (" with every alarm out of ALARM" if held else "")),
                                     outcome.deployment_id, outcome.task_definition, started, polls, look.observed)
                baked.record = look.record
                return baked
            until = (clean_since + seconds) if clean_since is not None else (started + patience)
            self.clock.sleep(min(self.options.poll_interval, max(until - self.clock.now(), 0.0)) or self.options.poll_interval)

    def _decide(self, verdict: Verdict, deployment_id: str, task_definition: str | None, started: float,
                polls: int, observed: float | None = None) -> Outcome:
        outcome = Outcome(verdict, deployment_id, task_definition or "", started, self.clock.now(), polls,
                          self.journal.last_seen, observed if observed is not None else self.journal.last_seen_at)
        name = revision_name(task_definition) or "-"
        self.emit("verdict", f"{name}: {verdict.state.value}" + (f": {verdict.reason}" if verdict.reason else ""),
                  state=verdict.state.value, revision=name, deployment=deployment_id, reason=verdict.reason)
        return outcome

    def watch_replacement(self, cluster: str, service: str, replaced_id: str, *, since: float | None = None,
                          timeout: float | None = None, failed: str = "") -> Outcome:
        """Follow the deployment that replaces `replaced_id` (ECS's circuit breaker
        rollback) until it is decided. Waits for it to appear first. A replacement
        with a newer revision than `failed` is not ECS's rollback (that returns to
        an older, completed one) but someone's deploy: SUPERSEDED, not followed."""
        timeout = self.options.timeout if timeout is None else timeout
        started = self.clock.now()
        deadline = started + timeout
        blind = _Blind(self)
        while True:
            try:
                snapshot = self.describe(cluster, service)
            except AccessDeniedError:
                raise
            except AwsError as err:
                blind.failed(err, deadline)
                if self.clock.now() >= deadline:
                    return self._decide(Verdict(State.TIMED_OUT, blind.reason(timeout)), replaced_id, "", started, 0)
                blind.wait(deadline)
                continue
            blind.recovered()
            primary = snapshot.primary
            if primary is not None and primary.id != replaced_id and _newer(primary.task_definition, failed):
                return self._decide(Verdict(State.SUPERSEDED, f"another deployment ({primary.revision}) replaced ours",
                                            now_primary=primary.task_definition), replaced_id, failed, started, 0)
            if primary is not None and primary.id != replaced_id:
                # ECS's rollback: its record is the failed deployment's, not this one's
                outcome = self.watch(cluster, service, deployment_id=primary.id, since=since,
                                     timeout=max(deadline - self.clock.now(), self.options.poll_interval), adopt=False,
                                     alarms=False, returning=True)
                outcome.started_at = started
                return outcome
            if self.clock.now() >= deadline:
                return self._decide(Verdict(State.TIMED_OUT, f"ECS started no rollback within {timeout:g} s"),
                                    replaced_id, "", started, 0)
            self.clock.sleep(self.options.poll_interval)

    def _emit_events(self, snapshot: Service, since: float) -> None:
        for event in snapshot.events:
            created = epoch(event.get("createdAt"))
            if event.get("id") in self._seen_events or (created is not None and created < since):
                continue
            self._seen_events.add(event.get("id"))
            message = event.get("message", "")
            self.sink(ProgressEvent("service-event", created if created is not None else self.clock.now(), message,
                                    {"steady": is_steady_state_event(message)}))


def _newer(task_definition: str, than: str) -> bool:
    """A later revision of the same family."""
    return bool(than) and family_of(task_definition) == family_of(than) \
        and (revision_of(task_definition) or 0) > (revision_of(than) or 0)
