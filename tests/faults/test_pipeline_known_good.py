"""Known good means proven good, as a CD pipeline meets it: the tool in its own
process against `harness serve`, re-run by a retried CI job, SIGKILLed during a
bake, SIGTERMed during a rollback, followed by the next pipeline's deploy.

Each test is one way the promise broke before: a re-run while the alarm still
fired marked the failed release known good; a revision whose bake was killed
became known good at the next deploy; prune with another service's family
deregistered its rollback target; after SIGTERM during a rollback, `next:`
re-deployed the failing release.
"""
from __future__ import annotations

import signal

import pytest

from ecs_template_deploy import knowngood
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_ROLLED_BACK
from harness.backends.remote import RemoteAws
from harness.worlds import CONTAINER, ToolWorld
from tests.faults.pipeline import WAIT, environment, read_until, result, run, start, the_next_command

ALARM = "HighErrors"


@pytest.fixture
def tool_world(server_url, monkeypatch):
    for key, value in environment(server_url).items():  # the in-process setup, like the child processes
        monkeypatch.setenv(key, value)
    aws = RemoteAws(server_url)
    aws.reset()
    built = ToolWorld.build(aws, desired=2)
    built.declare_image("crash", crash_after=5)
    assert built.run("deploy", "--tag", "v1", "--poll-interval", "5").code == EXIT_OK
    # a 10 s alarm: once its cause is gone it leaves ALARM within 20 s (10 s x (1 + 1))
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM, MetricName="5xx", Namespace="App", Statistic="Sum", Period=10, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanThreshold")
    return built


def marked(tool_world: ToolWorld, revision: str) -> bool:
    return knowngood.read_mark(tool_world.ecs, revision) is not None


def bake(tool_world: ToolWorld, revision: str) -> str | None:
    arn = tool_world.ecs.describe_task_definition(taskDefinition=revision)["taskDefinition"]["taskDefinitionArn"]
    record = knowngood.read_bake(tool_world.ecs, arn)
    return record.state if record else None


def test_a_retried_job_while_the_alarm_still_fires_never_marks_the_failed_release(tool_world, server_url):
    tool_world.declare_image("v2", alarm=ALARM, alarm_after=30)  # passes every check, then trips the alarm
    deploy = ("deploy", "--tag", "v2", "--alarm", ALARM, "--bake", "180", *WAIT)  # AWS's seconds: 3 on the wall
    failed = run(server_url, *deploy, json_lines=False)
    assert failed.returncode == EXIT_ROLLED_BACK, failed.stdout + failed.stderr

    retried = run(server_url, *deploy, json_lines=False)  # the CI job's retry: the same command, HighErrors still ALARM

    first = retried.stdout.splitlines()[0]
    assert f"warning       alarm {ALARM} is already in ALARM" in first, retried.stdout[:500]
    assert retried.returncode == EXIT_ROLLED_BACK, retried.stdout + retried.stderr
    assert "did not leave ALARM within 180 s" in retried.stderr  # 20 s to clear (10 s x (1 + 1)), at least the bake
    assert "marked web:2 known good" not in retried.stdout
    assert not marked(tool_world, "web:2") and bake(tool_world, "web:2") == knowngood.FAILED
    assert "reused (an earlier run registered it) web:2" in retried.stdout  # not a duplicate web:3
    assert tool_world.revisions() == ["web:1", "web:2"]
    tool_world.aws.clock.sleep(600)
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"


def test_a_deploy_killed_during_its_bake_is_never_known_good_and_the_next_release_returns_past_it(tool_world, server_url):
    baking = start(server_url, "deploy", "--tag", "v2", "--bake", "3600", "--alarm", ALARM, *WAIT)
    read_until(baking.stdout, "baking")
    baking.send_signal(signal.SIGKILL)  # a runner that dies: no handler, no `finally`
    baking.communicate(timeout=60)
    assert baking.returncode == -signal.SIGKILL
    assert tool_world.steady_on() == "web:2" and bake(tool_world, "web:2") == knowngood.STARTED

    following = run(server_url, "deploy", "--tag", "crash", *WAIT)  # the next pipeline, another release

    assert following.returncode == EXIT_ROLLED_BACK, following.stdout + following.stderr
    assert result(following)["returnedTo"].endswith("/web:1"), result(following)
    assert "web:2 known good" not in following.stdout + following.stderr
    assert not marked(tool_world, "web:2")
    tool_world.aws.clock.sleep(600)
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"


def test_a_rerun_after_a_kill_during_the_bake_bakes_again_before_it_marks(tool_world, server_url):
    baking = start(server_url, "deploy", "--tag", "v2", "--bake", "3600", *WAIT)
    read_until(baking.stdout, "baking")
    baking.send_signal(signal.SIGKILL)
    baking.communicate(timeout=60)

    again = run(server_url, "deploy", "--tag", "v2", "--bake", "2", *WAIT, json_lines=False)

    assert again.returncode == EXIT_OK, again.stdout + again.stderr
    assert "web:2's bake, started at" in again.stdout and "baking it again in full" in again.stdout
    assert "baked 2 s" in again.stdout and marked(tool_world, "web:2") and bake(tool_world, "web:2") == knowngood.PASSED


def test_prune_with_another_services_family_is_refused_and_its_rollback_target_stays(tool_world, server_url):
    ecs = tool_world.ecs
    ecs.create_cluster(clusterName="other")
    template = ecs.register_task_definition(family="api-template", containerDefinitions=[
        {"name": CONTAINER, "image": f"{tool_world.repository_uri}:placeholder", "memory": 256, "essential": True}])
    ecs.create_service(cluster="other", serviceName="api", desiredCount=2,
                       taskDefinition=template["taskDefinition"]["taskDefinitionArn"])
    tool_world.aws.clock.sleep(300)
    api = ("--cluster", "other", "--service", "api")
    for tag in ("v1", "v2"):
        assert run(server_url, "deploy", *api, "--template", "api-template", "--tag", tag, *WAIT,
                   target=False).returncode == EXIT_OK

    pruned = run(server_url, "prune", "--family", "api", "--keep", "0", "--min-age", "0", json_lines=False)

    assert pruned.returncode == EXIT_BAD_INPUT, pruned.stdout + pruned.stderr
    lines = pruned.stderr.strip().splitlines()
    assert len(lines) == 1 and "--family api: service web in cluster prod neither runs nor deploys to it" in lines[0]
    listed = ecs.list_task_definitions(familyPrefix="api", status="ACTIVE")["taskDefinitionArns"]
    assert sorted(arn.rsplit("/", 1)[-1] for arn in listed) == ["api:1", "api:2"]
    back = run(server_url, "rollback", *api, *WAIT, target=False)
    assert back.returncode == EXIT_OK and result(back)["returnedTo"].endswith("/api:1"), back.stdout + back.stderr


def test_after_sigterm_during_the_rollback_next_finishes_the_rollback_not_the_failed_release(tool_world, server_url):
    failing = start(server_url, "deploy", "--tag", "crash", *WAIT)
    read_until(failing.stdout, "rolling back to known-good web:1")
    failing.send_signal(signal.SIGTERM)  # the CI job is cancelled while the tool rolls back
    _, stderr = failing.communicate(timeout=60)
    assert failing.returncode == 128 + signal.SIGTERM, stderr

    next_command = the_next_command(stderr)

    assert next_command == ["rollback", "--cluster", "prod", "--service", "web"], stderr
    finished = run(server_url, *next_command, *WAIT, target=False)
    assert finished.returncode == EXIT_OK, finished.stdout + finished.stderr
    tool_world.aws.clock.sleep(600)
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"
    assert not marked(tool_world, "web:2") and bake(tool_world, "web:2") in (knowngood.FAILED, None)
