"""Semantics page 2025, "RunTask one-off tasks": overrides kept, declared exits, the waiter."""
from __future__ import annotations

import pytest


def run(ecs, **kwargs) -> str:
    (task,) = ecs.client.run_task(cluster="c", **kwargs)["tasks"]
    return task["taskArn"]


def describe(ecs, arn: str) -> dict:
    return ecs.client.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]


def test_run_task_keeps_command_and_environment_overrides_and_shows_them(ecs):
    td = ecs.task_definition("app:v1")
    overrides = {"containerOverrides": [{"name": "app", "command": ["bin/migrate", "--yes"],
                                         "environment": [{"name": "STEP", "value": "all"}]}], "memory": "256"}
    arn = run(ecs, taskDefinition=td, overrides=overrides)
    shown = describe(ecs, arn)["overrides"]
    assert shown["containerOverrides"] == overrides["containerOverrides"]
    assert shown["memory"] == "256"


def test_a_task_without_overrides_shows_every_container_named(ecs):
    arn = run(ecs, taskDefinition=ecs.task_definition("app:v1"))
    assert describe(ecs, arn)["overrides"]["containerOverrides"] == [{"name": "app"}]


def test_an_override_for_a_container_the_task_definition_lacks_is_refused(ecs):
    with pytest.raises(ecs.client.exceptions.InvalidParameterException, match="not a container in the TaskDefinition"):
        run(ecs, taskDefinition=ecs.task_definition("app:v1"), overrides={"containerOverrides": [{"name": "nope"}]})


def test_an_image_declared_to_exit_0_finishes_as_essential_container_exited_with_that_code(ecs, aws):
    aws.sim.declare_image("app:job", exit_code=0, exit_after=20)
    arn = run(ecs, taskDefinition=ecs.task_definition("app:job"))
    ecs.settle(60)
    task = describe(ecs, arn)
    assert (task["lastStatus"], task["stopCode"], task["stoppedReason"]) == (
        "STOPPED", "EssentialContainerExited", "Essential container in task exited")
    assert task["containers"][0]["exitCode"] == 0
    assert (task["stoppedAt"] - task["startedAt"]).total_seconds() == 20


def test_a_command_override_declared_to_fail_exits_with_its_code_whatever_the_image(ecs, aws):
    aws.sim.declare_command(["bin/migrate", "--yes"], exit_code=3, exit_after=5)
    td = ecs.task_definition("app:v1")
    arn = run(ecs, taskDefinition=td, overrides={"containerOverrides": [{"name": "app", "command": ["bin/migrate", "--yes"]}]})
    plain = run(ecs, taskDefinition=td)
    ecs.settle(60)
    assert describe(ecs, arn)["containers"][0]["exitCode"] == 3
    assert describe(ecs, plain)["lastStatus"] == "RUNNING"  # a healthy server image never exits


def test_exit_code_and_exit_after_go_together(aws):
    with pytest.raises(ValueError, match="go together"):
        aws.sim.declare_image("app:job", exit_code=0)


def test_the_tasks_stopped_waiter_returns_once_the_task_has_exited(ecs, aws):
    aws.sim.declare_image("app:job", exit_code=0, exit_after=30)
    arn = run(ecs, taskDefinition=ecs.task_definition("app:job"))
    with aws.virtual_sleep():  # the waiter sleeps 6 s between polls: virtual seconds
        ecs.client.get_waiter("tasks_stopped").wait(cluster="c", tasks=[arn])
    assert describe(ecs, arn)["containers"][0]["exitCode"] == 0


def test_an_awsvpc_task_without_a_network_configuration_is_refused_as_ecs_refuses_it(ecs):
    """The GitHub Action's default run-task call passed here and failed on AWS."""
    td = ecs.client.register_task_definition(
        family="job", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "nginx:1.27", "essential": True}])["taskDefinition"]["taskDefinitionArn"]
    with pytest.raises(ecs.client.exceptions.InvalidParameterException,
                       match="Network Configuration must be provided when networkMode 'awsvpc' is specified."):
        run(ecs, taskDefinition=td, launchType="FARGATE")
    subnet = "subnet-0123456789abcdef0"
    assert run(ecs, taskDefinition=td, launchType="FARGATE",
               networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}}).startswith("arn:aws:ecs:")


def tags_of(ecs, arn: str) -> dict[str, str]:
    task = ecs.client.describe_tasks(cluster="c", tasks=[arn], include=["TAGS"])["tasks"][0]
    return {t["key"]: t["value"] for t in task.get("tags", [])}


def test_run_task_tags_managed_tags_and_the_task_definitions_propagated_reach_the_task(ecs):
    td = ecs.client.register_task_definition(
        family="job", containerDefinitions=[{"name": "app", "image": "nginx:1.27", "memory": 128}],
        tags=[{"key": "team", "value": "payments"}, {"key": "cost", "value": "td"}])["taskDefinition"]["taskDefinitionArn"]
    arn = run(ecs, taskDefinition=td, tags=[{"key": "cost", "value": "run"}], enableECSManagedTags=True,
              propagateTags="TASK_DEFINITION")
    assert tags_of(ecs, arn) == {"aws:ecs:clusterName": "c", "team": "payments", "cost": "run"}  # the caller's win
    plain = run(ecs, taskDefinition=td)
    assert tags_of(ecs, plain) == {}
    assert "tags" not in describe(ecs, plain)  # without include=["TAGS"], as ECS answers


def test_run_task_refuses_to_propagate_a_services_tags(ecs):
    with pytest.raises(ecs.client.exceptions.InvalidParameterException, match="propagateTags SERVICE is not valid"):
        run(ecs, taskDefinition=ecs.task_definition("app:v1"), propagateTags="SERVICE")


@pytest.mark.parametrize("propagate, expected", [
    ("SERVICE", {"aws:ecs:clusterName": "c", "aws:ecs:serviceName": "web", "owner": "service"}),
    ("TASK_DEFINITION", {"aws:ecs:clusterName": "c", "aws:ecs:serviceName": "web", "owner": "task-definition"}),
    ("NONE", {"aws:ecs:clusterName": "c", "aws:ecs:serviceName": "web"}),
])
def test_a_services_tasks_carry_its_managed_and_propagated_tags(ecs, propagate, expected):
    td = ecs.client.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "nginx:1.27", "memory": 128}],
        tags=[{"key": "owner", "value": "task-definition"}])["taskDefinition"]["taskDefinitionArn"]
    ecs.service(td, enableECSManagedTags=True, propagateTags=propagate, tags=[{"key": "owner", "value": "service"}])
    ecs.settle(60)
    arns = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    assert arns and all(tags_of(ecs, arn) == expected for arn in arns)


def test_an_ec2_task_on_a_cluster_without_container_instances_is_refused_as_ecs_refuses_it(ecs):
    td = ecs.task_definition("app:v1")
    with pytest.raises(ecs.client.exceptions.InvalidParameterException,
                       match="No Container Instances were found in your cluster."):
        run(ecs, taskDefinition=td, launchType="EC2")
    assert ecs.client.list_tasks(cluster="c")["taskArns"] == []


def test_a_capacity_provider_the_cluster_does_not_have_is_refused_and_so_is_one_beside_a_launch_type(ecs):
    td = ecs.task_definition("app:v1")
    with pytest.raises(ecs.client.exceptions.InvalidParameterException,
                       match="cannot contain a capacity provider that is not associated with the cluster"):
        run(ecs, taskDefinition=td, capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    with pytest.raises(ecs.client.exceptions.InvalidParameterException,
                       match="Specifying both a launch type and capacity provider strategy is not supported"):
        run(ecs, taskDefinition=td, launchType="FARGATE",
            capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    assert ecs.client.list_tasks(cluster="c")["taskArns"] == []


def test_a_task_on_a_fargate_capacity_provider_of_the_cluster_runs_as_fargate(ecs):
    ecs.client.put_cluster_capacity_providers(cluster="c", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                                              defaultCapacityProviderStrategy=[])
    arn = run(ecs, taskDefinition=ecs.task_definition("app:v1"),
              capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    assert describe(ecs, arn)["launchType"] == "FARGATE"
