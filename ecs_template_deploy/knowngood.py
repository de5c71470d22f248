"""Durable known-good marks, kept in AWS so any machine can find them.

A revision is *known good* when a deployment of it reached COMPLETED (a steady
state). Two tags record that:

- on the task definition revision, `ecs-template-deploy:known-good` = the UTC
  time it was seen COMPLETED. This is the fact itself; marks are history and
  are never removed (a later rollback re-marks with a later time);
- on the service, `ecs-template-deploy:known-good` = the revision's ARN: a
  pointer to the *last* known-good revision of that service, so a fresh process
  finds it with the DescribeServices call it makes anyway.

`find()` trusts the pointer only if the revision it names is still ACTIVE and
carries the mark; otherwise it scans the family newest first, with a bound on
the number of revisions it reads.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Collection, Iterator, Mapping

from botocore.exceptions import ClientError

from .resources import family_of, revision_of

TAG = "ecs-template-deploy:known-good"
# AWS limits tag values to 256 characters; a longer ARN cannot be a pointer.
MAX_TAG_VALUE = 256
DEFAULT_SCAN_LIMIT = 25


@dataclass(frozen=True)
class KnownGood:
    task_definition: str  # full ARN of the revision
    marked_at: str  # ISO 8601 UTC, when its deployment was seen COMPLETED

    @property
    def revision(self) -> str:
        return self.task_definition.rsplit("/", 1)[-1]


def iso(at: float) -> str:
    return _dt.datetime.fromtimestamp(at, _dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def mark(ecs: Any, task_definition_arn: str, *, at: float, service_arn: str | None = None) -> KnownGood:
    """Record that `task_definition_arn` reached COMPLETED at epoch `at`.

    Tags the revision, then points the service at it (if a service ARN is given).
    """
    marked = KnownGood(task_definition_arn, iso(at))
    ecs.tag_resource(resourceArn=task_definition_arn, tags=[{"key": TAG, "value": marked.marked_at}])
    if service_arn and len(task_definition_arn) <= MAX_TAG_VALUE:
        try:
            ecs.tag_resource(resourceArn=service_arn, tags=[{"key": TAG, "value": task_definition_arn}])
        except ClientError as err:
            # Services with the old short ARN format cannot be tagged. The mark on
            # the revision is the fact; the pointer only saves a scan.
            if err.response.get("Error", {}).get("Code") != "InvalidParameterException":
                raise
    return marked


def _tags(raw: Any) -> dict[str, str]:
    return {t["key"]: t["value"] for t in raw or []}


def read_mark(ecs: Any, task_definition_arn: str) -> KnownGood | None:
    """The mark on one revision, or None (also when the revision is INACTIVE:
    ECS will not start a deployment of an inactive revision)."""
    try:
        answer = ecs.describe_task_definition(taskDefinition=task_definition_arn, include=["TAGS"])
    except ecs.exceptions.ClientException:
        return None
    definition = answer["taskDefinition"]
    if definition.get("status", "ACTIVE") != "ACTIVE":
        return None
    value = _tags(answer.get("tags")).get(TAG)
    return KnownGood(definition["taskDefinitionArn"], value) if value else None


def revisions_newest_first(ecs: Any, family: str) -> Iterator[str]:
    """ACTIVE revisions of exactly `family` (familyPrefix also matches `family-x`),
    newest first. Pages are sorted again locally: not every emulator honours `sort`."""
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
    excluded = {e.rsplit("/", 1)[-1] for e in exclude}
    pointer = (service_tags or {}).get(TAG)
    if pointer and pointer.rsplit("/", 1)[-1] not in excluded:
        found = read_mark(ecs, pointer)
        if found is not None:
            return found
    latest: KnownGood | None = None
    for count, arn in enumerate(revisions_newest_first(ecs, family)):
        if count >= scan_limit:
            break
        if arn.rsplit("/", 1)[-1] in excluded:
            continue
        value = _tags(ecs.list_tags_for_resource(resourceArn=arn).get("tags")).get(TAG)
        # ISO 8601 UTC strings of one format order like the times they name
        if value and (latest is None or value > latest.marked_at):
            latest = KnownGood(arn, value)
    return latest


def rollback_targets(ecs: Any, family: str, *, service_tags: Mapping[str, str] | None = None,
                     scan_limit: int = DEFAULT_SCAN_LIMIT) -> set[str]:
    """Every revision a rollback could return to, which `prune` must keep: the
    service's last known-good pointer and the latest marked revision of `family`
    (what `find` answers without the pointer)."""
    targets: set[str] = set()
    pointer = (service_tags or {}).get(TAG)
    if pointer:
        found = read_mark(ecs, pointer)
        if found is not None:
            targets.add(found.task_definition)
    newest = find(ecs, family, scan_limit=scan_limit)
    if newest is not None:
        targets.add(newest.task_definition)
    return targets
