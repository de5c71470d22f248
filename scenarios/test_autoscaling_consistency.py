"""Auto scaling and moving tags: "ECS Autoscaling is inconsistent if the Docker
tag changes separately from deployment" (approach 1's drawback).

CD deploys v2. Then the tag the running task definition names moves to
another image without a deployment (for approach 1 that is its environment
tag, which CD moves at the start of every deploy; the other approaches name a
version tag that nothing moves, so the build only pushes a new tag), and auto
scaling doubles the service. Measured: the share of running tasks whose image
digest is not the one CD deployed, with ECS software version consistency on
(the default) and off (``versionConsistency: "disabled"`` on the container).

What changed since the article: since 2024 ECS resolves a tag to a digest
when a deployment starts and every task of that deployment, scale-out
included, runs that digest. With version consistency on, a moved tag reaches
running tasks only through a new deployment, so approach 1 shows no skew; only
with it off does a scale-out run the new image next to the old one.
"""
from __future__ import annotations

import pytest

from harness.worlds.images import point_tag
from harness.metrics.measure import skew_share, version_skew

from scenario_support import parameters

# Where tasks really run too (real ECS's version consistency): the world, a deploy, a revision without version consistency, a scale-out.
pytestmark = pytest.mark.real_aws(budget=2400)

SCALE_OUT = 4  # from the configurations' desired count of 2


def _disable_version_consistency(w) -> None:
    """A revision of the running one with versionConsistency disabled, rolled out."""
    from ecs_template_deploy.render import registrable_fields

    ecs = w.client("ecs")
    running = w.running_definition()
    fields = registrable_fields(ecs)
    definition = {k: v for k, v in running.items() if k in fields}
    for container in definition["containerDefinitions"]:
        container["versionConsistency"] = "disabled"
    arn = ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=w.cluster, service=w.service_name, taskDefinition=arn)
    w.settle()


def _move_tag(w, tag: str, to: str) -> None:
    # a shared (Terraform) world: an earlier scenario may have moved it there already (a no-op then)
    point_tag(w.client("ecr"), str(w.outputs["repository_name"]), tag, at=to)


@pytest.mark.parametrize("consistency", [True, False], ids=["vc-on", "vc-off"])
def test_scale_out_after_a_tag_move_runs_the_deployed_digest(approach, make_approach_world, measurements, consistency) -> None:
    w = make_approach_world(terraform=False)
    w.ensure_deployed("v2")
    deployed = w.digests["v2"]
    revision = w.service()["taskDefinition"]  # put back at the end: a shared Terraform world stays as CD left it
    if not consistency:
        _disable_version_consistency(w)
    assert set(w.running_digests()) == {deployed}

    image = w.running_container()["image"]
    tag = image.rsplit(":", 1)[-1]
    moving = tag not in w.digests or tag == w.approach.context.environment
    said = approach.claims.moving_tag  # does its task definition name a tag that moves between deploys?
    if said is not None:
        assert moving == said.holds, f"{approach.name} runs {image} ({said.citation()})"
    if moving:
        _move_tag(w, tag, "v4")  # CD's first step of a deploy, or anyone retagging
    else:
        _move_tag(w, "v4-build", "v4")  # the build pushes a new version; nothing the service names moves
    ecs = w.client("ecs")
    before = w.service()["desiredCount"]
    ecs.update_service(cluster=w.cluster, service=w.service_name, desiredCount=SCALE_OUT)  # auto scaling's doing
    w.settle()

    running = w.running_digests()
    assert len(running) == SCALE_OUT
    share = skew_share(running, deployed)
    if moving and not consistency:
        # the new tasks pulled the moved tag: the old and new image side by side
        assert 0 < share < 1
    else:
        assert share == 0.0, f"{approach.name}: {running}"
    skew = approach.claims.scale_out_skew  # with ECS's defaults (version consistency on)
    if skew is not None and consistency:
        assert (share > 0) == skew.holds, f"{approach.name}: {share:.0%} of tasks on another image ({skew.citation()})"
    # Leave a shared world as Terraform declares it for the scenarios that follow.
    ecs.update_service(cluster=w.cluster, service=w.service_name, desiredCount=before, taskDefinition=revision)
    w.settle()
    measurements.record(approach.name, version_skew(consistency, share))
    measurements.parameters(parameters(w))
