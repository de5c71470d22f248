"""A target group's own settings time the tasks behind it: its health check
interval and healthy threshold decide when a new task takes traffic, its
deregistration delay how long a replaced one drains. (The simulator's `tg_*`
and `deregistration_delay` parameters are for target groups moto does not hold.)"""
from __future__ import annotations

import pytest

from ecs_template_deploy.errors import EXIT_OK
from harness.worlds import CLUSTER, ToolWorld

SCHEDULER_PASS = 5.0


def tasks_of(world: ToolWorld, revision: str) -> list[dict]:
    ecs = world.ecs
    arns = [*ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"],
            *ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"]]
    described = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return [t for t in described if t["taskDefinitionArn"].endswith(f"/{revision}")]


@pytest.mark.parametrize("interval, healthy, delay", [(10, 2, 30), (30, 5, 120)])
def test_the_target_groups_checks_and_drain_time_a_deploy(aws, interval, healthy, delay):
    world = ToolWorld.build(aws, desired=2, load_balanced=True, target_group_settings={
        "interval": interval, "healthy": healthy, "deregistration_delay": delay})
    assert world.run("deploy", "--tag", "v1").code == EXIT_OK
    assert world.run("deploy", "--tag", "v2").code == EXIT_OK

    new, old = tasks_of(world, "web:2"), tasks_of(world, "web:1")
    took_traffic = max(t["startedAt"] for t in new).timestamp() + interval * healthy
    for task in old:
        drain_began, stopped = task["stoppingAt"].timestamp(), task["stoppedAt"].timestamp()
        assert took_traffic <= drain_began <= took_traffic + SCHEDULER_PASS
        assert delay <= stopped - drain_began <= delay + SCHEDULER_PASS
