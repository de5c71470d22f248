"""The CD procedures of approaches 1-3 against embedded AWS and the ECS
simulator. The infrastructure Terraform would create is built here with boto3
(the Terraform runs are the scenarios' business), with the same names the
configurations output."""
from __future__ import annotations

import hashlib
import json

import pytest

from ecs_template_deploy.verdict import State
from harness import approaches
from harness.approaches import ApproachError, InfraChange
from harness.approaches.base import Context
from harness.metrics.iam import ApiCallRecorder

ACCOUNT = "123456789012"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-execution"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-task"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/app-AbCdEf"


def _push(ecr, tag: str) -> str:
    # moto's image digest is the sha256 of the layer digests: one distinct layer per image
    layer = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": layer},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1, "digest": layer}],
    })
    return ecr.put_image(repositoryName="app", imageManifest=manifest, imageTag=tag)["image"]["imageId"]["imageDigest"]


class Infra:
    """What the approach's Terraform configuration would have applied."""

    def __init__(self, aws, image_tag: str) -> None:
        self.aws = aws
        self.ecs = aws.client("ecs")
        self.ecr = aws.client("ecr")
        self.repository_url = self.ecr.create_repository(repositoryName="app")["repository"]["repositoryUri"]
        self.digests = {tag: _push(self.ecr, tag) for tag in ("v1", "v2", "v3-broken")}
        aws.sim.declare_image(self.digests["v3-broken"], crash_after=5)
        self.ecs.create_cluster(clusterName="main")
        arn = self.ecs.register_task_definition(
            family="app", cpu="256", memory="512", executionRoleArn=EXECUTION_ROLE,
            containerDefinitions=[{"name": "app", "image": f"{self.repository_url}:{image_tag}", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        self.ecs.create_service(cluster="main", serviceName="app", taskDefinition=arn, desiredCount=3,
                                deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200})
        aws.clock.sleep(120)
        self.outputs = {
            "cluster_name": "main", "service_name": "app", "container_name": "app", "family": "app",
            "repository_url": self.repository_url, "repository_name": "app",
            "execution_role_arn": EXECUTION_ROLE, "task_role_arn": TASK_ROLE, "secret_arn": SECRET,
            "log_group_name": "/ecs/app",
        }

    def context(self, recorder: ApiCallRecorder | None = None) -> Context:
        return Context.on(self.aws, self.outputs, recorder)

    def running_digests(self) -> list[str]:
        arns = self.ecs.list_tasks(cluster="main", serviceName="app", desiredStatus="RUNNING")["taskArns"]
        tasks = self.ecs.describe_tasks(cluster="main", tasks=arns)["tasks"]
        return sorted(c.get("imageDigest", "") for t in tasks if t["lastStatus"] == "RUNNING" for c in t["containers"])

    def service_task_definition(self) -> dict:
        arn = self.ecs.describe_services(cluster="main", services=["app"])["services"][0]["taskDefinition"]
        return self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]


@pytest.fixture
def persistent_tag_infra(aws) -> Infra:
    infra = Infra(aws, image_tag="prod")
    infra.ecr.put_image(repositoryName="app", imageTag="prod",
                        imageManifest=infra.ecr.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])["images"][0]["imageManifest"])
    return infra


def test_persistent_tag_deploys_by_moving_the_tag_and_rolls_back_by_moving_it_back(aws, persistent_tag_infra) -> None:
    infra = persistent_tag_infra
    recorder = ApiCallRecorder(account_id=ACCOUNT)
    approach = approaches.get("persistent-tag")(infra.context(recorder))
    definition_before = infra.service_task_definition()["taskDefinitionArn"]

    step = approach.deploy("v2")
    assert step.succeeded
    assert infra.running_digests() == [infra.digests["v2"]] * 3
    assert step.image == f"{infra.repository_url}:prod"  # the task definition never names the version
    assert infra.service_task_definition()["taskDefinitionArn"] == definition_before

    failed = approach.deploy("v3-broken")
    assert failed.outcome.state is State.FAILED
    back = approach.rollback()
    assert back.succeeded
    assert infra.running_digests() == [infra.digests["v2"]] * 3
    assert {"ecr:BatchGetImage", "ecr:PutImage", "ecs:UpdateService", "ecs:DescribeServices"} <= set(recorder.iam_actions())
    assert "ecs:RegisterTaskDefinition" not in recorder.iam_actions()


def test_persistent_tag_rollback_needs_a_known_good_tag(aws, persistent_tag_infra) -> None:
    approach = approaches.get("persistent-tag")(persistent_tag_infra.context())
    with pytest.raises(ApproachError, match="no image tagged 'prod-known-good' in app: push it first"):
        approach.rollback()


def test_ignore_changes_registers_revisions_of_the_family_and_rolls_back_to_the_last_good_one(aws) -> None:
    infra = Infra(aws, image_tag="v1")
    approach = approaches.get("ignore-changes")(infra.context())
    good = approach.deploy("v2")
    assert good.succeeded and good.task_definition.endswith(":2")
    assert infra.service_task_definition()["containerDefinitions"][0]["image"] == f"{infra.repository_url}:v2"

    assert approach.deploy("v3-broken").outcome.state is State.FAILED
    back = approach.rollback()
    assert back.succeeded and back.task_definition == good.task_definition
    assert back.image == f"{infra.repository_url}:v2"
    assert infra.running_digests() == [infra.digests["v2"]] * 3


def test_ignore_changes_copies_the_latest_revision_of_the_family(aws) -> None:
    infra = Infra(aws, image_tag="v1")
    # Terraform registered a revision of its own (say memory 1024) after the service started.
    infra.ecs.register_task_definition(
        family="app", cpu="256", memory="1024", executionRoleArn=EXECUTION_ROLE,
        containerDefinitions=[{"name": "app", "image": f"{infra.repository_url}:v1", "essential": True}])
    step = approaches.get("ignore-changes")(infra.context()).deploy("v2")
    assert step.succeeded
    assert infra.service_task_definition()["memory"] == "1024"


def test_app_repo_renders_its_task_definition_and_infra_changes_wait_for_the_next_deploy(aws) -> None:
    infra = Infra(aws, image_tag="v1")
    approach = approaches.get("app-repo")(infra.context())
    first = approach.deploy("v2")
    assert first.succeeded
    running = infra.service_task_definition()
    assert (running["memory"], running["containerDefinitions"][0]["secrets"]) == (
        "512", [{"name": "APP_SECRET", "valueFrom": SECRET}])

    assert approach.apply_infra_change(InfraChange("memory", 1024)) == 0.0  # no Terraform involved
    assert approach.apply_infra_change(InfraChange("environment", {"FEATURE": "on"})) == 0.0
    assert infra.service_task_definition()["memory"] == "512"  # not until the next deploy
    approach.deploy("v2")
    running = infra.service_task_definition()
    assert running["memory"] == "1024"
    assert {"name": "FEATURE", "value": "on"} in running["containerDefinitions"][0]["environment"]

    assert approach.deploy("v3-broken").outcome.state is State.FAILED
    assert approach.rollback().succeeded
    assert infra.service_task_definition()["memory"] == "1024"


def test_rollback_before_any_deploy_is_refused(aws) -> None:
    infra = Infra(aws, image_tag="v1")
    for name in ("ignore-changes", "app-repo"):
        with pytest.raises(ApproachError, match="nothing to roll back to"):
            approaches.get(name)(infra.context()).rollback()


def test_infra_change_without_a_workspace_needs_the_stand_ins_revision(aws) -> None:
    """No Terraform workspace: the change is made as the stand-in's Terraform would
    (a revision of its own), which needs the revision's ARN among the outputs."""
    infra = Infra(aws, image_tag="v1")
    with pytest.raises(ApproachError, match="needs the Terraform output 'task_definition_arn'"):
        approaches.get("ignore-changes")(infra.context()).apply_infra_change(InfraChange("memory", 1024))


def test_each_approach_ships_its_terraform_configuration() -> None:
    for name in ("persistent-tag", "ignore-changes", "app-repo"):
        config = approaches.get(name).terraform_config()
        assert sorted(p.name for p in config.glob("*.tf")) == ["main.tf", "outputs.tf", "variables.tf"]
