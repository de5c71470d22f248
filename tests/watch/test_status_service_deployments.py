"""`status` shows ECS's record of the service's deployments: newest first, with
strategy, outcome and the image digests each revision runs."""
from __future__ import annotations

from ecs_template_deploy.errors import EXIT_OK
from harness.worlds import ToolWorld


def test_status_lists_service_deployments_newest_first_with_digests(aws):
    world = ToolWorld.build(aws, desired=2)
    assert world.run("deploy", "--tag", "v1").code == EXIT_OK
    aws.sim.declare_image("web:crash", crash_after=5)
    assert world.run("deploy", "--tag", "crash").code != EXIT_OK
    run = world.run_argv(["status", "--cluster", "prod", "--service", "web"])
    assert run.code == EXIT_OK
    history = run.lines[0]["serviceDeployments"]["deployments"]
    # newest first: the tool's rollback to web:1, the failed web:2, web:1's first deploy, the service's creation
    assert [d["status"] for d in history[:3]] == ["SUCCESSFUL", "STOPPED", "SUCCESSFUL"]
    digest = aws.client("ecr").describe_images(repositoryName="web", imageIds=[{"imageTag": "v1"}])[
        "imageDetails"][0]["imageDigest"]
    assert history[0]["digests"] == {"app": digest} and history[0]["strategy"] == "ROLLING"
