"""Deploy: validate -> render -> register (or reuse) -> update the service.

Everything is read and validated (`plan.prepare`) before the first call that
changes AWS. Then two steps, each safe to repeat:

- **register**: look first, then create. Each attempt looks for a revision of
  the target family that is newer than what the service uses and identical to
  the rendered one (content and provenance), and registers only when there is
  none. So a re-run after a kill reuses what the killed run registered, and a
  RegisterTaskDefinition whose reply was lost is found instead of registered
  twice. botocore may itself retry a register whose reply it lost; the answer
  says so (`RetryAttempts`) and the tool then names the identical revisions
  that retry left (`duplicates`: unused, `prune` removes them).
- **update**: UpdateService to that revision, asked again after failures (a
  second identical update starts no second deployment). When it keeps failing,
  the service is read back: only if the update did not take effect is the
  revision this run registered withdrawn again (never one it reused: that may
  be somebody's known good).

Watching the rollout builds on the `DeployResult` (rollback.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from .clock import WALL, Clock
from .errors import AwsError, DeployToolError, Next, NotRecoveredError, aws_call
from .events import Sink, discard
from .plan import DeployRequest, Plan, prepare
from .render import deployed_to_key, identical_definition, registrable_fields, registrable_view
from .resources import fetch_service, short
from .retry import Retrier
from .standing import Journal
from .views import Service, TaskDefinition, family_of, revision_of, same_revision, tags_of

# How long register and update are asked again before the deploy gives up
# (nothing is rolling out yet: a re-run later is as good).
CHANGE_BUDGET = 300.0
# Revisions newer than what the service uses that are checked for reuse.
REUSE_SCAN = 5


@dataclass(frozen=True)
class DeployResult:
    cluster: str
    service: str
    template_arn: str
    previous_task_definition_arn: str  # what the service ran before; the rollback candidate
    task_definition_arn: str  # what the service runs now (== previous when nothing changed)
    registered: bool  # this run registered the revision
    reused: bool  # an identical revision registered earlier (a killed run's) was used instead
    updated: bool
    images: dict[str, str]
    definition: dict[str, Any]
    deployment_id: str = ""
    service_deployment_arn: str = ""  # ECS's record of the deployment (the 2024 API), where it answers with one
    duplicates: tuple[str, ...] = ()  # identical unused revisions a retried RegisterTaskDefinition left

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "service": self.service,
            "template": self.template_arn,
            "previousTaskDefinitionArn": self.previous_task_definition_arn,
            "taskDefinitionArn": self.task_definition_arn,
            "registered": self.registered,
            "reused": self.reused,
            "updated": self.updated,
            "duplicates": list(self.duplicates),
            "images": dict(self.images),
        }


def deploy(ecs: Any, request: DeployRequest, *, clock: Clock = WALL, journal: Journal | None = None,
           sink: Sink = discard, before_update: Callable[[Plan, str], None] | None = None) -> DeployResult:
    """Deploy `request`; if the service already runs the rendered definition, change nothing."""
    return apply(ecs, prepare(ecs, request), clock=clock, journal=journal, sink=sink, before_update=before_update)


def apply(ecs: Any, plan: Plan, *, clock: Clock = WALL, journal: Journal | None = None,
          sink: Sink = discard, before_update: Callable[[Plan, str], None] | None = None) -> DeployResult:
    """Register the plan's definition (or reuse it) and point the service at it (unless
    unchanged). `before_update(plan, revision_arn)` runs between the two (one-off
    migrations); if it raises, the service is not changed."""
    journal = journal if journal is not None else Journal()
    previous = plan.current.arn  # described, so a full ARN even if the service holds `family:revision`
    # What every outcome shares (a partial, not a dict: mypy checks each field's type).
    result = partial(DeployResult, cluster=plan.request.cluster, service=plan.service.name,
                     template_arn=plan.template.arn, previous_task_definition_arn=previous, images=plan.images,
                     definition=plan.definition)
    if plan.unchanged:
        return result(task_definition_arn=previous, registered=False, reused=False, updated=False)
    retrier = Retrier(clock, sink)
    until = clock.now() + CHANGE_BUDGET
    arn, registered, duplicates = register(ecs, plan, retrier, until, journal)
    if before_update is not None:
        before_update(plan, arn)
        until = clock.now() + CHANGE_BUDGET
    deployment_id, record = update(ecs, plan, arn, retrier, until, journal, withdraw=registered)
    return result(task_definition_arn=arn, registered=registered, reused=not registered, updated=True,
                  deployment_id=deployment_id, service_deployment_arn=record, duplicates=duplicates)


def identical_revisions(ecs: Any, plan: Plan, others: list[str] | None = None) -> list[str]:
    """ACTIVE revisions of the target family, newer than the one the service is set
    to run, that are identical to the rendered definition; newest first. These are
    what an earlier run of this same deploy registered: never used (killed before
    its update), or used and rolled back (a re-run of a failed release, whose
    deployment may still drain: it is the same revision, not a new one). The newer
    ones that are not identical go into `others`, if given: another run's."""
    fields = registrable_fields(ecs)
    running = plan.service.task_definition
    newest_in_use = (revision_of(running) or 0) if family_of(running) == plan.family else 0
    candidates: list[str] = []
    with aws_call("ecs:ListTaskDefinitions"):
        answer = ecs.list_task_definitions(familyPrefix=plan.family, status="ACTIVE", sort="DESC")
    arns = sorted((a for a in answer.get("taskDefinitionArns", []) if family_of(a) == plan.family),
                  key=lambda a: revision_of(a) or 0, reverse=True)
    for arn in [a for a in arns if (revision_of(a) or 0) > newest_in_use][:REUSE_SCAN]:
        with aws_call("ecs:DescribeTaskDefinition"):
            described = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        revision = TaskDefinition(described["taskDefinition"], tags_of(described.get("tags")))
        if revision.is_active and identical_definition(registrable_view(revision, fields), plan.definition):
            candidates.append(revision.arn)
        elif others is not None and revision.is_active:
            others.append(revision.arn)
    return candidates


def registered_revision(ecs: Any, plan: Plan, *, clock: Clock = WALL, journal: Journal | None = None,
                        sink: Sink = discard) -> str:
    """The revision the plan renders: the one the service runs if unchanged, else
    registered (or reused). For one-off tasks of the revision a deploy would roll out."""
    if plan.unchanged:
        return plan.current.arn
    journal = journal if journal is not None else Journal()
    arn, _, _ = register(ecs, plan, Retrier(clock, sink), clock.now() + CHANGE_BUDGET, journal)
    return arn


def register(ecs: Any, plan: Plan, retrier: Retrier, until: float, journal: Journal) -> tuple[str, bool, tuple[str, ...]]:
    """(ARN, registered by this run, duplicates): look for an identical revision, register if none."""
    lost_reply = False
    strangers: list[str] = []  # newer revisions of the family that are not this deploy's

    def attempt() -> tuple[str, bool, tuple[str, ...]]:
        nonlocal lost_reply
        strangers.clear()
        found = identical_revisions(ecs, plan, strangers)
        if found:
            return found[0], lost_reply, ()  # after a lost reply, what we find is what we registered
        try:
            with aws_call("ecs:RegisterTaskDefinition"):
                answer = ecs.register_task_definition(**plan.definition)
        except AwsError as err:
            lost_reply = lost_reply or err.uncertain
            raise
        arn = answer["taskDefinition"]["taskDefinitionArn"]
        duplicates: tuple[str, ...] = ()
        if answer.get("ResponseMetadata", {}).get("RetryAttempts"):
            # botocore asked again; if an earlier try was applied, it left a twin
            duplicates = tuple(a for a in _quietly(lambda: identical_revisions(ecs, plan), journal) if a != arn)
        return arn, True, duplicates

    try:
        arn, registered, duplicates = retrier.call(attempt, until=until, what=f"registering a revision of {plan.family}")
    except AwsError as err:
        if lost_reply:
            journal.registered.append(f"{plan.family}:?")
            err.args = (f"{err.args[0]}; a RegisterTaskDefinition whose reply was lost may have registered a revision "
                        f"of {plan.family}: a re-run of this deploy reuses it (prune removes it otherwise)",)
        raise
    if registered:
        journal.registered.append(arn)
        journal.did(f"registered {short(arn)} from {short(plan.template.arn)}")
    else:
        journal.did(f"reused {short(arn)} (identical, registered by an earlier run of this deploy)")
        _name_the_service(ecs, arn, plan, journal)
    for twin in duplicates:
        journal.registered.append(twin)
        journal.warn(f"a retried RegisterTaskDefinition also registered {short(twin)}, identical to {short(arn)} "
                     "and unused: prune removes it")
    for other in strangers:
        # said, so no revision sits in the family unexplained: a deploy killed right after
        # registering it printed nothing about it
        journal.warn(f"{short(other)} is registered, newer than what service {plan.service.name} runs and not this "
                     "deploy's: another run registered it (one in progress, or one stopped before it used it); "
                     "prune removes it once it is older than --min-age")
    return arn, registered, duplicates


def _name_the_service(ecs: Any, arn: str, plan: Plan, journal: Journal) -> None:
    """A reused revision may have been registered for another service: tag it with this
    one too, so `prune` finds every service that runs it. Best effort."""
    key = deployed_to_key(plan.service.arn)
    try:
        with aws_call("ecs:TagResource"):
            ecs.tag_resource(resourceArn=arn, tags=[{"key": key, "value": plan.service.arn}])
    except DeployToolError as err:
        journal.warn(f"could not tag {short(arn)} with service {plan.service.name} ({err}): prune run for another "
                     f"service of the family may not see that {plan.service.name} runs it")


def _quietly(read: Callable[[], list[str]], journal: Journal) -> list[str]:
    try:
        return read()
    except DeployToolError as err:
        journal.warn(f"could not check for revisions a retried RegisterTaskDefinition may have left: {err}")
        return []


def update(ecs: Any, plan: Plan, arn: str, retrier: Retrier, until: float, journal: Journal, *,
           withdraw: bool) -> tuple[str, str]:
    """UpdateService to `arn`; (the new deployment's id, its service deployment ARN).
    On failure, read the service back: if the update took effect, carry on; if
    not, withdraw a revision this run registered and raise (nothing changed); if
    the service cannot be read, say so."""
    def attempt() -> tuple[str, str]:
        with aws_call("ecs:UpdateService"):
            answer = ecs.update_service(cluster=plan.request.cluster, service=plan.service.arn, taskDefinition=arn)
        service = Service(answer["service"])
        return (service.primary.id if service.primary else ""), service.current_service_deployment

    journal.service_changed = True  # from the first attempt on, it may take effect
    try:
        deployment_id, record = retrier.call(attempt, until=until, what=f"updating service {plan.service.name}")
    except AwsError as err:
        record = ""
        try:
            taken = _deployment_of(ecs, plan, arn)
        except DeployToolError:
            unknown = NotRecoveredError(f"{err}; cannot tell whether service {plan.service.name} now deploys "
                                        f"{short(arn)} (AWS does not answer)")
            unknown.next = Next.RERUN
            raise unknown from err
        if taken is None:
            journal.service_changed = False
            if withdraw:
                _withdraw(ecs, arn, err, journal)
            raise
        deployment_id = taken
    journal.did(f"updated service {plan.service.name}: {short(plan.current.arn)} -> {short(arn)}", service_changed=True)
    return deployment_id, record


def _deployment_of(ecs: Any, plan: Plan, arn: str) -> str | None:
    """The id of the service's deployment of `arn` ("" if ECS reports none but the
    service runs it), or None when the update did not take effect."""
    service = fetch_service(ecs, plan.request.cluster, plan.request.service)
    ours = [d for d in service.deployments if same_revision(d.task_definition, arn)]
    if ours:
        return ours[0].id
    return "" if same_revision(service.task_definition, arn) else None


def _withdraw(ecs: Any, arn: str, err: AwsError, journal: Journal) -> None:
    """Deregister a revision this run registered and the service never used, so a
    failed deploy leaves nothing behind."""
    try:
        with aws_call("ecs:DeregisterTaskDefinition"):
            ecs.deregister_task_definition(taskDefinition=arn)
    except DeployToolError:
        err.args = (f"{err.args[0]}; also could not deregister the unused {arn}: deregister it by hand",)
    else:
        journal.did(f"deregistered the unused {short(arn)}")
        err.args = (f"{err.args[0]}; deregistered the unused {arn}",)
