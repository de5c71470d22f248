"""RolloutWatcher: polling on an injected clock, API calls it makes, progress events.

The ECS client is a real botocore client with a Stubber: each answer is
validated against the ECS model and the calls must come in the stated order.
"""
from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ecs_template_deploy.cli.output import JsonRenderer, PlainRenderer, TerminalRenderer, renderer_for
from ecs_template_deploy.clock import Clock
from ecs_template_deploy.events import ProgressEvent
from ecs_template_deploy.verdict import State
from ecs_template_deploy.watch import RolloutWatcher, WaitOptions
from watch_shapes import T0, crashed, deployment, event, service, stopped_task

NEW, OLD = "ecs-svc/2222222222", "ecs-svc/1111111111"


class FakeClock:
    def __init__(self, start: float) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    @property
    def clock(self) -> Clock:
        return Clock(self.now, self.sleep)


@pytest.fixture
def stubbed():
    client = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def rolling(events=()):
    return {"services": [service([
        deployment(NEW, 8, running=1, pending=3),
        deployment(OLD, 7, status="ACTIVE", running=4, rollout="COMPLETED"),
    ], events=list(events))], "failures": []}


def expect_poll(stub, answer, stopped_arns, described=None):
    stub.add_response("describe_services", answer, {"cluster": "prod", "services": ["web"], "include": ["TAGS"]})
    stub.add_response("list_tasks", {"taskArns": stopped_arns},
                      {"cluster": "prod", "serviceName": "web", "desiredStatus": "STOPPED"})
    if described is not None:
        stub.add_response("describe_tasks", {"tasks": described, "failures": []}, {"cluster": "prod", "tasks": ANY})


def test_failure_is_decided_at_the_first_poll_that_shows_it(stubbed):
    client, stub = stubbed
    clock = FakeClock(T0.timestamp())
    task = crashed("t1", 8, NEW, stopped=7)
    expect_poll(stub, rolling(), [])
    expect_poll(stub, rolling(), [task["taskArn"]], [task])
    events: list[ProgressEvent] = []
    watcher = RolloutWatcher(client, clock=clock.clock, options=WaitOptions(poll_interval=5, timeout=600), sink=events.append)

    outcome = watcher.watch("prod", "web", deployment_id=NEW)

    assert outcome.state is State.FAILED
    assert outcome.polls == 2 and clock.sleeps == [5]
    assert outcome.decided_at - T0.timestamp() == 5
    assert outcome.first_failure_at - T0.timestamp() == 7  # the task's stoppingAt
    assert [e.kind for e in events] == ["rollout", "task-failed", "verdict"]
    assert events[-1].data["state"] == "failed"


def test_timeout_is_the_last_resort_and_is_reported_as_such(stubbed):
    client, stub = stubbed
    clock = FakeClock(T0.timestamp())
    for _ in range(4):  # t = 0, 10, 20, 30
        expect_poll(stub, rolling(), [])
    watcher = RolloutWatcher(client, clock=clock.clock, options=WaitOptions(poll_interval=10, timeout=30))

    outcome = watcher.watch("prod", "web", deployment_id=NEW)

    assert outcome.state is State.TIMED_OUT
    assert "30 s" in outcome.verdict.reason
    assert sum(clock.sleeps) == 30


def test_a_stopped_task_is_described_once_unless_it_is_still_stopping(stubbed):
    client, stub = stubbed
    clock = FakeClock(T0.timestamp())
    scaled_in = stopped_task("t1", 8, NEW, stop_code="ServiceSchedulerInitiated",
                             reason=f"Scaling activity initiated by (deployment {NEW})")
    stopping = stopped_task("t2", 8, NEW, stop_code="ServiceSchedulerInitiated",
                            reason=f"Scaling activity initiated by (deployment {NEW})", last_status="DEACTIVATING")
    done = {"services": [service([deployment(NEW, 8, running=4, rollout="COMPLETED")])], "failures": []}
    expect_poll(stub, rolling(), [scaled_in["taskArn"], stopping["taskArn"]], [scaled_in, stopping])
    expect_poll(stub, done, [scaled_in["taskArn"], stopping["taskArn"]], [stopping])  # t1 not asked again
    watcher = RolloutWatcher(client, clock=clock.clock, options=WaitOptions(poll_interval=5, timeout=600))

    assert watcher.watch("prod", "web", deployment_id=NEW).state is State.SUCCEEDED


def test_only_events_since_the_deploy_are_streamed_each_once(stubbed):
    client, stub = stubbed
    clock = FakeClock(T0.timestamp() + 100)
    old = event("e0", "(service web) has reached a steady state.", 0)
    new = event("e1", "(service web) has started 3 tasks: (task t3).", 100)
    expect_poll(stub, rolling([new, old]), [])
    expect_poll(stub, {"services": [service([deployment(NEW, 8, running=4, rollout="COMPLETED")],
                                            events=[new, old])], "failures": []}, [])
    events: list[ProgressEvent] = []
    watcher = RolloutWatcher(client, clock=clock.clock, sink=events.append)

    watcher.watch("prod", "web", deployment_id=NEW, since=T0.timestamp() + 100)

    assert [e.message for e in events if e.kind == "service-event"] == [new["message"]]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="poll interval"):
        WaitOptions(poll_interval=0)
    with pytest.raises(ValueError, match="failure threshold"):
        WaitOptions(failure_threshold=0)


EVENT = ProgressEvent("task-failed", T0.timestamp(), "task t1 of web:8 failed: Essential container in task exited",
                      {"task": "t1", "revision": "web:8"})


def test_json_renderer_writes_one_parsable_object_per_line():
    out = io.StringIO()
    JsonRenderer(out)(EVENT)
    JsonRenderer(out)(EVENT)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0]) == {"at": "2026-11-26T12:00:00Z", "kind": "task-failed",
                                    "message": EVENT.message, "task": "t1", "revision": "web:8"}


def test_plain_renderer_writes_timestamped_lines_without_escape_codes():
    out = io.StringIO()
    PlainRenderer(out)(EVENT)
    assert out.getvalue() == f"2026-11-26T12:00:00Z task-failed   {EVENT.message}\n"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream, environ, json_lines, expected", [
    (Tty(), {}, False, TerminalRenderer),
    (Tty(), {"CI": "true"}, False, PlainRenderer),
    (io.StringIO(), {}, False, PlainRenderer),
    (Tty(), {}, True, JsonRenderer),
])
def test_renderer_follows_terminal_ci_and_json(stream, environ, json_lines, expected):
    assert isinstance(renderer_for(stream, json_lines=json_lines, environ=environ), expected)


def test_stopped_tasks_of_other_deployments_are_described_once_and_ignored(stubbed):
    client, stub = stubbed
    clock = FakeClock(T0.timestamp())
    old_crash = crashed("t0", 7, OLD)                       # an earlier deployment's failure: not ours
    draining = stopped_task("t9", 7, OLD, stop_code="ServiceSchedulerInitiated",
                            reason=f"Scaling activity initiated by (deployment {NEW})", last_status="DEACTIVATING")
    expect_poll(stub, rolling(), [old_crash["taskArn"], draining["taskArn"]], [old_crash, draining])
    expect_poll(stub, rolling(), [old_crash["taskArn"], draining["taskArn"]])  # nothing described again
    expect_poll(stub, {"services": [service([deployment(NEW, 8, running=4, rollout="COMPLETED")])], "failures": []},
                [old_crash["taskArn"], draining["taskArn"]])
    watcher = RolloutWatcher(client, clock=clock.clock)

    outcome = watcher.watch("prod", "web", deployment_id=NEW)

    assert outcome.state is State.SUCCEEDED
    assert outcome.polls == 3


def test_by_default_events_from_before_the_deployment_are_not_streamed(stubbed):
    client, stub = stubbed
    clock = FakeClock(T0.timestamp() + 100)
    before = event("e0", "(service web) has reached a steady state.", 0)  # the old deployment settling, at creation time
    after = event("e1", "(service web) has started 3 tasks: (task t3).", 5)
    expect_poll(stub, {"services": [service([deployment(NEW, 8, running=4, rollout="COMPLETED", created=0)],
                                            events=[after, before])], "failures": []}, [])
    events: list[ProgressEvent] = []

    RolloutWatcher(client, clock=clock.clock, sink=events.append).watch("prod", "web", deployment_id=NEW)

    assert [e.message for e in events if e.kind == "service-event"] == [after["message"]]
