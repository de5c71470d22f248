"""`ecs-template-deploy check`: each problem it knows, found on a service built with
it, in-process and against `harness serve` over HTTP; nothing found on a
well-configured one; errors exit 7. (That it only reads: tests/server/.)"""
from __future__ import annotations

import json

import pytest

from ecs_template_deploy.errors import EXIT_CHECK_FAILED, EXIT_OK
from harness.backends.served import ServedAws
from harness.worlds import CLUSTER, FAMILY, TEMPLATE, ToolWorld
from harness.backends.embedded import cd_process_env

GOOD_HEALTH_CHECK = {"command": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"], "interval": 10,
                     "retries": 3, "startPeriod": 20}
FAST_TARGET_GROUP = {"interval": 10, "healthy": 2, "unhealthy": 2, "deregistration_delay": 30}
ALARMS = {"alarmNames": ["HighErrors"], "enable": True, "rollback": True}


def alarm(aws) -> None:
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="HighErrors", MetricName="5xx", Namespace="App", Statistic="Sum", Period=60, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanThreshold")


def well_configured(aws, deploy: bool = True, **changes) -> ToolWorld:
    """Two tasks behind a target group with quick checks and a short drain, breaker and
    alarms rolling back, a grace period longer than the app's start, deployed and marked."""
    alarm(aws)
    settings = dict(desired=2, load_balanced=True, circuit_breaker=True, alarms=ALARMS, health_check_grace=30,
                    container_settings={"healthCheck": GOOD_HEALTH_CHECK}, target_group_settings=FAST_TARGET_GROUP)
    settings.update(changes)
    world = ToolWorld.build(aws, **settings)
    if deploy:
        assert world.run("deploy", "--tag", "v1").code == EXIT_OK
    return world


def check(world: ToolWorld, *argv: str, service: str = "web"):
    run = world.run_argv(["check", "--cluster", CLUSTER, "--service", service, *argv])
    assert len(run.lines) == 1, run.lines  # one object, whatever the exit code: what rehearse --from reads
    document = run.result
    assert document["command"] == "check" and document["exitCode"] == run.code, run.stderr
    return run, {f["code"]: f for f in document["findings"]}


def test_a_well_configured_service_has_no_finding(aws):
    run, found = check(well_configured(aws))
    assert run.code == EXIT_OK
    assert found == {}


def unmarked_revision(world: ToolWorld) -> None:
    """The service moved to a revision of the target family by something other than
    the tool, which never marked anything."""
    containers = world.ecs.describe_task_definition(taskDefinition=TEMPLATE)["taskDefinition"]["containerDefinitions"]
    arn = world.ecs.register_task_definition(family=FAMILY, containerDefinitions=containers)["taskDefinition"]["taskDefinitionArn"]
    world.ecs.update_service(cluster=CLUSTER, service="web", taskDefinition=arn)
    world.aws.clock.sleep(1200)  # COMPLETED: past the deployment alarms' watch


# (finding, severity, how the service is built: world changes, then something done to it)
PROBLEMS = [
    ("no-progress", "error", dict(deploy=False, maximumPercent=100, minimumHealthyPercent=100), None),
    ("no-failure-detection", "warning", dict(circuit_breaker=False, alarms={"alarmNames": [], "enable": False,
                                                                            "rollback": False}), None),
    ("breaker-without-rollback", "warning",
     dict(deploymentCircuitBreaker={"enable": True, "rollback": False}), None),
    ("alarms-without-rollback", "warning", dict(alarms={**ALARMS, "rollback": False}), None),
    ("grace-shorter-than-start", "warning", dict(health_check_grace=5), None),
    ("deregistration-delay", "warning", dict(target_group_settings={**FAST_TARGET_GROUP, "deregistration_delay": 300}),
     None),
    ("slow-to-healthy", "info", dict(target_group_settings={**FAST_TARGET_GROUP, "interval": 30, "healthy": 5}), None),
    ("single-task", "warning", dict(desired=1), None),
    ("no-health-check", "warning", dict(load_balanced=False, container_settings={}), None),
    ("mutable-tag", "warning", dict(container_settings={"healthCheck": GOOD_HEALTH_CHECK,
                                                        "versionConsistency": "disabled"}), None),
    ("no-bake", "warning", dict(strategy="BLUE_GREEN", bakeTimeInMinutes=0), None),
    ("known-good-missing", "error", dict(deploy=False), unmarked_revision),  # nothing proven: nowhere to return to
    ("no-known-good-yet", "warning", dict(deploy=False), None),  # on the template: a failing first deploy stays
    ("repository-missing", "error", {}, lambda world: world.ecr.delete_repository(repositoryName="web", force=True)),
]


def assert_finds(aws, code, severity, changes, then) -> None:
    world = well_configured(aws, **changes)
    if then is not None:
        then(world)

    run, found = check(world)

    assert code in found, sorted(found)
    finding = found[code]
    assert finding["severity"] == severity
    assert finding["setting"] and finding["why"] and finding["fix"]
    assert run.code == (EXIT_CHECK_FAILED if any(f["severity"] == "error" for f in found.values()) else EXIT_OK)


@pytest.mark.parametrize("code, severity, changes, then", PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_check_finds_the_problem_with_setting_why_and_fix(aws, code, severity, changes, then):
    assert_finds(aws, code, severity, changes, then)


@pytest.fixture
def served(harness_server, monkeypatch):
    """`harness serve` posing as AWS: the tool reaches it as a CD job would, over HTTP."""
    harness_server.reset()
    for key, value in cd_process_env(harness_server.url).items():
        monkeypatch.setenv(key, value)
    yield ServedAws(harness_server)
    harness_server.check()


@pytest.mark.parametrize("code, severity, changes, then", PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_against_harness_serve_check_finds_the_same(served, code, severity, changes, then):
    assert_finds(served, code, severity, changes, then)


def test_against_harness_serve_a_well_configured_service_has_no_finding(served):
    run, found = check(well_configured(served))
    assert (run.code, found) == (EXIT_OK, {})


def test_a_template_without_the_suffix_and_a_missing_template_are_findings(aws):
    world = well_configured(aws)
    _, named = check(world, "--template", "web")
    assert named["template-name"]["severity"] == "warning"
    world.ecs.deregister_task_definition(taskDefinition=f"{TEMPLATE}:1")
    _, found = check(world)
    assert "template-missing" in found


def test_a_controller_the_tool_cannot_drive_is_an_error(aws):
    world = well_configured(aws)
    world.ecs.create_service(cluster=CLUSTER, serviceName="legacy", taskDefinition=f"{FAMILY}:1", desiredCount=2,
                             deploymentController={"type": "EXTERNAL"})
    run, found = check(world, service="legacy")
    assert found["deployment-controller"]["severity"] == "error"
    assert run.code == EXIT_CHECK_FAILED


def test_check_reads_the_settings_rehearse_replays(aws):
    run, _ = check(well_configured(aws))
    settings = run.result["settings"]
    assert settings["kind"] == "settings"
    assert settings["targetGroups"][0]["deregistrationDelaySeconds"] == 30
    assert settings["targetGroups"][0]["healthyThresholdCount"] == 2
    assert settings["deploymentConfiguration"]["alarms"]["alarmNames"] == ["HighErrors"]
    assert settings["containers"][0]["healthCheck"]["startPeriod"] == 20
    assert settings["knownGood"] == "web:1" and settings["template"] == {"family": TEMPLATE, "named": False, "found": True}


def test_a_check_that_found_an_error_still_feeds_rehearse(aws):
    from harness.commands.rehearse import Service

    run, found = check(well_configured(aws, deploy=False, maximumPercent=100, minimumHealthyPercent=100))
    assert run.code == EXIT_CHECK_FAILED and "no-progress" in found
    replayed = Service.from_settings(json.loads(json.dumps(run.result)))  # as read back from the file
    assert (replayed.desired, replayed.maximum_percent, replayed.minimum_percent) == (2, 100, 100)


def test_check_prints_each_finding_with_its_fix_and_a_count(aws, capsys):
    from ecs_template_deploy.cli import main

    world = well_configured(aws, deploy=False, maximumPercent=100, minimumHealthyPercent=100)
    code = main(["check", "--cluster", CLUSTER, "--service", "web"], session=world.session())
    out = capsys.readouterr().out
    assert code == EXIT_CHECK_FAILED
    assert "ERROR   no-progress: minimumHealthyPercent 100 and maximumPercent 100" in out
    assert "        fix: raise maximumPercent" in out
    assert out.rstrip().splitlines()[-1].startswith("1 error, ")


def test_deploy_and_rollback_refuse_a_service_that_cannot_replace_a_task_before_changing_anything(aws):
    """What check calls no-progress, deploy and rollback refuse up front (exit 2):
    otherwise they would register, update and wait out --timeout on a rollout
    that can never move."""
    world = well_configured(aws, deploy=False, maximumPercent=100, minimumHealthyPercent=100)
    for argv in (("deploy", "--tag", "v1"), ("rollback", "--to", "1")):
        run = world.run(*argv)
        assert run.code == 2, run.stderr
        assert "service web cannot replace a task: minimumHealthyPercent 100 and maximumPercent 100 at 2 task(s)" \
            in run.stderr
        assert not {"RegisterTaskDefinition", "UpdateService", "TagResource"} & set(run.calls)
