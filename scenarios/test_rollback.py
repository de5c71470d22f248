"""The article's third goal: "allow speedy rollback to the last known good
application version if a deploy fails", measured for every approach.

Each approach runs a good version (v3: deployed unless an earlier scenario
left it running), then deploys a version whose container
crashes 5 s after it starts, detects the failure with the same watcher (the
deploy tool's, threshold one failed task) and rolls back the way its CD does.
Recorded: simulated seconds from the failing deploy to steady on the
known-good version (plus the wall seconds of any Terraform run in the CD path),
the API calls CD made, the lowest healthy task count, and the timeline the
report draws.

What changed since the article: "all of the approaches described above still
require manual intervention to resolve failed deployments ... [the circuit
breaker] is not yet supported by Terraform as of this writing". Every
configuration here enables `deployment_circuit_breaker` through Terraform, and
every approach recovers without a human; the scenario asserts that.
"""
from __future__ import annotations

from harness.metrics.measure import rollback_measure
from harness.metrics.results import Marker
from harness.metrics.timeline_adapter import from_recorder

from scenario_support import BROKEN, parameters

# Approach 1's drawback: "Rollbacks require re-updating the image tag before
# deploying": its rollback writes to ECR before it touches ECS.
ROLLBACK_MOVES_A_TAG = {"persistent-tag": True}


def test_failed_deploy_rolls_back_to_known_good(approach, world, measurements) -> None:
    w = world(terraform=False)
    w.ensure_deployed("v3")  # the known-good version (what the scenarios before this one leave running)
    good_digest = w.digests["v3"]
    assert set(w.running_digests()) == {good_digest}

    start = w.clock.now()
    failed = w.deploy(BROKEN)
    # when the watcher saw the failure (a CD that rolls back inside its deploy, like the deploy tool, returns later)
    decided = failed.decided_at if failed.decided_at is not None else w.clock.now()
    assert not failed.succeeded, "the broken image must fail the deploy"
    back = w.rollback()
    end = w.clock.now()
    terraform_seconds = failed.terraform_seconds + back.terraform_seconds

    # The measured behaviour: back on the known-good version, every task.
    assert back.succeeded, f"{approach.name} did not get back to the known-good version"
    assert set(w.running_digests()) == {good_digest}
    assert w.service()["runningCount"] == w.service()["desiredCount"]

    moved = any(call.action == "ecr:PutImage" for call in back.client_calls)
    assert moved == ROLLBACK_MOVES_A_TAG.get(approach.name, False)

    # CD that is Terraform calls AWS from Go: count it server-side.
    server_side = w.approach.facts.cd_runs_terraform
    calls = len(failed.calls(server_side)) + len(back.calls(server_side))
    assert calls > 0
    timeline = from_recorder(w.sim.timeline, w.service_name, start=start, end=end + 1, labels=w.labels(),
                             markers=[Marker(decided, "decision", "CD decides to roll back")])
    if timeline.marker("recovery") is None:  # no steady-state event in the window: the watcher's verdict is the moment
        timeline = from_recorder(w.sim.timeline, w.service_name, start=start, end=end + 1, labels=w.labels(),
                                 markers=[Marker(decided, "decision", "CD decides to roll back"),
                                          Marker(end, "recovery", "steady on known-good")])
    measured = rollback_measure(timeline, api_calls=calls, terraform_seconds=round(terraform_seconds, 1))
    # The server's clock creeps by wall time x 1e-6: a few microseconds that must not decide a winner.
    measured.simulated_seconds = round(measured.simulated_seconds, 1)
    assert measured.recovered
    assert measured.lowest_healthy is not None and measured.lowest_healthy > 0, "the failed deploy took the service down"
    measurements.record(approach.name, measured)
    measurements.parameters(parameters(w))
