"""The whole measuring path on the simulator, no Terraform: approaches 1-3
deploy a good version, then a crashing one, and roll back with their own CD
procedure; the recorder counts their calls, the simulator's timeline becomes the
chart, and the report is written from what the workers recorded."""
from __future__ import annotations

import json

import pytest

from harness import approaches
from harness.approaches.base import Context
from harness.worlds.stand_in import stand_in
from harness.backends.embedded import EmbeddedAws
from harness.metrics.collect import ResultsSink, load_results
from harness.metrics.iam import ApiCallRecorder
from harness.metrics.measure import cd_permissions, rollback_measure
from harness.metrics.results import Marker, Rollback
from harness.metrics.timeline_adapter import from_recorder
from harness.report import write_reports

NAMES = ("persistent-tag", "ignore-changes", "app-repo")


def _measure_rollback(name: str, sink: ResultsSink) -> None:
    with EmbeddedAws(seed=7) as aws:
        built = stand_in(aws.client, name, images=["v1", "v2", "v3-broken"], desired_count=3, circuit_breaker=False)
        aws.sim.declare_image(built.digests["v3-broken"], crash_after=5)
        recorder = ApiCallRecorder(account_id="123456789012")
        clients: dict = {}

        def client(service: str):
            if service not in clients:
                clients[service] = recorder.attach(aws.client(service))
            return clients[service]

        approach = approaches.get(name)(Context(client=client, now=aws.clock.now, sleep=aws.clock.sleep,
                                                 outputs=built.outputs))
        aws.clock.sleep(120)
        assert approach.deploy("v2").succeeded
        recorder.clear()
        start = aws.clock.now()
        assert not approach.deploy("v3-broken").succeeded
        decided = aws.clock.now()
        assert approach.rollback().succeeded
        aws.clock.sleep(30)
        labels = {digest: tag for tag, digest in built.digests.items()}
        timeline = from_recorder(aws.sim.timeline, built.outputs["service_name"], start=start, labels=labels,
                                 markers=[Marker(decided, "decision", "CD rolls back")])
        sink.record(name, rollback_measure(timeline, api_calls=len(recorder.calls), by="cd"))
        sink.record(name, cd_permissions(recorder, needs_terraform_state=False, needs_git_push=False))
        sink.record_parameters({"backend": "moto", "simulator": aws.params.as_dict()})


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    records = tmp_path_factory.mktemp("records")
    for index, name in enumerate(NAMES):
        _measure_rollback(name, ResultsSink(records, f"gw{index % 2}"))
    results = load_results(records)
    return results, write_reports(results, tmp_path_factory.mktemp("report"))


def test_every_approach_recovers_on_the_known_good_version_after_the_decision(report) -> None:
    results, _ = report
    for name in NAMES:
        rollback = results.get(name, Rollback)
        assert rollback.recovered, name
        kinds = [m.kind for m in rollback.timeline.markers]
        assert kinds.index("failure") < kinds.index("decision") < kinds.index("recovery"), (name, kinds)
        assert rollback.simulated_seconds == rollback.timeline.marker("recovery").t
        assert rollback.timeline.samples[-1].tasks == {"v2": 3}, name
        assert "v3-broken" in rollback.timeline.all_images()
        assert rollback.lowest_healthy == 3  # minimumHealthyPercent 100 keeps v2 serving throughout
        assert rollback.api_calls > 0


def test_recorded_actions_show_what_each_cd_needed(report) -> None:
    results, paths = report
    doc = json.loads(paths.json.read_text())
    actions = {a["name"]: set(a["measured"]["cd_permissions"]["iam_actions"]) for a in doc["approaches"]}
    assert {"ecr:BatchGetImage", "ecr:PutImage"} <= actions["persistent-tag"]
    assert "ecs:RegisterTaskDefinition" not in actions["persistent-tag"]
    assert "ecs:RegisterTaskDefinition" in actions["ignore-changes"]
    assert "iam:PassRole" in actions["app-repo"]  # its task definition names the roles


def test_the_report_draws_a_chart_per_approach_and_marks_winners(report) -> None:
    results, paths = report
    page = paths.html.read_text()
    assert page.count("<svg") == len(NAMES)
    assert paths.png is not None and paths.png.stat().st_size > 10_000
    assert set(paths.table.winners["rollback_seconds"]) <= set(NAMES)
    assert "| simulator.scheduler_interval |" in paths.markdown.read_text()
