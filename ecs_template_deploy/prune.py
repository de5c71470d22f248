"""Deregister old revisions of the target family, keeping what must stay.

A family can be needed by more than the service prune is run for: another
service of the cluster, or one in another cluster that deploys the same family
(staging and prod), or one that ran it once and would roll back to it. So prune
first finds every service it can see that may need a revision of the family:
every service of the named cluster, and every service a revision of the family
names, as deployed to (`render.deployed_to_key`) or proven on
(`knowngood.PROVEN_FOR`). Never deregistered, for any of them:

- the revision it runs and every revision a deployment of it uses (the family is
  listed *before* the services are read, so a deploy that starts in between is
  seen);
- every revision a rollback of it could return to: its known-good pointer, the
  last known-good revision other than each one a deployment uses, and the
  latest mark of the family (what a lookup without the pointer finds);
- revisions registered less than `min_age` seconds ago (ECS's `registeredAt`;
  a deploy may be between RegisterTaskDefinition and UpdateService right now);
- `extra_protected` ARNs, and anything outside the target family; the
  template's family is refused outright, and so is a `--family` the named
  service neither runs nor deploys to (most likely another service's).

A service prune cannot read (access denied) stops it before anything is
deregistered: what it needs is unknown. Deregistering is idempotent, so prune
asks again after a failed call, and a re-run after a kill finishes the job.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import knowngood
from .clock import WALL, Clock
from .errors import BadInputError, DeployToolError, Next, aws_call, error_code
from .events import Sink, discard
from .render import DEPLOYED_TO_PREFIX, target_family
from .resources import check_family, fetch_service, fetch_template, list_active_revisions, short
from .retry import Retrier
from .standing import Journal
from .errors import FamilyClashError
from .views import Service, TaskDefinition, family_of, revision_name, revision_of, same_revision, tags_of

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient

DEFAULT_MIN_AGE = 3600.0
DEREGISTER_BUDGET = 300.0
DESCRIBE_BATCH = 10  # DescribeServices takes at most 10 services a call


@dataclass(frozen=True)
class PruneRequest:
    cluster: str
    service: str
    template: str
    keep: int  # newest ACTIVE revisions to keep, protected ones not counted
    family: str | None = None
    dry_run: bool = False
    min_age: float = DEFAULT_MIN_AGE  # seconds: younger revisions are kept
    extra_protected: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PruneResult:
    family: str
    kept: list[str]  # the newest `keep`
    protected: list[str]  # older ones kept because something needs them
    deregistered: list[str]
    dry_run: bool = False
    reasons: dict[str, str] = field(default_factory=dict)  # protected ARN -> why
    services: list[str] = field(default_factory=list)  # `cluster/service` of every service whose needs were kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "kept": self.kept,
            "protected": [{"arn": a, "reason": self.reasons.get(a, "")} for a in self.protected],
            "deregistered": self.deregistered,
            "dryRun": self.dry_run,
            "servicesConsidered": self.services,
        }


def _label(service: Service) -> str:
    """`cluster/service` for messages (the service's ARN says its cluster)."""
    return knowngood.where(service.arn) or service.name


def needs(service: Service, family: str, marks: Mapping[str, str], tags: Mapping[str, Mapping[str, str]], *,
          scan_limit: int = knowngood.DEFAULT_SCAN_LIMIT) -> dict[str, str]:
    """`family:revision` -> why `service` needs that revision of `family`: it runs it,
    a deployment uses it, or a rollback of it could return to it. `marks` are the
    family's revisions whose known-good mark counts (ARN -> time), newest revision
    first, and `tags` every revision's tags, as read: the same answer
    `knowngood.find` gives, worked out without another call.

    Keyed by `family:revision`, not ARN: services may report the reference they
    were given (`web:3`) rather than the full ARN."""
    label = _label(service)
    reasons: dict[str, str] = {}
    in_use = sorted(arn for arn in service.task_definitions_in_use if family_of(arn) == family)
    for arn in in_use:
        reasons[revision_name(arn)] = f"a deployment of {label} uses it"
    if family_of(service.task_definition) == family:
        reasons[revision_name(service.task_definition)] = f"{label} runs it"
    marks = {arn: at for arn, at in marks.items() if knowngood.proven_on(tags[arn], service.arn)}
    if not marks and family_of(service.task_definition) == family:
        # nothing proven for it: a failed deploy's way back is what ran before, which
        # its `next: rollback --to` names; keep the newest revision older than the running one
        running = revision_of(service.task_definition) or 0
        older = [arn for arn in tags if (revision_of(arn) or 0) < running]
        if older:
            before = max(older, key=lambda arn: revision_of(arn) or 0)
            reasons.setdefault(revision_name(before), f"what {label} ran before {revision_name(service.task_definition)} "
                               "(nothing is known good for it: the way back a failed deploy names)")
    pointer = service.tags.get(knowngood.TAG, "")
    pointed = family_of(pointer) == family and any(same_revision(pointer, arn) for arn in marks)
    if pointed:
        reasons.setdefault(revision_name(pointer), f"{label}'s last known-good revision")
    if not in_use and not pointed:
        return reasons  # the service neither uses the family nor would return to it
    newest = list(marks)[:scan_limit]  # what a lookup reads (the newest revisions), and the whole family
    for arn in in_use:
        if pointed and not same_revision(pointer, arn):
            continue  # the pointer answers for a rollback from `arn`
        for scope in (newest, list(marks)):
            found = _latest([m for m in scope if not same_revision(m, arn)], marks)
            if found:
                reasons.setdefault(revision_name(found), f"the known-good revision a rollback of {label} from "
                                   f"{revision_name(arn)} returns to")
    for scope in (newest, list(marks)):
        found = _latest(scope, marks)
        if found:
            reasons.setdefault(revision_name(found), f"the latest known-good mark of {family} (what a rollback of "
                               f"{label} finds without its pointer)")
    return reasons


def _latest(arns: Iterable[str], marks: Mapping[str, str]) -> str:
    """The most recently marked of `arns` ("" for none): ISO times order as strings."""
    return max(arns, key=lambda arn: marks[arn], default="")


def plan_prune(arns_newest_first: list[str], keep: int, protected: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Split a family's ACTIVE revisions into (kept, protected, to deregister)."""
    kept = arns_newest_first[:keep]
    older = arns_newest_first[keep:]
    return (kept, [a for a in older if revision_name(a) in protected],
            [a for a in older if revision_name(a) not in protected])


def check_request(request: PruneRequest) -> None:
    if request.keep < 0:
        raise BadInputError(f"--keep {request.keep} is negative: give how many recent revisions to keep (0 or more)")
    if request.min_age < 0:
        raise BadInputError(f"--min-age {request.min_age:g} is negative: give seconds (0 or more)")
    if request.family is not None:
        check_family(request.family)


def check_deploys_to(service: Service, family: str, template: TaskDefinition, tags: Mapping[str, Mapping[str, str]]
                     ) -> None:
    """Refuse a --family the named service neither runs nor deploys to: pruning
    another service's family from here is how its rollback target went missing.
    It deploys to `family` if its template's default target is `family`, a
    deployment of it uses the family, its known-good pointer is in it, or a mark
    of the family names it."""
    uses = any(family_of(arn) == family for arn in service.task_definitions_in_use)
    pointed = family_of(service.tags.get(knowngood.TAG, "")) == family
    proven_on = any(service.arn in knowngood.services_named(revision_tags) | deployed_to(revision_tags)
                    for revision_tags in tags.values())
    try:
        default = target_family(template.family)
    except FamilyClashError:
        default = ""  # a template without the -template suffix: every deploy names its --family
    if uses or pointed or proven_on or default == family:
        return
    runs = revision_name(service.task_definition) or "nothing"
    deploys = f"template {template.family} deploys to {default}" if default else "its deploys name their --family"
    raise BadInputError(
        f"--family {family}: service {service.name} in cluster {_label(service).split('/')[0]} neither runs nor deploys "
        f"to it (it runs {runs}; {deploys}): pass the --family {service.name}'s deploys use, or the --cluster and "
        f"--service of the service that runs {family}")


def _read_tags(ecs: ECSClient, arns: list[str]) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    for arn in arns:
        with aws_call("ecs:ListTagsForResource"):
            tags[arn] = tags_of(ecs.list_tags_for_resource(resourceArn=arn).get("tags"))
    return tags


def _cluster_services(ecs: ECSClient, cluster: str) -> list[str]:
    arns: list[str] = []
    with aws_call("ecs:ListServices"):
        for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
            arns.extend(page.get("serviceArns", []))
    return arns


def _describe(ecs: ECSClient, cluster: str, arns: list[str]) -> list[Service]:
    """The ACTIVE services among `arns` (all in `cluster`); gone ones are left out."""
    found: list[Service] = []
    for start in range(0, len(arns), DESCRIBE_BATCH):
        with aws_call("ecs:DescribeServices"):
            try:
                answer = ecs.describe_services(cluster=cluster, services=arns[start:start + DESCRIBE_BATCH],
                                               include=["TAGS"])
            except ClientError as err:
                if error_code(err) == "ClusterNotFoundException":
                    return []  # the cluster is gone, and its services with it
                raise
        found.extend(Service(raw) for raw in answer.get("services", []) if raw.get("status") != "INACTIVE")
    return found


def deployed_to(tags: Mapping[str, str]) -> set[str]:
    """The service ARNs a revision's tags say it was deployed to (`render.deployed_to_key`)."""
    return {value for key, value in tags.items() if key.startswith(DEPLOYED_TO_PREFIX) and value}


def services_that_may_need(ecs: ECSClient, named: Service, cluster: str, tags: Mapping[str, Mapping[str, str]]
                           ) -> tuple[list[Service], set[str]]:
    """Every service prune can see that may need a revision of the family: the
    named one, every service of its cluster, every service a mark names. Also the
    ARNs of services a mark names whose cluster their (old, short) ARN does not
    say: they cannot be read, so what was proven on them is kept."""
    wanted_by_cluster: dict[str, set[str]] = defaultdict(set)
    wanted_by_cluster[cluster].update(arn for arn in _cluster_services(ecs, cluster) if arn != named.arn)
    unreadable: set[str] = set()
    for revision_tags in tags.values():
        for arn in knowngood.services_named(revision_tags) | deployed_to(revision_tags):
            if arn == named.arn:
                continue
            where = knowngood.where(arn)
            if "/" not in where:
                unreadable.add(arn)
                continue
            wanted_by_cluster[where.split("/", 1)[0]].add(arn)
    services = [named]
    seen = {named.arn}
    for in_cluster, arns in sorted(wanted_by_cluster.items()):
        for service in _describe(ecs, in_cluster, sorted(arns)):
            if service.arn not in seen:
                seen.add(service.arn)
                services.append(service)
    return services, unreadable


def _too_young(ecs: ECSClient, arn: str, min_age: float, clock: Clock) -> str:
    """Why `arn` is too young to deregister ("" if it is not). An hour-scale
    margin: the CD runner's clock may be off from AWS's by seconds, not more."""
    with aws_call("ecs:DescribeTaskDefinition"):
        answer = ecs.describe_task_definition(taskDefinition=arn)
    registered = TaskDefinition(answer["taskDefinition"]).registered_at
    now = clock.now()
    if registered is not None and now - registered < min_age:
        return f"registered {max(now - registered, 0):.0f} s ago (--min-age {min_age:g}): a deploy may be about to use it"
    return ""


def prune(ecs: ECSClient, request: PruneRequest, *, clock: Clock = WALL, journal: Journal | None = None,
          sink: Sink = discard) -> PruneResult:
    journal = journal if journal is not None else Journal()
    check_request(request)
    template = fetch_template(ecs, request.template)
    family = target_family(template.family, request.family)
    arns = list_active_revisions(ecs, family)  # first: then the services read below show any deploy started meanwhile
    service = fetch_service(ecs, request.cluster, request.service)
    tags = _read_tags(ecs, arns)
    check_deploys_to(service, family, template, tags)
    services, unreadable = services_that_may_need(ecs, service, request.cluster, tags)
    marks = {arn: value for arn in arns if (value := knowngood.counts(tags[arn]))}
    protected: dict[str, str] = {}
    for each in services:
        for name, why in needs(each, family, marks, tags).items():
            protected.setdefault(name, why)
    for arn in arns:
        for other in sorted(knowngood.services_named(tags[arn]) & unreadable):
            protected.setdefault(revision_name(arn), f"known good for {other}, whose cluster its ARN does not say")
    for arn in request.extra_protected:
        protected.setdefault(revision_name(arn), "protected (known-good)")
    kept, guarded, candidates = plan_prune(arns, request.keep, protected)
    doomed = []
    for arn in candidates:
        young = _too_young(ecs, arn, request.min_age, clock) if request.min_age else ""
        if young:
            protected[revision_name(arn)] = young
            guarded.append(arn)
        else:
            doomed.append(arn)
    deregistered: list[str] = []
    if not request.dry_run:
        retry = Retrier(clock, sink)
        until = clock.now() + DEREGISTER_BUDGET
        for arn in doomed:
            try:
                retry.call(functools.partial(_deregister, ecs, arn), until=until, what=f"deregistering {short(arn)}")
            except DeployToolError as err:
                done = ", ".join(map(short, deregistered)) or "none"
                err.args = (f"{err.args[0]}; deregistered so far: {done}; not yet: "
                            f"{', '.join(map(short, doomed[len(deregistered):]))} (a re-run of prune finishes)",)
                err.next = Next.RERUN
                raise
            deregistered.append(arn)
            journal.did(f"deregistered {short(arn)}")
    return PruneResult(
        family=family,
        kept=kept,
        protected=sorted(guarded, key=lambda a: arns.index(a)),
        deregistered=deregistered if not request.dry_run else doomed,
        dry_run=request.dry_run,
        reasons={a: protected[revision_name(a)] for a in guarded},
        services=[_label(s) for s in services],
    )


def _deregister(ecs: ECSClient, arn: str) -> None:
    with aws_call("ecs:DeregisterTaskDefinition"):
        ecs.deregister_task_definition(taskDefinition=arn)
