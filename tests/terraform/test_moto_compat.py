"""Each patch in harness.moto_compat closes a gap a real Terraform apply hits.
Every test shows the gap on plain moto (`uninstalled()`) and its closing."""
from __future__ import annotations

import contextlib

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from harness import moto_compat

REGION = "us-east-1"
ACCOUNT = "123456789012"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


@pytest.fixture(autouse=True)
def compat_installed():
    moto_compat.install()
    with plain_moto_ecs():
        yield
    moto_compat.install()


@contextlib.contextmanager
def plain_moto_ecs():
    """Take the ECS simulator's routes off moto's ECS API for the block, if a
    `harness serve` or embedded backend in this process has put them on: these
    tests are about moto's own answers."""
    try:
        from harness.ecs import api
    except ImportError:
        yield
        return
    sims = list(api._active)
    for sim in sims:
        api.uninstall(sim)
    try:
        yield
    finally:
        for sim in sims:
            api.install(sim)


def _scalable_target(client, ecs_client, tags=None):
    ecs_client.create_cluster(clusterName="c")
    ecs_client.register_task_definition(family="f", containerDefinitions=[{"name": "a", "image": "x", "memory": 128}])
    ecs_client.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1)
    kwargs = {"Tags": tags} if tags else {}
    return client.register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/c/s", ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1, MaxCapacity=4, **kwargs,
    )["ScalableTargetARN"]


def test_without_the_patch_moto_has_no_scalable_target_tags():
    with moto_compat.uninstalled(), mock_aws():
        aas = boto3.client("application-autoscaling", region_name=REGION)
        arn = _scalable_target(aas, boto3.client("ecs", region_name=REGION))
        with pytest.raises(NotImplementedError, match="list_tags_for_resource"):
            aas.list_tags_for_resource(ResourceARN=arn)


def test_scalable_target_tags_are_kept_listed_added_and_removed():
    with mock_aws():
        aas = boto3.client("application-autoscaling", region_name=REGION)
        arn = _scalable_target(aas, boto3.client("ecs", region_name=REGION), tags={"team": "a"})
        assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "a"}
        aas.tag_resource(ResourceARN=arn, Tags={"env": "dev"})
        aas.untag_resource(ResourceARN=arn, TagKeys=["team"])
        assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"env": "dev"}


def test_tags_of_an_unknown_scalable_target_are_not_found():
    with mock_aws():
        aas = boto3.client("application-autoscaling", region_name=REGION)
        missing = f"arn:aws:application-autoscaling:{REGION}:123456789012:scalable-target/nope"
        with pytest.raises(ClientError) as err:
            aas.list_tags_for_resource(ResourceARN=missing)
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def _role(iam):
    iam.create_role(RoleName="exec", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')


def test_without_the_patch_aws_managed_policies_do_not_exist():
    with moto_compat.uninstalled(), mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        _role(iam)
        with pytest.raises(ClientError) as err:
            iam.attach_role_policy(RoleName="exec", PolicyArn=EXECUTION_POLICY)
        assert err.value.response["Error"]["Code"] == "NoSuchEntity"


def test_the_ecs_task_execution_policy_can_be_attached():
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        _role(iam)
        iam.attach_role_policy(RoleName="exec", PolicyArn=EXECUTION_POLICY)
        attached = iam.list_attached_role_policies(RoleName="exec")["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [EXECUTION_POLICY]


def test_managed_policies_are_built_for_the_emulated_partition_only():
    """Speed: moto would build all 1,485 policies in each of its six partitions'
    IAM backends on every reset; the harness emulates the "aws" partition."""
    from moto.iam.models import iam_backends

    with mock_aws():
        boto3.client("iam", region_name=REGION).list_roles()
        partitions = iam_backends[ACCOUNT]
        counts = {name: len(partitions[name].aws_managed_policies) for name in ("aws", "aws-cn", "aws-us-gov")}
    assert counts["aws"] > 1000 and counts["aws-cn"] == counts["aws-us-gov"] == 0


def _service(ecs):
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="f", containerDefinitions=[{"name": "a", "image": "x", "memory": 128}])
    ecs.create_service(
        cluster="c", serviceName="s", taskDefinition="f", desiredCount=1,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                 "maximumPercent": 200, "minimumHealthyPercent": 100},
    )
    return ecs.describe_services(cluster="c", services=["s"])["services"][0]


def test_without_the_patch_moto_drops_service_settings_and_answers_empty_network():
    with moto_compat.uninstalled(), mock_aws():
        service = _service(boto3.client("ecs", region_name=REGION))
    assert service["networkConfiguration"] == {}
    assert "deploymentConfiguration" not in service
    assert "availabilityZoneRebalancing" not in service


def test_create_service_keeps_deployment_settings_like_ecs():
    with mock_aws():
        service = _service(boto3.client("ecs", region_name=REGION))
    assert "networkConfiguration" not in service
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["availabilityZoneRebalancing"] == "ENABLED"  # ECS's default on create


def _create_twice(second_token):
    """CreateSecret without a value (as `aws_secretsmanager_secret` does), then
    again: the SDK's retry repeats the first token, another caller has its own."""
    client = boto3.client("secretsmanager", region_name=REGION)
    first = client.create_secret(Name="w/app", ClientRequestToken="a" * 32)
    try:
        return first, client.create_secret(Name="w/app", ClientRequestToken=second_token)
    except ClientError as err:
        return first, err.response["Error"]["Code"]


def test_without_the_patch_a_retried_create_secret_fails_on_the_secret_it_made():
    with moto_compat.uninstalled(), mock_aws():
        _, second = _create_twice("a" * 32)
    assert second == "ResourceExistsException"


def test_a_retried_create_secret_answers_as_the_first_and_another_create_still_fails():
    with mock_aws():
        first, retried = _create_twice("a" * 32)
        assert retried["ARN"] == first["ARN"] and retried["Name"] == "w/app"
        _, other = _create_twice("b" * 32)  # the secret exists: a second creator is refused
    assert other == "ResourceExistsException"


def _codedeploy_answers(compute_platform="Server"):
    """The raw JSON of GetApplication and GetDeployment (what a strict SDK parses)."""
    import json

    client = boto3.client("codedeploy", region_name=REGION)
    bodies = {}
    client.meta.events.register("after-call.codedeploy", lambda http_response, model, **_: bodies.__setitem__(
        model.name, json.loads(http_response.content or b"{}")))
    client.create_application(applicationName="app", computePlatform=compute_platform)
    client.get_application(applicationName="app")
    client.create_deployment_group(applicationName="app", deploymentGroupName="g",
                                   serviceRoleArn="arn:aws:iam::123456789012:role/cd")
    try:
        deployment = client.create_deployment(applicationName="app", deploymentGroupName="g",
                                              revision={"revisionType": "S3", "s3Location": {
                                                  "bucket": "b", "key": "k", "bundleType": "zip"}})
    except ClientError as err:
        return bodies, err.response["Error"]
    client.get_deployment(deploymentId=deployment["deploymentId"])
    return bodies, None


def test_without_the_patch_codedeploy_sends_times_as_strings():
    with moto_compat.uninstalled(), mock_aws():
        bodies, _ = _codedeploy_answers()
    assert isinstance(bodies["GetDeployment"]["deploymentInfo"]["createTime"], str)


def test_codedeploy_times_are_epoch_seconds_as_json_1_1_sends_them():
    with mock_aws():
        bodies, _ = _codedeploy_answers()
    assert isinstance(bodies["GetApplication"]["application"]["createTime"], float)
    assert isinstance(bodies["GetDeployment"]["deploymentInfo"]["createTime"], float)


def test_a_codedeploy_deployment_of_an_ecs_application_is_refused_with_the_reason():
    with mock_aws():
        bodies, error = _codedeploy_answers("ECS")
    assert error["Code"] == "UnsupportedActionForDeploymentTypeException"
    assert "strategy BLUE_GREEN" in error["Message"]
    assert "GetDeployment" not in bodies


def _awsvpc_service_without_security_groups():
    ec2, ecs = boto3.client("ec2", region_name=REGION), boto3.client("ecs", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="f", networkMode="awsvpc",
                                 containerDefinitions=[{"name": "a", "image": "x", "memory": 128}])
    return ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1,
                              networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}})["service"]


def test_without_the_patch_an_awsvpc_service_without_security_groups_is_a_500():
    with moto_compat.uninstalled(), mock_aws(), pytest.raises(KeyError, match="securityGroups"):
        _awsvpc_service_without_security_groups()


def test_an_awsvpc_service_without_security_groups_is_created_as_ecs_creates_it():
    with mock_aws():
        service = _awsvpc_service_without_security_groups()
    assert service["serviceName"] == "s"


def test_install_twice_changes_nothing_and_uninstall_restores_moto():
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as AAS

    moto_compat.install()
    patched = AAS.__dict__["list_tags_for_resource"]
    moto_compat.install()
    assert AAS.__dict__["list_tags_for_resource"] is patched
    with moto_compat.uninstalled():
        assert "list_tags_for_resource" not in AAS.__dict__
    assert AAS.__dict__["list_tags_for_resource"] is patched


def test_reinstalling_never_covers_a_layer_patched_on_top_and_uninstall_keeps_it():
    from moto.ecs.responses import EC2ContainerServiceResponse as ECS

    def on_top(self):  # stands for the ECS simulator's route
        raise AssertionError("not called")

    with moto_compat.uninstalled():
        below = ECS.__dict__["create_service"]  # moto's (or a running simulator's)
    ECS.create_service = on_top
    try:
        with moto_compat.uninstalled():
            assert ECS.__dict__["create_service"] is on_top
        assert ECS.__dict__["create_service"] is on_top  # re-installed under it, not over it
    finally:
        moto_compat.uninstall()
        ECS.create_service = below
        moto_compat.install()
