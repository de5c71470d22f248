"""Every refused deploy: a one-line actionable error, its documented exit code, AWS untouched."""
from __future__ import annotations

import json

import boto3
import pytest

from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT

from .conftest import REGION, WEB_REPO, World, refuse

RICH_OK = ("--tag", "v1", "--repository", WEB_REPO, "--keep-image", "log_router")


def refused(capsys, world: World, argv: list[str], code: int, *fragments: str, session=None) -> str:
    """Run `argv`, assert the exit code, one stderr line holding `fragments`, and no change in AWS."""
    before = world.snapshot()
    assert main(argv, session=session) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ecs-template-deploy: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert world.snapshot() == before
    return lines[0]


@pytest.mark.parametrize("command", ["render", "diff", "deploy", "prune"])
def test_template_not_found(world, capsys, command):
    extra = ["--keep", "1"] if command == "prune" else ["--tag", "v1"]
    argv = ["--cluster", "demo", "--service", "web", "--template", "api-template", *extra]
    refused(capsys, world, [command, *argv], EXIT_BAD_INPUT, "'api-template' not found", "check --template")


def test_template_revision_not_found(world, capsys):
    argv = ["deploy", "--cluster", "demo", "--service", "web", "--template", "web-template:9", "--tag", "v1"]
    refused(capsys, world, argv, EXIT_BAD_INPUT, "'web-template:9' not found")


def test_bare_family_means_latest_active_revision(world, capsys):
    newer = world.register({"family": "web-template", "containerDefinitions": [
        {"name": "web", "image": "nginx:placeholder", "memory": 128}]})
    world.ecs.deregister_task_definition(taskDefinition=newer)
    assert main(world.args("render", "--tag", "v1")) == 0
    rendered = json.loads(capsys.readouterr().out)
    assert rendered["containerDefinitions"][0]["image"] == f"{WEB_REPO}:v1"  # revision 1, not the INACTIVE 2


def test_service_not_found(world, capsys):
    argv = ["deploy", "--cluster", "demo", "--service", "api", "--template", "web-template", "--tag", "v1"]
    refused(capsys, world, argv, EXIT_BAD_INPUT, "service 'api' not found in cluster 'demo'", "check --service")


def test_cluster_not_found(world, capsys):
    argv = ["deploy", "--cluster", "prod", "--service", "web", "--template", "web-template", "--tag", "v1"]
    refused(capsys, world, argv, EXIT_BAD_INPUT, "cluster 'prod' not found", "check --cluster")


def test_unknown_container(rich_world, capsys):
    argv = rich_world.args("deploy", "--image", "api=nginx:1")
    refused(capsys, rich_world, argv, EXIT_BAD_INPUT, "container 'api'", "use one of web, migrate, log_router")


def test_container_left_without_image_when_several_exist(rich_world, capsys):
    argv = rich_world.args("deploy", "--image", f"web={WEB_REPO}:v1")
    refused(capsys, rich_world, argv, EXIT_BAD_INPUT, "migrate, log_router left without an image", "--keep-image")


def test_tag_without_repository_when_several_exist(rich_world, capsys):
    refused(capsys, rich_world, rich_world.args("deploy", "--tag", "v1"), EXIT_BAD_INPUT, "ambiguous", "--repository")


@pytest.mark.parametrize(("args", "fragment"), [
    (("--image", "web=Web/App:v1"), "invalid repository"),
    (("--image", "web=web:bad tag"), "invalid image"),
    (("--image", "web=web@sha256:1234"), "invalid image digest"),
    (("--tag", "bad:tag"), "invalid image tag"),
    (("--tag", "sha256:xyz"), "invalid image digest"),
])
def test_invalid_image_reference(world, capsys, args, fragment):
    refused(capsys, world, world.args("deploy", *args), EXIT_BAD_INPUT, fragment)


def test_tag_on_a_template_image_that_is_not_a_reference(ecs, capsys):
    world = World(ecs).build({"family": "web-template", "containerDefinitions": [
        {"name": "web", "image": "PLACEHOLDER", "memory": 128}]})
    refused(capsys, world, world.args("deploy", "--tag", "v1"), EXIT_BAD_INPUT, "container 'web' of the template", "'PLACEHOLDER'")


@pytest.mark.parametrize("command", ["deploy", "prune"])
def test_target_family_equal_to_template_family(world, capsys, command):
    extra = ["--keep", "0"] if command == "prune" else ["--tag", "v1"]
    refused(capsys, world, world.args(command, "--family", "web-template", *extra), EXIT_BAD_INPUT,
            "'web-template' is the template's own family", "--family")


def test_template_without_suffix_needs_a_family(ecs, capsys):
    world = World(ecs).build({"family": "web", "containerDefinitions": [
        {"name": "web", "image": "nginx:1", "memory": 128}]})
    argv = ["deploy", "--cluster", "demo", "--service", "web", "--template", "web", "--tag", "v1"]
    refused(capsys, world, argv, EXIT_BAD_INPUT, "no '-template' suffix", "pass --family")
    assert main([*argv, "--family", "web-live", "--no-wait"]) == 0  # plain moto rolls nothing out


@pytest.mark.parametrize("code", ["AccessDeniedException", "AccessDenied", "UnauthorizedOperation"])
def test_access_denied_on_register(rich_world, capsys, code):
    session = boto3.Session(region_name=REGION)
    attempts = refuse(session, "RegisterTaskDefinition", code)
    refused(capsys, rich_world, rich_world.args("deploy", *RICH_OK), EXIT_AWS_ERROR,
            "access denied calling ecs:RegisterTaskDefinition", "grant ecs:RegisterTaskDefinition", session=session)
    assert len(attempts) == 1  # it got as far as registering: validation passed


def test_access_denied_on_update_withdraws_the_new_revision(rich_world, capsys):
    session = boto3.Session(region_name=REGION)
    refuse(session, "UpdateService")
    before = rich_world.snapshot()
    assert main(rich_world.args("deploy", *RICH_OK), session=session) == EXIT_AWS_ERROR
    err = capsys.readouterr().err
    assert "grant ecs:UpdateService" in err and "deregistered the unused" in err and "web:1" in err
    after = rich_world.snapshot()
    assert after["service"] == before["service"]
    assert after["revisions"]["ACTIVE"] == before["revisions"]["ACTIVE"]


def test_access_denied_on_describe_is_an_aws_error(world, capsys):
    session = boto3.Session(region_name=REGION)
    refuse(session, "DescribeTaskDefinition")
    refused(capsys, world, world.args("render", "--tag", "v1"), EXIT_AWS_ERROR, "grant ecs:DescribeTaskDefinition",
            session=session)


def test_unknown_profile_is_bad_input(world, capsys):
    refused(capsys, world, world.args("render", "--tag", "v1", "--profile", "nope"), EXIT_BAD_INPUT,
            "profile 'nope' not found")


def test_usage_errors_exit_2_without_touching_aws(world, capsys):
    before = world.snapshot()
    assert main(["deploy", "--cluster", "demo"]) == EXIT_BAD_INPUT
    assert main(world.args("deploy")) == EXIT_BAD_INPUT  # no image chosen
    assert main(world.args("prune", "--keep", "-1")) == EXIT_BAD_INPUT
    assert world.snapshot() == before


def test_json_mode_reports_errors_as_json_too(world, capsys):
    argv = ["deploy", "--cluster", "demo", "--service", "api", "--template", "web-template", "--tag", "v1", "--json"]
    assert main(argv) == EXIT_BAD_INPUT
    out = json.loads(capsys.readouterr().out)
    assert out["exitCode"] == EXIT_BAD_INPUT and "service 'api' not found" in out["error"]


def test_region_option_selects_the_region(world, capsys):
    refused(capsys, world, world.args("render", "--tag", "v1", "--region", "eu-west-1"), EXIT_BAD_INPUT,
            "not found in eu-west-1")


def test_missing_region_is_bad_input(world, capsys, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    refused(capsys, world, world.args("render", "--tag", "v1"), EXIT_BAD_INPUT, "pass --region or set AWS_REGION")


def test_missing_credentials_is_an_aws_error(world, capsys):
    from botocore.exceptions import NoCredentialsError

    session = boto3.Session(region_name=REGION)

    def no_credentials(**_):
        raise NoCredentialsError()

    session.events.register("before-call.ecs.DescribeTaskDefinition", no_credentials)
    refused(capsys, world, world.args("render", "--tag", "v1"), EXIT_AWS_ERROR, "no AWS credentials found", session=session)


def test_aws_region_alone_selects_the_region_as_the_aws_cli_does(world, capsys, monkeypatch):
    """boto3 reads only AWS_DEFAULT_REGION; CI actions often set only AWS_REGION."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    refused(capsys, world, world.args("render", "--tag", "v1"), EXIT_BAD_INPUT, "not found in eu-west-1")
    monkeypatch.setenv("AWS_REGION", REGION)
    assert main(world.args("render", "--tag", "v1")) == 0
