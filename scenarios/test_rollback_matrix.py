"""The article's third goal, "allow speedy rollback to the last known good
application version if a deploy fails", as a matrix: every approach's CD against
every failure mode (``harness.approaches.failures``), on ROLLING and on BLUE_GREEN,
with two CDs per approach: the one the article sketches for it, and the most
capable one it allows (``harness.approaches.capable``: the deploy tool's watcher
with a bake and the alarm, a blue/green stop, following ECS's own rollback, each
returning to what that approach can return to). What differs between an
approach's two CDs comes from the CD; what differs between capable CDs comes
from the approaches.

Each cell starts from the known-good version v3 running, deploys the failing
release, lets CD do what its procedure does (the same watcher everywhere: the
deploy tool's, threshold one failed task; CD's own rollback when it sees a
failure), waits ``AFTERWARDS`` more virtual seconds, and measures: back on v3
with every task, without a person? When (from the failing deploy's start)? The
fewest healthy tasks on the way, CD's API calls, what a person must still do, the
revision it ended on, and for the infrastructure-change mode whether the change
survived the way back.

The approaches whose CD runs Terraform (4a, 4b) run on their own configuration,
applied with the mode's variables (a load balancer, the breaker off: their
``terraform_options``); BLUE_GREEN, which their provider cannot configure, is not
measured for them, and says why.

What changed since the article ("all of the approaches ... still require manual
intervention to resolve failed deployments"): every configuration enables the
circuit breaker through Terraform, so a crash the breaker sees recovers without a
person everywhere; the matrix shows where that stops being true.
"""
from __future__ import annotations

from typing import Any

import pytest

from ecs_template_deploy.clock import epoch

from harness.approaches import ARTICLE, CAPABLE, InfraChange
from harness.approaches.claims import recovers
from harness.metrics.measure import rollback_measure
from harness.metrics.results import (Marker, ProfileOutcome, RollbackCell, RollbackMatrix, Sensitivity, Timeline,
                                     cell_key)
from harness.metrics.timeline_adapter import from_recorder
from harness.approaches.failures import AFTERWARDS, INFRA_CHANGE, MODES, TOOL_BAKE, FailureMode

from scenario_support import SETTLE, parameters

GOOD = "v3"
# Where tasks really run (--backend aws, a LocalStack that runs them) a cell is
# measured on the approach's own Terraform configuration, on the wall clock; these
# need what only the simulator can do.
ONLY_SIMULATED = {
    "image-missing": "a real registry cannot be told to refuse a pull of an image it holds",
    "one-in-four-unhealthy": "tasks of one image are identical: 'every fourth task fails' cannot be built into it",
    "alarm-after-release": "the alarm goes off at a moment of the simulator's clock",
}
BLUE_GREEN_ONLY_SIMULATED = "the native blue/green load balancer is built for the simulator only"


def cell(mode: FailureMode, strategy: str) -> Any:
    reason = ONLY_SIMULATED.get(mode.key) or (BLUE_GREEN_ONLY_SIMULATED if strategy != "ROLLING" else None)
    return pytest.param(mode, strategy, id=f"{mode.key}-{strategy.lower().replace('_', '-')}",
                        marks=[pytest.mark.simulator_only(reason)] if reason else [])


CELLS = [cell(mode, strategy) for mode in MODES for strategy in mode.strategies]
pytestmark = pytest.mark.real_aws(budget=2700)  # the world, a failing deploy, the way back, 300 s afterwards
TOOL_BY = {"ecs-template-deploy": "deploy tool", "ecs-circuit-breaker": "ecs-circuit-breaker"}


def arm_alarm(w: Any, release_digest: str, after: float) -> str:
    """A CloudWatch alarm on the release's errors, going into ALARM ``after``
    virtual seconds after the release's deployment completed."""
    name = f"{w.resource_name}-errors"
    cloudwatch = w.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName=name, MetricName="5xx", Namespace="App", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    service = w.sim.service(w.service_name)

    def check() -> None:
        primary = service.primary
        if (primary is not None and primary.rollout_state == "COMPLETED" and len(service.deployments) == 1
                and primary.digests.get(w.container) == release_digest):
            w.clock.call_later(after, lambda: cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM",
                                                                          StateReason="the release's error rate"))
        else:
            w.clock.call_later(1, check)

    w.clock.call_later(1, check)
    return name


def assert_configured(service: dict, configuration: dict) -> None:
    """The service is what the mode asked for, whoever built it (a stand-in, or
    approach 4's Terraform with the mode's variables)."""
    if "circuit_breaker" in configuration:
        breaker = service["deploymentConfiguration"]["deploymentCircuitBreaker"]
        assert breaker["enable"] == breaker["rollback"] == configuration["circuit_breaker"]
    if configuration.get("load_balanced") or configuration.get("strategy", "ROLLING") != "ROLLING":
        assert service.get("loadBalancers"), "the mode needs the service behind a load balancer"
    if "desired_count" in configuration:
        assert service["desiredCount"] == configuration["desired_count"]


def back_on_good_at(timeline: Timeline, good: str, after: float) -> float | None:
    """When the service was last brought to "every task on the known-good image,
    healthy, with all production traffic": the start of the run of such samples
    that lasts to the end, no earlier than ``after`` (CD's decision). None if the
    last sample is not there."""
    def good_state(sample: Any) -> bool:
        return (dict(sample.tasks) == {good: timeline.desired} and sample.healthy == timeline.desired
                and (not sample.traffic or sample.traffic.get(good, 0.0) >= 100.0))

    at = None
    before = [sample for sample in timeline.samples if sample.t < after]
    if before and good_state(before[-1]):  # samples mark changes: the last one before holds at ``after``
        at = after
    for sample in timeline.samples:
        if sample.t < after:
            continue
        if good_state(sample):
            at = sample.t if at is None else at
        else:
            at = None
    return at


def ecs_rolled_back(w: Any, since: float) -> bool:
    """Did ECS itself (circuit breaker, deployment alarms) roll a deployment back since ``since``?"""
    found = w.client("ecs").list_service_deployments(cluster=w.cluster, service=w.service_name)["serviceDeployments"]
    return any(d.get("status") == "ROLLBACK_SUCCESSFUL" and (epoch(d.get("createdAt")) or 0.0) >= since for d in found)


def who_rolled_back(approach: Any, w: Any, failed: Any, back: Any, since: float, back_after_deploy: bool,
                    way_back: str = "") -> str:
    if way_back == "followed ECS":
        return "ecs-circuit-breaker"
    if way_back == "shift back":
        return "cd (blue/green stop)"
    if approach.described:  # a command: what ECS did is read from ECS, what CD did from its steps
        if ecs_rolled_back(w, since):
            return "ecs-circuit-breaker"
        if back_after_deploy:
            return "cd's deploy step"
        return "cd" if back is not None and back.succeeded else ""
    if w.approach.facts.cd_is_deploy_tool:  # the tool says who rolled back
        report = w.approach.last_report
        return TOOL_BY.get(report.rolled_back_by or "", "") if report is not None else ""
    if back is None:
        return ""
    return "ecs-circuit-breaker, then cd" if failed.state == "rolled-back-by-ecs" else "cd"


def back_message(w: Any) -> str:
    last = w.history[-1]
    return last.message if last.kind == "rollback" else "none ran"


def explain(mode: FailureMode, approach: Any, w: Any, failed: Any, recovered: bool, by: str, kept: bool | None,
            cd: str = ARTICLE, way_back: str = "") -> str:
    """One line: why the cell reads as it does."""
    facts = w.approach.facts
    if cd == CAPABLE and not facts.cd_is_deploy_tool:
        line = _explain_capable(mode, facts, failed, recovered, way_back)
    elif approach.described:
        steps = f"its deploy step: {failed.message}" + (f"; its rollback: {back_message(w)}" if not failed.succeeded else "")
        if recovered:
            line = ("ECS's circuit breaker rolled back" if by.startswith("ecs") else
                    "its deploy step brought the service back itself" if by == "cd's deploy step" else
                    f"back through {facts.rolls_back}" if by else "back on known good") + f" ({steps})"
        else:
            line = f"not back on known good ({steps})"
    elif failed.succeeded and not recovered:
        line = "CD saw nothing wrong: it stops watching at steady state, so the release runs until a person acts"
    elif not recovered:
        line = f"CD's way back did not reach known good ({facts.rolls_back})"
    elif facts.cd_is_deploy_tool:
        report = w.approach.last_report
        if report is not None and report.traffic_back_at is not None:
            line = "the deploy tool shifted traffic back to blue (StopServiceDeployment ROLLBACK): no task started"
        elif by == "ecs-circuit-breaker":
            line = "ECS's circuit breaker rolled back; the deploy tool followed it and marked the result"
        elif failed.succeeded is False and mode.alarm_after_completion is not None:
            line = f"the deploy tool's {TOOL_BAKE:g} s bake saw the alarm and rolled back to the revision marked known good"
        else:
            line = "the deploy tool rolled back to the revision marked known good (UpdateService)"
    else:
        line = f"CD {facts.rolls_back}" + (" after ECS's circuit breaker had already rolled back"
                                           if by.startswith("ecs-circuit-breaker") else "")
    if kept is not None:
        line += "; the infrastructure change " + ("is kept" if kept else
                                                 "is lost until the next deploy: the revision it went back to predates it")
    return line


def _explain_capable(mode: FailureMode, facts: Any, failed: Any, recovered: bool, way_back: str) -> str:
    if not recovered:
        return f"even the most capable CD did not get back: the approach's way back ({facts.rolls_back}) did not reach known good"
    if way_back == "shift back":
        return "CD stopped the blue/green deployment (StopServiceDeployment ROLLBACK): traffic back on blue, no task started"
    if way_back == "followed ECS":
        return "ECS's circuit breaker rolled back to the revision CD would have chosen; CD followed it, no second deployment"
    if mode.alarm_after_completion is not None:
        return f"CD's {TOOL_BAKE:g} s bake saw the alarm; then the approach's own way back: {facts.rolls_back}"
    return f"the approach's own way back: {facts.rolls_back}"


# The most capable CD is replayed where time is virtual: its bake is 300 s per cell, and where tasks
# really run the article's CD already measures what the backend does.
CD_PARAMS = [pytest.param(ARTICLE, id=ARTICLE),
             pytest.param(CAPABLE, id=CAPABLE, marks=[pytest.mark.simulator_only(
                 "the most capable CD is replayed on the simulator: its 300 s bake per cell would be real time here")])]


@pytest.mark.parametrize("cd", CD_PARAMS)
@pytest.mark.parametrize("mode,strategy", CELLS)
def test_rollback_matrix(approach, make_approach_world, measurements, mode: FailureMode, strategy: str, cd: str) -> None:
    _cell(approach, make_approach_world, measurements, mode, strategy, cd)


@pytest.mark.parametrize("cd", CD_PARAMS)
@pytest.mark.parametrize("mode,strategy", CELLS)
def test_rollback_matrix_under_other_profiles(approach, make_approach_world, measurements, mode: FailureMode,
                                              strategy: str, cd: str, sensitivity_profile: Any) -> None:
    """The same cell, timed by another bundled profile (``--sensitivity``; the plugin switches the
    server's timing for the test): the report's sensitivity section says which rankings hold."""
    _cell(approach, make_approach_world, measurements, mode, strategy, cd, profile=sensitivity_profile)


def _cell(approach: Any, make_approach_world: Any, measurements: Any, mode: FailureMode, strategy: str, cd: str,
          profile: Any = None) -> None:
    if not mode.applies_to(approach, strategy):
        pytest.skip(f"n/a: {mode.title} is about {', '.join(mode.approaches() or ())} only")
    if cd == CAPABLE and approach.described:
        pytest.skip("n/a: a described approach's CD is its own command; the harness replays it as it is")
    configuration = dict(mode.configuration)
    if strategy != "ROLLING":
        configuration["strategy"] = strategy
    w = make_approach_world(terraform=False, **configuration)
    assert_configured(w.service(), configuration)
    w.ensure_deployed(GOOD)
    good = w.digests[GOOD]
    assert set(w.running_digests()) == {good}

    release = w.push_faulty(f"v9-{mode.key}", **mode.image)
    tool = w.approach.facts.cd_is_deploy_tool
    capable = cd == CAPABLE
    if capable:  # what any CD can do: keep watching after steady state (the deploy tool's --bake 300 --alarm NAME)
        w.context.bake = TOOL_BAKE
    if mode.alarm_after_completion is not None:
        alarm = arm_alarm(w, w.digests[release], mode.alarm_after_completion)
        if capable:
            w.context.alarms = (alarm,)
    try:
        _run_cell(approach, w, measurements, mode, strategy, cd, release, good, tool, profile)
    finally:  # a shared world's next scenario starts with the article's CD again
        w.context.bake, w.context.alarms = 0.0, ()


def _run_cell(approach: Any, w: Any, measurements: Any, mode: FailureMode, strategy: str, cd: str, release: str,
              good: str, tool: bool, profile: Any = None) -> None:
    infra_seconds = 0.0
    if mode.infra_change and not w.approach.supports(InfraChange(**INFRA_CHANGE)):
        pytest.skip(f"not measured: {approach.name}'s description maps no Terraform variable to "
                    f"{INFRA_CHANGE['setting']} ([terraform.changes])")
    if mode.infra_change:
        infra_seconds = w.approach.apply_infra_change(InfraChange(**INFRA_CHANGE))
        w.settle(SETTLE)  # an approach whose service follows Terraform at once rolls the change out now
        assert set(w.running_digests()) == {good}

    start = w.clock.now()
    with w.using_cd(ARTICLE if tool else cd):  # the deploy tool is its own capable CD: the bake makes the difference
        running_cd = w.approach
        failed = w.deploy(release)
        # A described CD's deploy step may bring the service back itself (a deploy tool's own rollback).
        back_after_deploy = approach.described and not failed.succeeded and set(w.running_digests()) == {good}
        back = None if failed.succeeded else w.rollback()
    way_back = getattr(running_cd, "last_way_back", "")
    cd_end = w.clock.now()
    w.sleep(AFTERWARDS)  # what happens when CD is no longer looking
    end = w.clock.now()

    markers = [Marker(failed.decided_at, "decision", "CD decides to roll back")] \
        if failed.decided_at is not None and not failed.succeeded else []
    drawn = from_recorder(w.timeline, w.service_name, start=start, end=end, labels=w.labels(), markers=markers)
    good_label = w.label(good)
    back_at = back_on_good_at(drawn, good_label, after=(failed.decided_at or cd_end) - start
                              if not failed.succeeded else cd_end - start)
    running = w.running_digests()
    recovered = back_at is not None and set(running) == {good} and len(w.service()["deployments"]) == 1
    markers = [m for m in drawn.markers if m.kind != "recovery"]
    if recovered:
        markers.append(Marker(back_at, "recovery", "steady on known good"))
    timeline = Timeline(drawn.samples, tuple(sorted(markers, key=lambda m: m.t)), drawn.desired, drawn.images)

    server_side = w.approach.facts.cd_calls_server_side
    # Terraform's calls (CD that is Terraform) are seen only by a server that records them: not by AWS
    calls = None if server_side and w.sim is None else \
        len(failed.calls(server_side)) + (len(back.calls(server_side)) if back is not None else 0)
    terraform_seconds = round(failed.terraform_seconds + (back.terraform_seconds if back is not None else 0.0), 1)
    kept = None
    if mode.infra_change:
        environment = {e["name"]: e["value"] for e in w.running_container().get("environment", [])}
        kept = all(environment.get(k) == v for k, v in INFRA_CHANGE["value"].items())
    by = who_rolled_back(approach, w, failed, back, since=start, back_after_deploy=back_after_deploy, way_back=way_back)
    definition = w.service()["taskDefinition"].rsplit("/", 1)[-1]
    final = ", ".join(sorted({w.label(d) for d in running})) or "nothing running"
    cell = RollbackCell(
        mode=mode.key, strategy=strategy, recovered=recovered, seconds=round(back_at, 1) if recovered else None,
        terraform_seconds=terraform_seconds, lowest_healthy=timeline.lowest_healthy(), desired=timeline.desired,
        api_calls=calls, human_steps=() if recovered else tuple(w.approach.facts.manual_rollback),
        rollback_actions=tuple(sorted({call.action for call in back.calls(server_side)})) if back is not None else (),
        final=f"{final} ({definition})", rolled_back_by=by, kept_infra_change=kept,
        note=explain(mode, approach, w, failed, recovered, by, kept, cd, way_back), timeline=timeline, cd=cd)

    # What must hold in every cell: the measurement says where the service is, and
    # the deploy tool keeps its one promise whatever the failure.
    assert recovered == (set(w.running_digests()) == {good} and len(w.service()["deployments"]) == 1)
    assert recovered or cell.human_steps, f"{approach.name} is not back and names no step that would bring it back"
    if mode.alarm_after_completion is not None and cd == ARTICLE and not approach.described:
        assert failed.succeeded and not recovered, "CD that stops at steady state cannot see a later alarm"
    if profile is not None:  # the sensitivity pass: the cell's outcome under that profile, nothing judged
        measurements.record(approach.name, Sensitivity(outcomes={profile.name: {
            cell_key(mode.key, strategy, cd): ProfileOutcome(recovered, cell.seconds)}}))
        measurements.parameters({"sensitivity": {profile.name: {
            "scheduler_interval": w.sim.params.scheduler_interval, "poll_interval_seconds": w.context.poll_interval}}})
        return
    if cd == CAPABLE:
        # A CD that bakes sees the alarm; one that can stop a blue/green deployment shifts traffic back
        if mode.alarm_after_completion is not None:
            assert not failed.succeeded and recovered, f"{approach.name}: the bake did not bring it back: {cell.note}"
        if way_back == "shift back":
            assert "ecs:StopServiceDeployment" in cell.rollback_actions and recovered, cell.note
        _judge_claims = False
    else:
        _judge_claims = True
    # The claims: back on known good without a person (the article: "all of the approaches described
    # above still require manual intervention"; the template approach's "speedy rollback"), and
    # what the way back writes ("Rollbacks require re-updating the image tag before deploying").
    # The article's claims are about the CD it sketches: the capable CD's cells are measured, not judged.
    claims = approach.claims
    if _judge_claims and claims.rollback is not None and (
            claimed := recovers(claims.rollback.holds, mode.key, strategy)) is not None:
        why = w.approach.last_report.message if tool and w.approach.last_report is not None else cell.note
        said = claims.rollback
        article = recovers(said.article, mode.key, strategy)
        cited = (f"the article says {article}" + (f"; today {claimed}: {said.because}" if article != claimed else ""))
        assert recovered == claimed, f"{approach.name}: back without a person: {recovered}: {why} ({cited})"
    if _judge_claims and back is not None and claims.rollback_moves_tag is not None:
        moved = any(call.action == "ecr:PutImage" for call in back.calls(server_side))
        assert moved == claims.rollback_moves_tag.holds, f"{approach.name}: {cell.rollback_actions}"
    if mode.infra_change:
        # Terraform ran for the change (wall seconds) exactly where the world has Terraform and it holds the setting
        owns = claims.terraform_owns.holds.get(INFRA_CHANGE["setting"], True) if claims.terraform_owns else True
        assert (infra_seconds > 0.0) == (w.workspace is not None and owns), \
            f"{approach.name}: the infrastructure change ran {infra_seconds} s of Terraform in a {w.kind} world"

    measurements.record(approach.name, RollbackMatrix(cells={cell_key(mode.key, strategy, cd): cell}))
    if mode.key == "crash-at-once" and strategy == "ROLLING" and cd == ARTICLE:  # the table's rollback column
        measured = rollback_measure(timeline, api_calls=calls, terraform_seconds=terraform_seconds,
                                    by=by or "nobody",  # the matrix cell's answer, said once
                                    clock="virtual" if w.sim is not None else "wall")
        measured.simulated_seconds = round(measured.simulated_seconds, 1)
        assert measured.recovered and measured.lowest_healthy > 0, "the failed deploy took the service down"
        measurements.record(approach.name, measured)
    measurements.parameters({**parameters(w), "failure_modes": {mode.key: mode.parameters()}})
