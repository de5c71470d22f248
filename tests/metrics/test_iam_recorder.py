"""The API-call recorder: what CD called, as IAM actions, and the least-privilege
policy that allows exactly that."""
from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest

from harness.metrics.iam import ApiCallRecorder, Permission, permissions_for, policy_document, with_placeholder

ACCOUNT = "123456789012"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-task"
EXEC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-exec"


def _cluster_with_service(ecs) -> str:
    ecs.create_cluster(clusterName="main")
    arn = ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "repo/app:1", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="main", serviceName="web", taskDefinition=arn, desiredCount=1)
    return arn


def test_records_calls_in_order_with_counts_through_a_session(moto_session: boto3.Session) -> None:
    recorder = ApiCallRecorder()
    recorder.attach(moto_session)
    ecs = moto_session.client("ecs")
    _cluster_with_service(ecs)
    ecs.describe_services(cluster="main", services=["web"])
    ecs.describe_services(cluster="main", services=["web"])

    assert recorder.operations() == [
        ("ecs", "CreateCluster"),
        ("ecs", "RegisterTaskDefinition"),
        ("ecs", "CreateService"),
        ("ecs", "DescribeServices"),
        ("ecs", "DescribeServices"),
    ]
    assert recorder.counts() == {
        "ecs:CreateCluster": 1,
        "ecs:RegisterTaskDefinition": 1,
        "ecs:CreateService": 1,
        "ecs:DescribeServices": 2,
    }


def test_iam_prefix_comes_from_the_signing_name_not_the_client_name(moto_session: boto3.Session) -> None:
    recorder = ApiCallRecorder()
    recorder.attach(moto_session)
    moto_session.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    moto_session.client("cloudwatch").describe_alarms()  # endpoint "monitoring", IAM "cloudwatch"
    moto_session.client("ecr").describe_repositories()  # endpoint "api.ecr", IAM "ecr"
    assert recorder.iam_actions() == [
        "application-autoscaling:DescribeScalableTargets",
        "cloudwatch:DescribeAlarms",
        "ecr:DescribeRepositories",
    ]


def test_a_client_created_before_attaching_to_its_session_is_attached_on_its_own(moto_session: boto3.Session) -> None:
    early = moto_session.client("ecs")
    on_session = ApiCallRecorder()
    on_session.attach(moto_session)
    early.list_clusters()
    assert on_session.calls == []  # boto3 copied the session's handlers at client creation

    on_client = ApiCallRecorder()
    on_client.attach(early)
    early.list_clusters()
    assert on_client.operations() == [("ecs", "ListClusters")]


def test_calls_rejected_client_side_are_not_recorded_but_denied_ones_are(moto_session: boto3.Session) -> None:
    recorder = ApiCallRecorder()
    ecs = recorder.attach(moto_session.client("ecs"))
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ecs.update_service(service="web", desiredCount="two")  # never sent
    with pytest.raises(ecs.exceptions.ClusterNotFoundException):
        ecs.update_service(cluster="nope", service="web", desiredCount=2)  # sent, refused
    assert recorder.operations() == [("ecs", "UpdateService")]


def test_detach_stops_recording(moto_session: boto3.Session) -> None:
    recorder = ApiCallRecorder()
    ecs = recorder.attach(moto_session.client("ecs"))
    ecs.list_clusters()
    recorder.detach(ecs)
    ecs.list_clusters()
    assert len(recorder.calls) == 1


def test_paginators_are_recorded_page_by_page(moto_session: boto3.Session) -> None:
    recorder = ApiCallRecorder()
    logs = recorder.attach(moto_session.client("logs"))
    for name in ("a", "b", "c"):
        logs.create_log_group(logGroupName=f"/ecs/{name}")
    recorder.clear()
    pages = list(logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) >= 3
    assert recorder.operations() == [("logs", "DescribeLogGroups")] * len(pages)


def test_register_task_definition_with_roles_and_tags_implies_pass_role_and_tag_resource(moto_session: boto3.Session) -> None:
    recorder = ApiCallRecorder(account_id=ACCOUNT)
    ecs = recorder.attach(moto_session.client("ecs"))
    ecs.register_task_definition(
        family="app-deploy",
        taskRoleArn=TASK_ROLE,
        executionRoleArn=EXEC_ROLE,
        containerDefinitions=[{"name": "app", "image": "repo/app:7", "memory": 128}],
        tags=[{"key": "ecs-template-deploy:template", "value": "app"}],
    )
    assert recorder.iam_actions(implied=False) == ["ecs:RegisterTaskDefinition"]
    assert recorder.iam_actions() == ["ecs:RegisterTaskDefinition", "ecs:TagResource", "iam:PassRole"]

    policy = recorder.policy_document()
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Iam1"] == {
        "Sid": "Iam1",
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": [EXEC_ROLE, TASK_ROLE],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    }
    tag = next(s for s in policy["Statement"] if s["Action"] == "ecs:TagResource")
    assert tag["Resource"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app-deploy:*"
    assert tag["Condition"] == {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}
    register = next(s for s in policy["Statement"] if s["Action"] == "ecs:RegisterTaskDefinition")
    assert register["Resource"] == "*"  # RegisterTaskDefinition takes no resource-level permission


def test_without_roles_or_tags_nothing_is_implied(moto_session: boto3.Session) -> None:
    recorder = ApiCallRecorder()
    ecs = recorder.attach(moto_session.client("ecs"))
    ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "r/a:1", "memory": 64}])
    assert recorder.iam_actions() == ["ecs:RegisterTaskDefinition"]


def test_service_and_repository_actions_are_scoped_to_their_arns(moto_session: boto3.Session) -> None:
    recorder = ApiCallRecorder(account_id=ACCOUNT)
    ecs = moto_session.client("ecs")
    ecr = moto_session.client("ecr")
    ecr.create_repository(repositoryName="app")
    arn = _cluster_with_service(ecs)
    recorder.attach(ecs)
    recorder.attach(ecr)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "1" * 64},
    })
    ecr.put_image(repositoryName="app", imageManifest=manifest, imageTag="prod")
    ecs.update_service(cluster="main", service="web", taskDefinition=arn, forceNewDeployment=True)
    ecs.describe_services(cluster=f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/main", services=["web"])

    statements = {s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]): s for s in recorder.policy_document()["Statement"]}
    assert statements["ecr:PutImage"]["Resource"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app"
    service_arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/main/web"
    assert statements[("ecs:DescribeServices", "ecs:UpdateService")]["Resource"] == service_arn


def test_account_defaults_to_a_wildcard_in_scoped_arns() -> None:
    recorder = ApiCallRecorder()
    recorder.record("ecs", "UpdateService", "eu-west-1", {"cluster": "c", "service": "s"})
    (permission,) = recorder.permissions()
    assert permission.resource == "arn:aws:ecs:eu-west-1:*:service/c/s"


def test_scoped_arns_hold_for_every_revision_and_any_secret_suffix() -> None:
    # A policy naming revision 7 would deny the tag on revision 8 at the next deploy.
    recorder = ApiCallRecorder(account_id="1")
    recorder.record("ecs", "TagResource", "us-east-1",
                    {"resourceArn": "arn:aws:ecs:us-east-1:1:task-definition/app:7", "tags": []})
    recorder.record("secretsmanager", "GetSecretValue", "us-east-1",
                    {"SecretId": "arn:aws:secretsmanager:us-east-1:1:secret:app/db-AbC123"})
    resources = {p.action: p.resource for p in recorder.permissions()}
    assert resources["ecs:TagResource"] == "arn:aws:ecs:us-east-1:1:task-definition/app:*"
    assert resources["secretsmanager:GetSecretValue"] == "arn:aws:secretsmanager:us-east-1:1:secret:app/db-??????"


def test_a_run_name_becomes_a_placeholder_so_the_policy_is_the_same_every_run() -> None:
    policies = []
    for run_name in ("s1234abcd", "sfeed0042"):
        recorder = ApiCallRecorder(account_id="1")
        recorder.record("ecs", "UpdateService", "us-east-1", {"cluster": run_name, "service": run_name})
        policies.append(with_placeholder(recorder.policy_document(), run_name))
    assert policies[0] == policies[1]
    assert policies[0]["Statement"][0]["Resource"] == "arn:aws:ecs:us-east-1:1:service/<name>/<name>"


def test_the_placeholder_replaces_whole_names_in_resources_only() -> None:
    recorder = ApiCallRecorder(account_id="1")
    recorder.record("application-autoscaling", "RegisterScalableTarget", "us-east-1",
                    {"ServiceNamespace": "ecs", "ResourceId": "service/app/app"})
    recorder.record("ecs", "UpdateService", "us-east-1", {"cluster": "app", "service": "app-web"})
    policy = with_placeholder(recorder.policy_document(), "app")
    text = json.dumps(policy)
    assert "application-autoscaling:RegisterScalableTarget" in text  # an action is not a name
    assert "service/<name>/<name>-web" in text
    assert "<name>lication" not in text
    assert with_placeholder(policy, "") == policy


def test_an_action_allowed_everywhere_drops_its_narrower_statements() -> None:
    doc = policy_document([
        Permission("ecs:DescribeServices", "arn:aws:ecs:us-east-1:1:service/c/s"),
        Permission("ecs:DescribeServices", "*"),
    ])
    assert doc["Statement"] == [{"Sid": "Ecs1", "Effect": "Allow", "Action": "ecs:DescribeServices", "Resource": "*"}]


def test_policy_is_deterministic_and_grouped_by_service() -> None:
    calls_a = ApiCallRecorder()
    calls_b = ApiCallRecorder()
    for service, op in [("ecs", "UpdateService"), ("ecr", "BatchGetImage"), ("ecs", "DescribeTaskDefinition"), ("application-autoscaling", "DescribeScalableTargets")]:
        calls_a.record(service, op, "us-east-1", {"cluster": "c", "service": "s", "repositoryName": "app"})
    for service, op in [("application-autoscaling", "DescribeScalableTargets"), ("ecs", "DescribeTaskDefinition"), ("ecr", "BatchGetImage"), ("ecs", "UpdateService")]:
        calls_b.record(service, op, "us-east-1", {"cluster": "c", "service": "s", "repositoryName": "app"})
    doc = calls_a.policy_document()
    assert json.dumps(doc, sort_keys=True) == json.dumps(calls_b.policy_document(), sort_keys=True)
    assert [s["Sid"] for s in doc["Statement"]] == ["ApplicationAutoscaling1", "Ecr1", "Ecs1", "Ecs2"]


def test_register_scalable_target_for_ecs_implies_the_service_linked_role() -> None:
    perms = permissions_for(
        [r for r in _recorded("application-autoscaling", "RegisterScalableTarget", {"ServiceNamespace": "ecs"})],
        account_id=ACCOUNT,
    )
    assert [p.action for p in perms] == ["application-autoscaling:RegisterScalableTarget", "iam:CreateServiceLinkedRole"]
    assert perms[1].resource.endswith("/AWSServiceRoleForApplicationAutoScaling_ECSService")


def _recorded(service: str, operation: str, params: dict):
    recorder = ApiCallRecorder()
    recorder.record(service, operation, "us-east-1", params)
    return recorder.calls


def test_attach_refuses_what_is_not_a_session_or_client() -> None:
    with pytest.raises(TypeError, match="pass a boto3 Session"):
        ApiCallRecorder().attach(object())
