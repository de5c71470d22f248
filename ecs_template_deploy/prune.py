"""Deregister old revisions of the target family, keeping what must stay.

Never deregistered:

- the revision the service runs and every revision a deployment of the service
  uses (the family is listed *before* the service is read, so a deploy that
  starts in between is seen);
- every revision a rollback could return to (`knowngood.rollback_targets`);
- revisions registered less than `min_age` seconds ago (ECS's `registeredAt`;
  a deploy may be between RegisterTaskDefinition and UpdateService right now);
- `extra_protected` ARNs, and anything outside the target family; the
  template's family is refused outright.

Deregistering is idempotent, so prune asks again after a failed call, and a
re-run after a kill finishes the job.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import knowngood
from .clock import WALL, Clock
from .errors import BadInputError, DeployToolError, Next, aws_call
from .events import Sink, discard
from .render import target_family
from .resources import check_family, fetch_service, fetch_template, list_active_revisions, short
from .retry import Retrier
from .standing import Journal
from .views import Service, TaskDefinition, revision_name

DEFAULT_MIN_AGE = 3600.0
DEREGISTER_BUDGET = 300.0


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "kept": self.kept,
            "protected": [{"arn": a, "reason": self.reasons.get(a, "")} for a in self.protected],
            "deregistered": self.deregistered,
            "dryRun": self.dry_run,
        }


def protected_revisions(service: Service, rollback_targets: dict[str, str] | None = None,
                        extra_protected: Iterable[str] = ()) -> dict[str, str]:
    """`family:revision` -> why it must not be deregistered.

    Keyed by `family:revision`, not ARN: services may report the reference they
    were given (`web:3`) rather than the full ARN.
    """
    reasons = {revision_name(arn): "a deployment of the service uses it" for arn in service.task_definitions_in_use}
    reasons[revision_name(service.task_definition)] = "the service runs it"
    for name, why in (rollback_targets or {}).items():
        reasons.setdefault(name, why)
    for arn in extra_protected:
        reasons.setdefault(revision_name(arn), "protected (known-good)")
    return reasons


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


def _too_young(ecs: Any, arn: str, min_age: float, clock: Clock) -> str:
    """Why `arn` is too young to deregister ("" if it is not). An hour-scale
    margin: the CD runner's clock may be off from AWS's by seconds, not more."""
    with aws_call("ecs:DescribeTaskDefinition"):
        answer = ecs.describe_task_definition(taskDefinition=arn)
    registered = TaskDefinition(answer["taskDefinition"]).registered_at
    now = clock.now()
    if registered is not None and now - registered < min_age:
        return f"registered {max(now - registered, 0):.0f} s ago (--min-age {min_age:g}): a deploy may be about to use it"
    return ""


def prune(ecs: Any, request: PruneRequest, *, clock: Clock = WALL, journal: Journal | None = None,
          sink: Sink = discard) -> PruneResult:
    journal = journal if journal is not None else Journal()
    check_request(request)
    template = fetch_template(ecs, request.template)
    family = target_family(template.family, request.family)
    arns = list_active_revisions(ecs, family)  # first: then the service read below sees any deploy started meanwhile
    service = fetch_service(ecs, request.cluster, request.service)
    protected = protected_revisions(service, knowngood.rollback_targets(ecs, family, service), request.extra_protected)
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
                retry.call(lambda: _deregister(ecs, arn), until=until, what=f"deregistering {short(arn)}")
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
    )


def _deregister(ecs: Any, arn: str) -> None:
    with aws_call("ecs:DeregisterTaskDefinition"):
        ecs.deregister_task_definition(taskDefinition=arn)
