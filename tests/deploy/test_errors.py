"""Every refused deploy: a one-line actionable error, its documented exit code, AWS untouched."""
from __future__ import annotations

import json

import boto3
import pytest

from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT

from .conftest import REGION, WEB_REPO, World, refuse

RICH_OK = ("--tag", "v1", "--repository", WEB_REPO, "--keep-image", "log_router")


def refused(capsys, moto_world: World, argv: list[str], code: int, *fragments: str, session=None) -> str:
    """Run `argv`, assert the exit code, one stderr line holding `fragments`, and no change in AWS."""
    before = moto_world.snapshot()
    assert main(argv, session=session) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ecs-template-deploy: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert moto_world.snapshot() == before
    return lines[0]


@pytest.mark.parametrize("command", ["render", "diff", "deploy", "prune"])
def test_template_not_found(moto_world, capsys, command):
    extra = ["--keep", "1"] if command == "prune" else ["--tag", "v1"]
    argv = ["--cluster", "demo", "--service", "web", "--template", "api-template", *extra]
    refused(capsys, moto_world, [command, *argv], EXIT_BAD_INPUT, "'api-template' not found", "check --template")


def test_template_revision_not_found(moto_world, capsys):
    argv = ["deploy", "--cluster", "demo", "--service", "web", "--template", "web-template:9", "--tag", "v1"]
    refused(capsys, moto_world, argv, EXIT_BAD_INPUT, "'web-template:9' not found")


def test_bare_family_means_latest_active_revision(moto_world, capsys):
    newer = moto_world.register({"family": "web-template", "containerDefinitions": [
        {"name": "web", "image": "nginx:placeholder", "memory": 128}]})
    moto_world.ecs.deregister_task_definition(taskDefinition=newer)
    assert main(moto_world.args("render", "--tag", "v1")) == 0
    rendered = json.loads(capsys.readouterr().out)
    assert rendered["containerDefinitions"][0]["image"] == f"{WEB_REPO}:v1"  # revision 1, not the INACTIVE 2


def test_service_not_found(moto_world, capsys):
    argv = ["deploy", "--cluster", "demo", "--service", "api", "--template", "web-template", "--tag", "v1"]
    refused(capsys, moto_world, argv, EXIT_BAD_INPUT, "service 'api' not found in cluster 'demo'", "check --service")


def test_cluster_not_found(moto_world, capsys):
    argv = ["deploy", "--cluster", "prod", "--service", "web", "--template", "web-template", "--tag", "v1"]
    refused(capsys, moto_world, argv, EXIT_BAD_INPUT, "cluster 'prod' not found", "check --cluster")


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
    (("--image", "web=web:bad tag"), "invalid tag"),
    (("--image", "web=web@sha256:1234"), "invalid digest"),
    (("--tag", "bad:tag"), "invalid tag"),
    (("--tag", "sha256:xyz"), "invalid digest"),
])
def test_invalid_image_reference(moto_world, capsys, args, fragment):
    refused(capsys, moto_world, moto_world.args("deploy", *args), EXIT_BAD_INPUT, fragment)


def test_tag_on_a_template_image_that_is_not_a_reference(ecs, capsys):
    moto_world = World(ecs).build({"family": "web-template", "containerDefinitions": [
        {"name": "web", "image": "PLACEHOLDER", "memory": 128}]})
    refused(capsys, moto_world, moto_world.args("deploy", "--tag", "v1"), EXIT_BAD_INPUT, "container 'web' of the template", "'PLACEHOLDER'")


@pytest.mark.parametrize("command", ["deploy", "prune"])
def test_target_family_equal_to_template_family(moto_world, capsys, command):
    extra = ["--keep", "0"] if command == "prune" else ["--tag", "v1"]
    refused(capsys, moto_world, moto_world.args(command, "--family", "web-template", *extra), EXIT_BAD_INPUT,
            "'web-template' is the template's own family", "--family")


def test_template_without_suffix_needs_a_family(ecs, capsys):
    moto_world = World(ecs).build({"family": "web", "containerDefinitions": [
        {"name": "web", "image": "nginx:1", "memory": 128}]})
    argv = ["deploy", "--cluster", "demo", "--service", "web", "--template", "web", "--tag", "v1"]
    refused(capsys, moto_world, argv, EXIT_BAD_INPUT, "no '-template' suffix", "pass --family")
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


def test_access_denied_on_describe_is_an_aws_error(moto_world, capsys):
    session = boto3.Session(region_name=REGION)
    refuse(session, "DescribeTaskDefinition")
    refused(capsys, moto_world, moto_world.args("render", "--tag", "v1"), EXIT_AWS_ERROR, "grant ecs:DescribeTaskDefinition",
            session=session)


def test_unknown_profile_is_bad_input(moto_world, capsys):
    refused(capsys, moto_world, moto_world.args("render", "--tag", "v1", "--profile", "nope"), EXIT_BAD_INPUT,
            "profile 'nope' not found")


def test_usage_errors_exit_2_without_touching_aws(moto_world, capsys):
    before = moto_world.snapshot()
    assert main(["deploy", "--cluster", "demo"]) == EXIT_BAD_INPUT
    assert main(moto_world.args("deploy")) == EXIT_BAD_INPUT  # no image chosen
    assert main(moto_world.args("prune", "--keep", "-1")) == EXIT_BAD_INPUT
    assert moto_world.snapshot() == before


def test_json_mode_reports_errors_as_json_too(moto_world, capsys):
    argv = ["deploy", "--cluster", "demo", "--service", "api", "--template", "web-template", "--tag", "v1", "--json"]
    assert main(argv) == EXIT_BAD_INPUT
    out = json.loads(capsys.readouterr().out)
    assert out["exitCode"] == EXIT_BAD_INPUT and "service 'api' not found" in out["error"]


def test_region_option_selects_the_region(moto_world, capsys):
    refused(capsys, moto_world, moto_world.args("render", "--tag", "v1", "--region", "eu-west-1"), EXIT_BAD_INPUT,
            "not found in eu-west-1")


def test_missing_region_is_bad_input(moto_world, capsys, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    refused(capsys, moto_world, moto_world.args("render", "--tag", "v1"), EXIT_BAD_INPUT, "pass --region or set AWS_REGION")


def test_missing_credentials_is_an_aws_error(moto_world, capsys):
    from botocore.exceptions import NoCredentialsError

    session = boto3.Session(region_name=REGION)

    def no_credentials(**_):
        raise NoCredentialsError()

    session.events.register("before-call.ecs.DescribeTaskDefinition", no_credentials)
    refused(capsys, moto_world, moto_world.args("render", "--tag", "v1"), EXIT_AWS_ERROR, "no AWS credentials found", session=session)


def test_aws_region_alone_selects_the_region_as_the_aws_cli_does(moto_world, capsys, monkeypatch):
    """boto3 reads only AWS_DEFAULT_REGION; CI actions often set only AWS_REGION."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    refused(capsys, moto_world, moto_world.args("render", "--tag", "v1"), EXIT_BAD_INPUT, "not found in eu-west-1")
    monkeypatch.setenv("AWS_REGION", REGION)
    assert main(moto_world.args("render", "--tag", "v1")) == 0


# -- what bad input is echoed as, and what a region or an answer must be (issue item 7) -------------

def test_a_value_is_shown_whole_when_short_and_cut_to_its_start_and_length_when_long():
    from ecs_template_deploy.errors import shown

    assert shown("web") == "'web'" and shown("a\nb") == "'a\\nb'" and shown("w" * 256) == repr("w" * 256)
    assert shown("a" * 102400) == "'" + "a" * 40 + "…' (102400 characters)"
    assert shown("9" * 300, quoted=False) == "9" * 40 + "… (300 characters)"


def test_any_error_line_is_bounded_and_one_line():
    from ecs_template_deploy.errors import MAX_LINE, bounded

    line = bounded("unrecognized arguments: " + "b" * 5000 + " --x='" + "c" * 1000 + "' a\nb\x1b[31m")
    assert line == ("unrecognized arguments: " + "b" * 40 + "… (5000 characters) --x='" + "c" * 40 + "…' (1000 characters)"
                    " a\\nb\\x1b[31m")
    prose = "container 'web' of the template " + "has a long story " * 30 + "'x': check it"
    assert bounded(prose) == prose  # what lies between two quoted values is not a value
    assert len(bounded("word " * 10000)) == MAX_LINE


def test_every_region_botocore_lists_is_accepted_and_so_is_a_new_one_of_a_partitions_form():
    import botocore.loaders

    from ecs_template_deploy.cli import check_region

    loader = botocore.loaders.create_loader()
    listed = [region for partition in loader.load_data("endpoints")["partitions"] for region in partition["regions"]]
    assert "us-east-1" in listed and "cn-north-1" in listed
    for region in [*listed, "us-fake-9", "eu-north-7", "cn-south-3", "us-gov-north-2"]:
        check_region(region, "--region", loader)


@pytest.mark.parametrize("region", ["xx-fake-9", "US-EAST-1", "us-éast-1", "useast1", "us-east-1\n", "us-east-",
                                    "local", "eu-west-1 "])
def test_a_region_of_no_partitions_form_is_refused_naming_where_it_came_from(region):
    import botocore.loaders

    from ecs_template_deploy.cli import check_region
    from ecs_template_deploy.errors import BadInputError

    with pytest.raises(BadInputError) as refused:
        check_region(region, "AWS_DEFAULT_REGION", botocore.loaders.create_loader())
    assert str(refused.value).startswith(f"region {region!r} is not a region name: fix AWS_DEFAULT_REGION or pass "
                                         "--region like us-east-1")


@pytest.mark.parametrize("service, call, body, said", [
    ("ecs", lambda c: c.describe_clusters(), b"<html><body>Sign in to the Wi-Fi</body></html>", "with an HTML page"),
    ("ecs", lambda c: c.list_task_definitions(), b"OK", "with text that is not JSON (starting 'OK')"),
    ("ecs", lambda c: c.list_task_definitions(), b'{"message": "hello"}', "an answer holding none of its members"),
    ("elbv2", lambda c: c.describe_target_groups(), b"<?xml version='1.0'?><Error><Code>x</Code></Error>",
     "with text that is not its XML answer"),
    ("elbv2", lambda c: c.describe_target_groups(), b"<!DOCTYPE html><title>502</title>", "with an HTML page"),
    ("ecr", lambda c: c.describe_repositories(), bytes([0xff, 0xfe, 0x00]), "with 3 bytes that are not UTF-8 text"),
])
def test_a_2xx_answer_that_is_not_the_aws_api_is_an_aws_error_naming_the_endpoint(aws_env, monkeypatch, service, call,
                                                                                    body, said):
    """Every client the CLI builds checks its answers: JSON (ECS, ECR) and query XML (ELBv2)."""
    import argparse

    from ecs_template_deploy.cli import build_context
    from ecs_template_deploy.errors import AwsError, aws_call

    from .test_bad_input_table import not_aws

    with not_aws(body=body) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        context = build_context(argparse.Namespace(region=None, profile=None, json=False))
        client = {"ecs": context.ecs, "elbv2": context.elbv2, "ecr": context.ecr_for(REGION)}[service]
        with pytest.raises(AwsError) as failed, aws_call(f"{service}:Call"):
            call(client)
    message = str(failed.value)
    assert message.startswith(f"{service}:Call failed: {server.url} answered ") and said in message, message
    assert message.endswith("not the AWS API: check AWS_ENDPOINT_URL (or the profile's endpoint_url), --region and any "
                            "proxy (HTTPS_PROXY) between here and AWS")
    assert failed.value.uncertain and not failed.value.transient  # it may have been applied; asking again will not help
    assert len(server.requests) == 1
