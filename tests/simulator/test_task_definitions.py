"""RegisterTaskDefinition as ECS answers it: Fargate's refusals in ECS's words,
cpu/memory kept as units, and the fields ECS writes on every revision."""
from __future__ import annotations

import pytest

ROLE = "arn:aws:iam::123456789012:role/exec"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1"
AWSLOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "g", "awslogs-region": "us-east-1",
                                               "awslogs-stream-prefix": "app"}}


def register(ecs, container: dict | None = None, **task) -> dict:
    definition = {"name": "app", "image": "nginx:1.27", "essential": True, **(container or {})}
    fargate = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512"}
    given = {key: value for key, value in {**fargate, **task}.items() if value is not None}  # None: left out
    return ecs.client.register_task_definition(family="app", containerDefinitions=[definition], **given)


@pytest.mark.parametrize(("task", "container", "message"), [
    ({"networkMode": "bridge"}, None, "Fargate only supports network mode \u2018awsvpc\u2019."),
    ({"cpu": None}, None, "Fargate requires that 'cpu' be defined at the task level."),
    ({"memory": None}, None, "Fargate requires that 'memory' be defined at the task level."),
    ({"cpu": "300"}, None, "No Fargate configuration exists for given values: 300 CPU, 512 memory. "
                           "See the Amazon ECS documentation for the valid values."),
    ({"cpu": "256", "memory": "4096"}, None, "No Fargate configuration exists for given values: 256 CPU, 4096 memory."),
    ({}, {"logConfiguration": AWSLOGS}, "Fargate requires task definition to have execution role ARN to support "
                                        "log driver awslogs."),
    ({}, {"image": ECR}, "Fargate requires task definition to have execution role ARN to support ECR images."),
    ({"cpu": "lots"}, None, "Invalid 'cpu' setting for task."),
    ({"cpu": "\u0662\u0665\u0666"}, None, "Invalid 'cpu' setting for task."),
], ids=["bridge", "no-cpu", "no-memory", "cpu-300", "memory-too-big", "awslogs-no-role", "ecr-no-role", "cpu-word",
        "cpu-arabic-digits"])
def test_fargate_refuses_what_ecs_refuses_in_ecs_words_and_registers_nothing(ecs, task, container, message):
    with pytest.raises(ecs.client.exceptions.ClientException) as raised:
        register(ecs, container, **task)
    assert raised.value.response["Error"]["Message"].startswith(message)
    assert ecs.client.list_task_definitions(familyPrefix="app")["taskDefinitionArns"] == []


def test_the_same_definitions_register_with_an_execution_role_and_a_fargate_size(ecs):
    td = register(ecs, {"image": ECR, "logConfiguration": AWSLOGS}, executionRoleArn=ROLE, cpu="1024", memory="4096")
    assert td["taskDefinition"]["revision"] == 1


def test_ec2_tasks_keep_bridge_and_any_task_cpu_ecs_allows_but_not_below_128(ecs):
    client = ecs.client
    definition = {"name": "app", "image": "nginx:1.27", "memory": 128}
    ok = client.register_task_definition(family="app", containerDefinitions=[definition], networkMode="bridge",
                                         cpu="300", requiresCompatibilities=["EC2"])["taskDefinition"]
    assert (ok["networkMode"], ok["cpu"]) == ("bridge", "300")
    with pytest.raises(client.exceptions.ClientException, match="Invalid 'cpu' setting for task"):
        client.register_task_definition(family="app", containerDefinitions=[definition], cpu="64")


def test_cpu_in_vcpu_and_memory_in_gb_are_kept_as_units(ecs):
    td = register(ecs, cpu="0.5 vCPU", memory="1 GB")["taskDefinition"]
    assert (td["cpu"], td["memory"]) == ("512", "1024")
    described = ecs.client.describe_task_definition(taskDefinition=td["taskDefinitionArn"])["taskDefinition"]
    assert (described["cpu"], described["memory"]) == ("512", "1024")


def test_every_revision_names_its_registrant_and_the_attributes_its_containers_need(ecs):
    container = {"image": ECR, "logConfiguration": AWSLOGS,
                 "secrets": [{"name": "DB", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}]}
    answer = register(ecs, container, executionRoleArn=ROLE, taskRoleArn=ROLE)
    td = answer["taskDefinition"]
    names = {a["name"] for a in td["requiresAttributes"]}
    assert {"com.amazonaws.ecs.capability.logging-driver.awslogs", "ecs.capability.execution-role-awslogs",
            "com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull",
            "ecs.capability.secrets.asm.environment-variables", "com.amazonaws.ecs.capability.task-iam-role",
            "ecs.capability.task-eni", "com.amazonaws.ecs.capability.docker-remote-api.1.18",
            "com.amazonaws.ecs.capability.docker-remote-api.1.19"} == names
    assert td["registeredBy"] == "arn:aws:iam::123456789012:root"
    described = ecs.client.describe_task_definition(taskDefinition=td["taskDefinitionArn"])["taskDefinition"]
    assert described["requiresAttributes"] == td["requiresAttributes"]


def test_plain_containers_need_only_the_base_docker_api(ecs):
    td = register(ecs)["taskDefinition"]
    assert [a["name"] for a in td["requiresAttributes"]] == [
        "com.amazonaws.ecs.capability.docker-remote-api.1.18", "ecs.capability.task-eni"]


def test_the_register_answer_carries_the_revisions_tags_beside_it(ecs):
    tags = [{"key": "team", "value": "web"}]
    assert register(ecs, tags=tags)["tags"] == tags
    assert "tags" not in register(ecs)


def test_port_mappings_get_ecs_protocol_and_on_awsvpc_the_host_port_of_the_container(ecs):
    td = register(ecs, {"portMappings": [{"containerPort": 8080}]})["taskDefinition"]
    assert td["containerDefinitions"][0]["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    bridge = ecs.client.register_task_definition(
        family="b", networkMode="bridge",
        containerDefinitions=[{"name": "app", "image": "nginx:1.27", "memory": 128, "portMappings": [{"containerPort": 80}]}],
    )["taskDefinition"]
    assert bridge["containerDefinitions"][0]["portMappings"] == [{"containerPort": 80, "protocol": "tcp"}]  # dynamic


def test_on_awsvpc_a_host_port_other_than_the_container_port_is_refused(ecs):
    with pytest.raises(ecs.client.exceptions.ClientException,
                       match="When networkMode=awsvpc, the host ports and container ports in port mappings must match."):
        register(ecs, {"portMappings": [{"containerPort": 80, "hostPort": 8080}]})
