"""Bad input, table-driven, across every command: exit 2 (3 where AWS refuses), one
line naming the problem and what to do, no traceback, and AWS exactly as before.

The same problem reads the same in every command (cluster not found, region,
profile): those rows run once per command.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT

from .conftest import ACCOUNT, REGION, SINGLE_TEMPLATE, WEB_REPO, World, refuse, use_test_aws

TEMPLATE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web-template:1"
SERVICE = ["--cluster", "demo", "--service", "web"]
TARGET = [*SERVICE, "--template", "web-template"]
DEPLOY = ["deploy", *TARGET, "--no-wait"]
ALL_COMMANDS = {
    "render": ["render", *TARGET, "--tag", "v1"],
    "diff": ["diff", *TARGET, "--tag", "v1"],
    "deploy": [*DEPLOY, "--tag", "v1"],
    "prune": ["prune", *TARGET, "--keep", "1"],
    "status": ["status", *SERVICE],
    "rollback": ["rollback", *SERVICE],
}


def replace(argv: list[str], option: str, value: str) -> list[str]:
    argv = list(argv)
    argv[argv.index(option) + 1] = value
    return argv


def each_command(option: str, value: str, fragment: str) -> list:
    return [pytest.param(replace(argv, option, value), EXIT_BAD_INPUT, fragment, id=f"{name}-{option}-{value}")
            for name, argv in ALL_COMMANDS.items()]


CASES = [
    # -- usage: argparse, before anything is read
    pytest.param(["deploy", "--cluster", "demo"], EXIT_BAD_INPUT, "the following arguments are required", id="missing-options"),
    pytest.param(["deplyo", *TARGET], EXIT_BAD_INPUT, "invalid choice: 'deplyo'", id="unknown-command"),
    pytest.param([*DEPLOY, "--tag", "v1", "--timeout", "0"], EXIT_BAD_INPUT, "0 must be a positive number of seconds", id="timeout-zero"),
    pytest.param([*DEPLOY, "--tag", "v1", "--timeout", "soon"], EXIT_BAD_INPUT, "'soon' is not a number of seconds", id="timeout-word"),
    pytest.param([*DEPLOY, "--tag", "v1", "--timeout", "inf"], EXIT_BAD_INPUT, "inf must be a positive number", id="timeout-inf"),
    pytest.param([*DEPLOY, "--tag", "v1", "--timeout", "nan"], EXIT_BAD_INPUT, "nan must be a positive number", id="timeout-nan"),
    pytest.param([*DEPLOY, "--tag", "v1", "--poll-interval", "0"], EXIT_BAD_INPUT, "must be a positive number", id="poll-zero"),
    pytest.param(["deploy", *TARGET, "--tag", "v1", "--poll-interval", "100", "--timeout", "50"], EXIT_BAD_INPUT,
                 "--poll-interval 100 is longer than --timeout 50", id="poll-longer-than-timeout"),
    pytest.param([*DEPLOY, "--tag", "v1", "--failure-threshold", "0"], EXIT_BAD_INPUT, "0 must be 1 or more", id="threshold-zero"),
    pytest.param([*DEPLOY, "--tag", "v1", "--failure-threshold", "x"], EXIT_BAD_INPUT, "'x' is not a whole number", id="threshold-word"),
    pytest.param([*DEPLOY, "--tag", "v1", "--no-rollback"], EXIT_BAD_INPUT, "--no-rollback has no effect with --no-wait", id="no-wait-no-rollback"),
    pytest.param(["prune", *TARGET, "--keep", "-1"], EXIT_BAD_INPUT, "-1 must be 0 or more", id="keep-negative"),
    pytest.param(["prune", *TARGET, "--keep", "all"], EXIT_BAD_INPUT, "'all' is not a whole number", id="keep-word"),
    pytest.param(["prune", *TARGET, "--keep", "1", "--min-age", "-5"], EXIT_BAD_INPUT, "must be a non-negative number", id="min-age-negative"),
    pytest.param(["status", *SERVICE, "--events", "-1"], EXIT_BAD_INPUT, "-1 must be 0 or more", id="events-negative"),
    # -- images
    pytest.param([*DEPLOY, "--image", "web"], EXIT_BAD_INPUT, "--image 'web' is not CONTAINER=IMAGE", id="image-no-equals"),
    pytest.param([*DEPLOY, "--image", "=nginx:1"], EXIT_BAD_INPUT, "is not CONTAINER=IMAGE", id="image-no-container"),
    pytest.param([*DEPLOY, "--image", "web="], EXIT_BAD_INPUT, "is not CONTAINER=IMAGE", id="image-empty"),
    pytest.param([*DEPLOY, "--image", "web=nginx:1", "--image", "web=nginx:2"], EXIT_BAD_INPUT, "names container 'web' twice", id="image-twice"),
    pytest.param([*DEPLOY, "--image", "web=Web/App:v1"], EXIT_BAD_INPUT, "invalid repository", id="image-upper-case"),
    pytest.param([*DEPLOY, "--image", "web=web:bad tag"], EXIT_BAD_INPUT, "invalid tag 'bad tag' in image", id="image-space"),
    pytest.param([*DEPLOY, "--image", "web=web@sha256:1234"], EXIT_BAD_INPUT, "invalid digest 'sha256:1234'", id="image-short-digest"),
    pytest.param([*DEPLOY, "--tag", "bad:tag"], EXIT_BAD_INPUT, "invalid tag 'bad:tag'", id="tag-colon"),
    pytest.param([*DEPLOY, "--tag", "sha256:xyz"], EXIT_BAD_INPUT, "invalid digest 'sha256:xyz'", id="tag-bad-digest"),
    pytest.param([*DEPLOY, "--tag", ".v1"], EXIT_BAD_INPUT, "invalid tag '.v1'", id="tag-leading-dot"),
    pytest.param([*DEPLOY, "--repository", WEB_REPO], EXIT_BAD_INPUT, "--repository needs --tag", id="repository-without-tag"),
    pytest.param(DEPLOY, EXIT_BAD_INPUT, "no image chosen: pass --image CONTAINER=IMAGE or --tag TAG", id="no-image"),
    pytest.param([*DEPLOY, "--image", "api=nginx:1"], EXIT_BAD_INPUT, "names container 'api', which template web-template:1 does not have", id="unknown-container"),
    pytest.param([*DEPLOY, "--tag", "v1", "--keep-image", "api"], EXIT_BAD_INPUT, "--keep-image names container 'api'", id="keep-unknown"),
    pytest.param([*DEPLOY, "--keep-image", "web", "--tag", "v2"], EXIT_BAD_INPUT, "container 'web' has both --keep-image and --tag", id="keep-and-tag"),
    pytest.param([*DEPLOY, "--keep-image", "web", "--image", "web=nginx:1"], EXIT_BAD_INPUT, "has both --image and --keep-image", id="keep-and-image"),
    pytest.param([*DEPLOY, "--image", "web=nginx:1", "--tag", "v2"], EXIT_BAD_INPUT, "container 'web' has both --image and --tag", id="image-and-tag"),
    pytest.param([*DEPLOY, "--tag", "v1", "--repository", "registry.example.com/other"], EXIT_BAD_INPUT, "no container left to tag", id="repository-unmatched"),
    # -- the template
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", "api-template"), EXIT_BAD_INPUT, "'api-template' not found in us-east-1: check --template", id="template-missing"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", "web-template:9"), EXIT_BAD_INPUT, "'web-template:9' not found", id="template-revision-missing"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", "web-template:2"), EXIT_BAD_INPUT, "template web-template:2 is INACTIVE", id="template-inactive"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", "web template"), EXIT_BAD_INPUT, "--template 'web template' is not a task definition", id="template-space"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", "web-template:x"), EXIT_BAD_INPUT, "is not a task definition", id="template-bad-revision"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", TEMPLATE_ARN.replace(REGION, "eu-west-1")), EXIT_BAD_INPUT,
                 "is in region eu-west-1, but the tool talks to us-east-1: pass --region eu-west-1", id="template-other-region"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", "arn:aws:s3:::bucket"), EXIT_BAD_INPUT, "is not an ECS task-definition ARN", id="template-not-ecs"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", "empty-template"), EXIT_BAD_INPUT, "template empty-template:1 has no container definitions", id="template-empty"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--template", "plain"), EXIT_BAD_INPUT, "no '-template' suffix): pass --family", id="template-no-suffix"),
    pytest.param([*DEPLOY, "--tag", "v1", "--family", "web-template"], EXIT_BAD_INPUT, "'web-template' is the template's own family", id="family-is-template"),
    pytest.param([*DEPLOY, "--tag", "v1", "--family", "web app"], EXIT_BAD_INPUT, "--family 'web app' is not a task definition family", id="family-space"),
    pytest.param(["prune", *TARGET, "--keep", "1", "--family", "web-template"], EXIT_BAD_INPUT, "is the template's own family", id="prune-family-is-template"),
    # -- the service
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--cluster", "bad name!"), EXIT_BAD_INPUT, "--cluster 'bad name!' is not a cluster name or ARN", id="cluster-bad-name"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--service", f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/demo/web"), EXIT_BAD_INPUT,
                 "is in region eu-west-1", id="service-other-region"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--service", "cd"), EXIT_BAD_INPUT,
                 "service cd uses the CODE_DEPLOY deployment controller: its deployments belong to CodeDeploy", id="deploy-code-deploy"),
    pytest.param(replace([*DEPLOY, "--tag", "v1"], "--service", "ext"), EXIT_BAD_INPUT, "uses the EXTERNAL deployment controller", id="deploy-external"),
    pytest.param(replace(ALL_COMMANDS["rollback"], "--service", "cd"), EXIT_BAD_INPUT, "uses the CODE_DEPLOY deployment controller", id="rollback-code-deploy"),
    # -- rollback targets
    pytest.param(ALL_COMMANDS["rollback"], EXIT_BAD_INPUT, "no known-good revision of web other than the running web:2: name one with --to REVISION", id="rollback-nothing-known-good"),
    pytest.param([*ALL_COMMANDS["rollback"], "--to", "9"], EXIT_BAD_INPUT, "--to 9: task definition 'web:9' not found", id="rollback-missing"),
    pytest.param([*ALL_COMMANDS["rollback"], "--to", "1"], EXIT_BAD_INPUT, "web:1 is INACTIVE (deregistered): ECS cannot deploy it", id="rollback-inactive"),
    pytest.param([*ALL_COMMANDS["rollback"], "--to", "other:1"], EXIT_BAD_INPUT,
                 "--to other:1 is in family other, but service web runs web: pass --family other", id="rollback-other-family"),
    pytest.param([*ALL_COMMANDS["rollback"], "--to", ":::"], EXIT_BAD_INPUT, "--to ':::' is not a task definition", id="rollback-garbage"),
    pytest.param([*ALL_COMMANDS["rollback"], "--to", "0"], EXIT_BAD_INPUT, "--to 0: revisions are numbered from 1", id="rollback-zero"),
    pytest.param([*ALL_COMMANDS["rollback"], "--to", "web"], EXIT_BAD_INPUT, "--to 'web' names no revision", id="rollback-family-only"),
    pytest.param([*ALL_COMMANDS["rollback"], "--to", "1", "--family", "a b"], EXIT_BAD_INPUT, "--family 'a b' is not a task definition family", id="rollback-bad-family"),
    # -- the same problem, the same words, in every command
    *each_command("--cluster", "nope", "cluster 'nope' not found in us-east-1: check --cluster and --region"),
    *each_command("--service", "nope", "service 'nope' not found in cluster 'demo': check --service and --cluster"),
    *[pytest.param([*argv, "--region", "bad region!"], EXIT_BAD_INPUT, "region 'bad region!' is not a region name: pass --region like us-east-1",
                   id=f"{name}-bad-region") for name, argv in ALL_COMMANDS.items()],
    *[pytest.param([*argv, "--profile", "nope"], EXIT_BAD_INPUT, "AWS profile 'nope' not found", id=f"{name}-bad-profile")
      for name, argv in ALL_COMMANDS.items()],
]


@dataclass
class Messy:
    world: World
    as_built: dict  # its snapshot when built: where every test starts


@pytest.fixture(scope="module")
def messy_world(tmp_path_factory) -> Iterator[Messy]:
    """Built once per module (per worker) instead of per test: every test here is refused
    before AWS changes and asserts so (``check_refused``), and each first asserts that
    it starts from the world as built, so none can start from what another left."""
    with pytest.MonkeyPatch.context() as env:
        use_test_aws(env, tmp_path_factory.mktemp("aws"))
        with mock_aws():
            world = build_messy(boto3.client("ecs", region_name=REGION))
            yield Messy(world, world.snapshot())


@pytest.fixture
def messy(messy_world, monkeypatch, tmp_path) -> World:
    use_test_aws(monkeypatch, tmp_path)  # each test's own environment, as the function-scoped fixtures give
    assert messy_world.world.snapshot() == messy_world.as_built, "a test before this one changed the shared world"
    return messy_world.world


def build_messy(ecs) -> World:
    """The usual world, plus what bad input runs into: a deregistered template
    revision, an empty and a suffix-less template, services of other controllers,
    a running revision (web:2) next to a deregistered one (web:1)."""
    world = World(ecs).build(SINGLE_TEMPLATE)
    newer = world.register({**SINGLE_TEMPLATE, "tags": []})
    ecs.deregister_task_definition(taskDefinition=newer)
    world.register({"family": "empty-template", "containerDefinitions": []})
    world.register({"family": "plain", "containerDefinitions": [{"name": "web", "image": "nginx:1", "memory": 64}]})
    for name, controller in (("cd", "CODE_DEPLOY"), ("ext", "EXTERNAL")):
        ecs.create_service(cluster="demo", serviceName=name, taskDefinition=world.template_arn, desiredCount=1,
                           deploymentController={"type": controller})
    first = world.register({"family": "web", "containerDefinitions": [{"name": "web", "image": f"{WEB_REPO}:v1", "memory": 64}]})
    second = world.register({"family": "web", "containerDefinitions": [{"name": "web", "image": f"{WEB_REPO}:v2", "memory": 64}]})
    ecs.update_service(cluster="demo", service="web", taskDefinition=second)
    ecs.deregister_task_definition(taskDefinition=first)
    world.register({"family": "other", "containerDefinitions": [{"name": "web", "image": "nginx:1", "memory": 64}]})
    return world


def check_refused(capsys, world: World, argv: list[str], code: int, fragment: str, session=None) -> None:
    before = world.snapshot()
    assert main(argv, session=session) == code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("ecs-template-deploy: error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert world.snapshot() == before


@pytest.mark.parametrize("argv, code, fragment", CASES)
def test_bad_input_is_refused_in_one_line_and_changes_nothing(messy, capsys, argv, code, fragment):
    check_refused(capsys, messy, argv, code, fragment)


def test_there_are_at_least_fifty_kinds_of_bad_input():
    assert len(CASES) >= 50


@pytest.mark.parametrize("command", list(ALL_COMMANDS))
def test_a_missing_region_reads_the_same_everywhere(messy, capsys, monkeypatch, command):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    check_refused(capsys, messy, ALL_COMMANDS[command], EXIT_BAD_INPUT, "no AWS region configured: pass --region or set AWS_REGION")


@pytest.mark.parametrize("command, operation", [("deploy", "DescribeServices"), ("status", "DescribeServices"),
                                                ("render", "DescribeTaskDefinition"), ("prune", "ListTaskDefinitions")])
def test_aws_refusing_a_read_is_exit_3_naming_the_permission(messy, capsys, command, operation):
    session = boto3.Session(region_name=REGION)
    refuse(session, operation)
    check_refused(capsys, messy, ALL_COMMANDS[command], EXIT_AWS_ERROR, f"grant ecs:{operation}", session=session)


def test_with_json_the_refusal_is_one_result_object_too(messy, capsys):
    assert main([*replace(ALL_COMMANDS["status"], "--cluster", "nope"), "--json"]) == EXIT_BAD_INPUT
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    result = json.loads(out[0])
    assert result["kind"] == "result" and result["exitCode"] == EXIT_BAD_INPUT
    assert "cluster 'nope' not found" in result["error"]
