"""Answers are ECS's: every key and type of the raw JSON is in botocore's
output shape, ARNs and error codes are ECS's."""
from __future__ import annotations

import json

import botocore.exceptions
import pytest

TYPES = {"string": str, "integer": int, "long": int, "boolean": bool, "double": (int, float), "float": (int, float),
         "timestamp": (int, float)}


def check(value, shape, path="") -> list[str]:
    problems = []
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected object"]
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}: not in {shape.name}")
            else:
                problems += check(item, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list":
        if not isinstance(value, list):
            return [f"{path}: expected list"]
        for i, item in enumerate(value):
            problems += check(item, shape.member, f"{path}[{i}]")
    elif shape.type_name == "map":
        problems += [] if isinstance(value, dict) else [f"{path}: expected map"]
    else:
        if not isinstance(value, TYPES[shape.type_name]) or (shape.type_name == "integer" and isinstance(value, bool)):
            problems.append(f"{path}: {value!r} is not {shape.type_name}")
        if getattr(shape, "enum", None) and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in enum")
    return problems


@pytest.fixture
def raw(ecs):
    """operation name -> raw JSON body of its last answer."""
    bodies = {}

    def keep(http_response, model, **_):
        bodies[model.name] = (json.loads(http_response.content or b"{}"), model.output_shape)

    ecs.client.meta.events.register("after-call.ecs", keep)
    return bodies


def test_service_and_task_answers_fit_botocore_output_shapes(ecs, aws, raw):
    tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
    check_hc = {"command": ["CMD", "true"], "interval": 10, "retries": 3}
    aws.sim.declare_image("app:2", crash_after=30)
    ecs.service(ecs.task_definition("app:1", health_check=check_hc), desired=3, healthCheckGracePeriodSeconds=30,
                loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}],
                deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    ecs.settle()
    ecs.update(taskDefinition=ecs.task_definition("app:2", health_check=check_hc))
    ecs.settle(240)
    ecs.describe()
    ecs.tasks("RUNNING")
    ecs.tasks("STOPPED")
    ecs.client.stop_task(cluster="c", task=ecs.client.list_tasks(cluster="c")["taskArns"][0])
    ecs.client.run_task(cluster="c", taskDefinition="app")
    ecs.client.delete_service(cluster="c", service="web", force=True)
    assert {"CreateService", "UpdateService", "DescribeServices", "ListTasks", "DescribeTasks", "StopTask",
            "RunTask", "DeleteService"} <= set(raw)
    problems = [p for name, (body, shape) in raw.items() for p in check(body, shape, name)]
    assert problems == []
    service = raw["DescribeServices"][0]["services"][0]
    assert isinstance(service["createdAt"], (int, float)) and "networkConfiguration" not in service
    assert service["serviceArn"] == "arn:aws:ecs:us-east-1:123456789012:service/c/web"


@pytest.mark.parametrize(("call", "code"), [
    (lambda c: c.describe_services(cluster="nope", services=["web"]), "ClusterNotFoundException"),
    (lambda c: c.update_service(cluster="c", service="nope", desiredCount=1), "ServiceNotFoundException"),
    (lambda c: c.update_service(cluster="c", service="web", deploymentConfiguration={"minimumHealthyPercent": 150}),
     "InvalidParameterException"),
    (lambda c: c.update_service(cluster="c", service="web", taskDefinition="nope:9"), "ClientException"),
    (lambda c: c.delete_service(cluster="c", service="web"), "InvalidParameterException"),
    (lambda c: c.stop_task(cluster="c", task="f" * 32), "InvalidParameterException"),
    (lambda c: c.create_service(cluster="c", serviceName="web", taskDefinition="app", desiredCount=1),
     "InvalidParameterException"),
])
def test_errors_carry_ecs_error_codes(ecs, call, code):
    ecs.service(ecs.task_definition(), desired=1)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        call(ecs.client)
    assert err.value.response["Error"]["Code"] == code


def test_update_of_a_deleted_service_is_service_not_active(ecs):
    ecs.service(ecs.task_definition(), desired=0)
    ecs.client.delete_service(cluster="c", service="web")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        ecs.update(desiredCount=1)
    assert err.value.response["Error"]["Code"] == "ServiceNotActiveException"


def test_invalid_update_changes_nothing(ecs, aws):
    """Validate before mutating: a rejected UpdateService leaves the service as it was."""
    td = ecs.task_definition()
    ecs.service(td, desired=2)
    ecs.settle()
    with pytest.raises(botocore.exceptions.ClientError):
        ecs.update(desiredCount=5, taskDefinition="nope:3")
    service = ecs.describe()
    assert (service["desiredCount"], service["taskDefinition"], len(service["deployments"])) == (2, td, 1)


def test_services_and_their_tags_are_visible_to_other_moto_services(ecs, aws):
    """Shadows: ListServices, tagging by service ARN, DescribeServices include=TAGS."""
    arn = ecs.service(ecs.task_definition(), tags=[{"key": "team", "value": "a"}])["serviceArn"]
    assert ecs.client.list_services(cluster="c")["serviceArns"] == [arn]
    ecs.client.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "b"}])
    assert {t["key"] for t in ecs.client.list_tags_for_resource(resourceArn=arn)["tags"]} == {"team", "env"}
    described = ecs.client.describe_services(cluster="c", services=["web"], include=["TAGS"])["services"][0]
    assert {t["key"] for t in described["tags"]} == {"team", "env"}


def test_tags_follow_each_requests_include_whatever_came_before(ecs, aws, monkeypatch):
    """moto keeps 'leave tags out' as class-level serializer state across requests
    and mock sessions: an earlier answer without tags (here or in a plain-moto
    test run before this one) must not hide them from a request that asks."""
    from moto.ecs.responses import DESCRIBE_SERVICES_TAGS, DESCRIBE_TASKS_TAGS, EC2ContainerServiceResponse
    from moto.core.responses import never_return

    transformers = EC2ContainerServiceResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER
    for key in (DESCRIBE_SERVICES_TAGS, DESCRIBE_TASKS_TAGS):  # what a plain-moto describe leaves behind
        monkeypatch.setitem(transformers, key, never_return)
    ecs.service(ecs.task_definition(), tags=[{"key": "team", "value": "a"}])
    ecs.settle(60)
    task_arn = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"][0]
    for _ in range(2):
        with_tags = ecs.client.describe_services(cluster="c", services=["web"], include=["TAGS"])["services"][0]
        assert [t["key"] for t in with_tags["tags"]] == ["team"]
        assert "tags" in ecs.client.describe_tasks(cluster="c", tasks=[task_arn], include=["TAGS"])["tasks"][0]
        assert "tags" not in ecs.client.describe_services(cluster="c", services=["web"])["services"][0]
        assert "tags" not in ecs.client.describe_tasks(cluster="c", tasks=[task_arn])["tasks"][0]
