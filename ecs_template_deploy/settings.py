"""The settings that decide how a service deploys and rolls back, read together.

A rollback's speed is decided by settings spread over four resources nobody reads
side by side: the service (minimum/maximum percent, circuit breaker, alarms,
strategy, bake, health check grace period, desired count), its target groups
(health check interval and thresholds, deregistration delay), the task
definition's containers (stop timeout, health check, version consistency) and the
image repositories (tag mutability). `read_settings` reads them with Describe and
List calls only and returns one JSON-able document: what `check --json` prints
and what `harness rehearse --from FILE` replays. Each field says where it came
from; a setting that could not be read (access denied, not found) is None, and
`unread` says why.

The document is printed and saved as a file, so the containers' fields it
carries are masked where they are read (`secrets.mask`: a health check
command's `curl -u user:password` becomes `curl -u user:***`); `masked` lists
what was masked and why (empty when nothing was).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from botocore.exceptions import ClientError

from . import knowngood
from .errors import AwsError, aws_call, error_code
from .images import parse_image
from .registry import ECR_HOST
from .resources import fetch_service
from .secrets import Masked, mask
from .views import Service, family_of, revision_name

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient

VERSION = 1
TEMPLATE_SUFFIX = "-template"
# AWS's documented defaults, used where a resource leaves a setting out
TARGET_GROUP_DEFAULTS = {"healthCheckIntervalSeconds": 30, "healthyThresholdCount": 5, "unhealthyThresholdCount": 2,
                         "healthCheckTimeoutSeconds": 5, "deregistrationDelaySeconds": 300}
STOP_TIMEOUT_DEFAULT = 30
REPOSITORY_MISSING = "NOT_FOUND"  # repositoryTagMutability of an ECR repository that does not exist


def _deployment_configuration(service: Service) -> dict[str, Any]:
    config: dict[str, Any] = dict(service.raw.get("deploymentConfiguration") or {})
    breaker = config.get("deploymentCircuitBreaker") or {}
    alarms = config.get("alarms") or {}
    out: dict[str, Any] = {
        "strategy": service.strategy,
        "minimumHealthyPercent": service.minimum_healthy_percent,
        "maximumPercent": service.maximum_percent,
        "circuitBreaker": {"enable": bool(breaker.get("enable")), "rollback": bool(breaker.get("rollback"))},
        "alarms": {"alarmNames": list(alarms.get("alarmNames") or []), "enable": bool(alarms.get("enable")),
                   "rollback": bool(alarms.get("rollback"))},
        "bakeTimeInMinutes": config.get("bakeTimeInMinutes", 0) or 0,
    }
    for key in ("linearConfiguration", "canaryConfiguration"):
        if config.get(key):
            out[key] = config[key]
    return out


def _target_groups(elbv2: Any, service: Service, unread: list[str]) -> list[dict[str, Any]]:
    """Each target group the service registers into (blue/green: the alternate too)."""
    wanted: list[tuple[str, str]] = []
    for lb in service.raw.get("loadBalancers") or []:
        if lb.get("targetGroupArn"):
            wanted.append((lb["targetGroupArn"], "production"))
        alternate = (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
        if alternate:
            wanted.append((alternate, "alternate"))
    groups = []
    for arn, role in wanted:
        group: dict[str, Any] = {"arn": arn, "role": role, **{key: None for key in TARGET_GROUP_DEFAULTS}}
        groups.append(group)
        if elbv2 is None:
            unread.append(f"target group {arn}: no ELBv2 client")
            continue
        try:
            with aws_call("elasticloadbalancing:DescribeTargetGroups"):
                try:
                    (described,) = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"]
                except ClientError as err:
                    if error_code(err) != "TargetGroupNotFound":
                        raise
                    group["missing"] = True  # a finding of its own, not a permission gap
                    continue
            with aws_call("elasticloadbalancing:DescribeTargetGroupAttributes"):
                attributes = {a["Key"]: a["Value"] for a in
                              elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}
        except AwsError as err:
            unread.append(f"target group {arn}: {err}")
            continue
        d = TARGET_GROUP_DEFAULTS
        group.update(
            name=described.get("TargetGroupName"),
            healthCheckIntervalSeconds=described.get("HealthCheckIntervalSeconds", d["healthCheckIntervalSeconds"]),
            healthyThresholdCount=described.get("HealthyThresholdCount", d["healthyThresholdCount"]),
            unhealthyThresholdCount=described.get("UnhealthyThresholdCount", d["unhealthyThresholdCount"]),
            healthCheckTimeoutSeconds=described.get("HealthCheckTimeoutSeconds", d["healthCheckTimeoutSeconds"]),
            deregistrationDelaySeconds=int(attributes.get("deregistration_delay.timeout_seconds",
                                                          d["deregistrationDelaySeconds"])),
        )
    return groups


def _repository_mutability(ecr_for: Callable[[str], ECRClient] | None, image: str, unread: list[str]) -> str | None:
    """ECR's imageTagMutability (MUTABLE, IMMUTABLE, ..._WITH_EXCLUSION) for an ECR image; None elsewhere or unread."""
    try:
        reference = parse_image(image)
    except Exception:  # a placeholder the template carries may not parse: nothing to say about it
        return None
    host = ECR_HOST.match(reference.domain or "")
    if not host or ecr_for is None:
        return None
    try:
        with aws_call("ecr:DescribeRepositories"):
            try:
                answer = ecr_for(host.group("region")).describe_repositories(
                    registryId=host.group("account"), repositoryNames=[reference.path])
            except ClientError as err:
                if error_code(err) != "RepositoryNotFoundException":
                    raise
                return REPOSITORY_MISSING
    except AwsError as err:
        unread.append(f"repository {reference.path}: {err}")
        return None
    repositories = answer.get("repositories") or [{}]
    mutability: str = repositories[0].get("imageTagMutability", "MUTABLE")
    return mutability


def _containers(ecs: ECSClient, task_definition: str, ecr_for: Callable[[str], ECRClient] | None, unread: list[str]) -> tuple[list[dict[str, Any]],
                                                                                           list[Masked]]:
    """The running revision's containers as the document shows them, and what of them was masked."""
    with aws_call("ecs:DescribeTaskDefinition"):
        definition = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    containers = []
    for c in definition.get("containerDefinitions", []):
        image = c.get("image", "")
        containers.append({
            "name": c["name"],
            "image": image,
            "essential": c.get("essential", True),
            "stopTimeout": c.get("stopTimeout"),
            "healthCheck": c.get("healthCheck"),
            "versionConsistency": c.get("versionConsistency", "enabled"),
            "repositoryTagMutability": _repository_mutability(ecr_for, image, unread),
        })
    return mask(containers, "containers", "containers")


def _template(ecs: ECSClient, family: str, template: str | None, unread: list[str]) -> dict[str, Any]:
    """The template family: the one named, else `<family>-template` if it exists."""
    name = family_of(template) if template else family.removesuffix(TEMPLATE_SUFFIX) + TEMPLATE_SUFFIX
    try:
        with aws_call("ecs:DescribeTaskDefinition"):
            try:
                described = ecs.describe_task_definition(taskDefinition=template or name)["taskDefinition"]
                found = described.get("status", "ACTIVE") == "ACTIVE"
            except ClientError as err:
                if error_code(err) not in ("ClientException", "InvalidParameterException"):
                    raise
                found = False
    except AwsError as err:
        unread.append(f"template {name}: {err}")
        found = None
    return {"family": name, "named": bool(template), "found": found}


def read_settings(ecs: ECSClient, cluster: str, service_name: str, *, elbv2: Any = None, ecr_for: Callable[[str], ECRClient] | None = None,
                  template: str | None = None, family: str | None = None,
                  start_seconds: float | None = None) -> dict[str, Any]:
    """Everything that decides how the service deploys and rolls back, read-only."""
    service = fetch_service(ecs, cluster, service_name)
    unread: list[str] = []
    running = service.task_definition
    running_family = family_of(running)
    # a service Terraform created on the template runs the template until the first deploy
    target = family or (family_of(template) if template else running_family).removesuffix(TEMPLATE_SUFFIX)
    known = None
    if running:
        try:
            known = knowngood.find(ecs, target, service_tags=service.tags, service_arn=service.arn)
        except AwsError as err:
            unread.append(f"known-good record: {err}")
    primary = service.primary
    containers, masked = _containers(ecs, running, ecr_for, unread) if running else ([], [])
    return {
        "kind": "settings",
        "version": VERSION,
        "cluster": cluster,
        "service": service.name,
        "serviceArn": service.arn,
        "desiredCount": service.desired_count,
        "schedulingStrategy": service.scheduling_strategy,
        "deploymentController": service.deployment_controller,
        "deploymentConfiguration": _deployment_configuration(service),
        "healthCheckGracePeriodSeconds": service.raw.get("healthCheckGracePeriodSeconds") or 0,
        "loadBalanced": bool(service.raw.get("loadBalancers")),
        "targetGroups": _target_groups(elbv2, service, unread),
        "taskDefinition": revision_name(running),
        "runningFamily": running_family,
        "targetFamily": target,
        "containers": containers,
        "template": _template(ecs, running_family, template, unread),
        "knownGood": known.revision if known else None,
        "knownGoodTagged": bool(service.tags.get(knowngood.TAG)),
        "deployments": len(service.deployments),
        "rolloutState": primary.rollout_state if primary else None,
        "startSeconds": start_seconds,  # the team's word for how long the app takes to start, if given
        "unread": unread,
        "masked": [m.to_dict() for m in masked],
    }


def production_target_group(settings: dict[str, Any]) -> dict[str, Any] | None:
    return next((g for g in settings.get("targetGroups", []) if g.get("role") == "production"), None)


def target_group_setting(settings: dict[str, Any], key: str) -> Any:
    """A production target group setting, AWS's default where unread."""
    group = production_target_group(settings) or {}
    value = group.get(key)
    return TARGET_GROUP_DEFAULTS[key] if value is None else value


def stop_timeout(settings: dict[str, Any]) -> float:
    values = [c["stopTimeout"] for c in settings.get("containers", []) if c.get("stopTimeout") is not None]
    return float(max(values)) if values else float(STOP_TIMEOUT_DEFAULT)


def declared_start_seconds(settings: dict[str, Any]) -> float | None:
    """How long the app takes to start: `--start-seconds`, else the longest container
    health check startPeriod (the team's own estimate in the task definition)."""
    if settings.get("startSeconds") is not None:
        return float(settings["startSeconds"])
    periods = [float((c.get("healthCheck") or {}).get("startPeriod") or 0) for c in settings.get("containers", [])]
    return max(periods) if any(periods) else None

