"""Semantics page 2025, "Service deployments and revisions" and "StopServiceDeployment":
the records ECS keeps of each deployment, read through the API they are documented in."""
from __future__ import annotations

import datetime as dt
import re

import botocore.session
import pytest
from botocore.validate import ParamValidator

MODEL = botocore.session.get_session().get_service_model("ecs")


def fits(shape: str, value: dict) -> dict:
    report = ParamValidator().validate(value, MODEL.shape_for(shape))
    assert not report.has_errors(), report.generate_report()
    return value


def deployments(ecs, **kwargs) -> list[dict]:
    return ecs.client.list_service_deployments(cluster="c", service="web", **kwargs)["serviceDeployments"]


def described(ecs, arn: str) -> dict:
    (one,) = ecs.client.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    return one


def revision(ecs, arn: str) -> dict:
    (one,) = ecs.client.describe_service_revisions(serviceRevisionArns=[arn])["serviceRevisions"]
    return one


@pytest.fixture
def rolled(ecs, aws):
    """web on app:1 (settled), then app:2 deployed and settled."""
    first = ecs.task_definition("app:v1")
    ecs.service(first, desired=2)
    ecs.settle(300)
    second = ecs.task_definition("app:v2")
    ecs.update(taskDefinition=second)
    ecs.settle(300)
    return first, second


def test_each_deployment_starting_create_or_update_makes_a_revision_and_a_deployment(ecs, rolled):
    first, second = rolled
    newest, oldest = deployments(ecs)  # newest first
    assert [revision(ecs, d["targetServiceRevisionArn"])["taskDefinition"] for d in (oldest, newest)] == [first, second]
    assert re.fullmatch(r"arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/[A-Za-z0-9]{8}-[A-Za-z0-9]{11}",
                        newest["serviceDeploymentArn"])
    assert re.fullmatch(r"arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/\d+", newest["targetServiceRevisionArn"])
    assert {d["status"] for d in (oldest, newest)} == {"SUCCESSFUL"}


def test_a_revision_records_the_images_resolved_to_digests(ecs, rolled):
    target = revision(ecs, deployments(ecs)[0]["targetServiceRevisionArn"])
    fits("ServiceRevision", target)
    (image,) = target["containerImages"]
    assert image["containerName"] == "app" and image["image"] == "app:v2" and image["imageDigest"].startswith("sha256:")


def test_a_deployment_goes_pending_in_progress_successful_with_its_times(ecs, aws):
    ecs.service(ecs.task_definition("app:v1"), desired=2)
    (fresh,) = deployments(ecs)
    assert fresh["status"] == "PENDING" and "startedAt" not in fresh
    aws.clock.sleep(5)  # the next scheduler pass starts it
    assert deployments(ecs)[0]["status"] == "IN_PROGRESS"
    ecs.settle(300)
    done = fits("ServiceDeployment", described(ecs, fresh["serviceDeploymentArn"]))
    assert done["status"] == "SUCCESSFUL"
    assert done["createdAt"] <= done["startedAt"] < done["finishedAt"]
    assert done["targetServiceRevision"]["runningTaskCount"] == 2 and done["sourceServiceRevisions"] == []


def test_the_source_revisions_are_what_ran_before(ecs, rolled):
    newest, oldest = deployments(ecs)
    record = described(ecs, newest["serviceDeploymentArn"])
    assert [r["arn"] for r in record["sourceServiceRevisions"]] == [oldest["targetServiceRevisionArn"]]


def test_describe_services_names_the_current_deployment_and_revisions_next_to_the_old_list(ecs, aws):
    ecs.service(ecs.task_definition("app:v1"), desired=2)
    ecs.settle(300)
    ecs.update(taskDefinition=ecs.task_definition("app:v2"))
    aws.clock.sleep(30)
    service = ecs.describe()
    assert service["currentServiceDeployment"] == deployments(ecs)[0]["serviceDeploymentArn"]
    current = {r["arn"]: r for r in service["currentServiceRevisions"]}
    assert len(current) == len(service["deployments"]) == 2
    assert sum(r["runningTaskCount"] for r in current.values()) == sum(d["runningCount"] for d in service["deployments"])


def test_a_breaker_rollback_shows_on_the_failed_deployment_and_makes_no_revision(ecs, aws):
    first = ecs.task_definition("app:v1")
    ecs.service(first, desired=4, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 200, "minimumHealthyPercent": 100})
    ecs.settle(300)
    aws.sim.declare_image("app:crash", crash_after=1)
    ecs.update(taskDefinition=ecs.task_definition("app:crash"))
    aws.clock.sleep(60)
    failed, good = deployments(ecs)
    record = described(ecs, failed["serviceDeploymentArn"])
    assert record["status"] == "ROLLBACK_IN_PROGRESS"
    assert record["deploymentCircuitBreaker"] == {"status": "TRIGGERED", "failureCount": 3, "threshold": 3}
    assert record["rollback"]["serviceRevisionArn"] == good["targetServiceRevisionArn"]
    ecs.settle(600)
    assert described(ecs, failed["serviceDeploymentArn"])["status"] == "ROLLBACK_SUCCESSFUL"
    assert len(deployments(ecs)) == 2  # the rollback made no service deployment of its own
    assert ecs.describe()["taskDefinition"] == first


def test_a_breaker_without_rollback_stops_the_deployment(ecs, aws):
    ecs.service(ecs.task_definition("app:v1"), desired=2, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    ecs.settle(300)
    aws.sim.declare_image("app:crash", crash_after=1)
    ecs.update(taskDefinition=ecs.task_definition("app:crash"))
    ecs.settle(300)
    record = described(ecs, deployments(ecs)[0]["serviceDeploymentArn"])
    assert record["status"] == "STOPPED" and "stoppedAt" in record
    assert record["deploymentCircuitBreaker"]["status"] == "TRIGGERED"


def test_stop_with_rollback_returns_to_the_last_successful_revision_without_a_new_one(ecs, aws, rolled):
    first, second = rolled
    aws.sim.declare_image("app:slow", start_seconds=600)
    ecs.update(taskDefinition=ecs.task_definition("app:slow"))
    aws.clock.sleep(20)
    arn = deployments(ecs)[0]["serviceDeploymentArn"]
    ecs.client.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    record = described(ecs, arn)
    assert record["status"] == "ROLLBACK_IN_PROGRESS" and record["rollback"]["reason"]
    ecs.client.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")  # already rolling back: carries on
    ecs.settle(600)
    assert described(ecs, arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert ecs.describe()["taskDefinition"] == second and len(ecs.describe()["deployments"]) == 1
    assert len(deployments(ecs)) == 3


def test_stop_with_abort_stops_where_it_is_and_starts_nothing_more(ecs, aws, rolled):
    aws.sim.declare_image("app:slow", start_seconds=600)
    ecs.update(taskDefinition=ecs.task_definition("app:slow"))
    aws.clock.sleep(20)
    arn = deployments(ecs)[0]["serviceDeploymentArn"]
    started = len(aws.sim.service("web").primary.tasks)
    ecs.client.stop_service_deployment(serviceDeploymentArn=arn, stopType="ABORT")
    ecs.settle(300)
    assert described(ecs, arn)["status"] == "STOPPED"
    assert len(aws.sim.service("web").primary.tasks) == started


def test_a_completed_deployment_cannot_be_stopped_and_an_unknown_one_is_not_found(ecs, rolled):
    arn = deployments(ecs)[0]["serviceDeploymentArn"]
    with pytest.raises(ecs.client.exceptions.ConflictException):
        ecs.client.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    with pytest.raises(ecs.client.exceptions.ServiceDeploymentNotFoundException):
        ecs.client.stop_service_deployment(serviceDeploymentArn=arn[:-3] + "xyz", stopType="ROLLBACK")


def test_a_deployment_replaced_while_in_progress_is_stopped(ecs, aws, rolled):
    aws.sim.declare_image("app:slow", start_seconds=600)
    ecs.update(taskDefinition=ecs.task_definition("app:slow"))
    aws.clock.sleep(20)
    ecs.update(taskDefinition=ecs.task_definition("app:v3"))
    newest, replaced = deployments(ecs)[:2]
    assert replaced["status"] == "STOPPED" and newest["status"] in ("PENDING", "IN_PROGRESS")


def test_list_filters_by_status_and_creation_time_and_pages_20_by_default(ecs, aws):
    ecs.service(ecs.task_definition("app:v1"), desired=1)
    for _ in range(24):
        ecs.update(forceNewDeployment=True)
        aws.clock.sleep(1)
    page = ecs.client.list_service_deployments(cluster="c", service="web")
    assert len(page["serviceDeployments"]) == 20 and page["nextToken"]
    rest = ecs.client.list_service_deployments(cluster="c", service="web", nextToken=page["nextToken"])
    assert len(rest["serviceDeployments"]) == 5 and "nextToken" not in rest
    assert {d["status"] for d in deployments(ecs, status=["STOPPED"], maxResults=100)} == {"STOPPED"}
    newest = deployments(ecs)[0]["createdAt"]
    assert [d["createdAt"] for d in deployments(ecs, createdAt={"after": newest - dt.timedelta(seconds=1.5)})] == [
        newest, newest - dt.timedelta(seconds=1)]


@pytest.mark.parametrize("call, code", [
    (lambda c: c.list_service_deployments(cluster="c", service="web", maxResults=101), "InvalidParameterException"),
    (lambda c: c.list_service_deployments(cluster="c", service="nope"), "ServiceNotFoundException"),
    (lambda c: c.list_service_deployments(cluster="nope", service="web"), "ClusterNotFoundException"),
    (lambda c: c.describe_service_deployments(serviceDeploymentArns=[f"a{i}" for i in range(21)]), "InvalidParameterException"),
    (lambda c: c.stop_service_deployment(serviceDeploymentArn="arn:x", stopType="ROLLBACK"), "ServiceDeploymentNotFoundException"),
])
def test_refusals_carry_ecs_error_codes(ecs, call, code):
    ecs.service(ecs.task_definition("app:v1"), desired=1)
    with pytest.raises(Exception) as raised:
        call(ecs.client)
    assert raised.value.response["Error"]["Code"] == code


def test_unknown_arns_are_missing_failures_not_errors(ecs, rolled):
    answer = ecs.client.describe_service_deployments(serviceDeploymentArns=["arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/gone"])
    assert answer["serviceDeployments"] == [] and answer["failures"][0]["reason"] == "MISSING"
    answer = ecs.client.describe_service_revisions(serviceRevisionArns=["arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/1"])
    assert answer["serviceRevisions"] == [] and answer["failures"][0]["reason"] == "MISSING"
