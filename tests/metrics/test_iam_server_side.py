"""Server-side recording: the calls a non-botocore client (Terraform) makes,
read off the requests an emulated endpoint receives."""
from __future__ import annotations

import threading
from typing import Iterator

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from harness.metrics.iam import ApiCallRecorder
from harness.metrics.iam_server import RecordingMiddleware

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-execution"


@pytest.fixture
def endpoint() -> Iterator[tuple[str, RecordingMiddleware]]:
    middleware = RecordingMiddleware(DomainDispatcherApplication(create_backend_app), ApiCallRecorder(ACCOUNT))
    server = make_server("127.0.0.1", 0, middleware, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", middleware
    server.shutdown()
    thread.join()


def _client(url: str, service: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_json_and_query_protocol_calls_are_recorded_with_their_parameters(endpoint) -> None:
    url, middleware = endpoint
    ecs, iam, logs = _client(url, "ecs"), _client(url, "iam"), _client(url, "logs")
    ecs.create_cluster(clusterName="setup-not-counted")
    with middleware.recording() as recorder:
        ecs.register_task_definition(family="app", executionRoleArn=ROLE,
                                     containerDefinitions=[{"name": "app", "image": "repo:v2", "memory": 128}])
        iam.list_roles()
        logs.describe_log_groups()
    ecs.list_clusters()  # after the block: not counted

    assert recorder.operations() == [("ecs", "RegisterTaskDefinition"), ("iam", "ListRoles"), ("logs", "DescribeLogGroups")]
    assert recorder.iam_actions() == ["ecs:RegisterTaskDefinition", "iam:ListRoles", "iam:PassRole", "logs:DescribeLogGroups"]
    assert middleware.unrecognised == []


def test_rest_protocol_requests_are_listed_not_guessed(endpoint) -> None:
    url, middleware = endpoint
    s3 = _client(url, "s3")
    with middleware.recording() as recorder:
        s3.create_bucket(Bucket="state")
    assert recorder.calls == []
    assert middleware.unrecognised == ["PUT /state"]
