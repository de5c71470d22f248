"""The tool on AWS's clock, as a CD pipeline meets it: its own process against
`harness serve`, whose answers carry the virtual clock (60 x the wall, starting
2026-01-01) in their Date header, as AWS's carry AWS's time. Before, the tool
stamped its rollout lines with the runner's wall clock next to service events
on the server's, and `prune --min-age` compared the server's `registeredAt`
with the runner's clock: a revision 15 virtual minutes old was pruned under
`--min-age 86400`."""
from __future__ import annotations

import datetime
import json

import pytest

from ecs_template_deploy.errors import EXIT_OK
from harness.worlds import ToolWorld
from tests.faults.pipeline import WAIT, run, served_aws


@pytest.fixture
def tool_world(server_url, monkeypatch):
    return ToolWorld.build(served_aws(server_url, monkeypatch), desired=2)


def at(line: dict) -> float:
    return datetime.datetime.fromisoformat(line["at"].replace("Z", "+00:00")).timestamp()


def test_every_progress_line_is_on_the_servers_clock_next_to_its_service_events(tool_world, server_url):
    done = run(server_url, "deploy", "--tag", "v1", *WAIT)

    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    stamped = [line for line in lines if "at" in line]
    now = tool_world.aws.clock.now()
    assert all(now - 3600 < at(line) <= now + 1 for line in stamped), [(line["kind"], line["at"]) for line in stamped]
    events = [at(line) for line in lines if line["kind"] == "service-event"]
    decided = next(at(line) for line in lines if line["kind"] == "verdict")
    assert events and 0 <= decided - max(events) <= 60  # within a few polls (12 virtual s each) of ECS's word


def test_prune_min_age_counts_the_servers_seconds(tool_world, server_url):
    for tag in ("v1", "v2", "v3"):
        assert run(server_url, "deploy", "--tag", tag, *WAIT).returncode == EXIT_OK
    tool_world.aws.clock.sleep(900)  # web:1: 15-odd virtual minutes old, neither running nor where a rollback goes

    pruned = run(server_url, "prune", "--keep", "0", "--min-age", "86400", json_lines=False)

    assert pruned.returncode == EXIT_OK, pruned.stdout + pruned.stderr
    assert tool_world.revisions() == ["web:1", "web:2", "web:3"]
    assert "kept web:1: registered" in pruned.stdout and "(--min-age 86400)" in pruned.stdout, pruned.stdout
