"""What ECS shows of a Fargate task and service beyond their state: PROVISIONING
before the pull, the platform version LATEST resolves to, the task's cpu,
memory, zone and network interface, the service's role and creator."""
from __future__ import annotations

import pytest

ROLE = "arn:aws:iam::123456789012:role/exec"


@pytest.fixture
def network(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1b")["Subnet"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    return {"awsvpcConfiguration": {"subnets": [subnet["SubnetId"]], "securityGroups": [group],
                                    "assignPublicIp": "DISABLED"}}


def fargate_definition(ecs) -> str:
    return ecs.client.register_task_definition(
        family="app", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="512", memory="1024",
        executionRoleArn=ROLE, containerDefinitions=[{"name": "app", "image": "app:1",
                                                      "portMappings": [{"containerPort": 8080}]}],
    )["taskDefinition"]


def describe(ecs, arn: str) -> dict:
    return ecs.client.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]


def test_a_fargate_task_provisions_then_pulls_then_runs_when_it_always_did(ecs, aws, network):
    td = fargate_definition(ecs)["taskDefinitionArn"]
    (task,) = ecs.client.run_task(cluster="c", taskDefinition=td, launchType="FARGATE",
                                  networkConfiguration=network)["tasks"]
    assert task["lastStatus"] == "PROVISIONING" and "pullStartedAt" not in task and "connectivity" not in task
    assert task["attachments"][0]["status"] == "PRECREATED"
    aws.clock.sleep(aws.sim.params.fargate_provisioning_seconds)
    pulling = describe(ecs, task["taskArn"])
    assert pulling["lastStatus"] == "PENDING" and pulling["connectivity"] == "CONNECTED"
    assert pulling["pullStartedAt"] == pulling["connectivityAt"]
    assert (pulling["pullStartedAt"] - pulling["createdAt"]).total_seconds() == aws.sim.params.fargate_provisioning_seconds
    aws.clock.sleep(aws.sim.params.image_pull_seconds + aws.sim.params.container_start_seconds)
    running = describe(ecs, task["taskArn"])
    assert running["lastStatus"] == "RUNNING"
    started = (running["startedAt"] - running["createdAt"]).total_seconds()
    assert started == aws.sim.params.image_pull_seconds + aws.sim.params.container_start_seconds


def test_a_fargate_task_shows_its_size_zone_platform_and_network_interface(ecs, aws, network):
    td = fargate_definition(ecs)["taskDefinitionArn"]
    (task,) = ecs.client.run_task(cluster="c", taskDefinition=td, launchType="FARGATE",
                                  networkConfiguration=network)["tasks"]
    aws.clock.sleep(60)
    shown = describe(ecs, task["taskArn"])
    assert (shown["cpu"], shown["memory"], shown["availabilityZone"]) == ("512", "1024", "us-east-1b")
    assert (shown["platformVersion"], shown["platformFamily"]) == ("1.4.0", "Linux")
    (eni,) = shown["attachments"]
    details = {d["name"]: d["value"] for d in eni["details"]}
    assert (eni["type"], eni["status"]) == ("ElasticNetworkInterface", "ATTACHED")
    assert details["subnetId"] == network["awsvpcConfiguration"]["subnets"][0]
    assert details["networkInterfaceId"].startswith("eni-") and details["privateIPv4Address"].startswith("10.0.")
    ecs.client.stop_task(cluster="c", task=task["taskArn"])
    aws.clock.sleep(120)
    assert describe(ecs, task["taskArn"])["attachments"][0]["status"] == "DELETED"


def test_an_ec2_task_has_neither_provisioning_nor_a_platform_version(ecs, aws):
    (task,) = ecs.client.run_task(cluster="c", taskDefinition=ecs.task_definition("app:1"))["tasks"]
    assert task["lastStatus"] == "PENDING" and "pullStartedAt" in task
    assert "platformVersion" not in task and "attachments" not in task


def test_a_fargate_service_shows_latest_its_deployment_and_tasks_what_it_resolves_to(ecs, aws, network):
    td = fargate_definition(ecs)["taskDefinitionArn"]
    service = ecs.service(td, launchType="FARGATE", networkConfiguration=network, tags=[{"key": "team", "value": "web"}])
    assert (service["platformVersion"], service["platformFamily"]) == ("LATEST", "Linux")
    assert service["deployments"][0]["platformVersion"] == "1.4.0"
    assert service["roleArn"].endswith(":role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS")
    assert service["createdBy"] == "arn:aws:iam::123456789012:root"
    assert service["tags"] == [{"key": "team", "value": "web"}]   # CreateService answers with its tags
    assert "tags" not in ecs.describe()                          # DescribeServices only with include=TAGS
    ecs.settle()
    (task,) = ecs.tasks()[:1]
    assert task["platformVersion"] == "1.4.0" and task["availabilityZone"] == "us-east-1b"
