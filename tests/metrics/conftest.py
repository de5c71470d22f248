"""Fixtures for the metrics tests: an in-process moto session of their own, so
these tests do not wait for the shared backend fixtures."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws


@pytest.fixture
def moto_session(monkeypatch: pytest.MonkeyPatch) -> boto3.Session:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")
