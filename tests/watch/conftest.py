"""Plain moto for the deploy tool's CLI tests that need no rollout: credentials
and config isolated from the user's, so no real AWS profile can leak in."""
from __future__ import annotations

import boto3
import pytest

from harness.ecs import wire
from moto import mock_aws


@pytest.fixture
def moto_ecs(monkeypatch, tmp_path):
    """An ECS client on moto alone (no simulator), region us-east-1."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                       "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("ecs", region_name="us-east-1")


@pytest.fixture(autouse=True)
def _check_wire(monkeypatch):
    """Every ECS answer the simulator gives in these tests also goes through
    moto's serializer, and must read the same (harness.ecs.wire)."""
    monkeypatch.setattr(wire, "CHECK", True)
