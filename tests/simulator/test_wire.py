"""The simulator's ECS answers skip moto's serializer (harness.ecs.wire) and
must still read exactly as moto would write them. This directory's conftest
checks every answer both ways; these tests show the check bites and that the
fast path is the one taken."""
from __future__ import annotations

import pytest
from moto.core.responses import ActionResult

from harness.ecs import wire


def test_answers_are_serialized_without_moto_serializer(ecs, monkeypatch):
    monkeypatch.setattr(wire, "CHECK", False)
    task_definition = ecs.settled_service()

    def moto_serializer(self, context):
        raise AssertionError(f"moto serialized {context.operation_model.name}")

    monkeypatch.setattr(ActionResult, "execute_result", moto_serializer)
    service = ecs.update(taskDefinition=task_definition, forceNewDeployment=True)
    ecs.settle()
    described = ecs.describe()
    assert described["serviceName"] == service["serviceName"] == "web"
    assert described["deployments"][0]["createdAt"] and described["events"]
    assert len(ecs.tasks()) == 2
    record = ecs.client.list_service_deployments(cluster="c", service="web")["serviceDeployments"][0]
    assert ecs.client.describe_service_deployments(
        serviceDeploymentArns=[record["serviceDeploymentArn"]])["serviceDeployments"][0]["status"]


def test_the_check_names_an_answer_the_two_serializers_disagree_on(ecs, monkeypatch):
    ecs.settled_service()
    walk = wire._walk

    def drop_status(value, shape, hidden):
        out = walk(value, shape, hidden)
        if shape.name == "Service":
            out.pop("status", None)
        return out

    monkeypatch.setattr(wire, "_walk", drop_status)
    with pytest.raises(Exception, match="DescribeServices: moto serializes"):
        ecs.describe()


@pytest.mark.parametrize("include", [[], ["TAGS"]])
def test_tags_are_left_out_unless_asked_for_as_moto_does(ecs, include):
    task_definition = ecs.task_definition()
    ecs.service(task_definition, tags=[{"key": "team", "value": "platform"}])
    ecs.settle(60)
    (service,) = ecs.client.describe_services(cluster="c", services=["web"], include=include)["services"]
    assert ("tags" in service) == bool(include)
    arns = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    tasks = ecs.client.describe_tasks(cluster="c", tasks=arns, include=include)["tasks"]
    assert len(tasks) == 2


def test_timestamps_keep_milliseconds_and_drop_the_rest():
    from datetime import datetime, timezone

    moment = datetime(2026, 12, 4, 18, 0, 0, 123987, tzinfo=timezone.utc)
    assert wire._epoch(moment) == moment.replace(microsecond=0).timestamp() + 0.123
    assert wire._epoch(moment.replace(microsecond=0)) == int(moment.replace(microsecond=0).timestamp())
