"""Known-good marks live in AWS (tags), so a fresh process finds them."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from ecs_template_deploy import knowngood

T = 1_795_000_000.0  # 2026-11-19T...Z, any fixed epoch


@pytest.fixture
def ecs():
    with mock_aws():
        client = boto3.client("ecs", region_name="us-east-1")
        client.calls = []
        client.meta.events.register("before-call.ecs", lambda model, **_: client.calls.append(model.name))
        yield client


def register(ecs, family: str, image: str = "web:1") -> str:
    return ecs.register_task_definition(
        family=family, containerDefinitions=[{"name": "app", "image": image, "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]


def make_service(ecs, task_definition: str) -> dict:
    ecs.create_cluster(clusterName="prod")
    return ecs.create_service(cluster="prod", serviceName="web", taskDefinition=task_definition, desiredCount=1)["service"]


def service_tags(ecs) -> dict[str, str]:
    svc = ecs.describe_services(cluster="prod", services=["web"], include=["TAGS"])["services"][0]
    return {t["key"]: t["value"] for t in svc.get("tags", [])}


def test_mark_tags_the_revision_with_the_time_and_points_the_service_at_it(ecs):
    first = register(ecs, "web")
    svc = make_service(ecs, first)
    marked = knowngood.mark(ecs, first, at=T, service_arn=svc["serviceArn"])
    assert marked.revision == "web:1"
    assert {"key": knowngood.TAG, "value": knowngood.iso(T)} in ecs.list_tags_for_resource(resourceArn=first)["tags"]
    assert service_tags(ecs)[knowngood.TAG] == first


def test_a_fresh_process_finds_it_through_the_service_pointer_in_one_call(ecs):
    first, second = register(ecs, "web"), register(ecs, "web", "web:2")
    svc = make_service(ecs, first)
    knowngood.mark(ecs, first, at=T, service_arn=svc["serviceArn"])
    tags = service_tags(ecs)
    fresh = boto3.client("ecs", region_name="us-east-1")
    calls = []
    fresh.meta.events.register("before-call.ecs", lambda model, **_: calls.append(model.name))
    found = knowngood.find(fresh, "web", service_tags=tags, exclude=[second])
    assert found == knowngood.KnownGood(first, knowngood.iso(T))
    assert calls == ["DescribeTaskDefinition"]


def test_without_pointer_the_newest_marked_revision_wins(ecs):
    arns = [register(ecs, "web", f"web:{n}") for n in range(1, 6)]
    knowngood.mark(ecs, arns[1], at=T)
    knowngood.mark(ecs, arns[2], at=T + 60)
    assert knowngood.find(ecs, "web").task_definition == arns[2]


def test_without_pointer_a_rollback_remark_beats_a_higher_revision(ecs):
    arns = [register(ecs, "web", f"web:{n}") for n in range(1, 4)]
    knowngood.mark(ecs, arns[0], at=T)
    knowngood.mark(ecs, arns[1], at=T + 60)
    knowngood.mark(ecs, arns[0], at=T + 120)  # web:2 misbehaved; rolled back to web:1, which completed again
    assert knowngood.find(ecs, "web").task_definition == arns[0]


def test_the_failing_revision_is_never_the_answer_even_if_once_marked(ecs):
    arns = [register(ecs, "web", f"web:{n}") for n in range(1, 4)]
    svc = make_service(ecs, arns[0])
    knowngood.mark(ecs, arns[0], at=T, service_arn=svc["serviceArn"])
    knowngood.mark(ecs, arns[2], at=T + 60, service_arn=svc["serviceArn"])
    found = knowngood.find(ecs, "web", service_tags=service_tags(ecs), exclude=[arns[2]])
    assert found.task_definition == arns[0]


def test_a_deregistered_revision_is_not_known_good_any_more(ecs):
    arns = [register(ecs, "web", f"web:{n}") for n in range(1, 4)]
    svc = make_service(ecs, arns[0])
    knowngood.mark(ecs, arns[0], at=T)
    knowngood.mark(ecs, arns[1], at=T + 60, service_arn=svc["serviceArn"])
    ecs.deregister_task_definition(taskDefinition=arns[1])
    assert knowngood.find(ecs, "web", service_tags=service_tags(ecs)).task_definition == arns[0]


def test_a_family_sharing_the_prefix_is_not_searched(ecs):
    worker = register(ecs, "web-worker")
    register(ecs, "web")
    knowngood.mark(ecs, worker, at=T)
    assert knowngood.find(ecs, "web") is None


def test_the_scan_reads_a_bounded_number_of_revisions(ecs):
    arns = [register(ecs, "web", f"web:{n}") for n in range(1, 11)]
    knowngood.mark(ecs, arns[0], at=T)
    ecs.calls.clear()
    assert knowngood.find(ecs, "web", scan_limit=5) is None
    assert ecs.calls.count("ListTagsForResource") == 5
    assert knowngood.find(ecs, "web", scan_limit=10).task_definition == arns[0]


def test_a_service_that_cannot_be_tagged_still_gets_its_revision_marked(ecs):
    """Old short service ARNs refuse tags: the revision mark alone must do."""
    from botocore.awsrequest import AWSResponse

    first = register(ecs, "web")
    svc = make_service(ecs, first)

    def refuse_service_tags(params, **_):
        if json.loads(params.get("body") or b"{}").get("resourceArn") == svc["serviceArn"]:  # the serialized request
            return AWSResponse("https://ecs.us-east-1.amazonaws.com/", 400, {}, None), {
                "Error": {"Code": "InvalidParameterException",
                          "Message": "Long arn format must be used for tagging operations"},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None

    ecs.meta.events.register("before-call.ecs.TagResource", refuse_service_tags)
    marked = knowngood.mark(ecs, first, at=T, service_arn=svc["serviceArn"])
    assert knowngood.TAG not in service_tags(ecs)
    assert knowngood.find(ecs, "web", service_tags={}) == marked
