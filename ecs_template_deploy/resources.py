"""Lookups that fetch views of ECS resources, and the checks on what names them.

Each lookup first checks the reference it is given (so a malformed one is a
clear one-line refusal, not a request AWS answers with an error page), then
turns AWS's "not there" answers into the error family with a message that says
what to check; other failures go through `aws_call`. Every command uses these,
so the same problem reads the same in every command.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from .errors import (
    BadInputError, ClusterNotFoundError, ServiceNotFoundError, TemplateNotFoundError, aws_call, error_code, shown,
)
from .views import Service, TaskDefinition, family_of, revision_name, revision_of, stuck_rolling_update, tags_of

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient

NAME = r"[A-Za-z0-9_-]{1,255}"
FAMILY_RE = re.compile(rf"^{NAME}\Z")  # \Z: `$` would let a trailing newline through
ARN_RE = re.compile(r"^arn:aws[a-z-]*:ecs:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):(?P<kind>[a-z-]+)/(?P<rest>.+)\Z")
TASK_DEFINITION_RE = re.compile(rf"^{NAME}(:[1-9][0-9]*)?\Z")
CONTROLLERS = {
    "CODE_DEPLOY": "its deployments belong to CodeDeploy (ECS refuses a new task definition through UpdateService): "
                   "deploy it with a CodeDeploy AppSpec, or recreate the service with the ECS controller",
    "EXTERNAL": "its task sets belong to an external controller (ECS refuses a new task definition through "
                "UpdateService): deploy it with that controller's task sets",
}


def _arn(reference: str, kind: str, region: str, option: str) -> re.Match[str] | None:
    """The parts of `reference` if it is an ECS ARN of `kind`; refuse one of another kind or region."""
    if not reference.startswith("arn:"):
        return None
    match = ARN_RE.match(reference)
    if match is None or match["kind"] != kind:
        raise BadInputError(f"{option} {shown(reference)} is not an ECS {kind} ARN: give a name or "
                            f"arn:aws:ecs:REGION:ACCOUNT:{kind}/...")
    if region and match["region"] != region:
        raise BadInputError(f"{option} {shown(reference)} is in region {shown(match['region'], quoted=False)}, but the "
                            f"tool talks to {region}: pass --region {shown(match['region'], quoted=False)}")
    return match


def check_task_definition_reference(reference: str, option: str, region: str = "") -> None:
    """`family`, `family:N` or a task definition ARN, as ECS names them."""
    match = _arn(reference, "task-definition", region, option)
    name = match["rest"] if match else reference
    if not TASK_DEFINITION_RE.match(name):
        raise BadInputError(f"{option} {shown(reference)} is not a task definition: give a family (letters, digits, '-', '_'), "
                            "family:REVISION or an ARN")


def check_family(family: str, option: str = "--family") -> None:
    if not FAMILY_RE.match(family):
        raise BadInputError(f"{option} {shown(family)} is not a task definition family: use up to 255 letters, digits, '-' and '_'")


def _check_name(reference: str, kind: str, option: str, region: str) -> None:
    match = _arn(reference, kind, region, option)
    name = match["rest"].rsplit("/", 1)[-1] if match else reference
    if not FAMILY_RE.match(name):
        raise BadInputError(f"{option} {shown(reference)} is not a {kind} name or ARN: names use letters, digits, '-' and '_'")


def fetch_task_definition(ecs: ECSClient, reference: str, option: str = "--template") -> TaskDefinition:
    """Describe `reference` (ARN, `family:revision`, or a family = its latest ACTIVE revision)."""
    region = ecs.meta.region_name
    check_task_definition_reference(reference, option, region)
    with aws_call("ecs:DescribeTaskDefinition"):
        try:
            answer = ecs.describe_task_definition(taskDefinition=reference, include=["TAGS"])
        except ClientError as err:
            if error_code(err) in {"ClientException", "InvalidParameterException"}:
                raise TemplateNotFoundError(
                    f"task definition {shown(reference)} not found in {region}: check {option} and --region"
                    + (" (Terraform creates the template; give a family, family:revision or ARN)" if option == "--template" else "")
                ) from err
            raise
    found = TaskDefinition(answer["taskDefinition"], tags_of(answer.get("tags")))
    if revision_of(reference) is None and not found.is_active:
        # AWS answers a bare family with its latest ACTIVE revision; some emulators
        # answer with the latest of any status, so ask for the ACTIVE list instead.
        active = latest_active_revision(ecs, family_of(reference))
        if active is None:
            raise TemplateNotFoundError(
                f"task definition family {shown(reference)} has no ACTIVE revision: apply the Terraform that creates it, or pass family:revision"
            )
        return fetch_task_definition(ecs, active, option)
    return found


def fetch_template(ecs: ECSClient, reference: str) -> TaskDefinition:
    """The template a deploy renders: ACTIVE, with containers."""
    template = fetch_task_definition(ecs, reference, "--template")
    if not template.is_active:
        raise BadInputError(f"template {template.name} is INACTIVE (deregistered; Terraform replaced it): pass "
                            f"--template {template.family} for its latest ACTIVE revision, or an ACTIVE family:revision")
    if not template.container_definitions:
        raise BadInputError(f"template {template.name} has no container definitions: declare them in Terraform first")
    return template


def list_active_revisions(ecs: ECSClient, family: str) -> list[str]:
    """ARNs of the ACTIVE revisions of exactly `family`, newest first."""
    arns: list[str] = []
    with aws_call("ecs:ListTaskDefinitions"):
        paginator = ecs.get_paginator("list_task_definitions")
        for page in paginator.paginate(familyPrefix=family, status="ACTIVE", sort="DESC"):
            arns.extend(a for a in page.get("taskDefinitionArns", []) if family_of(a) == family)
    # familyPrefix is a prefix and not every backend honours `sort`: order here.
    return sorted(arns, key=lambda a: revision_of(a) or 0, reverse=True)


def latest_active_revision(ecs: ECSClient, family: str) -> str | None:
    arns = list_active_revisions(ecs, family)
    return arns[0] if arns else None


def fetch_service(ecs: ECSClient, cluster: str, service: str) -> Service:
    """The service, tags included (the known-good pointer is one)."""
    region = ecs.meta.region_name
    _check_name(cluster, "cluster", "--cluster", region)
    _check_name(service, "service", "--service", region)
    with aws_call("ecs:DescribeServices"):
        try:
            answer = ecs.describe_services(cluster=cluster, services=[service], include=["TAGS"])
        except ClientError as err:
            if error_code(err) == "ClusterNotFoundException":
                raise ClusterNotFoundError(
                    f"cluster {shown(cluster)} not found in {region}: check --cluster and --region"
                ) from err
            raise
    services = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
    if not services:
        raise ServiceNotFoundError(
            f"service {shown(service)} not found in cluster {shown(cluster)}: check --service and --cluster (create it with Terraform first)"
        )
    return Service(services[0])


def check_drivable(service: Service) -> None:
    """The tool drives deployments through UpdateService: ECS-controlled services
    only, and a rolling update needs room to replace a task. Refused before any
    change: otherwise a deploy registers, updates, and waits out --timeout on a
    rollout that can never move (and so would the rollback after it)."""
    controller = service.deployment_controller
    if controller != "ECS":
        why = CONTROLLERS.get(controller, "the tool drives only the ECS deployment controller")
        raise BadInputError(f"service {service.name} uses the {controller} deployment controller: {why}")
    low, high = service.minimum_healthy_percent, service.maximum_percent
    if stuck_rolling_update(service.desired_count, low, high, strategy=service.strategy,
                            scheduling=service.scheduling_strategy):
        raise BadInputError(
            f"service {service.name} cannot replace a task: minimumHealthyPercent {low:g} and maximumPercent {high:g} "
            f"at {service.desired_count} task(s) leave ECS no room; raise maximumPercent (200 is ECS's default) or lower "
            "minimumHealthyPercent in Terraform, then run this command again")


def short(arn: str | None) -> str:
    """For messages: `web:3`, or `-` for nothing."""
    return revision_name(arn) or "-"
