"""`ecs-template-deploy check` and `harness rehearse`, each in its own process, against
`harness serve` posing as AWS: they find what is there, and every call they make
is a Describe, List or Get (recorded by the server, not by the client)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.backends.embedded import ACCOUNT
from harness.backends.served import ServedAws
from harness.metrics.iam import ApiCallRecorder
from harness.server import HarnessServer
from harness.worlds import CLUSTER, SERVICE, ToolWorld
from harness.backends.embedded import cd_process_env

READ_ONLY = ("Describe", "List", "Get")


@pytest.fixture
def served(monkeypatch):
    # virtual time moves only when the test says so: a slow process start rolls nothing out
    with HarnessServer(speed=0.001) as server:
        server.reset()
        for key, value in cd_process_env(server.url).items():  # the in-process deploy below, like the processes
            monkeypatch.setenv(key, value)
        world = ToolWorld.build(ServedAws(server), desired=1, load_balanced=True)  # AWS's target group defaults
        assert world.run("deploy", "--tag", "v1").code == 0
        server.clock.sleep(600)
        yield server
        server.check()
        server.reset()  # moto's state is the process's: leave none to the next test here


def recorded(server: HarnessServer, *argv: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    with server.recording.recording(ApiCallRecorder(account_id=ACCOUNT)) as calls:
        done = subprocess.run([sys.executable, "-m", *argv], env={**os.environ, **cd_process_env(server.url)},
                              capture_output=True, text=True, timeout=600)
    return done, calls.iam_actions(implied=False)


def test_check_finds_the_problems_of_a_served_service_and_only_reads(served, tmp_path):
    done, actions = recorded(served, "ecs_template_deploy", "check", "--cluster", CLUSTER, "--service", SERVICE, "--json")

    assert done.returncode == 0, done.stderr  # warnings, no error
    document = json.loads(done.stdout)
    found = {f["code"] for f in document["findings"]}
    assert {"single-task", "no-failure-detection", "deregistration-delay", "slow-to-healthy"} <= found
    assert document["settings"]["targetGroups"][0]["deregistrationDelaySeconds"] == 300
    assert actions and all(a.split(":", 1)[1].startswith(READ_ONLY) for a in actions), actions
    assert "elasticloadbalancing:DescribeTargetGroupAttributes" in actions


def test_rehearse_reads_the_served_service_only_and_predicts_what_from_file_predicts(served, tmp_path):
    rehearse = ("harness", "rehearse", "--mode", "crash", "--no-levers", "--workers", "1", "--json")
    live, actions = recorded(served, *rehearse, "--cluster", CLUSTER, "--service", SERVICE)
    assert live.returncode == 0, live.stderr
    assert actions and all(a.split(":", 1)[1].startswith(READ_ONLY) for a in actions), actions

    check = subprocess.run([sys.executable, "-m", "ecs_template_deploy", "check", "--cluster", CLUSTER, "--service",
                            SERVICE, "--json"], env={**os.environ, **cd_process_env(served.url)},
                           capture_output=True, text=True, timeout=120)
    (tmp_path / "check.json").write_text(check.stdout)
    offline = subprocess.run([sys.executable, "-m", *rehearse, "--from", str(tmp_path / "check.json")],
                             capture_output=True, text=True, timeout=600)
    assert offline.returncode == 0, offline.stderr

    predicted = [json.loads(out)["outcomes"][0] for out in (live.stdout, offline.stdout)]
    assert predicted[0] == predicted[1]
    assert predicted[0]["recovered"] and predicted[0]["seconds"] > 300  # the 300 s drain is in it
