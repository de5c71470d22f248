"""Durable known-good marks, kept in AWS so any machine can find them.

A revision is *known good* when a deployment of it reached COMPLETED (a steady
state). Two tags record that:

- on the task definition revision, `ecs-template-deploy:known-good` = the UTC
  time it was seen COMPLETED, in AWS's time (the deployment's `updatedAt`, or
  the `Date` of AWS's answer), never the CD runner's clock. This is the fact
  itself; marks are history and are never removed (a later rollback re-marks
  with a later time);
- on the service, `ecs-template-deploy:known-good` = the revision's ARN: a
  pointer to the *last* known-good revision of that service, so a fresh process
  finds it with the DescribeServices call it makes anyway.

`find()` trusts the pointer only if the revision it names is still ACTIVE and
carries the mark; otherwise it scans the family newest first, with a bound on
the number of revisions it reads. Every call goes through `aws_call`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Iterator, Mapping

from botocore.exceptions import ClientError

from .clock import iso
from .errors import AwsError, aws_call, error_code
from .views import Service, family_of, revision_name, revision_of, same_revision, tags_of

TAG = "ecs-template-deploy:known-good"
# On the service, set just before a rollback's UpdateService: the revision it returns
# to. A re-run after a kill finishes that return instead of going one further back;
# marking clears it, so it never speaks for a return the tool did not start.
RETURNING = "ecs-template-deploy:returning-to"
# AWS limits tag values to 256 characters; a longer ARN cannot be a pointer.
MAX_TAG_VALUE = 256
DEFAULT_SCAN_LIMIT = 25


@dataclass(frozen=True)
class KnownGood:
    task_definition: str  # full ARN of the revision
    marked_at: str  # ISO 8601 UTC, when its deployment was seen COMPLETED

    @property
    def revision(self) -> str:
        return revision_name(self.task_definition)


def mark(ecs: Any, task_definition_arn: str, *, at: float, service_arn: str | None = None) -> KnownGood:
    """Record that `task_definition_arn` reached COMPLETED at epoch `at` (AWS's time).

    Tags the revision, then points the service at it (if a service ARN is given).
    Both tags are idempotent: marking again is safe.
    """
    marked = KnownGood(task_definition_arn, iso(at))
    with aws_call("ecs:TagResource"):
        ecs.tag_resource(resourceArn=task_definition_arn, tags=[{"key": TAG, "value": marked.marked_at}])
    if service_arn and len(task_definition_arn) <= MAX_TAG_VALUE:
        with aws_call("ecs:TagResource"):
            try:
                ecs.tag_resource(resourceArn=service_arn, tags=[{"key": TAG, "value": task_definition_arn},
                                                                 {"key": RETURNING, "value": ""}])
            except ClientError as err:
                # Services with the old short ARN format cannot be tagged. The mark on
                # the revision is the fact; the pointer only saves a scan.
                if error_code(err) != "InvalidParameterException":
                    raise
    return marked


def record_return(ecs: Any, service_arn: str, task_definition_arn: str) -> bool:
    """Note on the service that a rollback to `task_definition_arn` is starting (the
    RETURNING tag). Best effort: False when it cannot be written (an old-format
    service ARN, TagResource denied); the rollback goes on, and a re-run after a kill
    then cannot tell its finished return from one made some other way."""
    if not service_arn or len(task_definition_arn) > MAX_TAG_VALUE:
        return False
    try:
        with aws_call("ecs:TagResource"):
            ecs.tag_resource(resourceArn=service_arn, tags=[{"key": RETURNING, "value": task_definition_arn}])
    except AwsError:
        return False
    return True


def read_mark(ecs: Any, task_definition_arn: str) -> KnownGood | None:
    """The mark on one revision, or None (also when the revision is INACTIVE:
    ECS will not start a deployment of an inactive revision)."""
    with aws_call("ecs:DescribeTaskDefinition"):
        try:
            answer = ecs.describe_task_definition(taskDefinition=task_definition_arn, include=["TAGS"])
        except ClientError as err:
            if error_code(err) in {"ClientException", "InvalidParameterException"}:
                return None
            raise
    definition = answer["taskDefinition"]
    if definition.get("status", "ACTIVE") != "ACTIVE":
        return None
    value = tags_of(answer.get("tags")).get(TAG)
    return KnownGood(definition["taskDefinitionArn"], value) if value else None


def revisions_newest_first(ecs: Any, family: str) -> Iterator[str]:
    """ACTIVE revisions of exactly `family` (familyPrefix also matches `family-x`),
    newest first. Pages are sorted again locally: not every emulator honours `sort`."""
    with aws_call("ecs:ListTaskDefinitions"):
        paginator = ecs.get_paginator("list_task_definitions")
        for page in paginator.paginate(familyPrefix=family, status="ACTIVE", sort="DESC"):
            arns = [arn for arn in page.get("taskDefinitionArns", []) if family_of(arn) == family]
            yield from sorted(arns, key=lambda arn: revision_of(arn) or 0, reverse=True)


def find(
    ecs: Any,
    family: str,
    *,
    service_tags: Mapping[str, str] | None = None,
    exclude: Collection[str] = (),
    scan_limit: int = DEFAULT_SCAN_LIMIT,
) -> KnownGood | None:
    """The last known-good revision: the service's pointer if it holds, else the
    most recently marked revision of `family` among its newest `scan_limit` ones
    (a rollback re-marks an older revision, so the latest mark wins, not the
    highest revision number).

    `exclude` names revisions (ARNs) that must not be the answer, such as the one
    that just failed. At most 1 + pages + `scan_limit` API calls.
    """
    excluded = {revision_name(e) for e in exclude}
    pointer = (service_tags or {}).get(TAG)
    if pointer and revision_name(pointer) not in excluded and family_of(pointer) == family:
        found = read_mark(ecs, pointer)
        if found is not None:
            return found
    latest: KnownGood | None = None
    for count, arn in enumerate(revisions_newest_first(ecs, family)):
        if count >= scan_limit:
            break
        if revision_name(arn) in excluded:
            continue
        with aws_call("ecs:ListTagsForResource"):
            value = tags_of(ecs.list_tags_for_resource(resourceArn=arn).get("tags")).get(TAG)
        # ISO 8601 UTC strings of one format order like the times they name
        if value and (latest is None or value > latest.marked_at):
            latest = KnownGood(arn, value)
    return latest


def is_marked(service: Service, task_definition: str) -> bool:
    """The service's pointer names `task_definition` (the snapshot's tags say so)."""
    return same_revision(service.tags.get(TAG), task_definition)


def rollback_target(ecs: Any, service: Service) -> KnownGood | None:
    """The revision `rollback` (without --to) returns the service to now: the last
    known-good revision of the family the service runs, other than that one."""
    running = service.task_definition
    return find(ecs, family_of(running), service_tags=service.tags, exclude=[running]) if running else None


def rollback_targets(ecs: Any, family: str, service: Service, *, scan_limit: int = DEFAULT_SCAN_LIMIT) -> dict[str, str]:
    """Every revision of `family` a rollback could return to, which `prune` must
    keep, `family:revision` -> why: what `rollback` would pick now, the last
    known-good revision other than each one a deployment uses (what a failing
    deploy in progress returns to), the service's pointer, and the latest
    marked revision (what a lookup without the pointer finds)."""
    targets: dict[str, str] = {}
    for in_use in sorted(service.task_definitions_in_use):
        found = find(ecs, family, service_tags=service.tags, exclude=[in_use], scan_limit=scan_limit)
        if found is not None:
            targets.setdefault(found.revision, f"the known-good revision a rollback from {revision_name(in_use)} returns to")
    pointer = service.tags.get(TAG)
    if pointer and family_of(pointer) == family and read_mark(ecs, pointer) is not None:
        targets.setdefault(revision_name(pointer), "the service's last known-good revision")
    newest = find(ecs, family, scan_limit=scan_limit)
    if newest is not None:
        targets.setdefault(newest.revision, "the latest known-good mark of the family")
    return targets
