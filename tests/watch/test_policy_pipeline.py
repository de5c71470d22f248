"""`policy` as a pipeline runs it (its own process, against `harness serve`): the
document it prints fits IAM's own table, and a wildcard name is refused before
anything is read."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.backends.remote import RemoteAws, serve_process
from harness.worlds import ToolWorld
from harness.backends.embedded import cd_process_env

from tests.watch.test_policy_iam_table import iam_table_problems


@pytest.fixture(scope="module")
def server_url():
    with serve_process(speed=60.0) as url:
        aws = RemoteAws(url)
        aws.reset()
        ToolWorld.build(aws, desired=1)
        yield url


def policy(url: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ecs_template_deploy", "policy", *argv],
                          env={**os.environ, **cd_process_env(url)}, capture_output=True, text=True, timeout=120)


def test_the_printed_policy_fits_iams_table(server_url):
    done = policy(server_url, "--cluster", "prod", "--service", "web", "--template", "web-template",
                  "--alarm", "HighErrors")
    assert done.returncode == 0, done.stderr
    assert iam_table_problems(json.loads(done.stdout)) == []


@pytest.mark.parametrize("option, value", [("--cluster", "*"), ("--service", "web*"), ("--family", "*"),
                                           ("--alarm", "High*")])
def test_a_wildcard_name_is_refused_in_one_line_before_anything_is_read(server_url, option, value):
    argv = {"--cluster": "prod", "--service": "web", "--template": "web-template"}
    argv[option] = value
    done = policy(server_url, *[word for pair in argv.items() for word in pair])
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "wildcard" in lines[0] and lines[0].startswith("ecs-template-deploy: error: --")
