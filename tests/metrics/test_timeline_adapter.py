"""From the simulator's timeline recorder to the report's timeline: a real
failing deploy in the embedded backend, rolled back by ECS's circuit breaker."""
from __future__ import annotations

import pytest

from harness.backends.embedded import EmbeddedAws
from harness.metrics.results import Marker
from harness.metrics.timeline_adapter import from_recorder

GOOD, BAD = "nginx:1.27", "nginx:broken"


def _task_definition(ecs, image: str) -> str:
    return ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": image, "memory": 128, "essential": True}]
    )["taskDefinition"]["taskDefinitionArn"]


@pytest.fixture(scope="module")
def failed_deploy():
    """(aws, start): a service of 4 steady on GOOD, then a deploy of BAD whose
    containers exit 5 s after starting, circuit breaker with rollback on.
    Module-scoped: the tests only read the recorded timeline."""
    with EmbeddedAws(seed=3) as aws:
        ecs = aws.client("ecs")
        ecs.create_cluster(clusterName="c")
        ecs.create_service(
            cluster="c", serviceName="web", taskDefinition=_task_definition(ecs, GOOD), desiredCount=4,
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                     "minimumHealthyPercent": 100, "maximumPercent": 200},
        )
        aws.clock.sleep(300)
        aws.sim.declare_image(BAD, crash_after=5)
        start = aws.clock.now()
        ecs.update_service(cluster="c", service="web", taskDefinition=_task_definition(ecs, BAD))
        aws.clock.sleep(300)
        yield aws, start


def _labels(aws) -> dict[str, str]:
    return {aws.sim.images.resolve(GOOD): "v1 (good)", aws.sim.images.resolve(BAD): "v2 (crashes)"}


def test_circuit_breaker_rollback_becomes_failure_decision_recovery_in_order(failed_deploy) -> None:
    aws, start = failed_deploy
    timeline = from_recorder(aws.sim.timeline, "web", start=start, labels=_labels(aws))
    kinds = [m.kind for m in timeline.markers]
    assert kinds == ["deploy", "failure", "decision", "recovery"]
    times = [m.t for m in timeline.markers]
    assert times == sorted(times) and times[0] == 0.0
    assert timeline.markers[2].label == "circuit breaker rolls back"


def test_samples_count_tasks_per_labelled_image_relative_to_the_deploy(failed_deploy) -> None:
    aws, start = failed_deploy
    timeline = from_recorder(aws.sim.timeline, "web", start=start, labels=_labels(aws))
    assert timeline.samples[0] == timeline.samples[0].__class__(0.0, {"v1 (good)": 4}, 4)
    assert timeline.desired == 4
    assert timeline.images == ("v1 (good)", "v2 (crashes)")
    assert any(s.tasks.get("v2 (crashes)", 0) > 0 for s in timeline.samples)
    assert timeline.samples[-1].tasks == {"v1 (good)": 4}
    # minimumHealthyPercent 100: the old tasks are kept while the new ones fail
    assert timeline.lowest_healthy() == 4


def test_a_decision_cd_made_replaces_the_detected_one(failed_deploy) -> None:
    aws, start = failed_deploy
    timeline = from_recorder(aws.sim.timeline, "web", start=start, labels=_labels(aws),
                             markers=[Marker(start + 42.0, "decision", "CD rolls back")])
    decision = timeline.marker("decision")
    assert (decision.t, decision.label) == (42.0, "CD rolls back")


def test_unlabelled_digests_are_shortened_and_unknown_services_refused(failed_deploy) -> None:
    aws, start = failed_deploy
    timeline = from_recorder(aws.sim.timeline.as_dict(), "web", start=start)
    good = aws.sim.images.resolve(GOOD).split(":", 1)[1][:12]
    assert good in timeline.samples[0].tasks
    with pytest.raises(ValueError, match=r"no samples of service 'api'; services sampled: \['web'\]"):
        from_recorder(aws.sim.timeline, "api", start=start)
