"""The article's third goal, "speedy rollback to the last known good application
version if a deploy fails", for the deploy tool, on the ECS simulator.

Each scenario runs `ecs-template-deploy` (the CLI, in-process, on the virtual
clock) against a service Terraform would have built, and asserts the outcome
(exit code, where the service ends up) and the timeline (when the first task
failed, when the tool decided, when the service was steady again).

They run on real AWS too (``--backend aws --allow-real-aws``): Fargate tasks of
images built to crash, fail health checks or start slowly, on the wall clock,
each scenario within its budget (``real_aws``) in a run torn down after it.
There the simulator's exact timings (a pull takes 10 s) are not asserted, and
the "decided within one poll" claims allow for ECS showing a stopped task late
(``AWS_LAG``); the scenarios that need the simulator say why
(``simulator_only``).
"""
from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest

from ecs_template_deploy import knowngood
from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK

from harness.clock import SkewedClock
from harness.worlds import ToolRun, ToolWorld

POLL = 5.0
DESIRED = 4
AWS_LAG = 30.0  # on real AWS: how late DescribeTasks may show a task ECS has already stopped

# Budgets: what --aws-dry-run simulates (65-340 s; 1200 s behind a load balancer) times
# three or more, for real Fargate's image pulls and network interfaces.
pytestmark = pytest.mark.real_aws(budget=1500)


def deploy(tool_world: ToolWorld, tag: str, *extra: str) -> ToolRun:
    return tool_world.run("deploy", "--tag", tag, "--poll-interval", str(POLL), *extra)


@pytest.fixture
def make_world(aws, monkeypatch):
    """`make_world(load_balanced=..., circuit_breaker=...)`: a settled service."""
    server = getattr(aws, "server", None)
    if server is not None:  # --backend server: the CLI's own sessions must reach it too
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    if aws.simulated:  # real AWS keeps the caller's credentials
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
            monkeypatch.setenv(key, value)
    return lambda **options: ToolWorld.build(aws, desired=DESIRED, **options)


@pytest.fixture
def tool_world(make_world):
    return make_world()


def fails_fast_and_returns(run: ToolRun, tool_world: ToolWorld, reason: str, updates: int = 2) -> dict[str, Any]:
    """The claims every failing deploy shares: exit 1, decision within one poll of
    the first failed task, back and steady on the known-good revision web:1."""
    assert run.code == EXIT_ROLLED_BACK, run.lines
    result = run.result
    assert reason in result["message"]
    assert result["returnedTo"].endswith("/" + tool_world.rev(1)) and result["rolledBackBy"] == "ecs-template-deploy"
    assert 0 <= result["decidedAt"] - result["firstFailureAt"] <= POLL + (0 if tool_world.simulated else AWS_LAG)
    assert tool_world.steady_on() == tool_world.rev(1)
    assert tool_world.known_good() == tool_world.rev(1)
    assert run.calls.count("UpdateService") == updates  # the deploy (unless a re-run), and one rollback
    return result


def test_first_deploy_reaches_steady_state_and_is_marked_known_good(tool_world):
    run = deploy(tool_world, "v1")
    assert run.code == EXIT_OK, run.lines
    assert run.result["state"] == "succeeded"
    assert tool_world.steady_on() == tool_world.rev(1)
    assert tool_world.known_good() == tool_world.rev(1)
    # progress was streamed: service events, tasks per revision, then the verdict
    assert any("has reached a steady state" in e["message"] for e in run.kinds("service-event"))
    assert run.kinds("rollout")[0]["deployments"][0]["revision"] == tool_world.rev(1)


def test_crashing_image_is_rolled_back_within_one_poll_of_the_first_crash(tool_world):
    tool_world.declare_image("crash", crash_after=5)
    assert deploy(tool_world, "v1").code == EXIT_OK
    run = deploy(tool_world, "crash")
    result = fails_fast_and_returns(run, tool_world, "Essential container in task exited")
    assert result["steadyAt"] > result["decidedAt"]
    if tool_world.simulated:
        # timeline: the profile's pull and start, then the crash 5 s after RUNNING, from the first scheduler pass
        p = tool_world.aws.sim.params
        crash = p.image_pull_seconds + p.container_start_seconds + 5
        assert crash <= result["firstFailureAt"] - run.started <= crash + POLL
        assert tool_world.min_healthy_since(run.started) == DESIRED  # minimumHealthyPercent 100: never below 4


def test_image_never_pushed_is_refused_before_anything_changes(tool_world):
    assert deploy(tool_world, "v1").code == EXIT_OK
    revisions = tool_world.revisions()
    run = deploy(tool_world, "v9-never-pushed")
    assert run.code == EXIT_BAD_INPUT and "is not in ECR" in run.stderr and "push it first" in run.stderr
    assert tool_world.revisions() == revisions and tool_world.steady_on() == tool_world.rev(1)


@pytest.mark.simulator_only("the image must be in ECR when the tool looks and gone when ECS pulls it: on real AWS "
                            "that is a race with the deploy, which the simulator's declared pull failure is not")
def test_image_that_cannot_be_pulled_is_rolled_back(tool_world):
    """In ECR when the deploy looked, and still no task can pull it (deleted since,
    a registry policy): the first failed start decides."""
    tool_world.declare_image("v2", missing=True)
    assert deploy(tool_world, "v1").code == EXIT_OK
    run = deploy(tool_world, "v2")
    result = fails_fast_and_returns(run, tool_world, "CannotPullContainerError")
    assert "TaskFailedToStart" in {e["stopCode"] for e in run.kinds("task-failed")}
    if tool_world.simulated:  # one pull attempt
        assert result["firstFailureAt"] - run.started <= tool_world.aws.sim.params.image_pull_seconds + 2 * POLL


@pytest.mark.real_aws(budget=2700)  # an ALB to provision, health checks every 30 s, a 300 s drain per deploy
def test_failing_target_group_health_check_is_caught_before_the_target_drains(make_world):
    tool_world = make_world(load_balanced=True)
    tool_world.declare_image("sick", target_health="fail")
    assert deploy(tool_world, "v1").code == EXIT_OK
    run = deploy(tool_world, "sick")
    result = fails_fast_and_returns(run, tool_world, "Task failed ELB health checks")
    # the failed task is still draining (deregistration delay 300 s) when the tool decides
    assert result["decidedAt"] - result["firstFailureAt"] < 300


def test_slow_start_that_eventually_succeeds_is_not_rolled_back(tool_world):
    tool_world.declare_image("slow", start_seconds=240)
    assert deploy(tool_world, "v1").code == EXIT_OK
    run = deploy(tool_world, "slow")
    assert run.code == EXIT_OK, run.lines
    assert run.kinds("task-failed") == []
    assert run.calls.count("UpdateService") == 1
    assert run.result["decidedAt"] - run.started >= 250  # it waited through the slow start
    assert tool_world.steady_on() == tool_world.rev(2) and tool_world.known_good() == tool_world.rev(2)


def test_circuit_breaker_rollback_is_followed_not_fought(make_world):
    tool_world = make_world(circuit_breaker=True)
    tool_world.declare_image("crash", crash_after=5)
    assert deploy(tool_world, "v1").code == EXIT_OK
    # threshold 3: the tool must not decide alone at the first crash, so ECS acts first
    run = deploy(tool_world, "crash", "--failure-threshold", "4")
    assert run.code == EXIT_ROLLED_BACK, run.lines
    result = run.result
    assert result["rolledBackBy"] == "ecs-circuit-breaker"
    assert "circuit breaker" in result["message"]
    assert result["returnedTo"].endswith("/" + tool_world.rev(1))
    assert run.calls.count("UpdateService") == 1  # its own deploy only: no competing rollback
    assert tool_world.steady_on() == tool_world.rev(1)
    assert any("rolling back" in e["message"] for e in run.kinds("service-event"))


def test_circuit_breaker_that_trips_as_the_tool_rolls_back_is_a_rollback_not_a_failure(make_world):
    """The race a slow CD runner meets: the tool decides at the first crash, and by
    the time its rollback's UpdateService arrives, ECS's circuit breaker has tripped
    and is already returning to web:1. The UpdateService then changes nothing, and
    the service's current service deployment is the breaker's ROLLBACK_*: the
    service comes back to web:1 all the same, and the tool must say so (exit 1), not
    "rollback failed too" (exit 4)."""
    tool_world = make_world(circuit_breaker=True, maximumPercent=125)  # one new task at a time: one crash, then more
    tool_world.declare_image("crash", crash_after=5)
    assert deploy(tool_world, "v1").code == EXIT_OK
    session = tool_world.session()
    updates: list[int] = []

    def breaker_trips_first(**_: Any) -> None:
        updates.append(1)
        if len(updates) == 2:  # the rollback: let the runner be slow until the breaker has acted
            while tool_world.service().task_definition.endswith(":2"):  # the primary deployment's
                tool_world.aws.clock.sleep(1 if tool_world.simulated else POLL)

    session.events.register("before-call.ecs.UpdateService", breaker_trips_first)
    run = tool_world.run("deploy", "--tag", "crash", "--poll-interval", str(POLL), session=session)
    assert len(updates) == 2, run.lines  # the tool did decide first and did try to roll back
    assert run.code == EXIT_ROLLED_BACK, run.result["message"]
    assert run.result["returnedTo"].endswith("/" + tool_world.rev(1))
    assert run.result["rolledBackBy"] == "ecs-circuit-breaker" and "circuit breaker tripped" in run.result["message"]
    assert run.calls.count("UpdateService") == 2  # no third update fighting ECS
    assert tool_world.steady_on() == tool_world.rev(1)
    assert tool_world.known_good() == tool_world.rev(1)


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


def test_interrupted_deploy_rerun_watches_the_same_rollout_and_rolls_back(tool_world):
    tool_world.declare_image("crash", crash_after=5)
    assert deploy(tool_world, "v1").code == EXIT_OK
    with pytest.raises(Interrupt):
        tool_world.run("deploy", "--tag", "crash", clock=InterruptingClock(tool_world.aws.clock, after=10))
    assert tool_world.service().task_definition.endswith("/" + tool_world.rev(2))  # the update happened, nothing was judged

    rerun = deploy(tool_world, "crash")

    assert rerun.calls.count("RegisterTaskDefinition") == 0  # same definition: nothing new registered
    fails_fast_and_returns(rerun, tool_world, "Essential container in task exited", updates=1)


def test_rollback_command_from_a_fresh_process_finds_the_known_good_in_aws(tool_world):
    assert deploy(tool_world, "v1").code == EXIT_OK
    assert deploy(tool_world, "v2").code == EXIT_OK  # completes, but users report a bug
    assert tool_world.known_good() == tool_world.rev(2)

    # Another machine: a new session, nothing in memory but what AWS holds.
    run = tool_world.run("rollback", "--poll-interval", str(POLL), session=tool_world.session())

    assert run.code == EXIT_OK, run.lines
    assert run.result["returnedTo"].endswith("/" + tool_world.rev(1))
    assert run.calls[:1] == ["DescribeServices"]
    assert run.calls.count("UpdateService") == 1
    assert tool_world.steady_on() == tool_world.rev(1)
    assert tool_world.known_good() == tool_world.rev(1)  # the service's pointer moved with the rollback

    again = tool_world.run("rollback", "--to", "2", session=tool_world.session())
    assert again.code == EXIT_OK and tool_world.steady_on() == tool_world.rev(2)


def test_deploy_with_rollback_disabled_leaves_the_failed_revision_and_says_so(tool_world):
    tool_world.declare_image("crash", crash_after=5)
    assert deploy(tool_world, "v1").code == EXIT_OK
    run = deploy(tool_world, "crash", "--no-rollback")
    assert run.code == EXIT_NOT_RECOVERED
    assert "--no-rollback" in run.result["message"]
    assert tool_world.service().task_definition.endswith("/" + tool_world.rev(2))
    assert run.calls.count("UpdateService") == 1


def test_status_shows_deployments_images_and_the_known_good_revision(tool_world):
    assert deploy(tool_world, "v1").code == EXIT_OK
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["status", "--cluster", tool_world.names.cluster, "--service", tool_world.names.service],
                    session=tool_world.session()) == 0
    text = out.getvalue()
    assert f"known good: {tool_world.rev(1)} (since " in text
    assert f"app={tool_world.repository_uri}:v1" in text
    assert "PRIMARY" in text and "completed" in text


def test_timeout_is_a_failure_and_rolls_back(tool_world):
    tool_world.declare_image("slow", start_seconds=240)
    assert deploy(tool_world, "v1").code == EXIT_OK
    run = deploy(tool_world, "slow", "--timeout", "60")
    assert run.code == EXIT_ROLLED_BACK, run.lines
    assert run.result["state"] == "timed-out"
    assert 60 <= run.result["decidedAt"] - run.started < 60 + POLL
    assert "timed out" in run.result["message"] and "--timeout" in run.result["message"]
    assert tool_world.steady_on() == tool_world.rev(1)


def test_when_the_rollback_fails_too_the_exit_code_says_the_service_is_not_back(tool_world):
    tool_world.declare_image("crash", crash_after=5)
    assert deploy(tool_world, "v1").code == EXIT_OK
    tool_world.ecr.batch_delete_image(repositoryName=tool_world.names.repository, imageIds=[{"imageTag": "v1"}])  # the known good is gone from ECR
    run = deploy(tool_world, "crash")
    assert run.code == EXIT_NOT_RECOVERED, run.lines
    assert f"rollback to {tool_world.rev(1)} failed too" in run.result["message"]
    assert "CannotPullContainerError" in run.result["message"]
    assert run.calls.count("UpdateService") == 2  # one rollback attempt, no loop


def test_a_failed_rollback_says_where_the_service_stands_and_what_finishes_the_job(tool_world):
    tool_world.declare_image("crash", crash_after=5)
    assert deploy(tool_world, "v1").code == EXIT_OK
    tool_world.ecr.batch_delete_image(repositoryName=tool_world.names.repository, imageIds=[{"imageTag": "v1"}])
    run = deploy(tool_world, "crash")
    assert run.code == EXIT_NOT_RECOVERED
    names = tool_world.names
    assert run.result["next"] == f"ecs-template-deploy rollback --cluster {names.cluster} --service {names.service}"
    standing = run.result["standing"]
    assert standing["taskDefinitionArn"].endswith("/" + tool_world.rev(1))
    assert standing["knownGood"].endswith("/" + tool_world.rev(1))
    assert standing["rolloutState"] == "IN_PROGRESS"  # web:1 cannot start: its image is gone
    assert f"rolled back to known-good {tool_world.rev(1)}" in run.result["actions"]
    assert [line["kind"] for line in run.lines].count("result") == 1 and run.lines[-1]["kind"] == "result"


def test_known_good_marks_carry_aws_time_so_a_skewed_runner_cannot_reorder_them(tool_world):
    assert tool_world.run("deploy", "--tag", "v1", clock=SkewedClock(tool_world.aws.clock, 86400)).code == EXIT_OK
    assert deploy(tool_world, "v2").code == EXIT_OK  # later, from a runner with a true clock
    marks = {rev: knowngood.read_mark(tool_world.ecs, rev).marked_at for rev in (tool_world.rev(1), tool_world.rev(2))}
    assert marks[tool_world.rev(1)] < marks[tool_world.rev(2)]
    assert knowngood.find(tool_world.ecs, tool_world.names.family).revision == tool_world.rev(2)  # without the pointer, the latest mark still wins


def test_prune_keeps_what_a_rollback_returns_to_so_the_rollback_still_works(tool_world):
    for tag in ("v1", "v2", "v3"):
        assert deploy(tool_world, tag).code == EXIT_OK

    pruned = tool_world.run("prune", "--keep", "1", "--min-age", "0")

    assert pruned.code == EXIT_OK
    assert tool_world.revisions() == [tool_world.rev(2), tool_world.rev(3)]  # web:2: where a rollback from web:3 goes
    back = tool_world.run("rollback", "--poll-interval", str(POLL))
    assert back.code == EXIT_OK and tool_world.steady_on() == tool_world.rev(2)


@pytest.mark.simulator_only("it waits an hour for --min-age to pass: the simulator skips the hour, real AWS would "
                            "bill it")
def test_prune_never_deregisters_a_revision_younger_than_min_age(tool_world):
    for tag in ("v1", "v2", "v3"):
        assert deploy(tool_world, tag).code == EXIT_OK
    assert tool_world.run("prune", "--keep", "0").code == EXIT_OK  # default --min-age 3600: all are minutes old
    assert tool_world.revisions() == [tool_world.rev(1), tool_world.rev(2), tool_world.rev(3)]
    tool_world.aws.clock.sleep(3600)
    assert tool_world.run("prune", "--keep", "0").code == EXIT_OK
    assert tool_world.revisions() == [tool_world.rev(2), tool_world.rev(3)]


def test_in_a_ci_log_a_failure_ends_with_what_happened_where_things_stand_and_the_next_command(tool_world):
    tool_world.declare_image("crash", crash_after=5)
    assert deploy(tool_world, "v1").code == EXIT_OK
    out, err = io.StringIO(), io.StringIO()
    names = tool_world.names
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["deploy", "--cluster", names.cluster, "--service", names.service, "--template", names.template,
                     "--tag", "crash", "--no-rollback"], session=tool_world.session(), clock=tool_world.aws.clock)
    assert code == EXIT_NOT_RECOVERED
    lines = err.getvalue().strip().splitlines()
    one, two = tool_world.rev(1), tool_world.rev(2)
    assert [line.split(":", 2)[1].strip() for line in lines] == ["error", "now", "done", "next"]
    assert f"rollback disabled (--no-rollback), the service stays on {two}" in lines[0]
    assert lines[1].startswith(f"ecs-template-deploy: now: service web runs {two} (") and lines[1].endswith(f"known good: {one}")
    assert lines[2] == (f"ecs-template-deploy: done: registered {two} from {names.template}:1; "
                        f"updated service web: {one} -> {two}")
    assert lines[3] == f"ecs-template-deploy: next: ecs-template-deploy rollback --cluster {names.cluster} --service web"
