"""The deploy tool as a CD pipeline runs it: its own process, pointed at `harness
serve` (another process, virtual time at 60 x the wall clock) through
`AWS_ENDPOINT_URL`, stopped with real signals. The tool keeps AWS's time, which
the server's answers say is the virtual one: `--bake` and `--timeout` are
virtual seconds (60 of them pass in one wall second), `--poll-interval` is how
long the runner sleeps between looks, in its own (wall) seconds."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from typing import IO

from harness.backends.remote import RemoteAws
from harness.worlds import CLUSTER, SERVICE, TEMPLATE

SPEED = 60.0
# a poll every 0.2 wall seconds (12 virtual ones at 60x); an hour of AWS's time (a minute of the wall's) to decide
WAIT = ("--poll-interval", "0.2", "--timeout", "3600")


def served_aws(server_url: str, monkeypatch) -> RemoteAws:
    """The pipeline's environment in this process too (for the in-process runs that build
    a world), and `harness serve` reset to nothing."""
    for key, value in environment(server_url).items():
        monkeypatch.setenv(key, value)
    aws = RemoteAws(server_url)
    aws.reset()
    return aws


def environment(server_url: str) -> dict[str, str]:
    """What a CD job sets to point the tool (and the AWS CLI) at `harness serve`;
    CI=true: plain lines, as in a CI log."""
    return {"AWS_ENDPOINT_URL": server_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "CI": "true"}


def command(argv: tuple[str, ...] | list[str], *, json_lines: bool = True, target: bool = True) -> list[str]:
    """`python -m ecs_template_deploy ARGV` with the world's target (`--template` where the command takes it)."""
    where = ["--cluster", CLUSTER, "--service", SERVICE] + (
        ["--template", TEMPLATE] if argv[0] in ("deploy", "prune", "render", "diff", "run") else []) if target else []
    return [sys.executable, "-m", "ecs_template_deploy", argv[0], *where, *argv[1:], *(["--json"] if json_lines else [])]


def run(server_url: str, *argv: str, json_lines: bool = True, target: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(command(argv, json_lines=json_lines, target=target), env={**os.environ, **environment(server_url)},
                          capture_output=True, text=True, timeout=300)


def start(server_url: str, *argv: str, json_lines: bool = False) -> subprocess.Popen:
    return subprocess.Popen(command(argv, json_lines=json_lines), env={**os.environ, **environment(server_url)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_until(stream: IO[str], marker: str) -> list[str]:
    """Lines of `stream` up to and including the first holding `marker` (the process keeps running)."""
    seen = []
    for line in stream:
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError(f"the tool ended without printing {marker!r}: {''.join(seen)}")


def result(done: subprocess.CompletedProcess) -> dict:
    """The result object: the last line of a --json run."""
    return json.loads(done.stdout.strip().splitlines()[-1])


def the_next_command(stderr: str) -> list[str]:
    """The `next:` line a stopped or failed run ends with, as argv for `python -m`."""
    line = next(line for line in reversed(stderr.strip().splitlines()) if ": next: " in line)
    words = shlex.split(line.split(": next: ", 1)[1])
    assert words[0] == "ecs-template-deploy", line
    return words[1:]
