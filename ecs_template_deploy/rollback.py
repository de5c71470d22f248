"""After the update: watch the rollout, mark success, roll back on failure.

`see_through()` is what `deploy` does after it updated the service (or found it
already running the definition): watch our deployment; on success mark the
revision known good; on failure return to the last known-good revision and
watch that, or, when ECS's circuit breaker is already rolling back, follow its
rollout instead of fighting it. `roll_back()` is the `rollback` command.

Both return a `RolloutReport`: what happened, the timeline (first failed task,
decision, steady again) and the exit code. `raise_for_outcome()` turns a bad
report into the error family for the CLI.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import knowngood
from .errors import (
    EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK, EXIT_TIMED_OUT, BadInputError, DeployFailedError,
    NotRecoveredError, TemplateNotFoundError, TimedOutError, aws_call,
)
from .resources import family_of, fetch_task_definition
from .watch import DEFAULT_TIMEOUT, Outcome, ProgressEvent, RolloutWatcher, Service, State, revision_name

_ERRORS = {EXIT_ROLLED_BACK: DeployFailedError, EXIT_NOT_RECOVERED: NotRecoveredError, EXIT_TIMED_OUT: TimedOutError}


@dataclass
class RolloutReport:
    """The end of a watched deploy or rollback."""

    exit_code: int
    message: str
    task_definition: str  # what was deployed (or rolled back to, for `rollback`)
    outcome: Outcome | None = None  # the watch of that deployment
    recovery: Outcome | None = None  # the watch of the way back, if any
    returned_to: str | None = None  # where the service is steady again after a failure
    rolled_back_by: str | None = None  # "ecs-template-deploy" | "ecs-circuit-breaker" | None
    known_good: knowngood.KnownGood | None = None
    calls: list[str] = field(default_factory=list)

    @property
    def first_failure_at(self) -> float | None:
        return self.outcome.first_failure_at if self.outcome else None

    @property
    def decided_at(self) -> float | None:
        """When the deploy was judged (failed, succeeded or timed out)."""
        return self.outcome.decided_at if self.outcome else None

    @property
    def steady_at(self) -> float | None:
        """When the service was steady again: on the new revision, or on the one it returned to."""
        final = self.recovery or self.outcome
        return final.decided_at if final and final.succeeded else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "exitCode": self.exit_code,
            "message": self.message,
            "taskDefinitionArn": self.task_definition,
            "state": self.outcome.state.value if self.outcome else None,
            "returnedTo": self.returned_to,
            "rolledBackBy": self.rolled_back_by,
            "knownGood": self.known_good.task_definition if self.known_good else None,
            "firstFailureAt": self.first_failure_at,
            "decidedAt": self.decided_at,
            "steadyAt": self.steady_at,
        }

    def raise_for_outcome(self) -> None:
        if self.exit_code != EXIT_OK:
            raise _ERRORS.get(self.exit_code, NotRecoveredError)(self.message)


def _note(watcher: RolloutWatcher, message: str, **data: Any) -> None:
    watcher.sink(ProgressEvent("action", watcher.now(), message, data))


def _mark(ecs: Any, watcher: RolloutWatcher, outcome: Outcome) -> knowngood.KnownGood:
    with aws_call("ecs:TagResource"):
        marked = knowngood.mark(ecs, outcome.task_definition, at=outcome.decided_at,
                                service_arn=outcome.service.arn if outcome.service else None)
    _note(watcher, f"marked {marked.revision} known good", knownGood=marked.task_definition)
    return marked


def remember_completed(ecs: Any, watcher: RolloutWatcher, cluster: str, service: str, exclude: str) -> None:
    """Mark deployments ECS already reports COMPLETED (the revision a deploy replaces)
    before the new one can fail: a service deployed by other means still has a
    known-good revision to return to. One DescribeServices call; tags only if new."""
    snapshot = watcher.describe(cluster, service)
    pointer = snapshot.tags.get(knowngood.TAG, "")
    for deployment in snapshot.deployments:
        if deployment.rollout_state != "COMPLETED" or revision_name(deployment.task_definition) == revision_name(exclude):
            continue
        if revision_name(pointer) == deployment.revision:
            continue
        with aws_call("ecs:TagResource"):
            knowngood.mark(ecs, deployment.task_definition, at=watcher.now(), service_arn=snapshot.arn)
        _note(watcher, f"marked {deployment.revision} known good (its deployment is COMPLETED)",
              knownGood=deployment.task_definition)


def _find_known_good(ecs: Any, snapshot: Service | None, failed: str) -> knowngood.KnownGood | None:
    tags = snapshot.tags if snapshot else {}
    with aws_call("ecs:ListTagsForResource"):
        return knowngood.find(ecs, family_of(failed), service_tags=tags, exclude=[failed])


def recovery_timeout(watcher: RolloutWatcher) -> float:
    """How long to wait for the way back: never less than the default, however
    short the deploy's own --timeout (that bounds waiting for the new version,
    not for the service to be safe again)."""
    return max(watcher.timeout, DEFAULT_TIMEOUT)


def _update(ecs: Any, cluster: str, service: str, task_definition: str) -> str:
    """Point the service at `task_definition`; return the new deployment's id."""
    with aws_call("ecs:UpdateService"):
        answer = ecs.update_service(cluster=cluster, service=service, taskDefinition=task_definition)
    primary = Service(answer["service"]).primary
    return primary.id if primary else ""


def see_through(
    ecs: Any,
    watcher: RolloutWatcher,
    *,
    cluster: str,
    service: str,
    task_definition: str,
    deployment_id: str | None = None,
    rollback: bool = True,
    since: float | None = None,
) -> RolloutReport:
    """Watch the deployment of `task_definition` to its end and act on the verdict."""
    new = revision_name(task_definition)
    remember_completed(ecs, watcher, cluster, service, exclude=task_definition)
    outcome = watcher.watch(cluster, service, deployment_id=deployment_id, task_definition=task_definition, since=since)
    verdict = outcome.verdict

    if verdict.state is State.SUCCEEDED:
        marked = _mark(ecs, watcher, outcome)
        return RolloutReport(EXIT_OK, f"deployed {new}: steady state, marked known good", task_definition,
                             outcome, known_good=marked)

    what = f"deploy of {new} {'timed out' if verdict.state is State.TIMED_OUT else 'failed'}: {verdict.reason}"

    if verdict.state is State.SUPERSEDED:
        return RolloutReport(EXIT_NOT_RECOVERED, f"{what}; not rolling back over another deployment",
                             task_definition, outcome)

    if verdict.ecs_rolls_back:
        # ECS's circuit breaker is rolling back already: follow it, do not fight it.
        _note(watcher, f"{what}; ECS's circuit breaker is rolling back, following it")
        recovery = watcher.watch_replacement(cluster, service, outcome.deployment_id, since=since,
                                             timeout=recovery_timeout(watcher))
        back = revision_name(recovery.task_definition)
        if recovery.succeeded:
            marked = _mark(ecs, watcher, recovery)
            return RolloutReport(EXIT_ROLLED_BACK, f"{what}; ECS's circuit breaker rolled back to {back}, steady",
                                 task_definition, outcome, recovery, recovery.task_definition,
                                 "ecs-circuit-breaker", marked)
        code = EXIT_TIMED_OUT if recovery.state is State.TIMED_OUT else EXIT_NOT_RECOVERED
        return RolloutReport(code, f"{what}; ECS's rollback to {back} did not reach a steady state: "
                             f"{recovery.verdict.reason}", task_definition, outcome, recovery,
                             rolled_back_by="ecs-circuit-breaker")

    if not rollback:
        code = EXIT_TIMED_OUT if verdict.state is State.TIMED_OUT else EXIT_NOT_RECOVERED
        return RolloutReport(code, f"{what}; rollback disabled (--no-rollback), the service stays on {new}",
                             task_definition, outcome)

    target = _find_known_good(ecs, outcome.service, task_definition)
    if target is None:
        return RolloutReport(EXIT_NOT_RECOVERED,
                             f"{what}; no known-good revision of {family_of(task_definition)} to roll back to: "
                             "roll back with `ecs-template-deploy rollback --to REVISION`", task_definition, outcome)
    _note(watcher, f"{what}; rolling back to known-good {target.revision} (since {target.marked_at})",
          knownGood=target.task_definition)
    recovery_id = _update(ecs, cluster, service, target.task_definition)
    recovery = watcher.watch(cluster, service, deployment_id=recovery_id or None,
                             task_definition=target.task_definition, since=since, timeout=recovery_timeout(watcher))
    if recovery.succeeded:
        marked = _mark(ecs, watcher, recovery)
        return RolloutReport(EXIT_ROLLED_BACK, f"{what}; rolled back to known-good {target.revision}, steady",
                             task_definition, outcome, recovery, target.task_definition, "ecs-template-deploy", marked)
    code = EXIT_TIMED_OUT if recovery.state is State.TIMED_OUT else EXIT_NOT_RECOVERED
    return RolloutReport(code, f"{what}; rollback to {target.revision} failed too: {recovery.verdict.reason}",
                         task_definition, outcome, recovery, None, "ecs-template-deploy", target)


def resolve_target(ecs: Any, watcher: RolloutWatcher, cluster: str, service: str,
                   to: str | None) -> tuple[Service, knowngood.KnownGood | None, str]:
    """Validate a rollback before changing anything: the service and the revision to return to."""
    snapshot = watcher.describe(cluster, service)
    current = snapshot.task_definition
    if to:
        reference = to if ":" in to or "/" in to else f"{family_of(current)}:{to}"
        try:
            target = fetch_task_definition(ecs, reference)
        except TemplateNotFoundError as err:
            raise BadInputError(f"--to {to}: task definition {reference!r} not found: give N (in "
                                f"{family_of(current)}), family:N or an ARN") from err
        if not target.is_active:
            raise BadInputError(f"{revision_name(target.arn)} is INACTIVE (deregistered): ECS cannot deploy it; pick another --to")
        return snapshot, knowngood.KnownGood(target.arn, target.tags.get(knowngood.TAG, "")), current
    found = _find_known_good(ecs, snapshot, current)
    if found is None:
        raise BadInputError(
            f"no known-good revision of {family_of(current)} other than the running {revision_name(current)}: "
            "name one with --to REVISION"
        )
    return snapshot, found, current


def roll_back(ecs: Any, watcher: RolloutWatcher, *, cluster: str, service: str, to: str | None = None,
              since: float | None = None) -> RolloutReport:
    """Return the service to `to` (default: the last known-good revision other than the running one) and wait."""
    snapshot, target, current = resolve_target(ecs, watcher, cluster, service, to)
    _note(watcher, f"rolling back {snapshot.name} from {revision_name(current)} to {target.revision}"
          + (f" (known good since {target.marked_at})" if target.marked_at else " (never marked known good)"),
          knownGood=target.task_definition)
    deployment_id = _update(ecs, cluster, service, target.task_definition)
    outcome = watcher.watch(cluster, service, deployment_id=deployment_id or None,
                            task_definition=target.task_definition, since=since)
    if outcome.succeeded:
        marked = _mark(ecs, watcher, outcome)
        return RolloutReport(EXIT_OK, f"rolled back to {target.revision}: steady state", target.task_definition,
                             outcome, returned_to=target.task_definition, rolled_back_by="ecs-template-deploy",
                             known_good=marked)
    code = EXIT_TIMED_OUT if outcome.state is State.TIMED_OUT else EXIT_NOT_RECOVERED
    return RolloutReport(code, f"rollback to {target.revision} {outcome.state.value}: {outcome.verdict.reason}",
                         target.task_definition, outcome, rolled_back_by="ecs-template-deploy", known_good=target)
