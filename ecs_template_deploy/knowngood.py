"""Durable known-good marks and bake records, kept in AWS so any machine can find them.

A revision is *known good* when a run of this tool saw it proven: its
deployment reached a steady state and its bake (`deploy --bake`, with every
`--alarm` OK) passed; or when a person named it (`rollback --to`). ECS calling
a deployment COMPLETED is not enough: a deploy killed during its bake, or one
whose bake failed, leaves a revision ECS calls COMPLETED that nobody proved.

Tags record it:

- on the task definition revision, `ecs-template-deploy:known-good` = the UTC
  time of the proof, in AWS's time where AWS gives one (the deployment's
  `updatedAt`), never the CD runner's clock alone. Marks are history and are
  never removed (a later rollback re-marks with a later time);
- on the revision, `ecs-template-deploy:bake` = where its latest bake stands:
  `started`, `passed`, `failed` (its rollout or its bake failed), or `named`
  (a person named it), then the time and the service. A mark counts only while
  the latest record is not `failed`: a revision that fails a later bake is no
  longer a place to return to until it is proven (or named) again;
- on the revision, `ecs-template-deploy:known-good-for:<hash>` = the ARN of each
  service it was proven on, so `prune` finds every service that may return to
  it, in any cluster;
- on the service, `ecs-template-deploy:known-good` = the revision's ARN: a
  pointer to the *last* known-good revision of that service, so a fresh process
  finds it with the DescribeServices call it makes anyway.

`find()` trusts the pointer only if the revision it names is still ACTIVE and
carries a mark that counts; otherwise it scans the family newest first, with a
bound on the number of revisions it reads. Every call goes through `aws_call`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Iterator, Mapping

from botocore.exceptions import ClientError

from .clock import iso
from .errors import AwsError, aws_call, error_code
from .views import Service, family_of, revision_name, revision_of, same_revision, tags_of

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import TagTypeDef, TaskDefinitionTypeDef

TAG = "ecs-template-deploy:known-good"
BAKE = "ecs-template-deploy:bake"
PROVEN_FOR = "ecs-template-deploy:known-good-for:"
# On the service, set just before a rollback's UpdateService: the revision it returns
# to. A re-run after a kill finishes that return instead of going one further back;
# marking clears it, so it never speaks for a return the tool did not start.
RETURNING = "ecs-template-deploy:returning-to"
# AWS limits tag values to 256 characters; a longer ARN cannot be a pointer.
MAX_TAG_VALUE = 256
DEFAULT_SCAN_LIMIT = 25

STARTED, PASSED, FAILED, NAMED = "started", "passed", "failed", "named"


@dataclass(frozen=True)
class BakeRecord:
    """Where a revision's latest bake stands: `started`, `passed`, `failed` or `named`."""

    state: str
    at: str  # ISO 8601 UTC
    where: str = ""  # cluster/service it was baked on

    @classmethod
    def parse(cls, value: str | None) -> "BakeRecord | None":
        if not value:
            return None
        state, _, rest = value.partition(" ")
        at, _, where = rest.partition(" ")
        return cls(state, at, where)

    def __str__(self) -> str:
        return " ".join(part for part in (self.state, self.at, self.where) if part)

    def describe(self) -> str:
        """`failed at 2026-01-01T00:10:00Z on prod/web`."""
        return f"{self.state} at {self.at}" + (f" on {self.where}" if self.where else "")


def bake_record(tags: Mapping[str, str]) -> BakeRecord | None:
    return BakeRecord.parse(tags.get(BAKE))


def counts(tags: Mapping[str, str]) -> str | None:
    """The revision's known-good time if its mark counts (marked, and its latest
    bake did not fail), else None."""
    marked = tags.get(TAG)
    record = bake_record(tags)
    if not marked or (record is not None and record.state == FAILED):
        return None
    return marked


def proven_for_key(service_arn: str) -> str:
    """The tag key naming one service a revision was proven on (keys are at most 128 characters)."""
    return PROVEN_FOR + hashlib.sha256(service_arn.encode()).hexdigest()[:16]


def services_named(tags: Mapping[str, str]) -> set[str]:
    """The service ARNs a revision's tags say it was proven on."""
    return {value for key, value in tags.items() if key.startswith(PROVEN_FOR) and value}


def where(service_arn: str | None) -> str:
    """`cluster/service` from a service ARN (new format), for bake records."""
    if not service_arn or ":service/" not in service_arn:
        return ""
    return service_arn.split(":service/", 1)[1]


@dataclass(frozen=True)
class KnownGood:
    task_definition: str  # full ARN of the revision
    marked_at: str  # ISO 8601 UTC, when it was proven ("" for a revision named by --to and not marked yet)

    @property
    def revision(self) -> str:
        return revision_name(self.task_definition)


def mark(ecs: ECSClient, task_definition_arn: str, *, at: float, service_arn: str | None = None,
         proof: str | None = PASSED) -> KnownGood:
    """Record that `task_definition_arn` is known good as of epoch `at` (AWS's time).

    `proof` says why: PASSED (a bake of this tool passed), NAMED (a person named
    it), or None (a return to a revision that was known good already: its record
    stays as it is, the mark gets the later time). Tags the revision, then points
    the service at it (if a service ARN is given) and clears its return note.
    Every tag is idempotent: marking again is safe.
    """
    marked = KnownGood(task_definition_arn, iso(at))
    tags: list[TagTypeDef] = [{"key": TAG, "value": marked.marked_at}]
    if proof is not None:
        tags.append({"key": BAKE, "value": str(BakeRecord(proof, marked.marked_at, where(service_arn)))})
    if service_arn and len(service_arn) <= MAX_TAG_VALUE:
        tags.append({"key": proven_for_key(service_arn), "value": service_arn})
    with aws_call("ecs:TagResource"):
        ecs.tag_resource(resourceArn=task_definition_arn, tags=tags)
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


def record_bake(ecs: ECSClient, task_definition_arn: str, state: str, *, at: float, service_arn: str | None = None) -> None:
    """Write where the revision's bake stands (STARTED or FAILED; marking writes the
    others). Raises the error family: callers decide whether it matters."""
    record = BakeRecord(state, iso(at), where(service_arn))
    with aws_call("ecs:TagResource"):
        ecs.tag_resource(resourceArn=task_definition_arn, tags=[{"key": BAKE, "value": str(record)}])


def read_bake(ecs: ECSClient, task_definition_arn: str) -> BakeRecord | None:
    """The revision's bake record (None where there is none)."""
    with aws_call("ecs:ListTagsForResource"):
        return bake_record(tags_of(ecs.list_tags_for_resource(resourceArn=task_definition_arn).get("tags")))


def clear_return(ecs: ECSClient, service_arn: str) -> None:
    """Clear the service's return note without marking anything (a return to a
    revision that is not known good must not be finished as one by a re-run)."""
    if not service_arn:
        return
    try:
        with aws_call("ecs:TagResource"):
            ecs.tag_resource(resourceArn=service_arn, tags=[{"key": RETURNING, "value": ""}])
    except AwsError:
        pass  # best effort: the note names only revisions a rollback of ours went to


def record_return(ecs: ECSClient, service_arn: str, task_definition_arn: str) -> bool:
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


def describe_revision(ecs: ECSClient, task_definition_arn: str) -> tuple[TaskDefinitionTypeDef, dict[str, str]] | None:
    """(definition, tags) of one revision; None when ECS does not know it."""
    with aws_call("ecs:DescribeTaskDefinition"):
        try:
            answer = ecs.describe_task_definition(taskDefinition=task_definition_arn, include=["TAGS"])
        except ClientError as err:
            if error_code(err) in {"ClientException", "InvalidParameterException"}:
                return None
            raise
    return answer["taskDefinition"], tags_of(answer.get("tags"))


def read_mark(ecs: ECSClient, task_definition_arn: str) -> KnownGood | None:
    """The mark on one revision if it counts, or None (also when the revision is
    INACTIVE: ECS will not start a deployment of an inactive revision; and when
    its latest bake failed)."""
    described = describe_revision(ecs, task_definition_arn)
    if described is None:
        return None
    definition, tags = described
    if definition.get("status", "ACTIVE") != "ACTIVE":
        return None
    value = counts(tags)
    return KnownGood(definition["taskDefinitionArn"], value) if value else None


def revisions_newest_first(ecs: ECSClient, family: str) -> Iterator[str]:
    """ACTIVE revisions of exactly `family` (familyPrefix also matches `family-x`),
    newest first. Pages are sorted again locally: not every emulator honours `sort`."""
    with aws_call("ecs:ListTaskDefinitions"):
        paginator = ecs.get_paginator("list_task_definitions")
        for page in paginator.paginate(familyPrefix=family, status="ACTIVE", sort="DESC"):
            arns = [arn for arn in page.get("taskDefinitionArns", []) if family_of(arn) == family]
            yield from sorted(arns, key=lambda arn: revision_of(arn) or 0, reverse=True)


def proven_on(tags: Mapping[str, str], service_arn: str | None) -> bool:
    """Whether a mark may answer for `service_arn`: it names that service, or it names
    none (marks older than the service names). A revision proven only on another
    service (staging, where prod deploys the same family) is not prod's to return to."""
    named = services_named(tags)
    return not service_arn or not named or service_arn in named


def find(
    ecs: ECSClient,
    family: str,
    *,
    service_tags: Mapping[str, str] | None = None,
    service_arn: str | None = None,
    exclude: Collection[str] = (),
    scan_limit: int = DEFAULT_SCAN_LIMIT,
) -> KnownGood | None:
    """The last known-good revision: the service's pointer if it holds (in any
    family), else the most recently marked revision of `family` among its newest `scan_limit` ones
    (a rollback re-marks an older revision, so the latest mark wins, not the
    highest revision number) that was proven on `service_arn` (`proven_on`).

    `exclude` names revisions (ARNs) that must not be the answer, such as the one
    that just failed. At most 1 + pages + `scan_limit` API calls.
    """
    excluded = {revision_name(e) for e in exclude}
    pointer = (service_tags or {}).get(TAG)
    # the service's own last known good, in whatever family it is (a template revision
    # named with `rollback --to` before the first deploy is in the template's)
    if pointer and revision_name(pointer) not in excluded:
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
            tags = tags_of(ecs.list_tags_for_resource(resourceArn=arn).get("tags"))
        value = counts(tags)
        # ISO 8601 UTC strings of one format order like the times they name
        if value and proven_on(tags, service_arn) and (latest is None or value > latest.marked_at):
            latest = KnownGood(arn, value)
    return latest


def is_marked(service: Service, task_definition: str) -> bool:
    """The service's pointer names `task_definition` (the snapshot's tags say so)."""
    return same_revision(service.tags.get(TAG), task_definition)


def rollback_target(ecs: ECSClient, service: Service) -> KnownGood | None:
    """The revision `rollback` (without --to) returns the service to now: the last
    known-good revision of the family the service runs, other than that one."""
    running = service.task_definition
    return find(ecs, family_of(running), service_tags=service.tags, service_arn=service.arn,
                exclude=[running]) if running else None
