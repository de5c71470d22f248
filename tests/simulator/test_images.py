"""Semantics page, "Image resolution: software version consistency": a tag is
resolved to a digest when a deployment is created; `versionConsistency:
disabled` resolves it when each task starts. This decides the article's claim
that autoscaling is inconsistent when the tag moves outside a deployment."""
from __future__ import annotations

import json


def push(ecr, repo: str, tag: str, layer: str) -> str:
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": f"sha256:{'0' * 64}", "size": 1},
                           "layers": [{"digest": f"sha256:{layer * 64}", "size": 1}]})
    return ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag)["image"]["imageId"]["imageDigest"]


def running_digests(ecs) -> list[str]:
    return sorted(t["containers"][0]["imageDigest"] for t in ecs.tasks())


def _scale_out_after_tag_moves(ecs, aws, **container) -> tuple[str, str]:
    ecr = aws.client("ecr")
    uri = ecr.create_repository(repositoryName="app")["repository"]["repositoryUri"]
    old = push(ecr, "app", "latest", "a")
    ecs.service(ecs.task_definition(f"{uri}:latest", **container), desired=2)
    ecs.settle()
    new = push(ecr, "app", "latest", "b")       # CI moves the tag; no deployment
    ecs.update(desiredCount=4)                  # autoscaling-style scale-out
    ecs.settle()
    return old, new


def test_with_version_consistency_a_moved_tag_does_not_reach_scaled_out_tasks(ecs, aws):
    old, new = _scale_out_after_tag_moves(ecs, aws)
    assert old != new
    assert running_digests(ecs) == [old] * 4


def test_with_version_consistency_disabled_scale_out_runs_the_new_image_next_to_the_old(ecs, aws):
    old, new = _scale_out_after_tag_moves(ecs, aws, versionConsistency="disabled")
    assert running_digests(ecs) == sorted([old, old, new, new])


def test_moved_tag_reaches_running_tasks_through_a_new_deployment(ecs, aws):
    old, new = _scale_out_after_tag_moves(ecs, aws)
    ecs.update(forceNewDeployment=True)
    ecs.settle()
    assert running_digests(ecs) == [new] * 4


def test_declared_behaviour_by_digest_follows_the_image_not_the_tag(ecs, aws):
    ecr = aws.client("ecr")
    uri = ecr.create_repository(repositoryName="app")["repository"]["repositoryUri"]
    bad = push(ecr, "app", "v2", "c")
    aws.sim.declare_image(bad, crash_after=1)
    ecs.service(ecs.task_definition(f"{uri}:v2"), desired=1)
    ecs.settle(60)
    stopped = ecs.tasks("STOPPED")
    assert stopped and stopped[0]["stopCode"] == "EssentialContainerExited"
    assert stopped[0]["containers"][0]["imageDigest"] == bad
