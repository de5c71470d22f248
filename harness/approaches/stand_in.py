"""The infrastructure an approach's Terraform configuration creates, built with
boto3 instead, for the columns that need no Terraform (rollback, version skew,
what CD calls): the moto-only matrix runs in seconds.

It mirrors the configurations in ``harness/approaches/*/terraform`` (names,
task definition shape, service deployment settings) and returns the same
outputs, so a CD procedure cannot tell the difference. Drift and clobber
columns need the real thing: they run Terraform.

    built = stand_in(aws.client, "ignore-changes", images=["v1", "v2", "v3-broken"])
    built.outputs        # what `terraform output` would give
    built.digests        # tag -> digest of the images pushed
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from harness.approaches import ORDER, ApproachError

ACCOUNT = "123456789012"  # moto's default account (CONTRIBUTING: shared conventions)
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
# The approaches whose Terraform a stand-in can replace (4a/4b run Terraform as CD: none).
STANDS_IN_FOR = ("persistent-tag", "ignore-changes", "app-repo", "template")


def manifest(label: str) -> str:
    """An image manifest unique to ``label`` (moto's digest is the sha256 of the layer digests)."""
    layer = "sha256:" + hashlib.sha256(label.encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": layer},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1, "digest": layer}],
    })


def push_images(ecr: Any, repository: str, tags: Iterable[str]) -> dict[str, str]:
    """Push one distinct image per tag; returns tag -> digest."""
    return {
        tag: ecr.put_image(repositoryName=repository, imageManifest=manifest(tag), imageTag=tag,
                           imageManifestMediaType=MANIFEST_TYPE)["image"]["imageId"]["imageDigest"]
        for tag in tags
    }


@dataclass(frozen=True)
class StandIn:
    outputs: dict[str, Any]  # what `terraform output` gives for the approach's configuration
    digests: dict[str, str]  # tag -> digest of the images pushed


def stand_in(client: Callable[[str], Any], approach: str, *, images: Iterable[str] = ("v1",), name: str = "app",
             environment: str = "prod", desired_count: int = 2, initial_tag: str = "v1",
             circuit_breaker: bool = True, container_name: str = "app") -> StandIn:
    """Create what ``approach``'s configuration would, push ``images`` (tags)
    to its repository, and start the service on ``initial_tag`` (for
    persistent-tag: the ``environment`` tag, pointed at ``initial_tag``)."""
    if approach not in STANDS_IN_FOR:
        known = ", ".join(a for a in ORDER if a in STANDS_IN_FOR)
        raise ApproachError(f"no stand-in for {approach!r} (its CD runs Terraform or it has no module yet); use one of {known}")
    ecs, ecr, iam = client("ecs"), client("ecr"), client("iam")
    secrets, logs = client("secretsmanager"), client("logs")
    images = list(images)
    if initial_tag not in images:
        raise ApproachError(f"the service starts on {initial_tag!r}: include it in images {images}")
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in range(2)]
    group = ec2.create_security_group(GroupName=f"{name}-service", Description="tasks", VpcId=vpc)["GroupId"]
    repository = ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE")["repository"]
    digests = push_images(ecr, name, images)
    cluster = ecs.create_cluster(clusterName=name)["cluster"]
    assume = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    execution = iam.create_role(RoleName=f"{name}-execution", AssumeRolePolicyDocument=assume)["Role"]["Arn"]
    task = iam.create_role(RoleName=f"{name}-task", AssumeRolePolicyDocument=assume)["Role"]["Arn"]
    secret = secrets.create_secret(Name=f"{name}/app", SecretString=json.dumps({"api_key": "placeholder"}))["ARN"]
    log_group = f"/ecs/{name}"
    logs.create_log_group(logGroupName=log_group)
    url = repository["repositoryUri"]

    if approach == "app-repo":
        family = f"{name}-bootstrap"
        container = {"name": container_name, "image": f"{url}:{initial_tag}", "essential": True}
        extra: dict[str, Any] = {}
    else:
        # template: Terraform's template family, its placeholder image being
        # initial_tag (as if applied with -var placeholder_tag=<initial_tag>)
        family = f"{name}-template" if approach == "template" else name
        image = f"{url}:{environment}" if approach == "persistent-tag" else f"{url}:{initial_tag}"
        if approach == "persistent-tag":
            found = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": initial_tag}])["images"]
            if not found:
                raise ApproachError(f"push {initial_tag!r} to {name} before the stand-in points {environment!r} at it")
            ecr.put_image(repositoryName=name, imageManifest=found[0]["imageManifest"], imageTag=environment,
                          imageManifestMediaType=MANIFEST_TYPE)
        container = {
            "name": container_name, "image": image, "essential": True,
            "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "APP_ENV", "value": environment}],
            "secrets": [{"name": "APP_SECRET", "valueFrom": secret}],
        }
        extra = {"taskRoleArn": task}
    definition = ecs.register_task_definition(
        family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        executionRoleArn=execution, containerDefinitions=[container], **extra,
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=name, serviceName=name, taskDefinition=definition, desiredCount=desired_count, launchType="FARGATE",
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200,
                                 "deploymentCircuitBreaker": {"enable": circuit_breaker, "rollback": circuit_breaker}},
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group],
                                                      "assignPublicIp": "DISABLED"}},
    )
    outputs = {
        "cluster_name": cluster["clusterName"], "service_name": name, "container_name": container_name,
        "repository_url": url, "repository_name": name, "family": name,
        "execution_role_arn": execution, "task_role_arn": task, "secret_arn": secret, "log_group_name": log_group,
    }
    if approach == "template":
        outputs.update(template_family=family, template_arn=definition)
    return StandIn(outputs, digests)


def change_template(ecs: Any, template_family: str, container_name: str, setting: str, value: Any) -> str:
    """What `terraform apply` of an infrastructure change does to the template
    approach's configuration, done with boto3: replace the template (register
    a revision with the changed setting, deregister the old one, as Terraform
    replaces an ``aws_ecs_task_definition``). ``setting``/``value`` are an
    ``InfraChange``'s. Returns the new template revision's ARN."""
    from ecs_template_deploy.render import registrable_fields

    described = ecs.describe_task_definition(taskDefinition=template_family)["taskDefinition"]
    definition = {k: v for k, v in described.items() if k in registrable_fields(ecs)}
    containers = [c for c in definition["containerDefinitions"] if c["name"] == container_name]
    if not containers:
        raise ApproachError(f"container {container_name!r} not in template {template_family}: "
                            f"it has {[c['name'] for c in definition['containerDefinitions']]}")
    container = containers[0]
    if setting in ("cpu", "memory"):
        definition[setting] = str(value)
    elif setting in ("environment", "secrets"):
        key = "value" if setting == "environment" else "valueFrom"
        merged = {e["name"]: e[key] for e in container.get(setting, [])} | dict(value)
        container[setting] = [{"name": k, key: v} for k, v in merged.items()]
    else:
        raise ApproachError(f"unknown infrastructure change {setting!r}; use cpu, memory, environment or secrets")
    arn = ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]
    ecs.deregister_task_definition(taskDefinition=described["taskDefinitionArn"])
    return arn
