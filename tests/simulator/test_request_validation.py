"""Requests ECS refuses, refused as ECS does (error code and words), changing nothing."""
from __future__ import annotations

import pytest


def refused(call, code: str, words: str) -> None:
    with pytest.raises(Exception) as raised:
        call()
    error = raised.value.response["Error"]
    assert error["Code"] == code and words in error["Message"], error
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400  # not a 500 botocore would retry


@pytest.mark.parametrize("kwargs, words", [
    ({"nextToken": "garbage"}, "Invalid nextToken"),
    ({"maxResults": 0}, "maxResults must be between 1 and 100"),
    ({"maxResults": 101}, "maxResults must be between 1 and 100"),
])
def test_list_tasks_checks_its_page_parameters(ecs, kwargs, words):
    ecs.service(ecs.task_definition(), desired=1)
    refused(lambda: ecs.client.list_tasks(cluster="c", serviceName="web", **kwargs), "InvalidParameterException", words)


def test_list_tasks_pages_with_the_tokens_it_gives(ecs, aws):
    ecs.service(ecs.task_definition(), desired=3)
    aws.clock.sleep(5)
    first = ecs.client.list_tasks(cluster="c", serviceName="web", maxResults=2)
    second = ecs.client.list_tasks(cluster="c", serviceName="web", maxResults=2, nextToken=first["nextToken"])
    assert len(first["taskArns"]) == 2 and len(second["taskArns"]) == 1 and "nextToken" not in second


def test_describe_services_takes_at_most_ten(ecs):
    refused(lambda: ecs.client.describe_services(cluster="c", services=[f"s{i}" for i in range(11)]),
            "InvalidParameterException", "at most 10 items")


def test_describe_tasks_takes_at_most_a_hundred(ecs):
    refused(lambda: ecs.client.describe_tasks(cluster="c", tasks=[f"{i:032x}" for i in range(101)]),
            "InvalidParameterException", "at most 100 items")


@pytest.mark.parametrize("controller, words", [
    ("CODE_DEPLOY", "Use AWS CodeDeploy to trigger a new deployment"),
    ("EXTERNAL", "Please use Task Set API"),
])
def test_a_service_ecs_does_not_deploy_refuses_a_new_task_definition(ecs, aws, controller, words):
    first = ecs.task_definition("app:v1")
    ecs.service(first, desired=1, deploymentController={"type": controller})
    second = ecs.task_definition("app:v2")
    refused(lambda: ecs.update(taskDefinition=second), "InvalidParameterException", words)
    assert ecs.describe()["taskDefinition"] == first
    ecs.update(desiredCount=2)  # the count is still the service's own
    assert ecs.describe()["desiredCount"] == 2
