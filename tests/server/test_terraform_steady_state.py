"""A client nobody here wrote: Terraform's `aws_ecs_service` with
`wait_for_steady_state = true` completes against `harness serve` once the
simulator has rolled the service out, and again for an image change."""
from __future__ import annotations

from pathlib import Path

import boto3
import pytest

CONFIG = Path(__file__).parent / "terraform" / "steady_state"
pytestmark = pytest.mark.terraform


def test_terraform_waits_for_steady_state_through_a_rollout(tf_workspace, terraform_endpoint):
    ws = tf_workspace(CONFIG, root=CONFIG)
    name = ws.variables["name"]
    ws.apply()
    ecs = boto3.client("ecs", endpoint_url=terraform_endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    service = ecs.describe_services(cluster=name, services=[name])["services"][0]
    # The provider's rule is botocore's: one deployment, runningCount == desiredCount
    # (rolloutState may still be IN_PROGRESS while ECS waits to count tasks healthy).
    (deployment,) = service["deployments"]
    assert service["runningCount"] == service["desiredCount"] == 2

    ws.apply(image="nginx:1.28")   # a new revision: Terraform waits for the new rollout
    service = ecs.describe_services(cluster=name, services=[name])["services"][0]
    (deployment,) = service["deployments"]
    assert deployment["taskDefinition"].endswith(f"{name}:2")
    assert service["runningCount"] == 2
    events = [e["message"] for e in service["events"]]
    assert any(m.startswith(f"(service {name}) has stopped 2 running tasks") for m in events)
    plan = ws.plan(image="nginx:1.28")
    assert plan.summary.by_action() == {}   # nothing left to change: the answers round-trip
