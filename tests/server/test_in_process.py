"""`HarnessServer.in_process(session)`: the scenario worlds' boto3 clients are
answered by the server's own WSGI app in the calling thread, without a socket,
and get the same answers (recorded, on the virtual clock) as over HTTP."""
from __future__ import annotations

import email.utils

import boto3
import pytest
from botocore.httpsession import URLLib3Session


class NoSocket(Exception):
    pass


@pytest.fixture
def no_socket(monkeypatch):
    def refuse(self, request):
        raise NoSocket(request.url)

    monkeypatch.setattr(URLLib3Session, "send", refuse)


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def test_a_session_in_process_is_answered_without_a_socket_the_same_as_over_http(harness_server, no_socket) -> None:
    harness_server.reset()
    inside = session()
    harness_server.in_process(inside)
    ecs = inside.client("ecs", endpoint_url=harness_server.url)
    with harness_server.recording.recording() as recorded:
        ecs.create_cluster(clusterName="c")
        answer = ecs.describe_clusters(clusters=["c"])
    assert answer["clusters"][0]["clusterName"] == "c"
    assert [call.action for call in recorded.calls][-2:] == ["ecs:CreateCluster", "ecs:DescribeClusters"]
    date = email.utils.parsedate_to_datetime(answer["ResponseMetadata"]["HTTPHeaders"]["date"])
    assert abs(date.timestamp() - harness_server.sim.clock.now()) < 2  # the virtual clock, as over HTTP
    # a query-protocol service (form body, bytes headers) reaches moto whole
    assert inside.client("ec2", endpoint_url=harness_server.url).create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["CidrBlock"] == "10.1.0.0/16"


def test_other_endpoints_and_other_sessions_still_go_over_http(harness_server, no_socket) -> None:
    inside = session()
    harness_server.in_process(inside)
    with pytest.raises(NoSocket, match="127.0.0.1:9"):
        inside.client("ecs", endpoint_url="http://127.0.0.1:9").list_clusters()
    with pytest.raises(NoSocket):
        session().client("ecs", endpoint_url=harness_server.url).list_clusters()
