"""Each injected fault is what it claims: the error AWS or the network gives, and
applied or not applied as documented in `harness.faults.inject`."""
from __future__ import annotations

import time

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

from harness.faults.inject import Fault, FaultInjector, Killed, Meanwhile

DEFINITION = {"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx:1", "memory": 64}]}


@pytest.fixture
def session(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setattr(time, "sleep", lambda _: None)  # botocore's own retry backoff
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def revisions(session) -> int:
    return len(session.client("ecs").list_task_definitions()["taskDefinitionArns"])


def register_second_call(session, fault: Fault):
    """A first call passes; the second (RegisterTaskDefinition) gets `fault`."""
    FaultInjector(session, fault, at=2)
    ecs = session.client("ecs")
    ecs.list_clusters()
    return ecs.register_task_definition(**DEFINITION)


@pytest.mark.parametrize("fault, code", [(Fault.THROTTLE, "ThrottlingException"), (Fault.SERVER_ERROR, "ServiceUnavailable"),
                                         (Fault.EXPIRED_TOKEN, "ExpiredTokenException"), (Fault.CLIENT_ERROR, "ClientException")])
def test_error_answers_are_not_applied(session, fault, code):
    with pytest.raises(ClientError) as raised:
        register_second_call(session, fault)
    assert raised.value.response["Error"]["Code"] == code
    assert revisions(session) == 0


def test_a_connection_error_never_reaches_aws(session):
    with pytest.raises(EndpointConnectionError):
        register_second_call(session, Fault.CONNECTION)
    assert revisions(session) == 0


def test_a_lost_reply_was_applied(session):
    with pytest.raises(ReadTimeoutError):
        register_second_call(session, Fault.LOST_REPLY)
    assert revisions(session) == 1


def test_a_reply_lost_inside_botocore_is_sent_again_and_applied_twice(session):
    answer = register_second_call(session, Fault.LOST_REPLY_RETRIED)
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert revisions(session) == 2


@pytest.mark.parametrize("fault, applied", [(Fault.KILL_BEFORE, 0), (Fault.KILL_AFTER, 1)])
def test_a_kill_is_not_an_exception_the_tool_could_catch(session, fault, applied):
    with pytest.raises(Killed):
        try:
            register_second_call(session, fault)
        except Exception:  # noqa: BLE001 - what a tool's handlers would do
            pytest.fail("a kill must not be catchable as an Exception")
    assert revisions(session) == applied


def test_an_outage_lasts_its_time_on_the_clock_it_is_given(session):
    clock = {"t": 0.0}
    injector = FaultInjector(session, Fault.OUTAGE, at=2, now=lambda: clock["t"], outage_seconds=60)
    ecs = session.client("ecs")
    ecs.list_clusters()
    for _ in range(3):
        with pytest.raises(ClientError):
            ecs.list_clusters()
        clock["t"] += 20
    ecs.list_clusters()  # 60 s later: answered again
    assert injector.fired == ["ecs.ListClusters"] * 3


def test_meanwhile_runs_the_other_job_just_before_the_nth_call(session):
    order: list[str] = []
    Meanwhile(session, 2, lambda: order.append("other job"))
    session.events.register("after-call", lambda model, **_: order.append(model.name))
    ecs = session.client("ecs")  # clients copy the session's handlers when they are made
    ecs.list_clusters()
    ecs.list_task_definitions()
    assert order == ["ListClusters", "other job", "ListTaskDefinitions"]
