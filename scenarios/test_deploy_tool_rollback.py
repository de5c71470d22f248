"""The article's third goal, "speedy rollback to the last known good application
version if a deploy fails", for the deploy tool, on the ECS simulator.

Each scenario runs `ecs-template-deploy` (the CLI, in-process, on the virtual
clock) against a service Terraform would have built, and asserts the outcome
(exit code, where the service ends up) and the timeline (when the first task
failed, when the tool decided, when the service was steady again).
"""
from __future__ import annotations

import hashlib
import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from ecs_template_deploy import knowngood
from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK

ACCOUNT, REGION = "123456789012", "us-east-1"
REPO = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/0123456789abcdef"
POLL = 5.0
DESIRED = 4


@dataclass
class Run:
    """One CLI invocation: exit code, JSON-lines progress, the final result line."""

    code: int
    lines: list[dict[str, Any]]
    started: float
    calls: list[str] = field(default_factory=list)

    @property
    def result(self) -> dict[str, Any]:
        return next(line for line in reversed(self.lines) if line.get("kind") == "result")

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("kind") == kind]


class World:
    """What Terraform built (ECR repository, cluster, template, service), and CD."""

    def __init__(self, aws, *, load_balanced: bool = False, circuit_breaker: bool = False) -> None:
        self.aws = aws
        self.ecs = aws.client("ecs")
        self.ecr = aws.client("ecr")
        self.ecr.create_repository(repositoryName="web")
        for tag in ("placeholder", "v1", "v2", "v3", "crash", "sick", "slow"):
            self.push(tag)
        self.ecs.create_cluster(clusterName="prod")
        container: dict[str, Any] = {"name": "app", "image": f"{REPO}:placeholder", "memory": 256, "essential": True}
        extra: dict[str, Any] = {}
        if load_balanced:
            container["portMappings"] = [{"containerPort": 8080}]
            extra = {"loadBalancers": [{"targetGroupArn": TG, "containerName": "app", "containerPort": 8080}],
                     "healthCheckGracePeriodSeconds": 0}
        template = self.ecs.register_task_definition(family="web-template", containerDefinitions=[container])
        self.ecs.create_service(
            cluster="prod", serviceName="web", taskDefinition=template["taskDefinition"]["taskDefinitionArn"],
            desiredCount=DESIRED,
            deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100,
                                     "deploymentCircuitBreaker": {"enable": circuit_breaker, "rollback": circuit_breaker}},
            **extra,
        )
        aws.clock.sleep(300)  # the service settles on the template's placeholder image

    def push(self, tag: str) -> None:
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest()}})
        self.ecr.put_image(repositoryName="web", imageManifest=manifest, imageTag=tag)

    def run(self, *argv: str, session: Any = None, clock: Any = None) -> Run:
        calls: list[str] = []
        session = session or boto3.Session(region_name=REGION)
        session.events.register("before-call.ecs", lambda model, **_: calls.append(model.name))
        out = io.StringIO()
        started = self.aws.clock.now()
        with redirect_stdout(out):
            code = main([*argv, "--json"], session=session, clock=clock or self.aws.clock)
        lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
        return Run(code, lines, started, calls)

    def deploy(self, tag: str, *extra: str) -> Run:
        return self.run("deploy", "--cluster", "prod", "--service", "web", "--template", "web-template",
                        "--tag", tag, "--poll-interval", str(POLL), *extra)

    def service(self) -> dict[str, Any]:
        return self.ecs.describe_services(cluster="prod", services=["web"], include=["TAGS"])["services"][0]

    def steady_on(self, revision: str) -> bool:
        service = self.service()
        (only,) = service["deployments"]
        return (only["taskDefinition"].endswith(f"/{revision}") and only["rolloutState"] == "COMPLETED"
                and service["runningCount"] == DESIRED)

    def known_good(self) -> str | None:
        tags = {t["key"]: t["value"] for t in self.service().get("tags", [])}
        found = knowngood.find(self.ecs, "web", service_tags=tags)
        return found.revision if found else None

    def min_healthy_since(self, since: float) -> int:
        samples = [s for s in self.aws.sim.timeline.samples if s["t"] >= since and s["service"] == "web"]
        return min(s["healthy"] for s in samples)


@pytest.fixture
def make_world(aws, monkeypatch):
    """`make_world(load_balanced=..., circuit_breaker=...)`: a settled service."""
    server = getattr(aws, "server", None)
    if server is not None:  # --backend server: the CLI's own sessions must reach it too
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    return lambda **options: World(aws, **options)


@pytest.fixture
def world(make_world):
    return make_world()


def fails_fast_and_returns(run: Run, world: World, reason: str, updates: int = 2) -> dict[str, Any]:
    """The claims every failing deploy shares: exit 1, decision within one poll of
    the first failed task, back and steady on the known-good revision web:1."""
    assert run.code == EXIT_ROLLED_BACK, run.lines
    result = run.result
    assert reason in result["message"]
    assert result["returnedTo"].endswith("/web:1") and result["rolledBackBy"] == "ecs-template-deploy"
    assert 0 <= result["decidedAt"] - result["firstFailureAt"] <= POLL
    assert world.steady_on("web:1")
    assert world.known_good() == "web:1"
    assert run.calls.count("UpdateService") == updates  # the deploy (unless a re-run), and one rollback
    return result


def test_first_deploy_reaches_steady_state_and_is_marked_known_good(world):
    run = world.deploy("v1")
    assert run.code == EXIT_OK, run.lines
    assert run.result["state"] == "succeeded"
    assert world.steady_on("web:1")
    assert world.known_good() == "web:1"
    # progress was streamed: service events, tasks per revision, then the verdict
    assert any("has reached a steady state" in e["message"] for e in run.kinds("service-event"))
    assert run.kinds("rollout")[0]["deployments"][0]["revision"] == "web:1"


def test_crashing_image_is_rolled_back_within_one_poll_of_the_first_crash(world):
    world.aws.sim.declare_image("web:crash", crash_after=5)
    assert world.deploy("v1").code == EXIT_OK
    run = world.deploy("crash")
    result = fails_fast_and_returns(run, world, "Essential container in task exited")
    # timeline: pull 10 s + start 5 s + crash 5 s after RUNNING, from the first scheduler pass
    assert 20 <= result["firstFailureAt"] - run.started <= 20 + POLL
    assert result["steadyAt"] > result["decidedAt"]
    assert world.min_healthy_since(run.started) == DESIRED  # minimumHealthyPercent 100: never below 4


def test_image_missing_from_ecr_is_rolled_back(world):
    assert world.deploy("v1").code == EXIT_OK
    run = world.deploy("v9-never-pushed")
    result = fails_fast_and_returns(run, world, "CannotPullContainerError")
    assert "TaskFailedToStart" in {e["stopCode"] for e in run.kinds("task-failed")}
    assert result["firstFailureAt"] - run.started <= 10 + 2 * POLL  # one pull attempt


def test_failing_target_group_health_check_is_caught_before_the_target_drains(make_world):
    world = make_world(load_balanced=True)
    world.aws.sim.declare_image("web:sick", target_health="fail")
    assert world.deploy("v1").code == EXIT_OK
    run = world.deploy("sick")
    result = fails_fast_and_returns(run, world, "Task failed ELB health checks")
    # the failed task is still draining (deregistration delay 300 s) when the tool decides
    assert result["decidedAt"] - result["firstFailureAt"] < 300


def test_slow_start_that_eventually_succeeds_is_not_rolled_back(world):
    world.aws.sim.declare_image("web:slow", start_seconds=240)
    assert world.deploy("v1").code == EXIT_OK
    run = world.deploy("slow")
    assert run.code == EXIT_OK, run.lines
    assert run.kinds("task-failed") == []
    assert run.calls.count("UpdateService") == 1
    assert run.result["decidedAt"] - run.started >= 250  # it waited through the slow start
    assert world.steady_on("web:2") and world.known_good() == "web:2"


def test_circuit_breaker_rollback_is_followed_not_fought(make_world):
    world = make_world(circuit_breaker=True)
    world.aws.sim.declare_image("web:crash", crash_after=5)
    assert world.deploy("v1").code == EXIT_OK
    # threshold 3: the tool must not decide alone at the first crash, so ECS acts first
    run = world.deploy("crash", "--failure-threshold", "4")
    assert run.code == EXIT_ROLLED_BACK, run.lines
    result = run.result
    assert result["rolledBackBy"] == "ecs-circuit-breaker"
    assert "circuit breaker" in result["message"]
    assert result["returnedTo"].endswith("/web:1")
    assert run.calls.count("UpdateService") == 1  # its own deploy only: no competing rollback
    assert world.steady_on("web:1")
    assert any("rolling back" in e["message"] for e in run.kinds("service-event"))


class Interrupt(BaseException):
    """The CD job is killed while the deploy waits (a BaseException: no handler of the tool runs, as with SIGKILL)."""


class InterruptingClock:
    """The harness clock, until `after` virtual seconds of waiting have passed."""

    def __init__(self, clock, after: float) -> None:
        self.clock, self.left = clock, after

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.left -= seconds
        if self.left < 0:
            raise Interrupt
        self.clock.sleep(seconds)


def test_interrupted_deploy_rerun_watches_the_same_rollout_and_rolls_back(world):
    world.aws.sim.declare_image("web:crash", crash_after=5)
    assert world.deploy("v1").code == EXIT_OK
    with pytest.raises(Interrupt):
        world.run("deploy", "--cluster", "prod", "--service", "web", "--template", "web-template",
                  "--tag", "crash", clock=InterruptingClock(world.aws.clock, after=10))
    assert world.service()["taskDefinition"].endswith("/web:2")  # the update happened, nothing was judged

    rerun = world.deploy("crash")

    assert rerun.calls.count("RegisterTaskDefinition") == 0  # same definition: nothing new registered
    fails_fast_and_returns(rerun, world, "Essential container in task exited", updates=1)


def test_rollback_command_from_a_fresh_process_finds_the_known_good_in_aws(world):
    assert world.deploy("v1").code == EXIT_OK
    assert world.deploy("v2").code == EXIT_OK  # completes, but users report a bug
    assert world.known_good() == "web:2"

    # Another machine: a new session, nothing in memory but what AWS holds.
    fresh = boto3.Session(region_name=REGION)
    run = world.run("rollback", "--cluster", "prod", "--service", "web", "--poll-interval", str(POLL), session=fresh)

    assert run.code == EXIT_OK, run.lines
    assert run.result["returnedTo"].endswith("/web:1")
    assert run.calls[:1] == ["DescribeServices"]
    assert run.calls.count("UpdateService") == 1
    assert world.steady_on("web:1")
    assert world.known_good() == "web:1"  # the service's pointer moved with the rollback

    again = world.run("rollback", "--cluster", "prod", "--service", "web", "--to", "2", session=boto3.Session(region_name=REGION))
    assert again.code == EXIT_OK and world.steady_on("web:2")


def test_deploy_with_rollback_disabled_leaves_the_failed_revision_and_says_so(world):
    world.aws.sim.declare_image("web:crash", crash_after=5)
    assert world.deploy("v1").code == EXIT_OK
    run = world.deploy("crash", "--no-rollback")
    assert run.code == EXIT_NOT_RECOVERED
    assert "--no-rollback" in run.result["message"]
    assert world.service()["taskDefinition"].endswith("/web:2")
    assert run.calls.count("UpdateService") == 1


def test_status_shows_deployments_images_and_the_known_good_revision(world):
    assert world.deploy("v1").code == EXIT_OK
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["status", "--cluster", "prod", "--service", "web"], session=boto3.Session(region_name=REGION)) == 0
    text = out.getvalue()
    assert "known good: web:1 (since " in text
    assert f"app={REPO}:v1" in text
    assert "PRIMARY" in text and "completed" in text


def test_timeout_is_a_failure_and_rolls_back(world):
    world.aws.sim.declare_image("web:slow", start_seconds=240)
    assert world.deploy("v1").code == EXIT_OK
    run = world.deploy("slow", "--timeout", "60")
    assert run.code == EXIT_ROLLED_BACK, run.lines
    assert run.result["state"] == "timed-out"
    assert 60 <= run.result["decidedAt"] - run.started < 60 + POLL
    assert "timed out" in run.result["message"] and "--timeout" in run.result["message"]
    assert world.steady_on("web:1")


def test_when_the_rollback_fails_too_the_exit_code_says_the_service_is_not_back(world):
    world.aws.sim.declare_image("web:crash", crash_after=5)
    assert world.deploy("v1").code == EXIT_OK
    world.ecr.batch_delete_image(repositoryName="web", imageIds=[{"imageTag": "v1"}])  # the known good is gone from ECR
    run = world.deploy("crash")
    assert run.code == EXIT_NOT_RECOVERED, run.lines
    assert "rollback to web:1 failed too" in run.result["message"]
    assert "CannotPullContainerError" in run.result["message"]
    assert run.calls.count("UpdateService") == 2  # one rollback attempt, no loop
