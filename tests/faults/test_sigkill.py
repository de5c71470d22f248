"""A real SIGKILL at the worst moments, then a re-run from a fresh process, finishes the job.

The tool runs as its own process against `harness serve` (another process, at 60
virtual seconds per wall second), and is killed by the kernel at one AWS call:
no handler, no `finally`. What AWS holds is all the re-run has to go on.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys

import pytest

from ecs_template_deploy.errors import EXIT_OK, EXIT_ROLLED_BACK
from harness.backends.remote import RemoteAws, serve_process
from harness.worlds import CLUSTER, SERVICE, TEMPLATE, ToolWorld

SPEED = 60.0
# wall seconds: one poll is 12 virtual seconds at 60x; a deploy may take 10 wall minutes of virtual time
WAIT = ("--poll-interval", "0.2", "--timeout", "3600")  # --timeout: AWS's (virtual) seconds


@pytest.fixture(scope="module")
def server_url():
    with serve_process(speed=SPEED) as url:
        yield url


def environment(server_url: str) -> dict[str, str]:
    """What a CD job sets to point the tool (and the AWS CLI) at `harness serve`."""
    return {"AWS_ENDPOINT_URL": server_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def tool_world(server_url, monkeypatch):
    for key, value in environment(server_url).items():  # the in-process runs below, like the child processes
        monkeypatch.setenv(key, value)
    aws = RemoteAws(server_url)
    aws.reset()
    aws.sim.declare_image("web:crash", crash_after=5)
    tool_world = ToolWorld.build(aws, desired=2)
    assert tool_world.run("deploy", "--tag", "v1", "--poll-interval", "5").code == EXIT_OK
    return tool_world


def tool(server_url: str, *argv: str, kill: tuple[str, str] | None = None) -> subprocess.CompletedProcess:
    """`ecs-template-deploy ARGV --json` in a new process; with `kill`, SIGKILLed at that call."""
    env = {**os.environ, **environment(server_url)}
    target = ["--cluster", CLUSTER, "--service", SERVICE] + (["--template", TEMPLATE] if argv[0] == "deploy" else [])
    command = [argv[0], *target, *argv[1:], "--json"]
    prefix = ["-m", "harness.faults.killer", *kill, "--"] if kill else ["-m", "ecs_template_deploy"]
    return subprocess.run([sys.executable, *prefix, *command], env=env, capture_output=True, text=True, timeout=300)


def result(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kill", [("RegisterTaskDefinition:1", "after"), ("UpdateService:1", "before"),
                                  ("UpdateService:1", "after"), ("ListTasks:3", "after")],
                         ids=lambda k: f"{k[1]}-{k[0]}")
def test_a_crash_deploy_killed_and_run_again_ends_on_known_good(tool_world, server_url, kill):
    killed = tool(server_url, "deploy", "--tag", "crash", *WAIT, kill=kill)
    assert killed.returncode == -9, killed.stderr

    again = tool(server_url, "deploy", "--tag", "crash", *WAIT)

    assert again.returncode == EXIT_ROLLED_BACK, again.stdout + again.stderr
    assert result(again)["returnedTo"].endswith("/web:1")
    tool_world.aws.clock.sleep(600)
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"
    assert tool_world.revisions() == ["web:1", "web:2"]  # the killed run's revision reused, nothing orphaned


def test_a_rollback_killed_after_its_update_is_followed_by_the_next_rollback(tool_world, server_url):
    assert tool_world.run("deploy", "--tag", "v2", "--poll-interval", "5").code == EXIT_OK
    killed = tool(server_url, "rollback", *WAIT, kill=("UpdateService:1", "after"))
    assert killed.returncode == -9, killed.stderr
    assert tool_world.service().primary.revision == "web:1"  # the rollback is under way, nobody watches it

    again = tool(server_url, "rollback", *WAIT)

    assert again.returncode == EXIT_OK, again.stdout + again.stderr
    # at 60x, a loaded machine may start the re-run after the rollback finished:
    # then it finishes that one (test_rollback_rerun.py), never going on to web:2
    actions = result(again)["actions"]
    assert "followed the rollback to web:1 in progress" in actions or "found the return to web:1 finished" in actions, actions
    assert tool_world.steady_on() == "web:1" and tool_world.known_good() == "web:1"


def test_sigterm_mid_watch_says_where_things_stand_and_that_the_same_command_finishes_it(tool_world, server_url):
    tool_world.aws.sim.declare_image("web:slow", start_seconds=3600)
    env = {**os.environ, **environment(server_url)}
    argv = ["deploy", "--cluster", CLUSTER, "--service", SERVICE, "--template", TEMPLATE, "--tag", "slow", *WAIT]
    process = subprocess.Popen([sys.executable, "-m", "ecs_template_deploy", *argv], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in process.stdout:  # wait until it watches
        if " rollout " in line:
            break
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 128 + signal.SIGTERM
    lines = stderr.strip().splitlines()
    assert lines[0] == "ecs-template-deploy: error: stopped by SIGTERM before the command finished"
    assert lines[1].startswith("ecs-template-deploy: now: service web runs web:2 (IN_PROGRESS")
    assert lines[-1] == "ecs-template-deploy: next: " + shlex.join(["ecs-template-deploy", *argv])
