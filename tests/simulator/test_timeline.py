"""Determinism and the timeline recorder: the same scenario and seed give the
same timeline, byte for byte."""
from __future__ import annotations

import json

from harness.backends.embedded import EmbeddedAws
from harness.ecs.params import Params


def scenario(seed: int) -> str:
    with EmbeddedAws(seed=seed) as aws:
        ecs = aws.client("ecs")
        ecs.create_cluster(clusterName="c")
        register = lambda image: ecs.register_task_definition(  # noqa: E731
            family="app", containerDefinitions=[{"name": "app", "image": image, "memory": 128}]
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster="c", serviceName="web", taskDefinition=register("app:1"), desiredCount=5,
                           deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        aws.clock.sleep(300)
        aws.sim.declare_image("app:2", crash_after=7)
        ecs.update_service(cluster="c", service="web", taskDefinition=register("app:2"))
        aws.clock.sleep(1200)
        return aws.sim.timeline.to_json()


def test_same_scenario_and_seed_give_a_byte_identical_timeline():
    first, second = scenario(7), scenario(7)
    assert first == second
    assert scenario(8) != first           # ids come from the seed


def test_timeline_records_tasks_per_deployment_and_digest_and_the_events():
    timeline = json.loads(scenario(1))
    samples, events = timeline["samples"], timeline["events"]
    assert [e["message"] for e in events if "failed" in e["message"] or "rolling back" in e["message"]][0].endswith(
        "deployment failed: tasks failed to start.")
    peak = max(samples, key=lambda s: len(s["deployments"]))
    assert len(peak["deployments"]) >= 2
    assert {"id", "status", "rolloutState", "taskDefinition", "running", "pending", "draining", "healthy",
            "failedTasks"} == set(peak["deployments"][0])
    assert samples[-1]["running"] == 5 and len(samples[-1]["runningByDigest"]) == 1
    assert [s["t"] for s in samples] == sorted(s["t"] for s in samples)


def test_parameters_default_to_the_semantics_page_table():
    p = Params()
    assert (p.image_pull_seconds, p.container_start_seconds) == (10, 5)
    assert (p.tg_health_interval, p.tg_healthy_threshold, p.tg_unhealthy_threshold) == (30, 5, 2)
    assert (p.container_health_interval, p.container_health_retries, p.container_health_start_period) == (30, 3, 0)
    assert (p.deregistration_delay, p.stop_timeout) == (300, 30)
    assert Params.from_dict(p.as_dict()) == p


def test_unknown_parameter_is_refused_with_the_known_ones():
    try:
        Params.from_dict({"pull": 1})
    except ValueError as err:
        assert str(err).startswith("unknown simulator parameter(s) ['pull']; known: [")
    else:
        raise AssertionError("an unknown parameter was accepted")


def test_timing_parameters_change_the_timeline():
    with EmbeddedAws(params=Params(image_pull_seconds=60)) as aws:
        ecs = aws.client("ecs")
        ecs.create_cluster(clusterName="c")
        td = ecs.register_task_definition(family="a", containerDefinitions=[{"name": "a", "image": "x", "memory": 8}])
        ecs.create_service(cluster="c", serviceName="web", taskDefinition=td["taskDefinition"]["taskDefinitionArn"], desiredCount=1)
        aws.clock.sleep(300)
        first_running = next(s["t"] for s in aws.sim.timeline.samples if s["running"])
        assert first_running - 1767225600 == 70      # pass at 5 s + pull 60 s + start 5 s
