"""Semantics page, "Service and deployment shape"."""
from __future__ import annotations

import re

import pytest


def test_service_shape_has_counts_deployments_events_and_deployment_configuration_defaults(ecs):
    """A service has desiredCount, runningCount, pendingCount, taskDefinition,
    deployments, events and deploymentConfiguration with min 100 / max 200 and
    the circuit breaker off by default."""
    td = ecs.task_definition()
    ecs.service(td, desired=3)
    service = ecs.describe()
    assert (service["desiredCount"], service["runningCount"], service["pendingCount"]) == (3, 0, 0)
    assert service["taskDefinition"] == td
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    ecs.settle(5)
    assert ecs.describe()["pendingCount"] == 3


def test_deployment_configuration_alarms_are_kept(ecs):
    """deploymentConfiguration.alarms {alarmNames, enable, rollback} is part of the shape."""
    alarms = {"alarmNames": ["p99"], "enable": True, "rollback": False}
    ecs.service(ecs.task_definition(), deploymentConfiguration={"alarms": alarms})
    assert ecs.describe()["deploymentConfiguration"]["alarms"] == alarms


def test_deployment_has_id_status_counts_rollout_state_and_timestamps(ecs):
    """A deployment has id ecs-svc/<digits>, status, taskDefinition, desired/pending/
    running counts, failedTasks, rolloutState(+Reason), createdAt, updatedAt."""
    ecs.service(ecs.task_definition(), desired=2)
    (deployment,) = ecs.describe()["deployments"]
    assert re.fullmatch(r"ecs-svc/\d{19}", deployment["id"])
    assert (deployment["status"], deployment["rolloutState"]) == ("PRIMARY", "IN_PROGRESS")
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} in progress."
    assert (deployment["desiredCount"], deployment["failedTasks"]) == (2, 0)
    assert deployment["createdAt"] == deployment["updatedAt"]
    ecs.settle(300)
    (deployment,) = ecs.describe()["deployments"]
    assert (deployment["rolloutState"], deployment["runningCount"]) == ("COMPLETED", 2)
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."


def test_new_task_definition_starts_a_new_deployment(ecs):
    """A new deployment starts when UpdateService changes the task definition."""
    ecs.service(ecs.task_definition("nginx:1"))
    ecs.settle()
    ecs.update(taskDefinition=ecs.task_definition("nginx:2"))
    assert [d["status"] for d in ecs.describe()["deployments"]] == ["PRIMARY", "ACTIVE"]


def test_force_new_deployment_starts_a_new_deployment_with_the_same_task_definition(ecs):
    td = ecs.task_definition()
    ecs.service(td)
    ecs.settle()
    ecs.update(forceNewDeployment=True)
    deployments = ecs.describe()["deployments"]
    assert [(d["status"], d["taskDefinition"]) for d in deployments] == [("PRIMARY", td), ("ACTIVE", td)]


def test_network_configuration_change_starts_a_new_deployment(ecs, aws):
    """Deployment-shaping fields such as network configuration start a deployment."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="a", Description="a", VpcId=vpc)["GroupId"]
    ecs.service(ecs.task_definition(), networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}})
    ecs.settle()
    ecs.update(networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg], "assignPublicIp": "ENABLED"}})
    assert len(ecs.describe()["deployments"]) == 2


def test_desired_count_change_alone_resizes_the_primary_deployment(ecs):
    """A change of desiredCount alone does not start a deployment."""
    ecs.service(ecs.task_definition(), desired=2)
    ecs.settle()
    (before,) = ecs.describe()["deployments"]
    ecs.update(desiredCount=5)
    ecs.settle()
    (after,) = ecs.describe()["deployments"]
    assert after["id"] == before["id"]
    assert (after["desiredCount"], after["runningCount"]) == (5, 5)


def test_previous_primary_becomes_active_is_drained_and_disappears(ecs, aws):
    """The new deployment becomes PRIMARY; the previous PRIMARY becomes ACTIVE and
    is drained; a drained deployment disappears from deployments."""
    ecs.service(ecs.task_definition("nginx:1"), desired=2)
    ecs.settle()
    (old,) = ecs.describe()["deployments"]
    ecs.update(taskDefinition=ecs.task_definition("nginx:2"))
    statuses = []
    for _ in range(60):
        aws.clock.sleep(5)
        statuses.append(tuple((d["id"] == old["id"], d["status"]) for d in ecs.describe()["deployments"]))
    distinct = list(dict.fromkeys(statuses))
    assert distinct[0] == ((False, "PRIMARY"), (True, "ACTIVE"))
    assert distinct[-1] == ((False, "PRIMARY"),)
    stopped = ecs.tasks("STOPPED")
    assert {t["startedBy"] for t in stopped} == {old["id"]}
    assert {t["stoppedReason"] for t in stopped} == {f"Scaling activity initiated by (deployment {ecs.describe()['deployments'][0]['id']})"}


def test_delete_service_drains_its_tasks(ecs):
    ecs.service(ecs.task_definition(), desired=2)
    ecs.settle()
    ecs.update(desiredCount=0)
    deleted = ecs.client.delete_service(cluster="c", service="web")["service"]
    assert deleted["status"] == "DRAINING"
    ecs.settle(60)
    assert ecs.client.list_tasks(cluster="c")["taskArns"] == []
    assert ecs.describe()["status"] == "INACTIVE"


def test_create_service_is_idempotent_by_client_token_as_a_retry_after_a_lost_reply_needs(aws) -> None:
    """A client (Terraform's provider) that resends CreateService with the same clientToken gets the
    service it created; without the token, or with another, a second creation is refused as ECS does."""
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="c")
    arn = ecs.register_task_definition(family="t", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}])[
        "taskDefinition"]["taskDefinitionArn"]
    first = ecs.create_service(cluster="c", serviceName="s", taskDefinition=arn, desiredCount=0, clientToken="tok-1")
    again = ecs.create_service(cluster="c", serviceName="s", taskDefinition=arn, desiredCount=0, clientToken="tok-1")
    assert again["service"]["serviceArn"] == first["service"]["serviceArn"]
    for other in ({"clientToken": "tok-2"}, {}):
        with pytest.raises(ecs.exceptions.InvalidParameterException, match="not idempotent"):
            ecs.create_service(cluster="c", serviceName="s", taskDefinition=arn, desiredCount=0, **other)
