"""Issue 41, "a release of several services as one": web and worker are released
together, web's new version is healthy, worker's crashes. Where does each end?

Each approach starts from the known-good v3 on both services, releases web v4 and
worker ``BROKEN`` (every task exits ``CRASH_AFTER`` s after it starts) the way
its CD would, waits ``AFTERWARDS`` more virtual seconds, and measures: which
services end on the failed release, which are back on v3, the seconds from the
release's start until every service is back on v3 (or never), and what a person
must still do.

- Approach 5 (template) releases both with one ``ecs-template-deploy release``
  and a manifest that puts worker in the wave *after* web. That shows
  all-or-nothing most plainly: web rolls out, passes its bake and is marked known
  good before worker starts, so when worker crashes the release must take back a
  service that had succeeded on its own (in one wave, web would merely be
  abandoned mid-rollout). It is also the order the other approaches' pipelines
  run in, so every approach fails at the same point.
- Approaches 1-3, and the approaches described in files, run their CD procedure
  once per service, one service after the other (web, then worker), as the
  article's scripts would: each deploys one service and knows no other. The
  pipeline stops at the first service whose deploy fails, after that service's
  own rollback step.
- Approach 4 (Terraform in CD) runs its procedure once per service too: a commit
  of the tag and a ``terraform apply`` for web, then the same for worker. Not one
  apply for both: its configurations declare one service each (one
  ``aws_ecs_service.app``, one ``image_tag`` variable), the harness's worlds hold
  one service each, and its CD commits one tag. A release in one apply needs a
  second, two-service central configuration, a world that holds two services
  and a CD step that commits several tags: a second world builder, not a
  variable. And for 4b one apply per service *is* the procedure: each service's
  configuration lives in its own application repository. Its worker is a
  second world of the same configuration (``make_approach_world(instance="worker")``).

Every world is its own cluster here (a stand-in builds one per world); the
deploy tool's manifest names each service's cluster, which a release across
clusters allows. Nothing measured depends on the two sharing one.
"""
from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from ecs_template_deploy.cli import main as deploy_tool
from ecs_template_deploy.errors import EXIT_ROLLED_BACK

from harness.backends.embedded import TEST_CREDENTIALS
from harness.metrics.results import MultiServiceRelease, ReleasedService, Timeline
from harness.metrics.timeline_adapter import from_recorder
from harness.approaches.failures import AFTERWARDS, TOOL_BAKE

from scenario_support import BROKEN, CRASH_AFTER, parameters

GOOD = "v3"
# The release: web's new version is healthy, worker's crashes. Order = the waves/pipelines' order.
RELEASE = {"web": "v4", "worker": BROKEN}
# The claim asserted: the services each approach leaves on the failed release
# (``Claims.multi_service_release``, in its package). CD that deploys one service at
# a time leaves web, whose deploy had succeeded; `ecs-template-deploy release` is
# all or nothing.


def release_with_the_tool(worlds: dict[str, Any], directory: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``ecs-template-deploy release --manifest FILE`` (the CLI, in this process, on the
    virtual clock): worker in the wave after web, each baked as the tool's docs
    recommend. Returns the command's result (its last JSON line) with its exit code."""
    web = worlds["web"]
    lines = ["# issue 41: web and worker as one release; worker starts once web passed its bake",
             f"bake = {TOOL_BAKE:g}"]
    for role, w in worlds.items():
        lines += ["", f"# {role}", "[[service]]", f'name = "{w.service_name}"', f'cluster = "{w.cluster}"',
                  f'template = "{w.outputs["template_family"]}"', f'tag = "{RELEASE[role]}"']
        if role != "web":
            lines.append(f'after = ["{web.service_name}"]')
    manifest = directory / "release.toml"
    manifest.write_text("\n".join(lines) + "\n")
    # As a pipeline runs it: a process of its own (a fresh session), pointed at the emulator.
    session = boto3.Session(**TEST_CREDENTIALS)
    web.server.in_process(session)
    monkeypatch.setenv("AWS_ENDPOINT_URL", web.server.url)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = deploy_tool(["release", "--manifest", str(manifest), "--poll-interval", f"{web.context.poll_interval:g}",
                            "--json"], session=session, clock=SimpleNamespace(now=web.clock.now, sleep=web.sleep))
    results = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    result = next((line for line in reversed(results) if line.get("kind") == "result"), None)
    assert result is not None, f"release printed no result (exit {code}): {err.getvalue()[-600:]}"
    return {**result, "code": code, "stderr": err.getvalue()}


def release_one_service_at_a_time(worlds: dict[str, Any]) -> list[Any]:
    """Each service's CD procedure, one after the other; the pipeline stops at the
    first deploy that fails, after that service's own rollback step."""
    steps = []
    for role, w in worlds.items():
        step = w.deploy(RELEASE[role])
        steps.append(step)
        if not step.succeeded:
            steps.append(w.rollback())
            break
    return steps


def good_since(timeline: Timeline, good: str) -> float | None:
    """When the service was last brought to "every task on ``good``, all healthy": the
    start of the run of such samples that lasts to the end (0.0 if it never left);
    None if the last sample is not there."""
    at = None
    for sample in timeline.samples:
        if dict(sample.tasks) == {good: timeline.desired} and sample.healthy == timeline.desired:
            at = sample.t if at is None else at
        else:
            at = None
    return at


def where_it_ended(w: Any, released: str, start: float, end: float) -> tuple[ReleasedService, Timeline]:
    running = w.running_digests()
    service = w.service()
    steady = len(service["deployments"]) == 1 and len(running) == service["desiredCount"]
    timeline = from_recorder(w.timeline, w.service_name, start=start, end=end, labels=w.labels())
    since = good_since(timeline, GOOD)
    back = steady and set(running) == {w.digests[GOOD]} and since is not None
    ended = ReleasedService(
        released=released, known_good=GOOD, ended_on=" + ".join(sorted({w.label(d) for d in running})) or "nothing running",
        on_release=steady and set(running) == {w.digests[released]}, back_on_good=back,
        back_at=since if back else None, revision=service["taskDefinition"].rsplit("/", 1)[-1])
    return ended, timeline


def test_a_release_of_web_and_worker_where_worker_crashes(approach, make_approach_world, measurements, tmp_path, monkeypatch) -> None:
    worlds = {"web": make_approach_world(terraform=False), "worker": make_approach_world(terraform=False, instance="worker")}
    for w in worlds.values():
        w.ensure_deployed(GOOD)
        assert set(w.running_digests()) == {w.digests[GOOD]}
    web = worlds["web"]
    facts = web.approach.facts

    start = web.clock.now()
    tool = facts.cd_is_deploy_tool  # the deploy tool releases several services as one
    if tool:
        ran = release_with_the_tool(worlds, tmp_path, monkeypatch)
        steps: list[Any] = []
        procedure = f"one `ecs-template-deploy release`: worker in the wave after web, each baked {TOOL_BAKE:g} s"
    else:
        ran = None
        steps = release_one_service_at_a_time(worlds)
        procedure = ("one `terraform apply` per service, web then worker" if facts.cd_runs_terraform
                     else "CD per service, web then worker")
    web.sleep(AFTERWARDS)  # what happens when CD is no longer looking
    end = web.clock.now()

    ended, timelines = {}, {}
    for role, w in worlds.items():
        ended[role], timelines[role] = where_it_ended(w, RELEASE[role], start, end)
    all_back = all(service.back_on_good for service in ended.values())
    not_back = [role for role, service in ended.items() if not service.back_on_good]
    if ran is not None and ran.get("next") and not_back:  # the tool names the command that finishes the job
        human_steps = [f"run `{ran['next']}`"]
    else:
        human_steps = [f"{role}: {step}" for role in not_back for step in facts.manual_rollback]
    left = [role for role, service in ended.items() if service.on_release]
    terraform_seconds = round(float(sum(step.terraform_seconds for step in steps)), 1)
    if tool:
        note = f"`release` exited {ran['code']}: {ran['message']}"
    elif left:
        note = (f"{' and '.join(left)}'s deploy had succeeded and its CD was done: nothing took it back when worker's "
                f"failed; worker's way back (ECS's circuit breaker; its CD: {facts.rolls_back or 'none'}) is worker's alone")
    else:
        note = "no service ended on the failed release" + (f"; not back on known good: {', '.join(not_back)}"
                                                           if not_back else "")
    measured = MultiServiceRelease(
        procedure=procedure, services=ended, all_back=all_back,
        seconds=round(max(s.back_at for s in ended.values()), 1) if all_back else None,
        terraform_seconds=terraform_seconds, human_steps=human_steps, note=note)

    if not approach.described and not tool:
        assert steps[0].succeeded, f"{approach.name}: web's deploy of {RELEASE['web']} failed: the scenario measured " \
                                   "something else than worker's failure"
    # Worker's own failure is handled everywhere: ECS's circuit breaker (on in every
    # configuration), and CD's own rollback where it has one, see a crash at once.
    assert ended["worker"].back_on_good, f"{approach.name}: worker ends on {ended['worker'].ended_on}: {note}"
    assert all_back or human_steps, f"{approach.name} is not back and names no step that would bring it back"
    said = approach.claims.multi_service_release
    if said is not None:
        claim = said.holds
        assert tuple(left) == claim, (
            f"{approach.name}: expected {list(claim) or 'no service'} left on the failed release "
            + ("(`release` is all or nothing)" if not claim else "(its CD deploys one service at a time and knows "
               "no release: web's deploy had succeeded before worker's failed)") + f", measured {left}: {note}")
    if tool:
        assert ran["code"] == EXIT_ROLLED_BACK, f"release: exit {ran['code']}: {ran['stderr'][-600:]}"
        assert [s["state"] for s in ran["services"]] == ["returned", "returned"], ran["services"]
        # all or nothing took back a service that had succeeded: web ran v4 on every task before it returned
        desired = timelines["web"].desired
        assert any(dict(s.tasks) == {RELEASE["web"]: desired} and s.healthy == desired
                   for s in timelines["web"].samples), "web never ran its release: the release proved nothing"
        assert all_back and not human_steps, f"the deploy tool's release left work for a person: {human_steps}"

    measurements.record(approach.name, measured)
    measurements.parameters({**parameters(web), "multi_service_release": {
        "released": RELEASE, "known_good": GOOD, "crash_after_seconds": CRASH_AFTER,
        "deploy_tool_bake_seconds": TOOL_BAKE, "afterwards_seconds": AFTERWARDS}})
