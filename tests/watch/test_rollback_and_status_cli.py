"""`rollback` and `status`: refused input changes nothing; status as data."""
from __future__ import annotations

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from ecs_template_deploy import knowngood
from ecs_template_deploy.cli import main
from ecs_template_deploy.cli.status import render
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_OK

T = 1_795_000_000.0


@pytest.fixture
def ecs(moto_ecs):
    moto_ecs.create_cluster(clusterName="prod")
    moto_ecs.arns = [moto_ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "app", "image": f"web:v{n}", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"] for n in (1, 2, 3)]
    moto_ecs.create_service(cluster="prod", serviceName="web", taskDefinition=moto_ecs.arns[2], desiredCount=2)
    return moto_ecs


def session_recording(calls: list[str]) -> boto3.Session:
    session = boto3.Session(region_name="us-east-1")
    session.events.register("before-call.ecs", lambda model, **_: calls.append(model.name))
    without_deployments_api(session)
    return session


def without_deployments_api(session: boto3.Session, code: str = "UnknownOperationException") -> boto3.Session:
    """Plain moto has no service deployments API: answer as an endpoint without it does."""
    def unknown(**_):
        return AWSResponse("https://ecs.us-east-1.amazonaws.com/", 400, {}, None), {
            "Error": {"Code": code, "Message": "not here"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    session.events.register("before-call.ecs.ListServiceDeployments", unknown)
    return session


@pytest.mark.parametrize("extra, fragment", [
    ([], "no known-good revision of web other than the running web:3: name one with --to REVISION"),
    (["--to", "9"], "--to 9: task definition 'web:9' not found"),
    (["--to", "1"], "web:1 is INACTIVE (deregistered)"),
    (["--timeout", "0"], "--timeout: 0 must be a positive number of seconds"),
])
def test_refused_rollback_says_why_in_one_line_and_changes_nothing(ecs, capsys, extra, fragment):
    ecs.deregister_task_definition(taskDefinition=ecs.arns[0])
    calls: list[str] = []
    code = main(["rollback", "--cluster", "prod", "--service", "web", *extra], session=session_recording(calls))
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert fragment in err
    assert "UpdateService" not in calls and "TagResource" not in calls


def test_status_as_json_names_the_known_good_revision_and_images(ecs, capsys):
    service_arn = ecs.describe_services(cluster="prod", services=["web"])["services"][0]["serviceArn"]
    knowngood.mark(ecs, ecs.arns[1], at=T, service_arn=service_arn)
    calls: list[str] = []

    assert main(["status", "--cluster", "prod", "--service", "web", "--json"], session=session_recording(calls)) == EXIT_OK

    status = json.loads(capsys.readouterr().out)
    assert status["knownGood"] == {"taskDefinition": ecs.arns[1], "revision": "web:2", "since": knowngood.iso(T)}
    assert status["revisions"][ecs.arns[2]]["images"] == {"app": "web:v3"}
    assert status["revisions"][ecs.arns[2]]["knownGoodSince"] is None
    assert [d["revision"] for d in status["deployments"]] == ["web:3"]
    assert not {"UpdateService", "TagResource", "RegisterTaskDefinition"} & set(calls)  # read-only


def test_the_cli_builds_its_ecs_client_with_adaptive_retries_for_throttling():
    from ecs_template_deploy.cli import build_context, build_parser

    parser, _ = build_parser()
    args = parser.parse_args(["status", "--cluster", "prod", "--service", "web", "--region", "us-east-1"])
    context = build_context(args, boto3.Session(aws_access_key_id="x", aws_secret_access_key="x"))
    assert context.ecs.meta.config.retries["mode"] == "adaptive"


@pytest.mark.parametrize("code, fragment", [("UnknownOperationException", "UnknownOperationException"),
                                            ("AccessDeniedException", "not allowed (ecs:ListServiceDeployments)")])
def test_status_without_the_service_deployments_api_says_it_is_unavailable(ecs, capsys, code, fragment):
    session = without_deployments_api(boto3.Session(region_name="us-east-1"), code)
    assert main(["status", "--cluster", "prod", "--service", "web"], session=session) == EXIT_OK
    out = capsys.readouterr().out
    assert "service deployments: unavailable: " in out and fragment in out


def test_status_of_a_service_whose_only_deployment_failed_says_failed_not_rolling_out(aws):
    """ECS's circuit breaker, without rollback, failed the service's first deployment:
    nothing is rolling out, whatever the counts say."""
    from harness.worlds import ToolWorld  # the simulator's world: this file's others run on plain moto
    aws.sim.declare_image("web:placeholder", crash_after=5)
    world = ToolWorld.build(aws, desired=2, deploymentCircuitBreaker={"enable": True, "rollback": False})
    aws.clock.sleep(1800)

    shown = world.run_argv(["status", "--cluster", world.names.cluster, "--service", world.names.service])

    assert shown.code == EXIT_OK, shown.stderr
    status = json.loads(shown.text)[0]
    assert status["failed"] == "ECS deployment circuit breaker: tasks failed to start."
    first = render(status)[0]
    assert first.endswith("0/2 running (its deployment FAILED: ECS deployment circuit breaker: tasks failed to start.)")
