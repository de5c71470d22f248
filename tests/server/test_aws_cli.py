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
