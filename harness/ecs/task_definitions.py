"""What ECS checks and adds when a task definition is registered, and moto
does not: Fargate's rules (network mode, task-level cpu and memory in one of
Fargate's sizes, an execution role for awslogs and ECR images), cpu and
memory given in vCPU / GB and kept as units, and the fields ECS writes on
every revision (`requiresAttributes`, `registeredBy`).

ECS's words are the ones its ClientExceptions carry, as users have reported
them (e.g. aws/amazon-ecs-cli#463 and #1145, mongodb/terraform-aws-ecs-task-definition#38,
cds-snc/notification-terraform#329); the Fargate sizes are those of ECS's
task-definition parameters page ("Task size").
"""
from __future__ import annotations

import re
from typing import Any

from moto.ecs.exceptions import EcsClientException

# Fargate (Linux) task sizes: cpu units -> the memory (MiB) it may have.
FARGATE_SIZES: dict[int, range] = {
    256: range(512, 2048 + 1, 512),   # 512, 1024, 2048 (1536 is not offered: checked below)
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}
EC2_TASK_CPU = range(128, 196608 + 1)  # units: 0.125 to 192 vCPU
_ECR_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
_VCPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$", re.IGNORECASE)
_GB = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*gb\s*$", re.IGNORECASE)


def units(value: Any, pattern: re.Pattern[str]) -> int | None:
    """ECS takes task cpu as "1024" or "1 vCPU", memory as "2048" or "2 GB", and
    keeps units (a whole number of cpu units or MiB); None: not a size."""
    text = str(value).strip()
    if text.isascii() and text.isdigit():   # "٢٥٦" is digits to Python, not to ECS
        return int(text)
    match = pattern.match(text)
    if match:
        number = float(match.group(1)) * 1024
        return int(number) if number.is_integer() else None
    return None


def check_registration(params: dict) -> dict[str, str]:
    """Refuse, with ECS's ClientException, what ECS refuses; else the task-level
    cpu and memory as ECS keeps them (units), for those given."""
    fargate = "FARGATE" in (params.get("requiresCompatibilities") or [])
    cpu_given, memory_given = params.get("cpu"), params.get("memory")
    cpu = units(cpu_given, _VCPU) if cpu_given not in (None, "") else None
    memory = units(memory_given, _GB) if memory_given not in (None, "") else None
    if cpu_given not in (None, "") and cpu is None:
        raise EcsClientException("Invalid 'cpu' setting for task. For more information, see the Troubleshooting "
                                 "section of the Amazon ECS Developer Guide.")
    if memory_given not in (None, "") and memory is None:
        raise EcsClientException("Invalid 'memory' setting for task. For more information, see the Troubleshooting "
                                 "section of the Amazon ECS Developer Guide.")
    if fargate:
        if (params.get("networkMode") or "bridge") != "awsvpc":
            raise EcsClientException("Fargate only supports network mode \u2018awsvpc\u2019.")
        if cpu is None:
            raise EcsClientException("Fargate requires that 'cpu' be defined at the task level.")
        if memory is None:
            raise EcsClientException("Fargate requires that 'memory' be defined at the task level.")
        allowed = FARGATE_SIZES.get(cpu)
        if allowed is None or memory not in allowed or (cpu == 256 and memory == 1536):
            raise EcsClientException(f"No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. "
                                     "See the Amazon ECS documentation for the valid values.")
        if not params.get("executionRoleArn"):
            containers = params.get("containerDefinitions") or []
            if any((c.get("logConfiguration") or {}).get("logDriver") == "awslogs" for c in containers):
                raise EcsClientException("Fargate requires task definition to have execution role ARN to support "
                                         "log driver awslogs.")
            if any(_ECR_IMAGE.match(str(c.get("image") or "")) for c in containers):
                raise EcsClientException("Fargate requires task definition to have execution role ARN to support "
                                         "ECR images.")
    elif cpu is not None and cpu not in EC2_TASK_CPU:
        raise EcsClientException("Invalid 'cpu' setting for task. For more information, see the Troubleshooting "
                                 "section of the Amazon ECS Developer Guide.")
    mode = params.get("networkMode")
    if mode in ("awsvpc", "host"):
        for container in params.get("containerDefinitions") or []:
            for mapping in container.get("portMappings") or []:
                if mapping.get("hostPort") not in (None, 0, mapping.get("containerPort")):
                    raise EcsClientException(f"When networkMode={mode}, the host ports and container ports in port "
                                             "mappings must match.")
    kept = {}
    if cpu is not None:
        kept["cpu"] = str(cpu)
    if memory is not None:
        kept["memory"] = str(memory)
    return kept


def complete_port_mappings(containers: list[dict], network_mode: str | None) -> None:
    """ECS fills in each port mapping's protocol (tcp) and, where a task has its own
    network stack (awsvpc, host), the host port: the container's."""
    for container in containers:
        for mapping in container.get("portMappings") or []:
            mapping.setdefault("protocol", "tcp")
            if network_mode in ("awsvpc", "host") and "containerPort" in mapping:
                mapping.setdefault("hostPort", mapping["containerPort"])


def requires_attributes(params: dict) -> list[dict[str, str]]:
    """The container-instance attributes ECS writes on a revision for what its
    containers use (as ECS lists them; the docker-remote-api versions beyond
    1.18/1.19 that ECS also adds are not modelled)."""
    names = ["com.amazonaws.ecs.capability.docker-remote-api.1.18"]
    containers = params.get("containerDefinitions") or []
    execution_role = bool(params.get("executionRoleArn"))

    def add(name: str) -> None:
        if name not in names:
            names.append(name)

    for container in containers:
        if (container.get("logConfiguration") or {}).get("logDriver") == "awslogs":
            add("com.amazonaws.ecs.capability.logging-driver.awslogs")
            add("com.amazonaws.ecs.capability.docker-remote-api.1.19")
            if execution_role:
                add("ecs.capability.execution-role-awslogs")
        if _ECR_IMAGE.match(str(container.get("image") or "")):
            add("com.amazonaws.ecs.capability.ecr-auth")
            if execution_role:
                add("ecs.capability.execution-role-ecr-pull")
        for secret in container.get("secrets") or []:
            source = str(secret.get("valueFrom") or "")
            add("ecs.capability.secrets.asm.environment-variables" if ":secretsmanager:" in source
                else "ecs.capability.secrets.ssm.environment-variables")
        if container.get("healthCheck"):
            add("ecs.capability.container-health-check")
        if container.get("environmentFiles"):
            add("ecs.capability.env-files.s3")
    if params.get("taskRoleArn"):
        add("com.amazonaws.ecs.capability.task-iam-role")
    if params.get("networkMode") == "awsvpc":
        add("ecs.capability.task-eni")
    return [{"name": name} for name in names]


def registered_by(account: str) -> str:
    """The principal ECS names as the registrant: the emulator's callers are all
    the account's root (moto signs nothing)."""
    return f"arn:aws:iam::{account}:root"
