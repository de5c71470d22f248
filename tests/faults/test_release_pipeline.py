"""`release` as a pipeline runs it: its own process, the wall clock, real threads,
against `harness serve` (60 virtual seconds per wall second), SIGKILLed by the
kernel at one AWS call and then run again from a fresh process."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ecs_template_deploy.errors import EXIT_OK, EXIT_ROLLED_BACK
from harness.worlds.release import ReleaseWorld
from tests.faults.pipeline import environment, served_aws


@pytest.fixture
def release_world(server_url, monkeypatch):
    return ReleaseWorld.build(served_aws(server_url, monkeypatch), after={"web": ["worker", "scheduler"]})


def release(server_url: str, manifest, kill: tuple[str, str] | None = None) -> subprocess.CompletedProcess:
    prefix = ["-m", "harness.faults.killer", *kill, "--"] if kill else ["-m", "ecs_template_deploy"]
    argv = ["release", "--manifest", str(manifest), "--poll-interval", "0.2", "--json"]
    return subprocess.run([sys.executable, *prefix, *argv], env={**os.environ, **environment(server_url)},
                          capture_output=True, text=True, timeout=300)


def result(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("web, killed_at, code, ends", [
    # killed as web's update went out (applied, never answered): the re-run follows web's rollout
    ("v2", ("UpdateService:3", "after"), EXIT_OK, {"worker": "worker:2", "scheduler": "scheduler:2", "web": "web:2"}),
    # killed as web's own return went out, and as the first wave's first return did: the re-run finishes
    # the rollback and never deploys the failed release again
    ("crash", ("UpdateService:4", "after"), EXIT_ROLLED_BACK, None),
    ("crash", ("UpdateService:5", "after"), EXIT_ROLLED_BACK, None),
])
def test_a_release_killed_by_the_kernel_is_finished_by_a_re_run(release_world, server_url, web, killed_at, code, ends):
    manifest = release_world.manifest({"worker": "v2", "scheduler": "v2", "web": web})
    first = release(server_url, manifest, kill=killed_at)
    assert first.returncode == -9, first.stderr[-2000:]  # the kernel's SIGKILL, at that call
    again = release(server_url, manifest)
    assert again.returncode == code, again.stderr[-2000:]
    assert result(again)["state"] == ("deployed" if code == EXIT_OK else "rolled-back")
    expected = ends or {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}
    assert release_world.steady() == expected and release_world.known_good() == expected
    if code == EXIT_ROLLED_BACK:  # the re-run of a failed release updates no service to the release
        said = [json.loads(line)["message"] for line in again.stdout.splitlines() if line.startswith("{")]
        assert not [m for m in said if "updated service" in m], said
