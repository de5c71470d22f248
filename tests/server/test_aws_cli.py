"""A client nobody here wrote, in another process: the AWS CLI against
`harness serve` (describe-services, wait services-stable)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import boto3
import pytest

from harness.server import HarnessServer

AWS = shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="no `aws` binary on PATH: install awscli (pip install awscli) to run the CLI proof")


@pytest.fixture
def server():
    # virtual time moves only when the test says: a slow first start of the CLI must not roll anything out
    with HarnessServer(speed=0.001) as srv:
        yield srv
        srv.check()


def aws_cli(server: HarnessServer, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    return subprocess.run([AWS, "--endpoint-url", server.url, "--output", "json", *args],
                          env=env, capture_output=True, text=True, timeout=120)


def test_aws_cli_sees_the_rollout_and_waits_for_steady_state(server, tmp_path):
    ecs = boto3.client("ecs", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ecs.create_cluster(clusterName="c")
    td1 = ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "nginx:1", "memory": 64}])
    td2 = ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "nginx:2", "memory": 64}])
    ecs.create_service(cluster="c", serviceName="web", taskDefinition=td1["taskDefinition"]["taskDefinitionArn"], desiredCount=2)
    server.clock.sleep(300)
    ecs.update_service(cluster="c", service="web", taskDefinition=td2["taskDefinition"]["taskDefinitionArn"])
    server.clock.sleep(30)

    during = aws_cli(server, tmp_path, "ecs", "describe-services", "--cluster", "c", "--services", "web")
    assert during.returncode == 0, during.stderr
    deployments = json.loads(during.stdout)["services"][0]["deployments"]
    assert [(d["status"], d["taskDefinition"].rsplit("/", 1)[-1]) for d in deployments] == [("PRIMARY", "app:2"), ("ACTIVE", "app:1")]

    server.clock.sleep(600)
    waited = aws_cli(server, tmp_path, "ecs", "wait", "services-stable", "--cluster", "c", "--services", "web")
    assert waited.returncode == 0, waited.stderr
    after = json.loads(aws_cli(server, tmp_path, "ecs", "describe-services", "--cluster", "c", "--services", "web").stdout)
    (only,) = after["services"][0]["deployments"]
    assert (only["taskDefinition"].rsplit("/", 1)[-1], only["rolloutState"], only["runningCount"]) == ("app:2", "COMPLETED", 2)


def test_aws_cli_gets_ecs_error_codes(server, tmp_path):
    result = aws_cli(server, tmp_path, "ecs", "describe-services", "--cluster", "missing", "--services", "web")
    assert result.returncode != 0
    assert "ClusterNotFoundException" in result.stderr


def test_aws_cli_lists_describes_and_stops_service_deployments(server, tmp_path):
    ecs = boto3.client("ecs", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ecs.create_cluster(clusterName="c")
    arns = [ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": f"nginx:{n}", "memory": 64}])
            ["taskDefinition"]["taskDefinitionArn"] for n in (1, 2)]
    server.sim.declare_image("nginx:2", start_seconds=900)  # so the second deployment is still in progress
    ecs.create_service(cluster="c", serviceName="web", taskDefinition=arns[0], desiredCount=2)
    server.clock.sleep(300)
    ecs.update_service(cluster="c", service="web", taskDefinition=arns[1])
    server.clock.sleep(30)

    listed = aws_cli(server, tmp_path, "ecs", "list-service-deployments", "--cluster", "c", "--service", "web")
    assert listed.returncode == 0, listed.stderr
    newest, oldest = json.loads(listed.stdout)["serviceDeployments"]
    assert (newest["status"], oldest["status"]) == ("IN_PROGRESS", "SUCCESSFUL")
    described = aws_cli(server, tmp_path, "ecs", "describe-service-deployments", "--service-deployment-arns",
                        newest["serviceDeploymentArn"])
    assert json.loads(described.stdout)["serviceDeployments"][0]["targetServiceRevision"]["arn"] == newest["targetServiceRevisionArn"]
    stopped = aws_cli(server, tmp_path, "ecs", "stop-service-deployment", "--service-deployment-arn",
                      newest["serviceDeploymentArn"], "--stop-type", "ROLLBACK")
    assert stopped.returncode == 0, stopped.stderr
    server.clock.sleep(600)
    after = ecs.describe_service_deployments(serviceDeploymentArns=[newest["serviceDeploymentArn"]])["serviceDeployments"][0]
    assert after["status"] == "ROLLBACK_SUCCESSFUL"


def test_aws_cli_waits_for_a_one_off_task_that_exits_0(server, tmp_path):
    ecs = boto3.client("ecs", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ecs.create_cluster(clusterName="c")
    td = ecs.register_task_definition(family="job", containerDefinitions=[{"name": "job", "image": "job:1", "memory": 64}])
    server.sim.declare_image("job:1", exit_code=0, exit_after=20)
    arn = ecs.run_task(cluster="c", taskDefinition=td["taskDefinition"]["taskDefinitionArn"])["tasks"][0]["taskArn"]
    server.clock.sleep(60)
    waited = aws_cli(server, tmp_path, "ecs", "wait", "tasks-stopped", "--cluster", "c", "--tasks", arn)
    assert waited.returncode == 0, waited.stderr
    task = json.loads(aws_cli(server, tmp_path, "ecs", "describe-tasks", "--cluster", "c", "--tasks", arn).stdout)["tasks"][0]
    assert (task["lastStatus"], task["containers"][0]["exitCode"]) == ("STOPPED", 0)
