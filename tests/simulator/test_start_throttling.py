"""Semantics page 2025, "Events and start throttling": tasks that keep failing to
start are retried with a growing gap, and ECS says it cannot start them."""
from __future__ import annotations

import itertools

UNABLE = "(service web) is unable to consistently start tasks successfully."


def starts(aws) -> list[float]:
    """When the service's tasks were created, oldest first."""
    return sorted(t.created_at for d in aws.sim.service("web").history for t in d.tasks)


def test_tasks_failing_to_start_again_and_again_are_throttled_with_a_doubling_gap(ecs, aws):
    aws.sim.declare_image("app:gone", missing=True)
    ecs.service(ecs.task_definition("app:gone"), desired=1)
    ecs.settle(1800)
    assert ecs.events().count(UNABLE) == 1
    times = starts(aws)
    gaps = [round(b - a) for a, b in itertools.pairwise(times)]
    # a pull attempt fails after 10 s; the next start comes at once at first, then
    # after a gap of 30 s, 60 s, 120 s, 240 s ...
    assert gaps[:2] == [10, 10] and gaps[2:6] == [10 + 30, 10 + 60, 10 + 120, 10 + 240]
    assert len(times) < 15  # without throttling: one start every 10 s, 180 in 30 minutes


def test_the_gap_grows_to_27_minutes_and_no_more(ecs, aws):
    aws.sim.declare_image("app:gone", missing=True)
    ecs.service(ecs.task_definition("app:gone"), desired=1)
    ecs.settle(6 * 3600)
    times = starts(aws)
    assert max(round(b - a) for a, b in itertools.pairwise(times)) == 10 + 1620


def test_a_new_task_definition_starts_afresh(ecs, aws):
    aws.sim.declare_image("app:gone", missing=True)
    ecs.service(ecs.task_definition("app:gone"), desired=1)
    ecs.settle(600)
    ecs.update(taskDefinition=ecs.task_definition("app:v2"))
    ecs.settle(120)
    assert ecs.describe()["runningCount"] == 1


def test_tasks_that_reach_running_and_crash_are_never_throttled(ecs, aws):
    aws.sim.declare_image("app:crash", crash_after=1)
    ecs.service(ecs.task_definition("app:crash"), desired=1)
    ecs.settle(600)
    assert UNABLE not in ecs.events()
    times = starts(aws)
    assert max(round(b - a) for a, b in itertools.pairwise(times)) <= 20
