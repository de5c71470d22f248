"""The LocalStack backend, against the real thing: localstack-core in host mode
(``harness.backends.localstack_host``), started here on a free port. What it
serves and lacks is read from it, never assumed; the base Terraform
configuration's IAM, VPC, secret and log group are applied to it and plan clean."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.backends.localstack import (BASE_SERVICES, SCENARIO_SERVICES, LocalStack, LocalStackUnavailable,
                                         endpoint_url)
from harness.backends.aws_run import RUN_TAG, Sweep, new_run_id
from harness.backends.localstack_host import free_port
from harness.terraform.fixtures import skip_without_provider
from harness.terraform.runner import TerraformError
from harness.worlds.tool import EXECUTION_POLICY, FargateNetwork

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "harness" / "approaches" / "terraform" / "base"
# The base configuration's resources LocalStack serves without a licence (ECS and ECR are not among them).
BASE_WITHOUT_ECS = ("aws_vpc.this", "aws_subnet.private", "aws_security_group.service",
                    "aws_cloudwatch_log_group.app", "aws_secretsmanager_secret_version.app",
                    "aws_iam_role_policy.execution_read_secret", "aws_iam_role_policy_attachment.execution",
                    "aws_iam_role.task")


@pytest.mark.parametrize("env, expected", [
    ({}, "http://localhost:4566"),
    ({"LOCALSTACK_HOST": "127.0.0.1:4599"}, "http://127.0.0.1:4599"),
    ({"LOCALSTACK_HOST": "127.0.0.1:4599", "AWS_ENDPOINT_URL": "http://ls.internal:4566"}, "http://ls.internal:4566"),
])
def test_the_endpoint_follows_localstack_clients_rules(monkeypatch, env, expected) -> None:
    for name in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert endpoint_url() == expected


def test_no_localstack_is_one_line_saying_how_to_start_one() -> None:
    with pytest.raises(LocalStackUnavailable) as caught:
        LocalStack(f"http://127.0.0.1:{free_port()}", timeout=2).status()
    message = str(caught.value)
    assert "\n" not in message and "no LocalStack answers at http://127.0.0.1:" in message
    assert "docker-compose.localstack.yml" in message and "LOCALSTACK_HOST" in message


def test_localstack_says_its_version_and_what_the_scenarios_lack(localstack) -> None:
    backend = LocalStack(localstack)
    assert "iam" in backend.health()
    status = backend.status()
    assert status.version[:4].isdigit() and status.url == localstack
    assert set(status.missing) <= set(SCENARIO_SERVICES)
    assert not set(BASE_SERVICES) & set(status.missing), status.missing  # served without a licence
    assert status.problem(BASE_SERVICES) is None
    if status.licensed:
        pytest.skip("this LocalStack has a licence: the unlicensed answers are not there to check")
    # without a licence: ECS, ECR, Application Auto Scaling and ELBv2 are HTTP 501
    assert set(status.missing) == {"ecs", "ecr", "application-autoscaling", "elbv2"}
    assert all("501" in why for why in status.missing.values())
    problem = status.problem()
    assert "\n" not in problem and "lacks ecs, ecr, application-autoscaling, elbv2" in problem
    assert "LOCALSTACK_AUTH_TOKEN" in problem and "Docker socket" in problem


def test_the_scenarios_on_localstack_are_not_measured_with_what_it_lacks(localstack, tmp_path) -> None:
    env = {**os.environ, "LOCALSTACK_HOST": localstack.removeprefix("http://")}
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "scenarios", "--backend", "localstack", "-n", "0",
                           "-p", "no:cacheprovider", "-q", "-rs", "-k", "test_explicit_version or crash-at-once-rolling-article"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert "skipped" in summary and "passed" not in summary and "failed" not in summary, summary
    assert "not measured: LocalStack" in done.stdout and localstack in done.stdout


@pytest.mark.terraform
def test_the_base_configuration_applies_to_localstack_and_plans_clean(localstack, terraform) -> None:
    ws = terraform.workspace(BASE, localstack, {"name": "ls-base"}, root=BASE.parent, name="localstack-base")
    ws.targets = BASE_WITHOUT_ECS
    # the base is a module: as a root configuration it names no region (the approaches' configurations do)
    (ws.directory / "localstack_region.tf").write_text('provider "aws" {\n  region = "us-east-1"\n}\n')
    try:
        ws.init()
    except TerraformError as err:
        skip_without_provider(err, "this test")  # offline without a mirror: skipped (fails under CI) with how
        raise
    ws.apply()
    result = ws.plan()
    assert result.exit_code == 0, [f"{c.address} {c.action} {c.paths}" for c in result.summary.changes]
    made = LocalStack(localstack).client("iam").get_role(RoleName="ls-base-task")["Role"]
    assert made["RoleName"] == "ls-base-task"


def test_the_wall_clock_paths_network_builds_on_localstack_and_cleanup_removes_it(localstack) -> None:
    """The network a real run's Fargate tasks get (VPC, subnets in two zones, internet
    gateway and route, security group, execution role with AWS's managed policy) on a
    second implementation of EC2 and IAM; then `harness aws cleanup --endpoint-url`
    finds it by the run's id and removes it, with no account list (LocalStack costs
    nothing), passing over the services this LocalStack does not serve (HTTP 501)."""
    backend = LocalStack(localstack)
    run_id = new_run_id()
    aws = SimpleNamespace(client=backend.client, tags=[{"Key": RUN_TAG, "Value": run_id}])
    network = FargateNetwork.build(aws, f"{run_id}-")
    ec2 = backend.client("ec2")
    (vpc,) = ec2.describe_vpcs(VpcIds=[network.vpc])["Vpcs"]
    assert {"Key": RUN_TAG, "Value": run_id} in vpc["Tags"]
    zones = {s["AvailabilityZone"] for s in ec2.describe_subnets(SubnetIds=list(network.subnets))["Subnets"]}
    assert len(zones) == 2
    attached = backend.client("iam").list_attached_role_policies(RoleName=f"{run_id}-execution")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [EXECUTION_POLICY]

    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "HARNESS_AWS_"))}
    done = subprocess.run([sys.executable, "-m", "harness", "aws", "cleanup", "--endpoint-url", localstack,
                           "--run-id", run_id], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"LocalStack at {localstack}, region us-east-1\n"), done.stdout
    for deleted in ("vpc " + network.vpc, f"iam role {run_id}-execution", f"security group {run_id}-tasks",
                    "subnet " + network.subnets[0], "internet gateway igw-"):
        assert f"  deleted {deleted}" in done.stdout, done.stdout
    sweep = Sweep(backend.client, run_id, out=lambda line: None)
    assert sweep.find() == [] and sweep.unlisted == []
