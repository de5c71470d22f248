"""Bad input as a CD pipeline meets it: `ecs-template-deploy` in a process of its own, its
AWS settings in the environment, against `harness serve` (another process, paused) or a
server that is not AWS. Each test here failed on the tool before the change it came with
(issue item 7: bad input that still ended as "internal error ... a bug", exit 3).
tests/deploy/test_bad_input_table.py runs the same kinds, and many more, in-process.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
from typing import Iterator

import pytest

from ecs_template_deploy.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT
from harness.backends.remote import RemoteAws, serve_process
from harness.worlds import ToolWorld
from harness.worlds.tool import IMAGES
from harness.backends.embedded import cd_process_env

from .test_bad_input_table import PREFIX, NotAws, aws_snapshot, not_aws, says_what_to_do

TARGET = ["--cluster", "prod", "--service", "web", "--template", "web-template"]
SERVICE = ["--cluster", "prod", "--service", "web"]
COMMANDS = {"render": ["render", *TARGET, "--tag", "v1"], "status": ["status", *SERVICE],
            "deploy": ["deploy", *TARGET, "--tag", "v1", "--no-wait"]}


def tool(env: dict[str, str | None], *argv: str) -> subprocess.CompletedProcess:
    """`ecs-template-deploy ARGV` in its own process, with the AWS settings `env` and no others
    (a value of None: unset); no developer profile or config file leaks in."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    base.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                 "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"})
    base.update(env)
    environment = {key: value for key, value in base.items() if value is not None}
    return subprocess.run([sys.executable, "-m", "ecs_template_deploy", *argv], env=environment, capture_output=True,
                          text=True, timeout=120)


def refused_line(done: subprocess.CompletedProcess, code: int) -> str:
    """The one stderr line a refusal prints, checked: the code, the form, what to do."""
    lines = done.stderr.splitlines()
    assert (done.returncode, len(lines)) == (code, 1), done.stderr[-3000:]
    line = lines[0]
    assert line.startswith(PREFIX) and says_what_to_do(line), line[:3000]
    assert "internal error" not in line and len(line) < 1000, line[:3000]
    return line


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ToolWorld, str]]:
    """`harness serve`, paused, with what Terraform built and v1 then v2 deployed (web:2
    runs, web:1 and web:2 known good); ECR also holds an image tagged `stablé`."""
    with serve_process(speed=0) as url, pytest.MonkeyPatch.context() as env:
        for key, value in cd_process_env(url).items():
            env.setenv(key, value)
        aws = RemoteAws(url)
        aws.reset()
        world = ToolWorld.build(aws, desired=1, images=(*IMAGES, "stablé"))
        for tag in ("v1", "v2"):
            assert world.run("deploy", "--tag", tag, "--poll-interval", "5").code == 0
        yield world, url


@pytest.fixture
def nothing_changes(served) -> Iterator[None]:
    world, _ = served
    before = aws_snapshot(world.ecs)
    yield
    assert aws_snapshot(world.ecs) == before


@pytest.fixture(scope="module")
def recorder() -> Iterator[NotAws]:
    """Where AWS_ENDPOINT_URL points when a test proves no call was made: it would record one."""
    with not_aws() as server:
        yield server


# -- a 200 answer that is not the AWS API ----------------------------------------------------------

ANSWERS = {
    "html": (b"<!DOCTYPE html>\n<html><head><title>Proxy</title></head><body>Please log in</body></html>", "text/html",
             "with an HTML page"),
    "garbage": (random.Random(7).randbytes(1024), "application/octet-stream", "with 1024 bytes that are not UTF-8 text"),
    "empty-json": (b"{}", "application/x-amz-json-1.1", "with an answer holding none of its members"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("answer", list(ANSWERS))
def test_a_200_that_is_not_the_aws_api_is_exit_3_naming_the_endpoint_and_what_to_check(command, answer):
    body, content_type, said = ANSWERS[answer]
    with not_aws(body=body, content_type=content_type) as server:
        done = tool({"AWS_ENDPOINT_URL": server.url}, *COMMANDS[command])
    line = refused_line(done, EXIT_AWS_ERROR)
    assert f"{server.url} answered " in line and said in line, line
    assert "not the AWS API: check AWS_ENDPOINT_URL" in line and "--region" in line and "proxy" in line, line
    assert len(server.requests) == 1  # at once: an answer like that is not retried


# -- region, profile and endpoint settings ---------------------------------------------------------

@pytest.mark.parametrize("env, argv, said", [
    ({"AWS_ENDPOINT_URL": "not a url"}, [], "AWS endpoint 'not a url' is not a URL: set AWS_ENDPOINT_URL to "
                                            "http(s)://HOST[:PORT], or unset it"),
    ({"AWS_DEFAULT_REGION": "", "AWS_REGION": None}, [], "AWS_DEFAULT_REGION is set but empty: set it to a region like "
                                                         "us-east-1, or unset it"),
    ({"AWS_REGION": "", "AWS_DEFAULT_REGION": None}, [], "AWS_REGION is set but empty: set it to a region like us-east-1"),
    ({"AWS_REGION": ""}, [], "AWS_REGION is set but empty"),
    ({}, ["--region", "xx-fake-9"], "region 'xx-fake-9' is not a region name: pass --region like us-east-1"),
    ({"AWS_REGION": "xx-fake-9"}, [], "region 'xx-fake-9' is not a region name: fix AWS_REGION or pass --region"),
    ({}, ["--region", ""], "--region is empty: pass a region like us-east-1"),
    ({"AWS_PROFILE": ""}, [], "AWS_PROFILE is set but empty: set it to a profile in ~/.aws/config, or unset it"),
], ids=["endpoint-not-a-url", "default-region-empty", "region-empty", "region-empty-default-set", "region-unknown",
        "region-env-unknown", "region-option-empty", "profile-empty"])
def test_a_region_profile_or_endpoint_that_cannot_work_is_exit_2_before_any_call(recorder, env, argv, said):
    done = tool({"AWS_ENDPOINT_URL": recorder.url, **env}, *COMMANDS["status"], *argv)
    line = refused_line(done, EXIT_BAD_INPUT)
    assert said in line, line
    assert recorder.requests == []


def test_a_region_of_a_partitions_form_that_botocore_does_not_list_yet_is_accepted(recorder):
    """botocore's endpoint data: a partition's regionRegex admits regions newer than the data."""
    recorder.requests.clear()
    done = tool({"AWS_ENDPOINT_URL": recorder.url}, *COMMANDS["status"], "--region", "us-fake-9")
    assert "/us-fake-9/ecs/aws4_request" in recorder.requests[0]["authorization"]  # signed for it, and sent
    refused_line(done, EXIT_AWS_ERROR)  # the recorder is no ECS
    recorder.requests.clear()


# -- image tags and digests: the OCI distribution grammar, ASCII -------------------------------------

@pytest.mark.parametrize("argv, said", [
    (["deploy", *TARGET, "--tag", "stablé", "--no-wait"], "invalid tag 'stablé': use 1 to 128 ASCII letters"),
    (["render", *TARGET, "--tag", "stablé"], "invalid tag 'stablé'"),
    (["deploy", *TARGET, "--image", "app=123456789012.dkr.ecr.us-east-1.amazonaws.com/web:stablé", "--no-wait"],
     "invalid tag 'stablé' in image"),
    (["deploy", *TARGET, "--tag", "ｖ１", "--no-wait"], "invalid tag 'ｖ１'"),
    (["deploy", *TARGET, "--tag", "sha256:" + "Ａ" * 64, "--no-wait"], "invalid digest"),
], ids=["deploy-tag", "render-tag", "deploy-image", "fullwidth-tag", "fullwidth-digest"])
def test_a_tag_that_is_not_ascii_is_an_invalid_tag_and_nothing_is_registered(served, nothing_changes, argv, said):
    _, url = served
    line = refused_line(tool({"AWS_ENDPOINT_URL": url}, *argv), EXIT_BAD_INPUT)
    assert said in line, line


# -- --alarm, --env, rollback --family ---------------------------------------------------------------

@pytest.mark.parametrize("alarm, said", [
    ("", "--alarm '' is not a CloudWatch alarm name: give its name, 1 to 255 characters"),
    ("a" * 256, "is not a CloudWatch alarm name: give its name, 1 to 255 characters"),
    ("High\tErrors", "--alarm 'High\\tErrors' is not a CloudWatch alarm name: it holds a control character"),
])
def test_an_alarm_name_cloudwatch_cannot_hold_is_exit_2_before_any_call(served, nothing_changes, alarm, said):
    _, url = served
    line = refused_line(tool({"AWS_ENDPOINT_URL": url}, "deploy", *TARGET, "--tag", "v1", "--alarm", alarm), EXIT_BAD_INPUT)
    assert said in line, line


def test_an_env_without_equals_says_how_to_write_one(served, nothing_changes):
    _, url = served
    line = refused_line(tool({"AWS_ENDPOINT_URL": url}, "run", *TARGET, "--tag", "v1", "--env", "NOEQUALS"), EXIT_BAD_INPUT)
    assert "--env 'NOEQUALS' is not NAME=VALUE: give --env NAME=VALUE, e.g. --env LOG_LEVEL=debug" in line, line


def test_rollback_family_without_to_is_refused_not_ignored(served, nothing_changes):
    """Without the fix the rollback went ahead to the known-good web:1 (and waited for it)."""
    _, url = served
    done = tool({"AWS_ENDPOINT_URL": url}, "rollback", *SERVICE, "--family", "web", "--timeout", "5", "--poll-interval", "1")
    line = refused_line(done, EXIT_BAD_INPUT)
    assert "--family only applies with --to: pass --to REVISION" in line, line


# -- 100 KB values: one bounded line, the start and the length -------------------------------------

HUGE = "A" * 102400  # upper case: run masks what may be a secret in its --env errors, a variable name it shows


@pytest.mark.parametrize("argv", [
    ["status", "--cluster", HUGE, "--service", "web"],
    ["deploy", *TARGET, "--tag", HUGE, "--no-wait"],
    ["deploy", *TARGET, "--image", f"app={HUGE}", "--no-wait"],
    ["deploy", *TARGET, "--tag", "v1", "--timeout", HUGE],
    ["rollback", *SERVICE, "--to", HUGE],
    ["run", *TARGET, "--tag", "v1", "--env", HUGE],
    ["status", *SERVICE, HUGE],
    ["check", *SERVICE, "--min-severity", HUGE],
], ids=["cluster", "tag", "image", "timeout", "to", "env", "unrecognized", "choice"])
def test_a_100kb_value_is_cut_to_its_start_and_length_in_one_line(served, nothing_changes, argv):
    _, url = served
    line = refused_line(tool({"AWS_ENDPOINT_URL": url}, *argv), EXIT_BAD_INPUT)
    assert "A" * 40 + "…" in line and "(102400 characters)" in line, line
    assert len(line) < 600, len(line)
