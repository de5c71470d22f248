"""Prune never removes what another service needs: a `--family` the named service
neither runs nor deploys to is refused, and a family two services deploy (staging
and prod) keeps what each runs and would roll back to. Each service's rollback
returns to what was proven on it, not on the other. On the simulator, in-process."""
from __future__ import annotations

import pytest

from ecs_template_deploy import knowngood
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_OK
from harness.worlds import CONTAINER, ToolWorld

WAIT = ("--poll-interval", "5")


def second_service(tool_world: ToolWorld, cluster: str, service: str, template: str) -> list[str]:
    """Another service, as Terraform would create it: its cluster, its template (same
    images), the service on the template. Returns the tool's target options for it."""
    ecs = tool_world.ecs
    ecs.create_cluster(clusterName=cluster)
    arn = ecs.register_task_definition(family=template, containerDefinitions=[
        {"name": CONTAINER, "image": f"{tool_world.repository_uri}:placeholder", "memory": 256, "essential": True}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=arn, desiredCount=2)
    tool_world.aws.clock.sleep(300)
    return ["--cluster", cluster, "--service", service, "--template", template]


def deploy(tool_world: ToolWorld, target: list[str], tag: str) -> None:
    run = tool_world.run_argv(["deploy", *target, "--tag", tag, *WAIT])
    assert run.code == EXIT_OK, run.stderr


def active(tool_world: ToolWorld, family: str) -> list[str]:
    arns = tool_world.ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
    return sorted((a.rsplit("/", 1)[-1] for a in arns if a.rsplit("/", 1)[-1].split(":")[0] == family),
                  key=lambda n: int(n.split(":")[1]))


@pytest.fixture
def tool_world(aws):
    built = ToolWorld.build(aws, desired=2)
    for tag in ("v1", "v2"):
        assert built.run("deploy", "--tag", tag, *WAIT).code == EXIT_OK
    return built


def test_prune_of_a_family_the_service_never_ran_is_refused_and_the_other_service_keeps_its_rollback(tool_world):
    api = second_service(tool_world, "other", "api", "api-template")
    for tag in ("v1", "v2"):
        deploy(tool_world, api, tag)
    assert active(tool_world, "api") == ["api:1", "api:2"]

    run = tool_world.run("prune", "--family", "api", "--keep", "0", "--min-age", "0")

    assert run.code == EXIT_BAD_INPUT
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "ecs-template-deploy: error: --family api: service web in cluster prod neither runs nor deploys to it"), lines
    assert "DeregisterTaskDefinition" not in run.calls and active(tool_world, "api") == ["api:1", "api:2"]
    back = tool_world.run_argv(["rollback", "--cluster", "other", "--service", "api", *WAIT])
    assert back.code == EXIT_OK and back.result["returnedTo"].endswith("/api:1"), back.stderr


def test_a_family_two_services_deploy_keeps_what_each_runs_and_returns_to(tool_world):
    staging = second_service(tool_world, "staging", "web", "web-template")
    deploy(tool_world, staging, "v3")  # web:3, proven on staging
    deploy(tool_world, staging, "sick")  # web:4: staging runs it; its way back is web:3
    assert active(tool_world, "web") == ["web:1", "web:2", "web:3", "web:4"]

    run = tool_world.run("prune", "--keep", "0", "--min-age", "0")

    assert run.code == EXIT_OK, run.stderr
    assert active(tool_world, "web") == ["web:1", "web:2", "web:3", "web:4"]
    assert set(run.lines[0]["servicesConsidered"]) == {"prod/web", "staging/web"}
    reasons = {p["arn"].rsplit("/", 1)[-1]: p["reason"] for p in run.lines[0]["protected"]}
    assert reasons["web:4"] == "staging/web runs it"
    assert "rollback of staging/web from web:4" in reasons["web:3"], reasons
    # each service's rollback goes to what was proven on it
    prod = tool_world.run("rollback", *WAIT)
    assert prod.code == EXIT_OK and prod.result["returnedTo"].endswith("/web:1"), prod.stderr
    other = tool_world.run_argv(["rollback", "--cluster", "staging", "--service", "web", *WAIT])
    assert other.code == EXIT_OK and other.result["returnedTo"].endswith("/web:3"), other.stderr


def test_a_service_in_another_cluster_named_by_a_mark_keeps_what_it_needs(tool_world):
    """Only the marks say that `canary/web` deploys the family: prune still finds it."""
    canary = second_service(tool_world, "canary", "web", "web-template")
    deploy(tool_world, canary, "v3")  # web:3, proven on canary/web only
    deploy(tool_world, canary, "sick")  # web:4
    tool_world.aws.clock.sleep(60)

    run = tool_world.run("prune", "--keep", "0", "--min-age", "0")

    assert run.code == EXIT_OK, run.stderr
    assert "canary/web" in run.lines[0]["servicesConsidered"]
    assert {"web:3", "web:4"} <= set(active(tool_world, "web"))
    assert knowngood.read_mark(tool_world.ecs, "web:3") is not None


def test_prune_that_cannot_read_the_other_services_changes_nothing(tool_world):
    from tests.deploy.conftest import refuse

    session = tool_world.session()
    refuse(session, "ListServices")

    run = tool_world.run("prune", "--keep", "0", "--min-age", "0", session=session)

    assert run.code == 3, run.stderr
    assert "grant ecs:ListServices" in run.stderr
    assert "DeregisterTaskDefinition" not in run.calls and active(tool_world, "web") == ["web:1", "web:2"]


def test_a_service_deployed_without_waiting_in_another_cluster_keeps_what_it_runs(tool_world):
    """No mark names staging (its deploys never waited): the revision says it was deployed there."""
    staging = second_service(tool_world, "staging", "web", "web-template")
    assert tool_world.run_argv(["deploy", *staging, "--tag", "v3", "--no-wait"]).code == EXIT_OK  # web:3
    tool_world.aws.clock.sleep(300)

    run = tool_world.run("prune", "--keep", "0", "--min-age", "0")

    assert run.code == EXIT_OK, run.stderr
    assert "staging/web" in run.lines[0]["servicesConsidered"] and "web:3" in active(tool_world, "web")


def test_with_nothing_known_good_prune_keeps_the_way_back_a_failed_deploy_named(aws):
    tool_world = ToolWorld.build(aws, desired=2)
    for tag in ("v1", "v2", "v3"):
        assert tool_world.run("deploy", "--tag", tag, "--no-wait").code == EXIT_OK
        aws.clock.sleep(300)
    tool_world.aws.sim.declare_image(f"{tool_world.repository_uri}:crash", crash_after=5)
    failed = tool_world.run("deploy", "--tag", "crash", *WAIT)
    assert failed.code == 4 and failed.result["next"].endswith("--to web:3"), failed.result

    run = tool_world.run("prune", "--keep", "1", "--min-age", "0")

    assert run.code == EXIT_OK, run.stderr
    assert "web:3" in active(tool_world, "web")
    back = tool_world.run_argv(failed.result["next"].split()[1:])
    assert back.code == EXIT_OK and tool_world.steady_on() == "web:3", back.stderr
