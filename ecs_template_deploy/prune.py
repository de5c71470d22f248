"""Deregister old revisions of the target family, keeping what must stay.

Never deregistered: the revision the service runs, any revision a deployment of
the service still uses, any `extra_protected` ARN (the known-good revision a
rollback would return to), and anything outside the target family; the
template's family is refused outright.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import BadInputError, aws_call
from .render import target_family
from .resources import Service, family_of, fetch_service, fetch_task_definition, list_active_revisions, revision_key


@dataclass(frozen=True)
class PruneRequest:
    cluster: str
    service: str
    template: str
    keep: int  # newest ACTIVE revisions to keep, protected ones not counted
    family: str | None = None
    dry_run: bool = False
    extra_protected: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PruneResult:
    family: str
    kept: list[str]  # the newest `keep`
    protected: list[str]  # older ones kept because something uses them
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


def protected_revisions(service: Service, extra_protected: Iterable[str] = ()) -> dict[str, str]:
    """`family:revision` -> why it must not be deregistered.

    Keyed by `family:revision`, not ARN: services may report the reference they
    were given (`web:3`) rather than the full ARN.
    """
    reasons = {revision_key(arn): "a deployment of the service uses it" for arn in service.task_definitions_in_use}
    reasons[revision_key(service.task_definition_arn)] = "the service runs it"
    for arn in extra_protected:
        reasons.setdefault(revision_key(arn), "protected (known-good)")
    return reasons


def plan_prune(arns_newest_first: list[str], keep: int, protected: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Split a family's ACTIVE revisions into (kept, protected, to deregister)."""
    kept = arns_newest_first[:keep]
    older = arns_newest_first[keep:]
    return (kept, [a for a in older if revision_key(a) in protected],
            [a for a in older if revision_key(a) not in protected])


def prune(ecs: Any, request: PruneRequest) -> PruneResult:
    if request.keep < 0:
        raise BadInputError(f"--keep {request.keep} is negative: give how many recent revisions to keep (0 or more)")
    template = fetch_task_definition(ecs, request.template)
    family = target_family(template.family, request.family)
    service = fetch_service(ecs, request.cluster, request.service)
    protected = protected_revisions(service, request.extra_protected)
    arns = [a for a in list_active_revisions(ecs, family) if family_of(a) == family]
    kept, guarded, doomed = plan_prune(arns, request.keep, protected)
    if not request.dry_run:
        for arn in doomed:
            with aws_call("ecs:DeregisterTaskDefinition"):
                ecs.deregister_task_definition(taskDefinition=arn)
    return PruneResult(
        family=family,
        kept=kept,
        protected=guarded,
        deregistered=doomed,
        dry_run=request.dry_run,
        reasons={a: protected[revision_key(a)] for a in guarded},
    )
