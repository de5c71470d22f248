"""What a world where tasks really run measures with: ECS read while anyone
waits (``SamplingClock``) into a timeline of the simulator's recorder's shape
(``PolledTimeline``), checked here against the simulator's own record of the
same failing deploy; and what an approach's configuration is applied with there."""
from __future__ import annotations

from pathlib import Path

from botocore.exceptions import ClientError

from harness.approaches import BY_NAME
from harness.metrics.timeline_adapter import from_recorder
from harness.worlds import ToolWorld
from harness.worlds.wall_clock import PolledTimeline, SamplingClock, calls_base_module, declared_variables


def test_the_polled_timeline_tells_the_failing_deploy_as_the_simulator_recorded_it(aws):
    world = ToolWorld.build(aws, desired=2, circuit_breaker=True)
    ecs = aws.client("ecs")
    polled = PolledTimeline()
    clock = SamplingClock(aws.clock, lambda: polled.poll(ecs, world.names.cluster, world.names.service, aws.clock.now()))
    clock.poll()
    start = aws.clock.now()
    aws.sim.declare_image(f"{world.repository_uri}:crash", crash_after=5)
    template = ecs.describe_task_definition(taskDefinition=world.service().task_definition)["taskDefinition"]
    container = {**template["containerDefinitions"][0], "image": f"{world.repository_uri}:crash"}
    crashing = ecs.register_task_definition(family="crash", containerDefinitions=[container])
    ecs.update_service(cluster=world.names.cluster, service=world.names.service,
                       taskDefinition=crashing["taskDefinition"]["taskDefinitionArn"])
    clock.sleep(900)  # the circuit breaker sees the crashes and rolls back meanwhile

    ours = from_recorder(polled, world.names.service, start=start)
    simulator = from_recorder(aws.sim.timeline, world.names.service, start=start)
    assert ours.marker("failure") is not None and ours.marker("decision") is not None  # failed tasks, the breaker's event
    assert ours.marker("recovery") is not None
    assert dict(ours.samples[-1].tasks) == dict(simulator.samples[-1].tasks)  # back on the first image, every task
    assert ours.lowest_healthy() == simulator.lowest_healthy() == 2  # the release never took a healthy task away
    # read every 5 s: the moments are within one reading of the simulator's own
    for kind in ("failure", "decision", "recovery"):
        assert abs(ours.marker(kind).t - simulator.marker(kind).t) <= 5.0, kind
    assert len(polled.events) == len({e["message"] + str(e["t"]) for e in polled.events})  # each event once


def test_a_reading_that_fails_is_skipped_and_counted_not_the_scenarios_failure(aws):
    readings = []

    def poll() -> None:
        readings.append(aws.clock.now())
        if len(readings) == 2:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeServices")

    clock = SamplingClock(aws.clock, poll, every=5.0)
    started = aws.clock.now()
    clock.sleep(12)
    assert [t - started for t in readings] == [5.0, 10.0, 12.0] and clock.missed == 1
    assert clock.now() - started == 12


def test_each_configuration_gets_only_the_variables_it_declares_and_the_base_first_where_it_has_one():
    template = Path(BY_NAME["template"].cls().terraform_config())
    assert {"name", "region", "public_network"} <= declared_variables(template) and calls_base_module(template)
    app = Path(BY_NAME["terraform-cd-app"].cls().terraform_config())  # 4b: reads the central config's state
    assert "public_network" not in declared_variables(app) and not calls_base_module(app)
