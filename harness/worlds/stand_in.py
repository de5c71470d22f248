"""The infrastructure an approach's Terraform configuration creates, built with
boto3 instead, for the columns that need no Terraform (rollback, version skew,
what CD calls): the moto-only matrix runs in seconds.

It mirrors the configurations in ``harness/approaches/*/terraform`` (names,
task definition shape, service deployment settings) and returns the same
outputs, so a CD procedure cannot tell the difference. What is shared is built
here; each approach's own task definition and outputs come from its package
(``Approach.stand_in_definition``). Drift and clobber
columns need the real thing: they run Terraform.

    built = stand_in(aws.client, name, images=["v1", "v2", "v3-broken"])   # name: a row of the table
    built.outputs        # what `terraform output` would give
    built.digests        # tag -> digest of the images pushed
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from harness.approaches import ApproachError, NoStandIn, entry, get, rows
from harness.worlds.images import point_tag, push_images


@dataclass(frozen=True)
class Shared:
    """What every approach's configuration creates alike (``terraform/base``: repository,
    roles, secret, log group), which its own task definition names; ``ecr`` for an
    approach whose Terraform expects a tag to exist (approach 1's environment tag)."""

    ecr: Any
    name: str
    repository_url: str
    environment: str
    initial_tag: str
    container_name: str
    execution_role_arn: str
    task_role_arn: str
    secret_arn: str
    log_group_name: str

    def point_tag(self, tag: str, *, at: str) -> None:
        """Make ``tag`` name the image ``at`` names, as CI retagging would (ECR in this world)."""
        point_tag(self.ecr, self.name, tag, at=at)


@dataclass(frozen=True)
class StandIn:
    outputs: dict[str, Any]  # what `terraform output` gives for the approach's configuration
    digests: dict[str, str]  # tag -> digest of the images pushed


def stand_in(client: Callable[[str], Any], approach: str, *, images: Iterable[str] = ("v1",), name: str = "app",
             environment: str = "prod", desired_count: int = 2, initial_tag: str = "v1",
             circuit_breaker: bool = True, container_name: str = "app", strategy: str = "ROLLING",
             load_balanced: bool = False, version_consistency: bool = True) -> StandIn:
    """Create what ``approach``'s configuration would, push ``images`` (tags)
    to its repository, and start the service on ``initial_tag`` (or, for an approach
    whose image is a moving tag, the ``environment`` tag, pointed at ``initial_tag``).

    The rollback matrix varies the configuration as a team would in its
    Terraform: ``strategy`` ROLLING or BLUE_GREEN (BLUE_GREEN, or
    ``load_balanced``, puts the service behind an ALB: blue/green gets two
    target groups and its listener rules, ROLLING the blue one),
    ``circuit_breaker`` (enable and rollback), and ``version_consistency``
    (off: the container's ``versionConsistency`` is ``disabled``)."""
    if strategy not in ("ROLLING", "BLUE_GREEN"):
        raise ApproachError(f"strategy {strategy!r}: the stand-ins build ROLLING or BLUE_GREEN services")
    if not entry(approach).stand_in:
        known = ", ".join(row.name for row in rows() if row.stand_in)
        raise NoStandIn(f"no stand-in for {approach!r} (its CD runs Terraform); use one of {known}")
    cls = get(approach)
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

    shared = Shared(ecr=ecr, name=name, repository_url=url, environment=environment, initial_tag=initial_tag,
                    container_name=container_name, execution_role_arn=execution, task_role_arn=task,
                    secret_arn=secret, log_group_name=log_group)
    built = cls.stand_in_definition(shared)  # the approach's own part of its configuration (its package says)
    container = dict(built.container)
    if not version_consistency:
        container["versionConsistency"] = "disabled"
    definition = ecs.register_task_definition(
        family=built.family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        executionRoleArn=execution, containerDefinitions=[container], **built.extra,
    )["taskDefinition"]["taskDefinitionArn"]
    balanced: dict[str, Any] = {}
    if strategy == "BLUE_GREEN" or load_balanced:
        from harness.worlds.tool import BlueGreenLoadBalancer

        balancer = BlueGreenLoadBalancer.build(client, name=name)
        attached = balancer.load_balancers(container=container_name, port=8080)
        if strategy == "ROLLING":
            attached = [{k: v for k, v in lb.items() if k != "advancedConfiguration"} for lb in attached]
        balanced = {"loadBalancers": attached, "healthCheckGracePeriodSeconds": 0}
    ecs.create_service(
        cluster=name, serviceName=name, taskDefinition=definition, desiredCount=desired_count, launchType="FARGATE",
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200, "strategy": strategy,
                                 "deploymentCircuitBreaker": {"enable": circuit_breaker, "rollback": circuit_breaker}},
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group],
                                                      "assignPublicIp": "DISABLED"}},
        **balanced,
    )
    outputs = {
        "cluster_name": cluster["clusterName"], "service_name": name, "container_name": container_name,
        "repository_url": url, "repository_name": name, "family": name,
        "execution_role_arn": execution, "task_role_arn": task, "secret_arn": secret, "log_group_name": log_group,
    }
    outputs.update(built.outputs(definition))
    return StandIn(outputs, digests)
