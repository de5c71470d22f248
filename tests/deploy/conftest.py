"""Fixtures for the deploy tool's tests: moto in-process, a template, a service.

`world` builds what Terraform would have built (cluster, template task
definition with a placeholder image, service created on the template) and can
snapshot AWS so error tests can assert that nothing changed.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from harness.worlds.images import push_images

REGION = "us-east-1"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
PUSHED = ("placeholder", *(f"v{n}" for n in range(1, 10)))  # tags of web in ECR: the deploy tool checks before deploying
WEB_REPO = f"{REGISTRY}/web"
PLACEHOLDER = f"{WEB_REPO}:placeholder"
FLUENT_BIT = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0"

SINGLE_TEMPLATE: dict[str, Any] = {
    "family": "web-template",
    "containerDefinitions": [
        {"name": "web", "image": PLACEHOLDER, "memory": 256, "essential": True,
         "environment": [{"name": "LOG_LEVEL", "value": "info"}]},
    ],
    "tags": [{"key": "managed-by", "value": "terraform"}],
}

# Every field a real template tends to carry, in three containers (app, a
# one-shot migration from the same repository, a FireLens sidecar).
RICH_TEMPLATE: dict[str, Any] = {
    "family": "web-template",
    "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-task",
    "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-execution",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    "ephemeralStorage": {"sizeInGiB": 30},
    "volumes": [
        {"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-12345678", "rootDirectory": "/data",
                                                    "transitEncryption": "ENABLED"}},
        {"name": "scratch"},
    ],
    "containerDefinitions": [
        {
            "name": "web",
            "image": PLACEHOLDER,
            "essential": True,
            "memoryReservation": 256,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp", "name": "http"}],
            "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_PASSWORD", "value": "hunter2"}],
            "secrets": [{"name": "API_TOKEN", "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:api-token"}],
            "logConfiguration": {"logDriver": "awsfirelens", "options": {"Name": "cloudwatch", "region": REGION}},
            "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
                            "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 10},
            "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"},
                          {"containerName": "log_router", "condition": "START"}],
            "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
            "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["NET_RAW"]}},
            "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": False}],
            "stopTimeout": 30,
        },
        {
            "name": "migrate",
            "image": PLACEHOLDER,
            "essential": False,
            "command": ["bin/migrate", "--yes"],
            "memoryReservation": 128,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web",
                                                                     "awslogs-region": REGION,
                                                                     "awslogs-stream-prefix": "migrate"}},
        },
        {
            "name": "log_router",
            "image": FLUENT_BIT,
            "essential": True,
            "memoryReservation": 64,
            "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
        },
    ],
    "tags": [{"key": "managed-by", "value": "terraform"}, {"key": "team", "value": "payments"}],
}


def use_test_aws(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Test credentials and region; no developer config files leak in (``home`` holds none)."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "no-config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-creds"),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Test credentials and region; no developer config files leak in."""
    use_test_aws(monkeypatch, tmp_path)


@pytest.fixture
def ecs(aws_env):
    with mock_aws():
        yield boto3.client("ecs", region_name=REGION)


@dataclass
class World:
    ecs: Any
    cluster: str = "demo"
    service: str = "web"
    template_arn: str = ""
    digests: dict[str, str] | None = None  # tag -> digest of the images pushed to web

    def build(self, template: dict[str, Any]) -> "World":
        ecr = boto3.client("ecr", region_name=REGION)
        ecr.create_repository(repositoryName="web")
        self.digests = push_images(ecr, "web", PUSHED)
        self.ecs.create_cluster(clusterName=self.cluster)
        self.template_arn = self.register(template)
        self.ecs.create_service(cluster=self.cluster, serviceName=self.service,
                                taskDefinition=self.template_arn, desiredCount=2)
        return self

    def register(self, definition: dict[str, Any]) -> str:
        return self.ecs.register_task_definition(**copy.deepcopy(definition))["taskDefinition"]["taskDefinitionArn"]

    def service_task_definition(self) -> str:
        return self.ecs.describe_services(cluster=self.cluster, services=[self.service])["services"][0]["taskDefinition"]

    def describe(self, arn: str) -> tuple[dict[str, Any], dict[str, str]]:
        answer = self.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        return answer["taskDefinition"], {t["key"]: t["value"] for t in answer.get("tags", [])}

    def revisions(self) -> dict[str, list[str]]:
        """Status -> every task definition ARN, for before/after comparisons."""
        return {status: sorted(self.ecs.list_task_definitions(status=status)["taskDefinitionArns"])
                for status in ("ACTIVE", "INACTIVE")}

    def snapshot(self) -> dict[str, Any]:
        return {"revisions": self.revisions(), "service": self.service_task_definition()}

    def args(self, command: str, *extra: str) -> list[str]:
        # Plain moto never rolls a deployment out: these tests stop at the update
        # (tests/watch and scenarios/ watch rollouts on the simulator).
        wait = ["--no-wait"] if command == "deploy" else []
        return [command, "--cluster", self.cluster, "--service", self.service, "--template", "web-template", *wait, *extra]


@pytest.fixture
def moto_world(ecs):
    """A World on plain moto: template and service of SINGLE_TEMPLATE."""
    return World(ecs).build(SINGLE_TEMPLATE)


@pytest.fixture
def rich_world(ecs):
    return World(ecs).build(RICH_TEMPLATE)


def refuse(session: boto3.Session, operation: str, code: str = "AccessDeniedException", service: str = "ecs") -> list[dict]:
    """Make `operation` answer like IAM denying it; returns the list of refused requests."""
    refused: list[dict] = []

    def deny(params, **_):
        refused.append(params)
        message = f"User: arn:aws:sts::{ACCOUNT}:assumed-role/cd/ci is not authorized to perform: {service}:{operation}"
        return AWSResponse(f"https://{service}.us-east-1.amazonaws.com/", 400, {}, None), {
            "Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}

    session.events.register(f"before-call.{service}.{operation}", deny)
    return refused


def capture(session: boto3.Session, operation: str) -> list[dict]:
    """Record the parameters the tool sends for `operation` (as the caller gave them)."""
    calls: list[dict] = []

    def record(params, **_):
        calls.append(copy.deepcopy(params))

    session.events.register(f"provide-client-params.ecs.{operation}", record)
    return calls
