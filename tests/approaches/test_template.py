"""Approach 5, the article's own, with the real deploy tool against embedded
AWS and the ECS simulator; the infrastructure its Terraform creates is built
by the stand-in (same names, same outputs)."""
from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

import pytest

from ecs_template_deploy import knowngood
from ecs_template_deploy.cli import main as deploy_tool
from ecs_template_deploy.errors import BadInputError
from ecs_template_deploy.verdict import State
from harness import approaches
from harness.approaches import InfraChange
from harness.approaches.base import Context
from harness.worlds.stand_in import stand_in
from harness.metrics.iam import ApiCallRecorder

ACCOUNT = "123456789012"


class Built:
    def __init__(self, aws, circuit_breaker: bool = True) -> None:
        self.aws = aws
        self.infra = stand_in(aws.client, "template", images=["v1", "v2", "v3-broken"], desired_count=3,
                              circuit_breaker=circuit_breaker)
        aws.sim.declare_image(self.infra.digests["v3-broken"], crash_after=5)
        self.ecs = aws.client("ecs")
        aws.clock.sleep(120)  # the service is steady on the template's revision (image v1)
        self.url = self.infra.outputs["repository_url"]

    def context(self, recorder: ApiCallRecorder | None = None) -> Context:
        return Context.on(self.aws, self.infra.outputs, recorder)

    def service(self) -> dict:
        return self.ecs.describe_services(cluster="app", services=["app"])["services"][0]

    def running(self) -> dict:
        return self.ecs.describe_task_definition(taskDefinition=self.service()["taskDefinition"])["taskDefinition"]

    def running_digests(self) -> list[str]:
        arns = self.ecs.list_tasks(cluster="app", serviceName="app", desiredStatus="RUNNING")["taskArns"]
        tasks = self.ecs.describe_tasks(cluster="app", tasks=arns)["tasks"]
        return sorted(c.get("imageDigest", "") for t in tasks if t["lastStatus"] == "RUNNING" for c in t["containers"])

    def template_revisions(self) -> list[str]:
        return self.ecs.list_task_definitions(familyPrefix="app-template", status="ACTIVE")["taskDefinitionArns"]


@pytest.fixture
def built(aws) -> Built:
    return Built(aws)


def test_deploy_renders_the_template_into_its_own_family_and_marks_it_known_good(built) -> None:
    recorder = ApiCallRecorder(account_id=ACCOUNT)
    template_before = built.template_revisions()
    step = approaches.get("template")(built.context(recorder)).deploy("v2")

    assert step.succeeded
    assert step.task_definition.endswith(":task-definition/app:1")  # not the template's family
    assert step.image == f"{built.url}:v2"
    assert built.running_digests() == [built.infra.digests["v2"]] * 3
    running = built.running()
    assert knowngood.read_mark(built.ecs, running["taskDefinitionArn"]) is not None
    # What Terraform owns is untouched: the template is still its one revision, placeholder image and all.
    assert built.template_revisions() == template_before
    template = built.ecs.describe_task_definition(taskDefinition="app-template")["taskDefinition"]
    assert template["containerDefinitions"][0]["image"] == f"{built.url}:v1"
    assert (running["memory"], running["containerDefinitions"][0]["secrets"]) == (
        template["memory"], template["containerDefinitions"][0]["secrets"])
    actions = set(recorder.iam_actions())
    assert {"ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:TagResource"} <= actions
    # RegisterTaskDefinition with the template's roles implies iam:PassRole; the CLI's image check
    # reads ECR; nothing else outside ECS.
    assert {a for a in actions if not a.startswith("ecs:")} == {"iam:PassRole", "ecr:DescribeImages"}


def cli_deploy(built: Built, *argv: str) -> tuple[int, str]:
    """`ecs-template-deploy deploy` on the same world and clock: its exit code and the error it printed."""
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = deploy_tool(["deploy", "--cluster", "app", "--service", "app", "--template", "app-template", *argv],
                           session=built.aws.session, clock=built.aws.clock)
    return code, err.getvalue()


@pytest.mark.parametrize(("refused", "settings", "argv"), [
    ("v9-never-pushed", {}, ()),  # the image check
    ("v2", {"alarms": ("no-such-alarm",), "bake": 30.0}, ("--alarm", "no-such-alarm", "--bake", "30")),  # the alarm check
])
def test_approach_5_cd_refuses_what_the_cli_refuses_before_anything_changes(built, refused, settings, argv) -> None:
    """Approach 5's CD runs the CLI's own deploy: what `deploy` refuses as bad input
    (exit 2, nothing changed), the CD step refuses with the same error."""
    before = built.service()["taskDefinition"]
    approach = approaches.get("template")(Context.on(built.aws, built.infra.outputs, **settings))
    with pytest.raises(BadInputError) as refused_by_cd:
        approach.deploy(refused)
    code, said = cli_deploy(built, "--tag", refused, *argv)

    assert code == 2 and f"error: {refused_by_cd.value}" in said
    assert built.service()["taskDefinition"] == before
    assert built.ecs.list_task_definitions(familyPrefix="app")["taskDefinitionArns"] == []  # none registered in CD's family


@pytest.mark.parametrize(("circuit_breaker", "state", "by"), [
    (True, State.ROLLED_BACK_BY_ECS, "ecs-circuit-breaker"),  # the tool follows ECS's rollback
    (False, State.FAILED, "ecs-template-deploy"),  # the tool rolls back itself
])
def test_a_failing_deploy_is_back_on_the_known_good_revision_before_rollback_is_called(aws, circuit_breaker, state, by) -> None:
    built = Built(aws, circuit_breaker=circuit_breaker)
    approach = approaches.get("template")(built.context())
    good = approach.deploy("v2")
    assert good.succeeded

    failed = approach.deploy("v3-broken")
    assert failed.outcome.state is state and not failed.succeeded
    assert approach.last_report.rolled_back_by == by
    assert approach.last_report.returned_to == good.task_definition
    assert built.service()["taskDefinition"] == good.task_definition
    assert built.running_digests() == [built.infra.digests["v2"]] * 3

    recorder = ApiCallRecorder(account_id=ACCOUNT)
    back = approaches.get("template")(built.context(recorder))
    back.last_report = approach.last_report
    step = back.rollback()
    assert step.succeeded and step.task_definition == good.task_definition
    assert step.image == f"{built.url}:v2"
    assert "ecs:UpdateService" not in recorder.iam_actions()  # nothing left to undo


def test_rollback_after_a_good_deploy_returns_to_the_previous_known_good_revision(built) -> None:
    approach = approaches.get("template")(built.context())
    first, second = approach.deploy("v1"), approach.deploy("v2")
    assert first.succeeded and second.succeeded and first.task_definition != second.task_definition

    step = approach.rollback()
    assert step.succeeded and step.task_definition == first.task_definition
    assert built.service()["taskDefinition"] == first.task_definition
    assert built.running_digests() == [built.infra.digests["v1"]] * 3


def test_an_infrastructure_change_reaches_the_tasks_at_the_next_deploy(built) -> None:
    approach = approaches.get("template")(built.context())
    deployed = approach.deploy("v2")
    assert approach.apply_infra_change(InfraChange("memory", 1024)) == 0.0  # stand-in: no Terraform ran
    approach.apply_infra_change(InfraChange("environment", {"FEATURE": "on"}))

    # The running service is untouched, the deployed version kept.
    assert built.service()["taskDefinition"] == deployed.task_definition
    assert built.running()["memory"] == "512"

    again = approach.deploy("v2")
    assert again.succeeded and again.task_definition != deployed.task_definition
    running = built.running()
    assert running["memory"] == "1024"
    assert {"name": "FEATURE", "value": "on"} in running["containerDefinitions"][0]["environment"]
    assert running["containerDefinitions"][0]["image"] == f"{built.url}:v2"
    assert built.running_digests() == [built.infra.digests["v2"]] * 3


def test_claims_say_terraform_owns_every_container_setting_but_the_image() -> None:
    facts = approaches.get("template").facts
    owns = approaches.get("template").claims.terraform_owns
    assert owns.holds == {"image": False, "cpu": True, "memory": True, "environment": True, "secrets": True}
    assert not facts.cd_runs_terraform and not facts.cd_pushes_git
    config = "\n".join(p.read_text() for p in approaches.get("template").terraform_config().glob("*.tf"))
    assert "ignore_changes = [task_definition, desired_count]" in config
    for variable in ("cpu", "memory", "extra_environment", "extra_secrets"):
        assert f'variable "{variable}"' in config


@pytest.fixture(scope="module")
def server():
    from harness.server import HarnessServer

    with HarnessServer(speed=1e-6) as running:  # only sleeps move simulated time
        yield running


@pytest.mark.terraform
def test_with_terraform_a_deploy_leaves_no_drift_and_a_template_change_waits_for_the_next_deploy(server, terraform) -> None:
    from test_terraform_cd import World

    # The template's placeholder is v1 so the service can start before CD's first deploy.
    world = World("template", server, terraform, variables={"placeholder_tag": "v1"})
    approach, url = world.approach, world.outputs["repository_url"]
    deployed = approach.deploy("v2")
    assert deployed.succeeded
    plan = world.workspace.plan()
    assert (plan.exit_code, plan.summary.changes) == (0, ()), plan.summary.changes  # CD's revision and family are not Terraform's

    applies = [label for label, _ in world.workspace.timings.runs].count("apply")
    # two settings in one commit: a real `terraform apply` of the template, one for both
    seconds = approach.apply_infra_changes([InfraChange("memory", 1024), InfraChange("environment", {"FEATURE": "on"})])
    assert seconds > 0
    assert [label for label, _ in world.workspace.timings.runs].count("apply") == applies + 1
    world.server.clock.sleep(300)
    assert world.running()["taskDefinitionArn"] == deployed.task_definition  # untouched, version kept
    assert world.running()["memory"] == "512"
    again = approach.deploy("v2")
    assert again.succeeded
    running = world.running()
    assert (running["memory"], running["containerDefinitions"][0]["image"]) == ("1024", f"{url}:v2")
    assert {"name": "FEATURE", "value": "on"} in running["containerDefinitions"][0]["environment"]
