"""Small read-only views of ECS answers, and the lookups that fetch them.

Each lookup turns AWS's "not there" answers into the error family with a
message that says what to check; other failures go through `aws_call`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .errors import ClusterNotFoundError, ServiceNotFoundError, TemplateNotFoundError, aws_call, error_code


def family_of(task_definition_arn_or_name: str) -> str:
    """`arn:...:task-definition/web:3`, `web:3` or `web` -> `web`."""
    return task_definition_arn_or_name.rsplit("/", 1)[-1].split(":", 1)[0]


def revision_of(task_definition_arn: str) -> int | None:
    name = task_definition_arn.rsplit("/", 1)[-1]
    _, sep, revision = name.partition(":")
    return int(revision) if sep and revision.isdigit() else None


def revision_key(task_definition_arn_or_name: str) -> str:
    """`arn:...:task-definition/web:3` or `web:3` -> `web:3`: one key for both spellings."""
    return task_definition_arn_or_name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class TaskDefinition:
    """A described task definition revision and its tags."""

    data: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return self.data["taskDefinitionArn"]

    @property
    def family(self) -> str:
        return self.data["family"]

    @property
    def revision(self) -> int:
        return int(self.data["revision"])

    @property
    def is_active(self) -> bool:
        return self.data.get("status", "ACTIVE") == "ACTIVE"

    @property
    def container_definitions(self) -> list[dict[str, Any]]:
        return self.data.get("containerDefinitions", [])

    @property
    def images(self) -> dict[str, str]:
        """Container name -> image."""
        return {c["name"]: c.get("image", "") for c in self.container_definitions}


@dataclass(frozen=True)
class Deployment:
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return self.data.get("id", "")

    @property
    def status(self) -> str:
        return self.data.get("status", "")

    @property
    def is_primary(self) -> bool:
        return self.status == "PRIMARY"

    @property
    def task_definition_arn(self) -> str:
        return self.data.get("taskDefinition", "")

    @property
    def rollout_state(self) -> str | None:
        return self.data.get("rolloutState")


@dataclass(frozen=True)
class Service:
    data: dict[str, Any]

    @property
    def arn(self) -> str:
        return self.data["serviceArn"]

    @property
    def name(self) -> str:
        return self.data["serviceName"]

    @property
    def cluster_arn(self) -> str:
        return self.data.get("clusterArn", "")

    @property
    def task_definition_arn(self) -> str:
        return self.data["taskDefinition"]

    @property
    def deployments(self) -> list[Deployment]:
        return [Deployment(d) for d in self.data.get("deployments", [])]

    @property
    def task_definitions_in_use(self) -> set[str]:
        """The service's task definition and every one a deployment still uses."""
        arns = {self.task_definition_arn}
        arns.update(d.task_definition_arn for d in self.deployments if d.task_definition_arn)
        return arns


def fetch_task_definition(ecs: Any, reference: str) -> TaskDefinition:
    """Describe `reference` (ARN, `family:revision`, or a family = its latest ACTIVE revision)."""
    with aws_call("ecs:DescribeTaskDefinition"):
        try:
            answer = ecs.describe_task_definition(taskDefinition=reference, include=["TAGS"])
        except ClientError as err:
            if error_code(err) in {"ClientException", "InvalidParameterException"}:
                raise TemplateNotFoundError(
                    f"task definition {reference!r} not found in {ecs.meta.region_name}: check --template and --region "
                    "(Terraform creates the template; give a family, family:revision or ARN)"
                ) from err
            raise
    found = TaskDefinition(answer["taskDefinition"], {t["key"]: t["value"] for t in answer.get("tags", [])})
    if revision_of(reference) is None and not found.is_active:
        # AWS answers a bare family with its latest ACTIVE revision; some emulators
        # answer with the latest of any status, so ask for the ACTIVE list instead.
        active = latest_active_revision(ecs, family_of(reference))
        if active is None:
            raise TemplateNotFoundError(
                f"task definition family {reference!r} has no ACTIVE revision: apply the Terraform that creates it, or pass family:revision"
            )
        return fetch_task_definition(ecs, active)
    return found


def list_active_revisions(ecs: Any, family: str) -> list[str]:
    """ARNs of the ACTIVE revisions of exactly `family`, newest first."""
    arns: list[str] = []
    with aws_call("ecs:ListTaskDefinitions"):
        paginator = ecs.get_paginator("list_task_definitions")
        for page in paginator.paginate(familyPrefix=family, status="ACTIVE", sort="DESC"):
            arns.extend(a for a in page.get("taskDefinitionArns", []) if family_of(a) == family)
    # familyPrefix is a prefix and not every backend honours `sort`: order here.
    return sorted(arns, key=lambda a: revision_of(a) or 0, reverse=True)


def latest_active_revision(ecs: Any, family: str) -> str | None:
    arns = list_active_revisions(ecs, family)
    return arns[0] if arns else None


def fetch_service(ecs: Any, cluster: str, service: str) -> Service:
    with aws_call("ecs:DescribeServices"):
        try:
            answer = ecs.describe_services(cluster=cluster, services=[service])
        except ClientError as err:
            if error_code(err) == "ClusterNotFoundException":
                raise ClusterNotFoundError(
                    f"cluster {cluster!r} not found in {ecs.meta.region_name}: check --cluster and --region"
                ) from err
            raise
    services = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
    if not services:
        raise ServiceNotFoundError(
            f"service {service!r} not found in cluster {cluster!r}: check --service and --cluster (create it with Terraform first)"
        )
    return Service(services[0])
