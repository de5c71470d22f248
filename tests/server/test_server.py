"""`harness serve`: moto + the simulator over HTTP, driven by the control endpoint."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import pytest

from harness.server import HarnessServer


def control(server: HarnessServer, action: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.url}/_harness/{action}", data=data, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def server():
    # speed 1: wall time barely moves the virtual clock; the test advances it.
    with HarnessServer(speed=1.0) as srv:
        yield srv
        srv.check()


def ecs_client(server: HarnessServer):
    return boto3.client("ecs", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def make_service(ecs, desired: int = 2) -> str:
    ecs.create_cluster(clusterName="c")
    td = ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "nginx:1.27", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="c", serviceName="web", taskDefinition=td, desiredCount=desired)
    return td


def test_service_over_http_rolls_out_when_the_control_endpoint_advances_the_clock(server):
    ecs = ecs_client(server)
    make_service(ecs)
    before = ecs.describe_services(cluster="c", services=["web"])["services"][0]
    assert (before["runningCount"], before["deployments"][0]["rolloutState"]) == (0, "IN_PROGRESS")

    state = control(server, "advance", {"seconds": 120})

    assert state["now"] >= 1767225600 + 120
    after = ecs.describe_services(cluster="c", services=["web"])["services"][0]
    assert (after["runningCount"], after["deployments"][0]["rolloutState"]) == (2, "COMPLETED")
    assert after["events"][0]["message"] == "(service web) has reached a steady state."
    timeline = control(server, "timeline")
    assert timeline["samples"][-1]["running"] == 2


def test_declared_image_behaviour_over_http_makes_tasks_crash(server):
    ecs = ecs_client(server)
    control(server, "images", {"image": "nginx:1.27", "behaviour": {"crash_after": 10}})
    make_service(ecs, desired=1)
    control(server, "advance", {"seconds": 60})
    stopped = ecs.list_tasks(cluster="c", desiredStatus="STOPPED")["taskArns"]
    task = ecs.describe_tasks(cluster="c", tasks=stopped[:1])["tasks"][0]
    assert (task["stopCode"], task["stoppedReason"]) == ("EssentialContainerExited", "Essential container in task exited")


def test_reset_forgets_moto_and_simulator_state(server):
    ecs = ecs_client(server)
    make_service(ecs)
    control(server, "reset", {})
    assert ecs.list_clusters()["clusterArns"] == []
    assert control(server, "state")["services"] == []


def test_bad_control_request_is_a_400_with_a_one_line_reason(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        control(server, "advance", {"seconds": -5})
    assert err.value.code == 400
    assert json.load(err.value) == {"error": 'advance needs {"seconds": N} with N >= 0'}


def test_errors_raised_in_the_simulator_on_a_server_thread_are_reraised_by_check(server, monkeypatch):
    ecs = ecs_client(server)
    td = make_service(ecs)

    def broken(*args, **kwargs):
        raise RuntimeError("simulator bug")

    monkeypatch.setattr(server.sim, "run_task", broken)
    with pytest.raises(botocore.exceptions.ClientError):
        ecs.run_task(cluster="c", taskDefinition=td)
    with pytest.raises(RuntimeError, match="simulator bug"):
        server.check()
    server.sim.errors.clear()
    server.errors.clear()


def test_a_lambda_hook_answer_is_declared_over_http_and_a_bad_one_refused(server):
    state = control(server, "hooks", {"hook": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
                                      "answers": {"POST_TEST_TRAFFIC_SHIFT": "FAILED"}})
    assert state["hooks"] == {"arn:aws:lambda:us-east-1:123456789012:function:smoke": {"POST_TEST_TRAFFIC_SHIFT": ["FAILED"]}}
    with pytest.raises(urllib.error.HTTPError) as refused:
        control(server, "hooks", {"hook": "x", "answers": {"BAKE_TIME": "FAILED"}})
    assert refused.value.code == 400 and "not a lifecycle hook stage" in json.load(refused.value)["error"]


def test_align_starts_what_comes_next_at_the_same_phase_of_every_periodic_pass() -> None:
    from harness.clock import DEFAULT_START
    from harness.ecs import profiles
    from harness.plugin.scenarios import phase_period

    with HarnessServer(speed=0.0) as server:
        server.align(60.0)
        assert server.clock.now() == DEFAULT_START  # already on a whole period: nothing moves
        server.clock.sleep(12.3)  # a scenario, or 123 Terraform calls at 0.1 s
        server.align(60.0)
        assert server.clock.now() == DEFAULT_START + 60.0
        server.clock.sleep(60.0)
        server.align(60.0)
        assert server.clock.now() == DEFAULT_START + 120.0
    # the period covers the scheduler (5 s), the health checks and hook callbacks (30 s) and a poll (5 s)
    assert phase_period(profiles.load("fargate").params) == 60.0
    odd = profiles.load("fargate").params.__class__(scheduler_interval=7.0)
    assert phase_period(odd) == 420.0  # lcm(7, 30, 5, 60)
    assert phase_period(odd.__class__(scheduler_interval=2.5)) == 3600.0  # no whole lcm: an hour


def test_using_params_times_the_simulator_by_another_profile_inside_the_block_only() -> None:
    from harness.ecs import profiles

    fargate, fast = profiles.load("fargate").params, profiles.load("fast").params
    with HarnessServer(speed=0.0, params=fargate) as server:
        with server.using_params(fast):
            assert server.params is fast and server.sim.params is fast and server.sim.runner.params is fast
            with server.modelling_terraform() as model:  # Terraform's model is the profile's too
                assert model.startup == fast.terraform_startup_seconds
        assert server.params is fargate and server.sim.params is fargate and server.sim.runner.params is fargate
        with pytest.raises(RuntimeError, match="boom"), server.using_params(fast):
            raise RuntimeError("boom")  # a failing cell gives the worker's server its own timing back
        assert server.sim.runner.params is fargate


def test_a_request_terraform_repeats_word_for_word_within_a_command_costs_and_counts_once() -> None:
    """The provider's retries and extra polls depend on this machine's timing: a repeat is neither
    charged on the clock nor recorded as one of CD's calls; a new command asks afresh."""
    from harness.ecs import profiles
    from harness.metrics.iam import ApiCallRecorder

    def send(server: HarnessServer, target: str, body: bytes, agent: str = "aws-sdk-go-v2/1.0 terraform-provider-aws/5.100") -> None:
        request = urllib.request.Request(f"{server.url}/", data=body, method="POST", headers={
            "X-Amz-Target": f"AmazonEC2ContainerServiceV20141113.{target}", "Content-Type": "application/x-amz-json-1.1",
            "User-Agent": agent, "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ecs/aws4_request, "
            "SignedHeaders=host, Signature=0"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    params = profiles.load("fargate").params
    with HarnessServer(speed=0.0, params=params) as server:
        with server.recording.recording(ApiCallRecorder()) as calls, server.modelling_terraform() as model:
            before = server.clock.now()
            server.terraform_started("apply")
            send(server, "ListClusters", b"{}")
            send(server, "ListClusters", b"{}")  # a retry, or one more poll: the same request
            send(server, "DescribeClusters", b'{"clusters": ["a"]}')
            send(server, "DescribeClusters", b'{"clusters": ["b"]}')  # another question: counts
            send(server, "ListClusters", b"{}", agent="Boto3/1.34")  # not Terraform's: never charged
            assert (model.calls, model.repeats) == (3, 1)
            assert server.clock.now() - before == pytest.approx(params.terraform_startup_seconds + 3 * params.terraform_seconds_per_call)
            assert [c.action for c in calls.calls].count("ecs:ListClusters") == 1 + 1  # Terraform's once, boto3's
            server.terraform_started("apply")  # the next command asks afresh
            send(server, "ListClusters", b"{}")
            assert (model.commands, model.calls, model.repeats) == (2, 4, 1)
