"""A release: several services deployed as one, wave by wave, all or nothing.

`Release.run()` is what `ecs-template-deploy release` does with a manifest:

1. **Validate before anything moves**: every service's deploy is prepared
   (template, service, images, rendered definition), every alarm read, and the
   services checked against each other (one service twice, a template that is
   another service's target family, two services registering into one
   family). One line, exit 2, nothing changed.
2. **Read the release's record** from the services' tags: a re-run of the same
   release (same id) picks up where it stands. A release already failed is
   never deployed again: the re-run finishes its rollback.
3. **Waves**: the services of a wave deploy side by side (`lockstep`), each with
   the same steps as `deploy` (register or reuse, update, watch, bake, mark known
   good, and, when it fails, its own way back to known good). A wave starts when
   every service of the one before has passed its bake.
4. **All or nothing**: when a service fails, the others of its wave stop
   watching, the failure is written on every service the release changed, and
   each returns to its known good in reverse wave order (`rollback`'s way, which
   shifts traffic back to blue where ECS still holds it).

Where the release stands is written on each service as it goes (tags
`ecs-template-deploy:release` = the id, `ecs-template-deploy:release-state` =
`STATE;wave=N;to=FAMILY:N;from=FAMILY:N;digest=D`), before the step it
announces, so a run killed at any line leaves a record the next run reads:
`status --release ID` and `rollback --release ID` work from any machine.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping

from . import knowngood
from .clock import Clock, iso
from .deploy import CHANGE_BUDGET, apply
from .errors import (
    EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK, AccessDeniedError, BadInputError, DeployToolError, aws_call, shown,
)
from .events import ProgressEvent, Sink, discard
from .lockstep import Lockstep
from .manifest import Entry, Manifest, Watch
from .render import ImageSelection
from .plan import DeployRequest, Plan, prepare
from .resources import fetch_service, short
from .retry import Retrier
from .rollback import Rollback, RolloutReport
from .service_deploy import see_through
from .standing import Journal, look
from .views import Service, family_of, revision_name, revision_of, same_revision
from .watch import AlarmState, RolloutWatcher, WaitOptions, alarm_states

RELEASE_TAG = "ecs-template-deploy:release"
STATE_TAG = "ecs-template-deploy:release-state"
# deploying: updated (or about to be); passed: baked, known good; failed: its own deploy failed
# (it went back on its own); returning: the release failed elsewhere, on its way back; returned.
DEPLOYING, PASSED, FAILED, RETURNING, RETURNED = "deploying", "passed", "failed", "returning", "returned"
STATES = (DEPLOYING, PASSED, FAILED, RETURNING, RETURNED)
MAX_TAG_VALUE = 256


@dataclass(frozen=True)
class Record:
    """Where one service stands in a release, as written on it."""

    release: str
    state: str
    wave: int
    to: str  # family:N this release deploys to the service
    came_from: str  # family:N the service ran before this release
    digest: str
    since: str = ""  # ISO time this release first wrote on the service: failures older than it are another's
    of: int = 0  # how many services the release has (0: not recorded)

    def value(self) -> str:
        parts = [self.state, f"wave={self.wave}", f"to={self.to}", f"from={self.came_from}", f"since={self.since}",
                 f"of={self.of}", f"digest={self.digest}"]
        text = ";".join(parts)
        return text if len(text) <= MAX_TAG_VALUE else ";".join(p for p in parts if not p.startswith("from="))

    @classmethod
    def read(cls, tags: Mapping[str, str]) -> "Record | None":
        release, value = tags.get(RELEASE_TAG), tags.get(STATE_TAG)
        if not release or not value:
            return None
        state, *pairs = value.split(";")
        fields = dict(pair.partition("=")[::2] for pair in pairs)
        if state not in STATES:
            return None

        def number(key: str, default: int) -> int:
            text = fields.get(key, "")
            return int(text) if text.isascii() and text.isdigit() else default

        return cls(release, state, number("wave", 1), fields.get("to", ""), fields.get("from", ""),
                   fields.get("digest", ""), fields.get("since", ""), number("of", 0))


@dataclass
class ServiceResult:
    """One service's end in a release."""

    entry: Entry
    state: str  # passed | failed | returned | untouched | not-returned | skipped
    message: str
    task_definition: str = ""  # what the release deployed to it
    running: str = ""  # what it runs at the end, where known
    known_good: str = ""
    exit_code: int = EXIT_OK
    report: RolloutReport | None = None
    next: str = ""  # the command that puts this service right, where the release's own rollback cannot
    changed: bool = False  # this release updated the service (its record names the release)

    @property
    def name(self) -> str:
        return self.entry.name

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.entry.name, "cluster": self.entry.cluster, "wave": self.entry.wave, "state": self.state,
                "taskDefinitionArn": self.task_definition or None, "running": self.running or None,
                "knownGood": self.known_good or None, "exitCode": self.exit_code, "message": self.message,
                "next": self.next or None}


@dataclass
class ReleaseReport:
    release: str
    exit_code: int
    message: str
    services: list[ServiceResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        state = {EXIT_OK: "deployed", EXIT_ROLLED_BACK: "rolled-back"}.get(self.exit_code, "not-recovered")
        return {"kind": "result", "release": self.release, "state": state, "exitCode": self.exit_code,
                "message": self.message, "services": [s.to_dict() for s in self.services]}

    @property
    def astray(self) -> list[ServiceResult]:
        """Services not where the release should leave them."""
        want = PASSED if self.exit_code == EXIT_OK else RETURNED
        return [s for s in self.services if s.state not in (want, "untouched")]


class Abandoned(BaseException):
    """Raised in a service's watch at its next sleep once another service of the
    release failed: it stops watching and is rolled back with the rest. A
    BaseException, so no handler of the watch takes it for an AWS failure."""


def named(sink: Sink, name: str) -> Sink:
    """Every event of one service's step says which service it is about."""
    def emit(event: ProgressEvent) -> None:
        sink(ProgressEvent(event.kind, event.at, f"{name}: {event.message}", {**event.data, "service": name}))
    return emit


class Release:
    """One release of `manifest` against one AWS account and region."""

    def __init__(self, ecs: Any, manifest: Manifest, *, clock: Clock, sink: Sink = discard, cloudwatch: Any = None,
                 poll_interval: float = 10.0, journal: Journal | None = None,
                 before_update: Callable[[Entry, Clock, Sink], Callable[[Plan, str], None] | None] | None = None
                 ) -> None:
        self.ecs = ecs
        self.manifest = manifest
        self.clock = clock
        self.sink = sink
        self.cloudwatch = cloudwatch
        self.poll_interval = poll_interval
        self.journal = journal if journal is not None else Journal()
        # entry, the step's clock and sink -> what runs between its register and its update (run_before)
        self.before_update = before_update or (lambda entry, clock, sink: None)
        self.plans: dict[str, Plan] = {}
        self.alarms: dict[str, AlarmState] = {}
        self.failed = False  # a service of the release failed: the others stop going forward
        self.failing: list[str] = []  # the services whose own deploy failed
        self.results: dict[str, ServiceResult] = {}
        # services on the release (or on their way to it) whose return the earlier waves wait for
        self._returning: set[str] = set()

    # -- 1. validate -------------------------------------------------------------

    def prepare(self) -> None:
        """Read and check everything; raise BadInputError naming the service, changing nothing."""
        for entry in self.manifest.entries:
            request = DeployRequest(entry.cluster, entry.name, entry.template, entry.images, entry.family)
            try:
                self.plans[entry.name] = prepare(self.ecs, request)
            except DeployToolError as err:
                err.args = (f"service {entry.name}: {in_manifest_words(str(err))}",)
                raise
        self._check_together()
        names = sorted({alarm for entry in self.manifest.entries for alarm in entry.watch.alarms})
        if names:
            if self.cloudwatch is None:
                raise BadInputError("the manifest names alarms, but no CloudWatch client was given")
            with aws_call("cloudwatch:DescribeAlarms"):
                self.alarms = alarm_states(self.cloudwatch.describe_alarms(AlarmNames=names))
            missing = [name for name in names if name not in self.alarms]
            if missing:
                raise BadInputError(f"alarm {missing[0]}: no CloudWatch alarm of that name in "
                                    f"{self.cloudwatch.meta.region_name}: check the manifest's alarms and --region")
            for state in self.alarms.values():
                if state.firing:
                    self._warn(f"alarm {state.name} is already in ALARM: the release goes ahead, but a service watching "
                               "it passes its bake only once it has left ALARM")

    def _check_together(self) -> None:
        plans = self.plans
        by_arn: dict[str, str] = {}
        families: dict[str, str] = {}
        for name, plan in plans.items():
            other = by_arn.setdefault(plan.service.arn, name)
            if other != name:
                raise BadInputError(f"services {other} and {name} of the manifest are the same ECS service "
                                    f"({plan.service.arn}): a release deploys a service once; remove one")
            other = families.setdefault(plan.family, name)
            if other != name:
                raise BadInputError(f"services {other} and {name} both register into family {plan.family}: each "
                                    "service needs a target family of its own; give one a `family`")
        for name, plan in plans.items():
            for other, theirs in plans.items():
                if plan.template.family == theirs.family:
                    raise BadInputError(f"service {name}'s template {plan.template.family} is the family service {other} "
                                        "deploys into (a template is Terraform's: CD never registers into it): give "
                                        f"{name} a template of its own")
            entry = self.manifest.entry(name)
            probe = Record(self.manifest.id, DEPLOYING, entry.wave, f"{plan.family}:1000000", "", self.manifest.digest)
            if len(probe.value()) > MAX_TAG_VALUE:
                raise BadInputError(f"service {name}: family {plan.family} is too long to record the release on the "
                                    f"service's tags ({MAX_TAG_VALUE} characters): give it a shorter `family`")

    # -- 2. what was done before ---------------------------------------------------

    def records(self) -> dict[str, Record]:
        """This release's records on its services (as `prepare` read them)."""
        found = {}
        for name, plan in self.plans.items():
            record = Record.read(plan.service.tags)
            if record is not None and record.release == self.manifest.id:
                found[name] = record
        return found

    def _failed_before(self, records: dict[str, Record]) -> list[str]:
        """Services whose record says this release failed there (or whose revision's bake
        record says it failed: the tool writes that first, before any way back)."""
        failed = [name for name, record in records.items() if record.state in (FAILED, RETURNING, RETURNED)]
        for name, record in records.items():
            if name in failed or not record.to:
                continue
            try:
                bake = knowngood.read_bake(self.ecs, self._arn(name, record.to))
            except DeployToolError:
                continue
            # only a failure written during this release: a revision reused from an earlier
            # release that failed carries that release's record, older than this one's
            if bake is not None and bake.state == knowngood.FAILED and record.since and bake.at >= record.since:
                failed.append(name)
        return failed

    def _arn(self, name: str, revision: str) -> str:
        """family:N -> its ARN, in the service's account and region."""
        service = self.plans[name].service.arn
        prefix = service.split(":service/", 1)[0]
        return f"{prefix}:task-definition/{revision}"

    # -- 3. forward ----------------------------------------------------------------

    def run(self) -> ReleaseReport:
        if not self.plans:
            self.prepare()
        records = self.records()
        mismatched = [name for name, record in records.items() if record.digest and record.digest != self.manifest.digest]
        if mismatched:
            raise BadInputError(f"release {self.manifest.id} was started with another manifest (service "
                                f"{mismatched[0]} records it): give this one a new id (`id` in the manifest, or --id)")
        for name, plan in self.plans.items():
            other = Record.read(plan.service.tags)
            if other is not None and other.release != self.manifest.id and other.state in (DEPLOYING, RETURNING):
                raise BadInputError(
                    f"service {name} is in release {other.release}, still {other.state}: finish that release first "
                    f"(run it again, or `ecs-template-deploy rollback --cluster {plan.request.cluster} --release "
                    f"{other.release}`), then start this one")
        failed_before = self._failed_before(records)
        if failed_before:
            self._say("action", f"release {self.manifest.id} failed in an earlier run (as its records on "
                      f"{', '.join(failed_before)} say): it is not deployed again; finishing its rollback")
            self.journal.did(f"found release {self.manifest.id} failed in an earlier run: finished its rollback")
            return self.roll_back(records, reason="it failed in an earlier run")
        if records:
            self._say("action", f"release {self.manifest.id} was started before (on {', '.join(records)}): going on "
                      "from where it stands")
        waves = self.manifest.waves
        for number, wave in enumerate(waves, start=1):
            self._say("action", f"wave {number} of {len(waves)}: {', '.join(e.name for e in wave)}")
            lock = Lockstep(self.clock)
            for entry, outcome in zip(wave, lock.run([self._forward_step(entry, records.get(entry.name), lock)
                                                      for entry in wave]), strict=True):
                if outcome.error is not None:
                    self.results[entry.name] = self._crashed(entry, outcome.error)
            if self.failed:
                return self._report()
        return self._report()

    def _forward_step(self, entry: Entry, record: Record | None, lock: Lockstep) -> Callable[[Clock], ServiceResult]:
        """Deploy one service; when the release fails (here or elsewhere), return it in its turn."""
        def step(clock: Clock) -> ServiceResult:
            journal = Journal()
            sink = named(self.sink, entry.name)
            aborting = _Aborting(clock, lambda: self._fail(entry, lock, clock), lambda: self.failed, journal)
            result: ServiceResult | None
            try:
                result = self._deploy_one(entry, record, aborting.clock, sink, journal, clock)
            except Abandoned:
                result = None
                self.journal.did(f"{entry.name}: stopped watching its rollout (the release failed elsewhere)")
            except DeployToolError as err:
                changed = journal.service_changed
                result = ServiceResult(entry, FAILED, str(err), exit_code=EXIT_NOT_RECOVERED if changed else err.exit_code,
                                       changed=changed)
            except Exception as err:  # a bug: this service's deploy failed all the same, and the others go back
                result = self._crashed(entry, err)
            finally:
                self._merge(entry.name, journal)
            self.results[entry.name] = result or ServiceResult(entry, "abandoned", "stopped watching its rollout")
            if result is not None and result.state in (FAILED, RETURNED):
                self._fail(entry, lock, clock)
                self._returning.discard(entry.name)
                if result.state == FAILED and result.changed:  # its own way back did not get there
                    written = Record.read(self._fresh_tags(entry.name))
                    if written is not None and written.release == self.manifest.id:
                        self.results[entry.name] = result = self._named_return(result, written)
                return result
            if self.failed:  # on the release, or on its way to it: back with the others, in its turn
                return self._return_in_turn(entry, clock)
            return self.results[entry.name]
        return step

    def _deploy_one(self, entry: Entry, record: Record | None, clock: Clock, sink: Sink,
                    journal: Journal, own: Clock) -> ServiceResult:
        plan = self.plans[entry.name]
        if record is not None and record.state == PASSED and plan.unchanged and \
                knowngood.is_marked(plan.service, plan.current.arn) and plan.service.steady_on:
            sink(ProgressEvent("action", clock.now(), "already passed its bake in this release: "
                               f"{short(plan.current.arn)} runs, steady and known good", {"service": entry.name}))
            return ServiceResult(entry, PASSED, "passed its bake in an earlier run of this release",
                                 plan.current.arn, plan.current.arn, plan.current.arn, changed=True)
        # what ran before this release: as its first run recorded it (a re-run finds the service
        # on the release's revision already)
        previous = record.came_from if record is not None and record.came_from else revision_name(plan.current.arn)
        since = record.since if record is not None and record.since else iso(own.now())

        def recorded_as(state: str, arn: str) -> Record:
            return Record(self.manifest.id, state, entry.wave, revision_name(arn), previous, self.manifest.digest,
                          since, len(self.manifest.entries))

        def before_update(plan: Plan, arn: str) -> None:
            # written before the update: a run killed after it finds the service in the release
            self._write(plan.service.arn, recorded_as(DEPLOYING, arn), journal, own)
            try:
                _tag(self.ecs, arn, RELEASE_TAG, self.manifest.id)
            except DeployToolError as err:  # a label for people: the record on the service is what counts
                journal.warn(f"could not tag {short(arn)} with release {self.manifest.id} ({err})")
            extra = self.before_update(entry, clock, sink)  # a migration waits on this service's clock
            if extra is not None:
                extra(plan, arn)

        # A service that already runs what the manifest renders, and that no earlier run of
        # this release updated, is not changed by it (nor returned by its rollback): its
        # rollout, if still going, is watched all the same.
        result = apply(self.ecs, plan, clock=clock, journal=journal, sink=sink, before_update=before_update)
        recorded = result.updated or record is not None
        options = WaitOptions(poll_interval=self.poll_interval, timeout=entry.watch.timeout,
                              failure_threshold=entry.watch.failure_threshold, bake=entry.watch.bake,
                              alarms=entry.watch.alarms, on_pause=entry.watch.on_pause)
        watcher = RolloutWatcher(self.ecs, clock=clock, options=options, sink=sink, journal=journal,
                                 cloudwatch=self.cloudwatch if entry.watch.alarms else None,
                                 alarms_at_start={a: self.alarms[a] for a in entry.watch.alarms} if entry.watch.alarms else None)
        if result.updated:
            sink(ProgressEvent("action", clock.now(), f"{'registered' if result.registered else 'reused'} "
                               f"{short(result.task_definition_arn)}; updated service {entry.name}: "
                               f"{short(result.previous_task_definition_arn)} -> {short(result.task_definition_arn)}",
                               {"taskDefinitionArn": result.task_definition_arn}))
        report = see_through(self.ecs, result, watcher)
        known = report.known_good.task_definition if report.known_good else ""
        state = PASSED if report.exit_code == EXIT_OK else RETURNED if report.exit_code == EXIT_ROLLED_BACK else FAILED
        if recorded:
            self._write(plan.service.arn, recorded_as(state, result.task_definition_arn), journal, own)
        message = report.message if recorded or state != PASSED else f"nothing to deploy: {report.message}"
        return ServiceResult(entry, state, message, result.task_definition_arn,
                             result.task_definition_arn if state == PASSED else report.returned_to or "", known,
                             report.exit_code, report, changed=recorded)

    def _crashed(self, entry: Entry, error: BaseException | None) -> ServiceResult:
        return ServiceResult(entry, FAILED, f"internal error: {type(error).__name__}: {error} (a bug: please report it)",
                             exit_code=EXIT_NOT_RECOVERED)

    # -- 4. all or nothing -----------------------------------------------------------

    def _fail(self, failing: Entry, lock: Lockstep, clock: Clock) -> None:
        """`failing`'s deploy failed (it is on its own way back): the release has failed.
        Once: record it on every service the release changed before any of them moves,
        and start returning the ones whose steps have ended; the others, still on
        their way, stop at their next look and return in their own steps."""
        self.failing.append(failing.name)
        if self.failed:
            return
        self.failed = True
        self._say("action", f"{failing.name} failed: release {self.manifest.id} fails as a whole; every service it "
                  "changed returns to its known good, latest wave first")
        self._write_state(failing.name, FAILED, clock)
        for entry in self.manifest.entries:
            result = self.results.get(entry.name)
            in_wave = entry.wave == failing.wave and entry.name != failing.name
            if result is not None and result.state == PASSED and result.changed:
                self._returning.add(entry.name)
                self._write_state(entry.name, RETURNING, clock)
                if not in_wave or entry.name in self.results:  # its step has ended: a step of its own
                    lock.spawn(self._return_step(entry))
            elif in_wave and entry.name not in self.results:
                self._returning.add(entry.name)  # still on its way: it returns in its own step
                self._write_state(entry.name, RETURNING, clock)

    def _write_state(self, name: str, state: str, clock: Clock) -> None:
        plan = self.plans[name]
        record = Record.read(self._fresh_tags(name))
        if record is None or record.release != self.manifest.id:
            return  # nothing of this release was recorded on it: it was not changed
        self._write(plan.service.arn, replace(record, state=state), clock=clock)

    def _fresh_tags(self, name: str) -> dict[str, str]:
        plan = self.plans[name]
        try:
            return fetch_service(self.ecs, plan.request.cluster, plan.service.arn).tags
        except DeployToolError:
            return plan.service.tags

    def roll_back(self, records: dict[str, Record], *, reason: str) -> ReleaseReport:
        """Every service this release changed back to its known good, latest wave first
        (a service whose own deploy failed is on its way back already: the others do not
        wait for it). Where the release stands is written on each before any moves."""
        self.failed = True
        self.failing = [name for name, record in records.items() if record.state in (FAILED,)] or self.failing
        for name, record in records.items():
            if record.state in (DEPLOYING, PASSED, RETURNING):
                self._returning.add(name)
                if record.state != RETURNING:
                    self._write(self.plans[name].service.arn, replace(record, state=RETURNING))
        entries = [e for e in self.manifest.entries if e.name in records]
        if entries:
            self._say("action", f"release {self.manifest.id} failed ({reason}): returning "
                      f"{', '.join(e.name for e in sorted(entries, key=lambda e: -e.wave))} to known good, latest wave "
                      "first")
        lock = Lockstep(self.clock)
        for entry, outcome in zip(entries, lock.run([self._return_step(entry) for entry in entries]), strict=True):
            if outcome.error is not None:
                self.results[entry.name] = self._crashed(entry, outcome.error)
        return self._report(reason)

    def _report(self, reason: str = "") -> ReleaseReport:
        for entry in self.manifest.entries:
            if entry.name not in self.results:
                self.results[entry.name] = ServiceResult(entry, "untouched", "not reached: the release failed before it",
                                                         running=self.plans[entry.name].current.arn)
        results = [self.results[e.name] for e in self.manifest.entries]
        if not self.failed:
            count = len(results)
            return ReleaseReport(self.manifest.id, EXIT_OK, f"release {self.manifest.id}: {count} service"
                                 f"{'s' if count != 1 else ''} deployed and baked, each marked known good: the release "
                                 "is known good", results)
        reason = reason or f"{', '.join(dict.fromkeys(self.failing))} failed"
        results = [self._settled(r) if r.state == FAILED else r for r in results]
        astray = [r for r in results if r.state not in (RETURNED, "untouched")]
        if astray:
            where = "; ".join(f"{r.name}: {r.message}" for r in astray)
            return ReleaseReport(self.manifest.id, EXIT_NOT_RECOVERED, f"release {self.manifest.id} failed ({reason}); "
                                 f"not every service is back on known good: {where}", results)
        return ReleaseReport(self.manifest.id, EXIT_ROLLED_BACK, f"release {self.manifest.id} failed ({reason}); every "
                             "service it changed is back on its known good, steady", results)

    def _settled(self, result: ServiceResult) -> ServiceResult:
        """A service whose step ended `failed` may be where it should be all the same (its
        run_before failed before its update; another run took it back meanwhile): read
        once more, it counts as back when it is steady on its known good, not the release."""
        plan = self.plans[result.name]
        try:
            service = fetch_service(self.ecs, result.entry.cluster, plan.service.arn)
            steady = service.steady_on
            known = knowngood.find(self.ecs, family_of(steady), service_tags=service.tags,
                                   service_arn=service.arn) if steady else None
        except DeployToolError:
            return result
        record = Record.read(service.tags)
        on_release = record is not None and record.release == self.manifest.id and \
            same_revision(revision_name(steady), record.to) if steady else True
        if not steady or known is None or not same_revision(known.task_definition, steady) or on_release:
            return result
        return replace(result, state=RETURNED if result.changed else "untouched", running=steady,
                       known_good=known.task_definition, exit_code=EXIT_ROLLED_BACK,
                       message=f"{result.message}; it runs {short(steady)}, steady and known good")

    def _return_step(self, entry: Entry) -> Callable[[Clock], ServiceResult]:
        def step(clock: Clock) -> ServiceResult:
            return self._return_in_turn(entry, clock)
        return step

    def _return_in_turn(self, entry: Entry, clock: Clock) -> ServiceResult:
        """Wait until no service of a later wave is still on the release (so nothing that
        ran with this one's new revision is left), then return it."""
        journal = Journal()
        try:
            while any(other.wave > entry.wave and other.name in self._returning for other in self.manifest.entries):
                clock.sleep(self.poll_interval)
            result = self._return_one(entry, self.results.get(entry.name), clock, named(self.sink, entry.name), journal)
        except DeployToolError as err:
            record = Record.read(self._fresh_tags(entry.name))
            result = self._named_return(ServiceResult(entry, "not-returned", str(err), exit_code=EXIT_NOT_RECOVERED),
                                        record) if record is not None else \
                ServiceResult(entry, "not-returned", str(err), exit_code=EXIT_NOT_RECOVERED)
        finally:
            self._merge(entry.name, journal)
            self._returning.discard(entry.name)
        self.results[entry.name] = result
        return result

    def _return_one(self, entry: Entry, earlier: ServiceResult | None, clock: Clock, sink: Sink,
                    journal: Journal) -> ServiceResult:
        plan = self.plans[entry.name]
        service = fetch_service(self.ecs, entry.cluster, plan.service.arn)
        now = Record.read(service.tags)
        if now is None or now.release != self.manifest.id:
            if earlier is None or not earlier.changed:
                return ServiceResult(entry, "untouched", "not changed by the release", running=service.task_definition)
            other = f"release {now.release}" if now else "a deploy outside any release"
            return ServiceResult(entry, "not-returned", f"not touched: {other} has deployed it since", "",
                                 service.task_definition, exit_code=EXIT_NOT_RECOVERED)
        options = WaitOptions(poll_interval=self.poll_interval, timeout=entry.watch.timeout,
                              failure_threshold=entry.watch.failure_threshold, on_pause=entry.watch.on_pause)
        watcher = RolloutWatcher(self.ecs, clock=clock, options=options, sink=sink, journal=journal)
        running = revision_name(service.task_definition)
        if family_of(running) == family_of(now.to) and (revision_of(running) or 0) > (revision_of(now.to) or 0):
            return ServiceResult(entry, "superseded", f"runs {running}, deployed after this release: not touched (roll "
                                 "it back on its own if it must go)", self._arn(entry.name, now.to),
                                 service.task_definition, exit_code=EXIT_NOT_RECOVERED, changed=True)
        steady = service.steady_on
        if steady and not same_revision(revision_name(steady), now.to):
            # never changed (stopped before its update), or already back (its own return)
            known = knowngood.find(self.ecs, family_of(steady), service_tags=service.tags, service_arn=service.arn)
            if now.state != RETURNED:
                self._write(service.arn, replace(now, state=RETURNED), journal, clock)
            proven = known is not None and same_revision(known.task_definition, steady)
            message = (earlier.message if earlier is not None and earlier.state == RETURNED
                       else f"runs {short(steady)}, steady" + ("" if proven else ": not known good"))
            return ServiceResult(entry, RETURNED if proven else "not-returned", message, self._arn(entry.name, now.to),
                                 steady, known.task_definition if known else "",
                                 EXIT_ROLLED_BACK if proven else EXIT_NOT_RECOVERED, changed=True)
        sink(ProgressEvent("action", clock.now(), f"returning to known good (release {self.manifest.id} failed)",
                           {"service": entry.name}))
        report = Rollback(self.ecs, watcher).roll_back(entry.cluster, service.arn)
        back = report.exit_code == EXIT_OK
        if back:
            self._write(service.arn, replace(now, state=RETURNED), journal, clock)
        result = ServiceResult(entry, RETURNED if back else "not-returned", report.message,
                               self._arn(entry.name, now.to), report.returned_to or "",
                               report.known_good.task_definition if report.known_good else "",
                               EXIT_ROLLED_BACK if back else report.exit_code, report, changed=True)
        return result if back else self._named_return(result, now)

    def _named_return(self, result: ServiceResult, record: Record) -> ServiceResult:
        """A service the release's rollback could not return (nothing known good, most
        often): what ran before the release, as the command a person runs to return to it."""
        before = record.came_from
        if not before or before == record.to:
            return result
        command = ["ecs-template-deploy", "rollback", "--cluster", result.entry.cluster, "--service", result.name,
                   "--to", before]
        if family_of(before) != family_of(record.to):
            command += ["--family", family_of(before)]
        result.next = shlex.join(command)
        result.message += f"; it ran {before} before this release: to return it there, run `{result.next}`"
        return result

    def where_each_stands(self) -> list[str]:
        """One line per service of the manifest: what it runs, what is known good, and its
        record in this release (read once; for the end of a run stopped part-way)."""
        lines = []
        for entry in self.manifest.entries:
            plan = self.plans.get(entry.name)
            if plan is None:
                continue
            standing = look(self.ecs, entry.cluster, plan.service.arn, Journal(), self.clock)
            record = Record.read(self._fresh_tags(entry.name))
            state = record.state if record is not None and record.release == self.manifest.id else "not started"
            lines.append(f"{standing.line()}; in release {self.manifest.id}: {state}")
        return lines

    # -- shared ----------------------------------------------------------------------

    def _write(self, service_arn: str, record: Record, journal: Journal | None = None, clock: Clock | None = None) -> None:
        """Write where the service stands in the release: asked again on failure (on the
        clock of the step writing it); a record that cannot be written is said (the next
        run reads an older one), except before the update, which then does not happen."""
        clock = clock or self.clock

        def write() -> None:
            with aws_call("ecs:TagResource"):
                self.ecs.tag_resource(resourceArn=service_arn, tags=[{"key": RELEASE_TAG, "value": self.manifest.id},
                                                                     {"key": STATE_TAG, "value": record.value()}])

        try:
            Retrier(clock, self.sink).call(write, until=clock.now() + CHANGE_BUDGET,
                                           what=f"recording {record.state} for release {self.manifest.id}")
        except DeployToolError as err:
            if record.state == DEPLOYING:
                raise  # before the update: nothing moves unless the record says it may have
            (journal or self.journal).warn(f"could not record {record.state} for release {self.manifest.id} on "
                                           f"{short(service_arn)} ({err})")

    def _merge(self, name: str, journal: Journal) -> None:
        self.journal.actions.extend(f"{name}: {action}" for action in journal.actions)
        self.journal.warnings.extend(f"{name}: {warning}" for warning in journal.warnings)
        self.journal.service_changed = self.journal.service_changed or journal.service_changed

    def _say(self, kind: str, message: str) -> None:
        self.sink(ProgressEvent(kind, self.clock.now(), message, {"release": self.manifest.id}))

    def _warn(self, message: str) -> None:
        self.journal.warn(message)
        self._say("warning", message)


# The deploy's messages name its options; a manifest has keys for them.
_OPTION_KEYS = (("--keep-image", "keep_images"), ("--image", "images"), ("--tag", "tag"), ("--repository", "repository"),
                ("--family", "family"), ("--template", "template"), ("--service", "name"), ("--cluster", "cluster"))


def in_manifest_words(message: str) -> str:
    """A deploy's message about its options, in the manifest's keys."""
    for option, key in _OPTION_KEYS:
        message = message.replace(f"pass {option}", f"give the service `{key}`").replace(option, f"`{key}`")
    message = message.replace("`tag`/`images`", "the service's `tag` or `images`")
    return message


class _Aborting:
    """A step's clock that stops the step going forward once the release failed
    elsewhere (at its next sleep, unless it is on its own way back), and that tells
    the release when the step's own deploy failed (its first sleep on the way back)."""

    def __init__(self, clock: Clock, fail: Callable[[], None], failed: Callable[[], bool], journal: Journal) -> None:
        def sleep(seconds: float) -> None:
            if journal.resume is not None:
                fail()  # this step's deploy failed: it is on its way back; the others stop now
            elif failed():
                raise Abandoned()
            clock.sleep(seconds)
            if failed() and journal.resume is None:
                raise Abandoned()

        self.clock = Clock(clock.now, sleep)


def _tag(ecs: Any, arn: str, key: str, value: str) -> None:
    with aws_call("ecs:TagResource"):
        ecs.tag_resource(resourceArn=arn, tags=[{"key": key, "value": value}])


# -- status and rollback of a release by its id, from the services' records ---------------

def services_of(ecs: Any, cluster: str, release: str, warn: Callable[[str], None] | None = None) -> list[Service]:
    """The services of `cluster` this release changed (their record names it)."""
    arns: list[str] = []
    with aws_call("ecs:ListServices"):
        for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
            arns.extend(page.get("serviceArns", []))
    found = []
    for start in range(0, len(arns), 10):
        batch = arns[start:start + 10]
        try:
            with aws_call("ecs:DescribeServices"):
                answers = ecs.describe_services(cluster=cluster, services=batch, include=["TAGS"]).get("services", [])
        except AccessDeniedError:
            # a policy per service (the `policy` command's) covers the release's services, not the
            # cluster's others: read one by one, and skip what this identity may not read
            answers = []
            for arn in batch:
                try:
                    with aws_call("ecs:DescribeServices"):
                        answers += ecs.describe_services(cluster=cluster, services=[arn], include=["TAGS"])["services"]
                except AccessDeniedError:
                    if warn is not None:
                        warn(f"not allowed to read {short(arn)}: skipped (if release {release} changed it, grant "
                             "ecs:DescribeServices on it)")
        for raw in answers:
            service = Service(raw)
            if service.tags.get(RELEASE_TAG) == release and service.raw.get("status") != "INACTIVE":
                found.append(service)
    return found


def manifest_from_records(release: str, cluster: str, services: Iterable[Service], watch: Watch = Watch()
                          ) -> tuple[Manifest, dict[str, Record]]:
    """What a release's records say, as a manifest of what it changed (for `rollback --release`)."""
    entries, records = [], {}
    for service in services:
        record = Record.read(service.tags)
        if record is None:
            continue
        entries.append(Entry(name=service.name, cluster=cluster, template="", images=ImageSelection(tag="-"),
                             family=family_of(record.to), after=(), watch=watch, wave=record.wave))
        records[service.name] = record
    digest = next((r.digest for r in records.values()), "")
    return Manifest(release, digest, tuple(entries)), records


def rollback_release(ecs: Any, cluster: str, release: str, *, clock: Clock, sink: Sink = discard,
                     poll_interval: float = 10.0, journal: Journal | None = None, watch: Watch = Watch()) -> ReleaseReport:
    """`rollback --release ID`: every service of `cluster` the release changed back to known good
    (each watched as `watch` says: the rollback command's --timeout and --failure-threshold)."""
    services = services_of(ecs, cluster, release, (journal or Journal()).warn)
    if not services:
        raise BadInputError(f"no service of cluster {shown(cluster)} records release {shown(release)}: check the id "
                            "(the release's output names it) and --cluster")
    manifest, records = manifest_from_records(release, cluster, services, watch)
    run = Release(ecs, manifest, clock=clock, sink=sink, poll_interval=poll_interval, journal=journal)
    by_name = {s.name: s for s in services}
    for entry in manifest.entries:
        service = by_name[entry.name]
        run.plans[entry.name] = _StandIn(service, DeployRequest(cluster, service.arn, "", entry.images))  # type: ignore[assignment]
    return run.roll_back(records, reason="rollback --release asked for it")


@dataclass
class _StandIn:
    """What `roll_back` reads of a plan, for a release known only from its records."""

    service: Service
    request: DeployRequest

    @property
    def current(self) -> Any:
        return _Current(self.service.task_definition)


@dataclass
class _Current:
    arn: str


__all__ = ["Abandoned", "Record", "Release", "ReleaseReport", "ServiceResult", "rollback_release",
           "services_of"]
