"""The library's one entry point for a deploy (`service_deploy.deploy_service`), called
directly as approach 5's CD and the CLI's `deploy` call it: it prints nothing, says its
progress to the sink, tells its caller of the update before the watch, and returns one
report of the whole deploy."""
from __future__ import annotations

from ecs_template_deploy.plan import DeployRequest
from ecs_template_deploy.render import ImageSelection
from ecs_template_deploy.service_deploy import deploy_service
from ecs_template_deploy.watch import WaitOptions
from harness.worlds.tool import ToolWorld


def request(world: ToolWorld, tag: str) -> DeployRequest:
    names = world.names
    return DeployRequest(names.cluster, names.service, names.template, ImageSelection(tag=tag))


def test_a_deploy_through_the_entry_point_prints_nothing_and_reports_register_update_watch_and_bake(aws, capsys):
    world = ToolWorld.build(aws, desired=2)  # Terraform's service on the template: nothing known good yet
    events, applied = [], []
    report = deploy_service(world.ecs, request(world, "v1"), WaitOptions(poll_interval=5, bake=30), clock=aws.clock,
                            sink=events.append, ecr_for=lambda region: world.ecr,
                            applied=lambda result: applied.append((result, len(events))))

    printed = capsys.readouterr()
    assert (printed.out, printed.err) == ("", "")
    assert report.exit_code == 0 and report.rollout is not None
    assert report.deployed.updated and report.deployed.registered
    assert world.steady_on() == world.rev(1) == world.known_good()
    assert report.rollout.known_good.revision == world.rev(1)
    # said before anything changed: a failure would have had nowhere to return to
    assert events[0].kind == "warning" and "no revision of web is known good yet" in events[0].message
    (result, said_before), = applied
    assert result == report.deployed
    assert not [e for e in events[:said_before] if e.kind == "verdict"]  # the caller heard of the update first
    assert [e for e in events[said_before:] if e.kind == "verdict"]


def test_without_waiting_the_report_says_the_rollout_was_not_watched(aws):
    world = ToolWorld.build(aws, desired=2)
    report = deploy_service(world.ecs, request(world, "v2"), WaitOptions(wait=False), clock=aws.clock,
                            ecr_for=lambda region: world.ecr)

    assert report.rollout is None and report.exit_code == 0
    assert report.to_dict()["state"] == "not watched" and report.to_dict()["updated"] is True
    assert world.service().task_definition == report.deployed.task_definition_arn
    assert world.known_good() is None  # nothing watched, nothing proven
