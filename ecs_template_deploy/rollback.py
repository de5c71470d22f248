"""Returning a service to known good: after a failed deploy, and the `rollback` command.

`Rollback.after_failure()` is what a deploy does when its rollout failed
(`rollout.Rollout.see_through` calls it), in named steps: record the failure on
the revision; ECS's circuit breaker (or a PAUSE hook answered ROLLBACK) is
rolling back: follow it, never fight it, then go on to the last known-good
revision if ECS returned to one nobody proved; rollback disabled, or another
deployment replaced ours: say so and stop; otherwise return to the last
known-good revision (StopServiceDeployment ROLLBACK where ECS still holds blue)
and watch that.

`Rollback.roll_back()` is the `rollback` command: it follows a rollback that is
already in progress (a killed run's) or starts one.

Once the service has been changed, nothing ends these early: failed AWS calls
are asked again until the deadline (`retry.Retrier`, and the watcher's own
patience), and whatever still goes wrong becomes a `RolloutReport` with the
documented exit code, never an exception the CLI would report as "nothing
changed". Every report says what finishes the job (`Next`); once a deploy has
failed, that is `rollback`, never the deploy again (`Journal.resume`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from . import knowngood
from .errors import (
    EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK, EXIT_TIMED_OUT, BadInputError, DeployFailedError, DeployToolError,
    Next, NotRecoveredError, TemplateNotFoundError, TimedOutError, aws_call,
)
from .resources import check_drivable, check_family, check_task_definition_reference, fetch_service, \
    fetch_task_definition, short
from .retry import Retrier
from .standing import Journal
from .verdict import State, Verdict
from .views import Service, ServiceDeployment, family_of, same_revision
from .watch import Outcome, RolloutWatcher

_ERRORS = {EXIT_ROLLED_BACK: DeployFailedError, EXIT_NOT_RECOVERED: NotRecoveredError, EXIT_TIMED_OUT: TimedOutError}
# How long marking a revision known good is asked again: the service is fine by
# then, and a re-run of the command marks it.
MARK_BUDGET = 120.0


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
    next: Next = Next.NOTHING
    warnings: list[str] = field(default_factory=list)
    traffic_back_at: float | None = None  # blue/green family: when production traffic went back to blue

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
        judged = self.recovery or self.outcome
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
            # the verdict is about the service as read then (a poll reads it, then its tasks)
            "observedAt": judged.observed_at if judged else None,
            "trafficBackAt": self.traffic_back_at,
            "warnings": list(self.warnings),
        }

    def raise_for_outcome(self) -> None:
        if self.exit_code != EXIT_OK:
            error = _ERRORS.get(self.exit_code, NotRecoveredError)(self.message)
            error.next = self.next
            raise error


def failed_code(outcome: Outcome) -> int:
    """Timed out (5) or not recovered (4)."""
    return EXIT_TIMED_OUT if outcome.state is State.TIMED_OUT else EXIT_NOT_RECOVERED


class Rollback:
    """Returns a service to known good: after a failed deploy (`after_failure`, which
    `rollout.Rollout` calls) or as the `rollback` command (`roll_back`). The watcher
    brings the ECS client's patience, the clock, the options and the journal;
    failed calls of the tool's own (finding known good, the rollback's
    UpdateService, marking) are asked again on the same clock."""

    def __init__(self, ecs: Any, watcher: RolloutWatcher) -> None:
        self.ecs = ecs
        self.watcher = watcher
        self.options = watcher.options
        self.clock = watcher.clock
        self.journal: Journal = watcher.journal
        self.retry = Retrier(self.clock, watcher.sink)
        self._story = ""  # what happened so far, for a report of what went wrong next
        self._previous = ""  # what the service ran before the deploy being seen through

    # -- a deploy that failed: the way back ------------------------------------

    def after_failure(self, cluster: str, service: str, task_definition: str, outcome: Outcome,
                      since: float | None) -> RolloutReport:
        """The deploy of `task_definition` failed (or timed out) as `outcome` says: write
        that on the revision, then follow ECS's own way back (circuit breaker, a PAUSE
        hook answered ROLLBACK) or return to the last known-good revision, unless
        rollback is disabled or another deployment replaced ours."""
        verdict = outcome.verdict
        what = (f"deploy of {short(task_definition)} {'timed out' if verdict.state is State.TIMED_OUT else 'failed'}: "
                f"{verdict.reason}")
        self._story = what
        if verdict.state is State.SUPERSEDED:
            self.journal.resume = Next.STATUS
            return RolloutReport(EXIT_NOT_RECOVERED, f"{what}; not rolling back over another deployment",
                                 task_definition, outcome, next=Next.STATUS)
        # From here on the release has failed: what finishes the job after a stop is
        # `rollback` (it follows a return in flight), never this deploy again. The failure
        # is written first, before any way back: a stop anywhere after it leaves a revision
        # that was proven once (a re-release of it) no longer counting as known good.
        self.journal.resume = Next.ROLLBACK
        self._record_failure(outcome.task_definition, outcome.service)
        if verdict.pause_answer is not None:
            if self.watcher.answer_pause(*verdict.pause_answer, "ROLLBACK"):
                return self._follow_the_breaker(cluster, service, outcome, what, since,
                                                by="pause-hook-rollback", how="ECS (its PAUSE hook answered ROLLBACK)")
            # someone answered first (the release goes on): the tool's own way back
        elif verdict.ecs_rolls_back:
            return self._follow_the_breaker(cluster, service, outcome, what, since)
        if not self.options.rollback:
            record = outcome.record
            where = f"the service stays on {short(task_definition)}"
            if record is not None and record.keeps_blue and not record.is_rolling_back:
                # blue/green before clean-up: production is still on blue, whatever the new revision does
                where = (f"{short(task_definition)} stays where ECS holds it ({record.summary()}), with blue still "
                         "taking production traffic; ECS goes on (or, at a pause, takes the hook's timeout action) "
                         "unless someone answers or rolls back")
            return RolloutReport(failed_code(outcome), f"{what}; rollback disabled (--no-rollback), {where}",
                                 task_definition, outcome, next=Next.ROLLBACK)
        return self._return_to_known_good(cluster, service, outcome, what, since)

    def _record_failure(self, task_definition: str, service: Service | None, why: str = "failed") -> None:
        """Write on a revision that it failed (its deploy or its bake) or
        that a person rolled back from it: it no longer counts as known good until it is
        proven or named again. Best effort: a revision never proven is not known good
        either way. A return to a known-good revision that fails is not recorded: the
        revision proved itself and failed for a reason outside it (its image deleted,
        no capacity), and `rollback` run once that is fixed must find it again."""
        arn = service.arn if service else None
        try:
            knowngood.record_bake(self.ecs, task_definition, knowngood.FAILED, at=self.clock.now(), service_arn=arn)
        except DeployToolError as err:
            self.watcher.emit("warning", f"could not record that {short(task_definition)} {why} ({err})")

    def _follow_the_breaker(self, cluster: str, service: str, outcome: Outcome, what: str,
                            since: float | None, by: str = "ecs-circuit-breaker",
                            how: str = "ECS's circuit breaker") -> RolloutReport:
        self.watcher.emit("action", f"{what}; {how} is rolling back, following it")
        self.journal.did(f"followed the rollback of {how}")
        recovery = self.watcher.watch_replacement(cluster, service, outcome.deployment_id, since=since,
                                                  timeout=self.options.recovery_timeout, failed=outcome.task_definition)
        if recovery.state is State.SUPERSEDED:
            return RolloutReport(EXIT_NOT_RECOVERED, f"{what}; {recovery.verdict.reason} before ECS's rollback: "
                                 "not rolling back over it", outcome.task_definition, outcome, recovery, next=Next.STATUS)
        back = short(recovery.task_definition)
        if recovery.succeeded:
            return self._back_on(cluster, service, outcome, recovery, f"{what}; {how} rolled back to {back}", by, since)
        return RolloutReport(failed_code(recovery), f"{what}; ECS's rollback to {back} did not reach a steady state: "
                             f"{recovery.verdict.reason}", outcome.task_definition, outcome, recovery,
                             rolled_back_by=by, next=Next.ROLLBACK)

    def _back_on(self, cluster: str, service: str, outcome: Outcome, recovery: Outcome, how: str, by: str,
                 since: float | None, traffic_back_at: float | None = None) -> RolloutReport:
        """ECS put the service back, steady, on a revision of its choosing (its
        circuit breaker, or blue after a traffic shift back). That revision is the
        last known good only if this tool proved it: if it did, it is marked again;
        if not, the service goes on to the last known-good revision; if none is,
        the service stays there, nothing is marked, and the exit says so."""
        back = recovery.task_definition
        failed = outcome.task_definition
        try:
            proven = self.retry.call(lambda: knowngood.read_mark(self.ecs, back), until=self.clock.now() + MARK_BUDGET,
                                     what=f"reading {short(back)}'s known-good mark")
        except DeployToolError:
            proven = None  # cannot tell: treat it as unproven, which is the safe side
        if proven is not None:
            marked, warnings = self._mark(recovery, None)
            report = RolloutReport(EXIT_ROLLED_BACK, f"{how}, steady", failed, outcome, recovery, returned_to=back,
                                   rolled_back_by=by, known_good=marked or proven, warnings=warnings)
            report.traffic_back_at = traffic_back_at
            return report
        why = self._unproven(back)
        tags = recovery.service.tags if recovery.service else {}
        until = self.clock.now() + self.options.recovery_timeout
        arn = recovery.service.arn if recovery.service else None
        target = self.retry.call(lambda: knowngood.find(self.ecs, family_of(failed), service_tags=tags, service_arn=arn,
                                                        exclude=[failed, back]),
                                 until=until, what="finding the known-good revision")
        if target is None:
            report = RolloutReport(
                EXIT_NOT_RECOVERED, f"{how}, steady; but {short(back)} is not known good ({why}) and no revision of "
                f"{family_of(failed)} is: nothing was marked. If {short(back)} is good, name it known good with "
                f"`rollback --to {short(back)}`", failed, outcome, recovery, returned_to=back, rolled_back_by=by,
                next=Next.ROLLBACK)
            self.journal.resume_to = back
            report.traffic_back_at = traffic_back_at
            return report
        self.watcher.emit("action", f"{how}, which is not known good ({why}): returning to known-good {target.revision} "
                          f"(since {target.marked_at})", knownGood=target.task_definition)
        self._story = f"{how}; returning to known-good {target.revision}"
        further, _ = self._go_to(cluster, service, target.task_definition, until, since,
                                 f"returned to known-good {target.revision}", recovery.service)
        if further.succeeded:
            marked, warnings = self._mark(further, None)
            report = RolloutReport(EXIT_ROLLED_BACK, f"{how}, not known good; returned to known-good {target.revision}, "
                                   "steady", failed, outcome, further, returned_to=target.task_definition,
                                   rolled_back_by="ecs-template-deploy", known_good=marked or target, warnings=warnings)
        else:
            report = RolloutReport(failed_code(further), f"{how}, not known good; the return to known-good "
                                   f"{target.revision} failed: {further.verdict.reason}", failed, outcome, further,
                                   rolled_back_by="ecs-template-deploy", known_good=target, next=Next.ROLLBACK)
        report.traffic_back_at = traffic_back_at
        return report

    def _unproven(self, revision: str) -> str:
        """Why `revision` is not known good, from its bake record, for messages."""
        try:
            record = knowngood.read_bake(self.ecs, revision)
        except DeployToolError:
            return "its record cannot be read"
        if record is None:
            return "this tool never proved it"
        if record.state == knowngood.STARTED:
            return f"its bake, {record.describe()}, never finished"
        if record.state == knowngood.FAILED:
            return f"it {record.describe()}"
        return f"its bake {record.describe()}"

    def _return_to_known_good(self, cluster: str, service: str, outcome: Outcome, what: str,
                              since: float | None) -> RolloutReport:
        record = outcome.record
        if record is not None and record.keeps_blue:
            shifted = self._shift_back(cluster, service, outcome, record, what, since)
            if shifted is not None:
                return shifted
        failed = outcome.task_definition
        until = self.clock.now() + self.options.recovery_timeout
        tags = outcome.service.tags if outcome.service else {}
        self._story = f"{what}; finding the known-good revision to roll back to"
        arn = outcome.service.arn if outcome.service else None
        target = self.retry.call(lambda: knowngood.find(self.ecs, family_of(failed), service_tags=tags, service_arn=arn,
                                                        exclude=[failed]),
                                 until=until, what="finding the known-good revision")
        if target is None:
            previous = self._previous if self._previous and not same_revision(self._previous, failed) else ""
            if previous:
                self.journal.resume_to = previous
            return RolloutReport(EXIT_NOT_RECOVERED,
                                 f"{what}; no known-good revision of {family_of(failed)} to roll back to (none has passed "
                                 "a bake of this tool" + (f"; {short(previous)}, which ran before, never did" if previous
                                                          else "") + "): the service stays on "
                                 f"{short(failed)}; roll back with `ecs-template-deploy rollback --to REVISION`", failed,
                                 outcome, next=Next.ROLLBACK)
        self.watcher.emit("action", f"{what}; rolling back to known-good {target.revision} (since {target.marked_at})",
                          knownGood=target.task_definition)
        self._story = f"{what}; rolling back to known-good {target.revision}"
        recovery, joined = self._go_to(cluster, service, target.task_definition, until, since,
                                       f"rolled back to known-good {target.revision}", outcome.service)
        by = "ecs-circuit-breaker" if joined else "ecs-template-deploy"
        how = (f"ECS's circuit breaker tripped as the tool rolled back; both returned to known-good {target.revision}"
               if joined else f"rolled back to known-good {target.revision}")
        if recovery.succeeded:
            marked, warnings = self._mark(recovery, None)
            return RolloutReport(EXIT_ROLLED_BACK, f"{what}; {how}, steady",
                                 failed, outcome, recovery, returned_to=target.task_definition,
                                 rolled_back_by=by, known_good=marked or target, warnings=warnings)
        return RolloutReport(failed_code(recovery), f"{what}; rollback to {target.revision} failed too: "
                             f"{recovery.verdict.reason}", failed, outcome, recovery,
                             rolled_back_by=by, known_good=target, next=Next.ROLLBACK)

    def _shift_back(self, cluster: str, service: str, outcome: Outcome, record: ServiceDeployment, what: str,
                    since: float | None) -> RolloutReport | None:
        """ECS still holds blue (blue/green, linear, canary before clean-up): roll back
        by moving traffic back to it with StopServiceDeployment ROLLBACK, which
        starts no task. None if ECS refuses (then the usual way, UpdateService).
        `record` is `outcome.record`, passed on its own as the callers know it is there."""
        self._story = f"{what}; rolling back to blue by traffic shift (StopServiceDeployment ROLLBACK)"
        self.watcher.emit("action", f"{what}; ECS still runs blue ({record.summary()}): shifting traffic back to it "
                          "(StopServiceDeployment ROLLBACK)")
        until = self.clock.now() + self.options.recovery_timeout

        def stop() -> None:
            with aws_call("ecs:StopServiceDeployment"):
                self.ecs.stop_service_deployment(serviceDeploymentArn=record.arn, stopType="ROLLBACK")

        self.journal.service_changed = True
        try:
            self.retry.call(stop, until=until, what="stopping the service deployment")
        except DeployToolError as err:
            self.watcher.emit("warning", f"StopServiceDeployment ROLLBACK refused ({err}): rolling back with UpdateService")
            return None
        back_at = self.clock.now()
        self.journal.did("shifted traffic back to blue (StopServiceDeployment ROLLBACK)", service_changed=True)
        # Blue's deployment is old: stream only events from this watch on, not blue's own history.
        recovery = self.watcher.watch_replacement(cluster, service, outcome.deployment_id,
                                                  since=since if since is not None else outcome.started_at,
                                                  timeout=self.options.recovery_timeout, failed=outcome.task_definition)
        back = short(recovery.task_definition)
        if recovery.succeeded:
            return self._back_on(cluster, service, outcome, recovery, f"{what}; traffic shifted back to {back} (blue)",
                                 "ecs-template-deploy", since, traffic_back_at=back_at)
        report = RolloutReport(failed_code(recovery), f"{what}; the traffic shift back to {back} did not reach a "
                               f"steady state: {recovery.verdict.reason}", outcome.task_definition, outcome,
                               recovery, rolled_back_by="ecs-template-deploy", next=Next.ROLLBACK)
        report.traffic_back_at = back_at
        return report

    # -- steps both share ----------------------------------------------------

    def _go_to(self, cluster: str, service: str, task_definition: str, until: float, since: float | None,
               action: str, before: Service | None, force: bool = False) -> tuple[Outcome, bool]:
        """UpdateService to `task_definition` (asked again until `until`), then watch it.

        Also says whether the update joined a return ECS had already begun: when
        ECS's circuit breaker trips between our last look (`before`) and our
        UpdateService, the service already heads for `task_definition`, the update
        starts nothing, and the service's current service deployment is still the
        failed one, now ROLLBACK_*. That record judges the failed deployment, not
        the way back: the way back is then watched on DescribeServices alone.
        `force`: a new deployment even though the service already has
        `task_definition` (a return whose tasks failed, started over)."""
        def update() -> Service:
            with aws_call("ecs:UpdateService"):
                answer = self.ecs.update_service(cluster=cluster, service=service, taskDefinition=task_definition,
                                                 **({"forceNewDeployment": True} if force else {}))
            return Service(answer["service"])

        if before is not None:
            knowngood.record_return(self.ecs, before.arn, task_definition)
        self.journal.service_changed = True
        updated = self.retry.call(update, until=until, what=f"updating service {service} to {short(task_definition)}")
        self.journal.did(action, service_changed=True)
        primary = updated.primary
        record = updated.current_service_deployment
        known = {d.id for d in before.deployments} if before is not None else set()
        joined = not force and (
            bool(primary and primary.id in known and same_revision(primary.task_definition, task_definition))
            or bool(record and before is not None and record == before.current_service_deployment))
        if joined:
            self.watcher.emit("action", f"ECS was already returning to {short(task_definition)} (its circuit breaker "
                              "tripped): following that return")
            self.journal.did("joined ECS's own return to the revision")
        outcome = self.watcher.watch(cluster, service, deployment_id=(primary.id if primary else None) or None,
                                     task_definition=task_definition, since=since,
                                     timeout=max(until - self.clock.now(), self.options.poll_interval),
                                     record_arn="" if joined else record, adopt=not joined, alarms=False,
                                     returning=True)
        return outcome, joined

    def _mark(self, outcome: Outcome, proof: str | None) -> tuple[knowngood.KnownGood | None, list[str]]:
        """Mark what `outcome` saw steady as known good, at AWS's time for it. `proof`:
        PASSED (its bake passed in this run), NAMED (a person named it with --to),
        None (a return to a revision already known good). On failure, warn: the
        service is fine and the old record stays."""
        service = outcome.service
        ours = service.deployment(outcome.deployment_id) if service else None
        at = (ours.updated_at if ours and ours.updated_at else None) or self.clock.now()
        try:
            marked = self.retry.call(
                lambda: knowngood.mark(self.ecs, outcome.task_definition, at=at, service_arn=service.arn if service else None,
                                       proof=proof),
                until=self.clock.now() + MARK_BUDGET, what=f"marking {short(outcome.task_definition)} known good")
        except DeployToolError as err:
            warning = (f"could not mark {short(outcome.task_definition)} known good ({err}): the known-good record "
                       "stays as it was; a re-run of this command marks it")
            self.journal.warn(warning)
            self.watcher.emit("warning", warning)
            return None, [warning]
        self.journal.did(f"marked {marked.revision} known good")
        self.watcher.emit("action", f"marked {marked.revision} known good", knownGood=marked.task_definition)
        return marked, []

    def _guarded(self, what: str, task_definition: str, next_step: Next,
                 step: Callable[[], RolloutReport]) -> RolloutReport:
        """Run `step`; whatever error still escapes it becomes a not-recovered report."""
        self._story = ""
        try:
            return step()
        except DeployToolError as err:
            return RolloutReport(EXIT_NOT_RECOVERED, f"{self._story or what}: {err}", task_definition, next=next_step)

    # -- the rollback command -------------------------------------------------

    def roll_back(self, cluster: str, service: str, *, to: str | None = None, family: str | None = None,
                  since: float | None = None) -> RolloutReport:
        """Return the service to `to` (default: the last known-good revision other
        than the running one, or the one a rollback in progress returns to) and wait."""
        snapshot, target, follow = resolve_target(self.ecs, cluster, service, to, family)
        current = snapshot.task_definition
        if to is not None and same_revision(snapshot.steady_on, target.task_definition):
            return self._guarded(f"marking {target.revision}", target.task_definition, Next.RERUN,
                                 lambda: self._name_running(snapshot, target))
        record = self.watcher.current_record(snapshot) if to is None and not follow else None
        if record is not None and record.keeps_blue and not record.is_rolling_back:
            return self._guarded(f"rollback of {snapshot.name}", current, Next.RERUN,
                                 lambda: self._stop_and_shift_back(cluster, service, snapshot, record, since))
        if follow and same_revision(snapshot.steady_on, target.task_definition):
            self.watcher.emit("action", f"{snapshot.name} is already steady on {target.revision}: the rollback to it "
                              "that an earlier run started finished unwatched; marking it the last known good",
                              knownGood=target.task_definition)
            self.journal.did(f"found the return to {target.revision} finished")
        elif follow and self._failed_return(snapshot):
            self.watcher.emit("action", f"a rollback of {snapshot.name} to {target.revision} is in progress, but "
                              f"{self._failed_return(snapshot)} of its tasks failed: starting it over in a new deployment (ECS "
                              "resolves its images again; what failed them, a deleted image say, may be fixed since)",
                              knownGood=target.task_definition)
            self.journal.did(f"started the rollback to {target.revision} over")
        elif follow:
            self.watcher.emit("action", f"a rollback of {snapshot.name} to {target.revision} is in progress; following it",
                              knownGood=target.task_definition)
            self.journal.did(f"followed the rollback to {target.revision} in progress")
        else:
            self.watcher.emit("action", f"rolling back {snapshot.name} from {short(current)} to {target.revision}"
                              + (f" (known good since {target.marked_at})" if target.marked_at else " (never marked known good)"),
                              knownGood=target.task_definition)
        return self._guarded(f"rollback to {target.revision}", target.task_definition, Next.RERUN,
                             lambda: self._roll_back(cluster, service, target, follow, since, snapshot,
                                                     named=to is not None or not target.marked_at))

    def _failed_return(self, snapshot: Service) -> int:
        """How many tasks of the return in progress (the PRIMARY deployment, not
        steady) failed, when that is as many as the watch's --failure-threshold
        (the earlier run would have called it failed), else 0: a return to start
        over, not to follow. Fewer failures are followed, as any rollout is."""
        primary = snapshot.primary
        failed = primary.failed_tasks if primary is not None and not snapshot.steady_on else 0
        return failed if failed >= self.options.failure_threshold else 0

    def _name_running(self, snapshot: Service, target: knowngood.KnownGood) -> RolloutReport:
        """`rollback --to` the revision the service already runs, steady: nothing to
        move; a person named it, so it is marked known good (how a service the tool
        never deployed gets its first known-good revision)."""
        self.watcher.emit("action", f"{snapshot.name} already runs {target.revision}, steady: marking it known good, "
                          "as named with --to", knownGood=target.task_definition)
        now = self.clock.now()
        primary = snapshot.primary
        outcome = Outcome(Verdict(State.SUCCEEDED, f"{target.revision} runs, steady"), primary.id if primary else "",
                          target.task_definition, now, now, 0, snapshot, now)
        marked, warnings = self._mark(outcome, knowngood.NAMED)
        return RolloutReport(EXIT_OK if marked else EXIT_NOT_RECOVERED,
                             f"{target.revision} already runs, steady" + (": marked known good" if marked else
                                                                         ": could not mark it known good"),
                             target.task_definition, outcome, returned_to=target.task_definition, known_good=marked,
                             warnings=warnings, next=Next.NOTHING if marked else Next.RERUN)

    def _rolled_back_from(self, snapshot: Service) -> None:
        """A person rolls the service back from what it runs: that revision no longer
        counts as known good (until proven or named again), so no later rollback, and
        no pointer left naming it by a stop mid-way, returns to it. Written before the
        service moves."""
        running = snapshot.task_definition
        if running:
            self._record_failure(running, snapshot, "was rolled back from")
            self.watcher.emit("action", f"recorded that {snapshot.name} was rolled back from {short(running)}: it no "
                              "longer counts as known good")

    def _stop_and_shift_back(self, cluster: str, service: str, snapshot: Service, record: ServiceDeployment,
                             since: float | None) -> RolloutReport:
        """`rollback` during a blue/green-family deployment that still keeps blue:
        StopServiceDeployment ROLLBACK moves traffic back to it, no task starts."""
        primary = snapshot.primary
        outcome = Outcome(Verdict(State.FAILED, "rollback asked for"), primary.id if primary else "",
                          snapshot.task_definition, self.clock.now(), self.clock.now(), 0, snapshot, self.clock.now(), record)
        self._rolled_back_from(snapshot)
        report = self._shift_back(cluster, service, outcome, record, f"rollback of {short(snapshot.task_definition)}",
                                  since)
        if report is None:
            raise NotRecoveredError("StopServiceDeployment ROLLBACK was refused: run `rollback --to REVISION` to roll "
                                    "back with UpdateService")
        if report.exit_code == EXIT_ROLLED_BACK:
            report.exit_code = EXIT_OK
            report.message = report.message.replace("; traffic shifted back", ": traffic shifted back")
        return report

    def _roll_back(self, cluster: str, service: str, target: knowngood.KnownGood, follow: bool,
                   since: float | None, before: Service, named: bool) -> RolloutReport:
        until = self.clock.now() + self.options.timeout
        if follow and self._failed_return(before):
            # the service already runs the target: nothing to record as rolled back from
            outcome, _ = self._go_to(cluster, service, target.task_definition, until, since,
                                     f"started the return to {target.revision} over", before, force=True)
        elif follow:
            outcome = self.watcher.watch(cluster, service, task_definition=target.task_definition, since=since,
                                         returning=True)
        else:
            self._rolled_back_from(before)
            outcome, _ = self._go_to(cluster, service, target.task_definition, until, since,
                                     f"rolled back to {target.revision}", before)
        if outcome.succeeded:
            # a revision named with --to (or by a return of ours to one) is known good because a person named it
            marked, warnings = self._mark(outcome, knowngood.NAMED if named else None)
            return RolloutReport(EXIT_OK, f"rolled back to {target.revision}: steady state", target.task_definition,
                                 outcome, returned_to=target.task_definition, rolled_back_by="ecs-template-deploy",
                                 known_good=marked, warnings=warnings)
        return RolloutReport(failed_code(outcome), f"rollback to {target.revision} {outcome.state.value}: "
                             f"{outcome.verdict.reason}", target.task_definition, outcome,
                             rolled_back_by="ecs-template-deploy", known_good=target, next=Next.RERUN)


def _to_reference(to: str, family: str | None, region: str) -> str | None:
    """`--to` as a task definition reference, or None for a bare revision number
    (resolved in the family the service runs). Checked before any AWS call."""
    if to.isascii() and to.isdigit():  # "²" is a digit to Python, not a revision to ECS
        if int(to) < 1:
            raise BadInputError(f"--to {to}: revisions are numbered from 1: give N of 1 or more, family:N or an ARN")
        return f"{family}:{to}" if family else None
    check_task_definition_reference(to, "--to", region)
    if ":" not in to:
        raise BadInputError(f"--to {to!r} names no revision: give N (in the family the service runs), family:N or an ARN")
    return to


def resolve_target(ecs: Any, cluster: str, service: str, to: str | None,
                   family: str | None = None) -> tuple[Service, knowngood.KnownGood, bool]:
    """Validate a rollback before changing anything: the service, the revision to
    return to, and whether a rollback to it is already in progress (follow it)."""
    if family is not None:
        check_family(family)
    reference = _to_reference(to, family, ecs.meta.region_name) if to is not None else None
    snapshot = fetch_service(ecs, cluster, service)
    check_drivable(snapshot)
    current = snapshot.task_definition
    running_family = family_of(current)
    if to is not None:
        reference = reference or f"{running_family}:{to}"
        wanted = family_of(reference)
        if wanted != (family or running_family):
            raise BadInputError(f"--to {to} is in family {wanted}, but service {snapshot.name} runs {running_family}: "
                                f"pass --family {wanted} to move the service to another family")
        try:
            target = fetch_task_definition(ecs, reference, "--to")
        except TemplateNotFoundError as err:
            raise BadInputError(f"--to {to}: task definition {reference!r} not found: give N (in "
                                f"{wanted}), family:N or an ARN") from err
        if not target.is_active:
            raise BadInputError(f"{target.name} is INACTIVE (deregistered): ECS cannot deploy it; pick another --to")
        primary = snapshot.primary
        follow = bool(primary and same_revision(primary.task_definition, target.arn) and not snapshot.steady_on)
        return snapshot, knowngood.KnownGood(target.arn, target.tags.get(knowngood.TAG, "")), follow
    in_progress = _rollback_in_progress(ecs, snapshot) or _return_not_seen_through(ecs, snapshot)
    if in_progress is not None:
        return snapshot, in_progress, True
    found = knowngood.rollback_target(ecs, snapshot)
    if found is None:
        if snapshot.steady_on and same_revision(snapshot.tags.get(knowngood.TAG), current):
            # a re-run of a rollback that finished (its run killed before it said so) lands here too
            raise BadInputError(
                f"service {snapshot.name} runs {short(current)}, steady, and it is the last known-good revision: no "
                f"other revision of {running_family} is known good to return to (a rollback that ended here is done); "
                "to go further back, name a revision with --to REVISION")
        raise BadInputError(
            f"no known-good revision of {running_family} other than the running {short(current)}: "
            "name one with --to REVISION"
        )
    return snapshot, found, False


def _return_not_seen_through(ecs: Any, snapshot: Service) -> knowngood.KnownGood | None:
    """The service steady on the revision a rollback of this tool was returning to
    (the RETURNING tag names it) and never marked: that rollback was killed after
    its UpdateService and finished unwatched. A re-run of `rollback` finishes it
    (marks it) instead of going one further back, to the very revision the service
    was returned from. A service put on an old revision any other way carries no
    such tag (marking clears it), and `rollback` moves it as asked."""
    running = snapshot.steady_on
    if not running or not same_revision(snapshot.tags.get(knowngood.RETURNING), running):
        return None
    return knowngood.read_mark(ecs, running) or knowngood.KnownGood(running, "")


def _rollback_in_progress(ecs: Any, snapshot: Service) -> knowngood.KnownGood | None:
    """The PRIMARY deployment, when it is rolling out (not yet steady) a known-good
    revision while others drain, *as a rollback*: one of this tool's (the RETURNING
    tag names it: a killed run's) or ECS's own (a deployment it failed drains). A
    deploy re-releasing an older proven revision is not one: `rollback` then moves
    the service away from it, as asked."""
    primary = snapshot.primary
    if primary is None or snapshot.steady_on:
        return None
    # ours even when it is the only deployment left: the failed release it returns from
    # may have drained already (its tasks crashed after steady, and ECS replaces none)
    ours = same_revision(snapshot.tags.get(knowngood.RETURNING), primary.task_definition)
    ecs_rolls_back = len(snapshot.deployments) >= 2 and any(d.has_failed for d in snapshot.deployments
                                                            if not d.is_primary)
    if not (ours or ecs_rolls_back):
        return None
    return knowngood.read_mark(ecs, primary.task_definition)
