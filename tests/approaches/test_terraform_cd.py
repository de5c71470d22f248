"""Approach 4 (4a central config, 4b app-repo service config): CD is a real
`terraform apply -var image_tag=N` against `harness serve`, committed and
pushed to a real git repository, watched with the deploy tool's watcher.

One server for the module, its clock nearly stopped (speed 1e-6): only the
watcher's sleeps move simulated time, and, inside ``modelling_terraform``, the
timing profile's model of Terraform (never this machine's wall time). Nothing
is destroyed: the server goes.
"""
from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from ecs_template_deploy.verdict import State
from harness import approaches
from harness.approaches import ApproachError, InfraChange
from harness.approaches.base import Context
from harness.approaches.terraform_cd import VARS_FILE
from harness.terraform.fixtures import APPROACHES_DIR
from harness.worlds.images import push_images
from harness.backends.embedded import TEST_CREDENTIALS
from harness.metrics.iam import ApiCallRecorder
from harness.server import HarnessServer
from harness.terraform.fixtures import skip_without_provider, unique_name
from harness.terraform.runner import TerraformError

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server():
    with HarnessServer(speed=1e-6) as running:
        yield running


def _client(server, name: str):
    return boto3.Session(**TEST_CREDENTIALS).client(name, endpoint_url=server.url)


class World:
    """An approach-4 service applied by Terraform, settled on v1."""

    def __init__(self, name: str, server, terraform, variables: dict | None = None) -> None:
        self.server = server
        cls = approaches.get(name)
        try:
            name_ = unique_name("cd")
            self.workspace = terraform.workspaces_for(cls.terraform_config(), server.url,
                                                      {"name": name_, **(variables or {})},
                                                      root=APPROACHES_DIR, name=name_)[-1]
        except TerraformError as err:
            skip_without_provider(err, f"{name}'s Terraform world")
            raise
        self.workspace.apply()  # image_tag v1, pushed below: the service starts once it exists
        self.outputs = self.workspace.outputs()
        self.cluster, self.service_name = self.outputs["cluster_name"], self.outputs["service_name"]
        self.ecs = _client(server, "ecs")
        self.digests = push_images(_client(server, "ecr"), self.outputs["repository_name"], ["v1", "v2", "v3-broken"])
        server.sim.declare_image(self.digests["v3-broken"], crash_after=5)
        self.ecs.update_service(cluster=self.cluster, service=self.service_name, forceNewDeployment=True)
        server.clock.sleep(300)
        context = Context(client=lambda service: _client(server, service), now=server.clock.now,
                          sleep=server.clock.sleep, outputs=self.outputs, terraform=self.workspace)
        self.approach = cls(context)

    def running(self) -> dict:
        arn = self.ecs.describe_services(cluster=self.cluster, services=[self.service_name])["services"][0]["taskDefinition"]
        return self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]

    def running_digests(self) -> list[str]:
        arns = self.ecs.list_tasks(cluster=self.cluster, serviceName=self.service_name, desiredStatus="RUNNING")["taskArns"]
        tasks = self.ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"]
        return sorted(c.get("imageDigest", "") for t in tasks if t["lastStatus"] == "RUNNING" for c in t["containers"])


@pytest.mark.terraform
@pytest.mark.parametrize("name", ["terraform-cd-central", "terraform-cd-app"])
def test_cd_applies_the_tag_commits_it_and_rolls_back_by_applying_the_previous_one(name, server, terraform) -> None:
    world = World(name, server, terraform)
    approach = world.approach
    url = world.outputs["repository_url"]
    assert world.running_digests() == [world.digests["v1"]] * 2

    world.workspace.before_command = server.terraform_started  # as a scenario's world does, once it is built
    started = server.clock.now()
    with server.recording.recording(ApiCallRecorder(account_id=ACCOUNT)) as calls, server.modelling_terraform() as model:
        good = approach.deploy("v2")
    assert good.succeeded
    # One clock: the apply cost its start-up and each AWS call the provider made (refresh, register, update),
    # at the profile's latency, on the virtual clock; never this machine's wall time
    params = server.params
    assert model.commands == 1 and model.calls > 5
    assert model.seconds == params.terraform_startup_seconds + model.calls * params.terraform_seconds_per_call
    rollout = world.ecs.describe_services(cluster=world.cluster, services=[world.service_name])["services"][0]
    created = next(d["createdAt"].timestamp() for d in rollout["deployments"] if d["status"] == "PRIMARY")
    assert started + params.terraform_startup_seconds < created <= started + model.seconds  # at its UpdateService
    assert good.image == f"{url}:v2" and world.running()["containerDefinitions"][0]["image"] == f"{url}:v2"
    assert world.running_digests() == [world.digests["v2"]] * 2
    # Terraform is CD: the calls it made are recorded server-side, reads of every resource it owns included.
    actions = set(calls.iam_actions())
    assert {"ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:DescribeServices", "iam:PassRole"} <= actions
    if name == "terraform-cd-central":
        assert {"ec2:DescribeVpcs", "iam:GetRole", "ecr:DescribeRepositories"} <= actions  # it refreshes everything
    else:
        assert not any(a.startswith(("ec2:", "ecr:")) for a in actions)  # the shared infrastructure is not its own

    failed = approach.deploy("v3-broken")
    assert not failed.succeeded and failed.outcome.state in (State.FAILED, State.ROLLED_BACK_BY_ECS)
    with server.modelling_terraform() as back_model:
        back = approach.rollback()
    assert back.succeeded
    # the same change (one tag, one revision) makes the same calls: the time depends on what the apply does
    assert (back_model.commands, back_model.calls) == (model.commands, model.calls)
    assert back.image == f"{url}:v2"
    assert world.running_digests() == [world.digests["v2"]] * 2

    # The commits are real and pushed; what the repository says is what runs.
    assert approach.repo.log()[:3] == ["Roll back to v2", "Deploy v3-broken", "Deploy v2"]
    assert json.loads((Path(world.workspace.directory) / VARS_FILE).read_text()) == {"image_tag": "v2"}
    assert len(approach.repo.pushes) == 3
    assert all(path.is_file() for path in approach.state_files)
    assert len(approach.state_files) == (1 if name == "terraform-cd-central" else 2)  # 4b reads the central state too

    # The infra team's change goes through the same configuration: the version CD committed is kept
    # and the change reaches the running tasks at once.
    before = server.clock.now()
    assert approach.apply_infra_change(InfraChange("memory", 1024)) > 0  # wall seconds: harness overhead
    assert server.clock.now() - before < 1.0  # outside a CD step's model Terraform moves no virtual time
    world.server.clock.sleep(300)
    running = world.running()
    assert running["memory"] == "1024"
    assert running["containerDefinitions"][0]["image"] == f"{url}:v2"
    assert world.running_digests() == [world.digests["v2"]] * 2


def test_approach_4_cannot_run_without_terraform() -> None:
    context = Context(client=lambda name: None, now=lambda: 0.0, sleep=lambda s: None, outputs={})
    for name in ("terraform-cd-central", "terraform-cd-app"):
        with pytest.raises(ApproachError, match="runs `terraform apply` as its CD step: give the context its Terraform workspace"):
            approaches.get(name)(context)


def test_facts_say_cd_runs_terraform_and_pushes_git() -> None:
    for name, section in (("terraform-cd-central", "4a"), ("terraform-cd-app", "4b")):
        cls = approaches.get(name)
        assert cls.entry.section == section
        assert cls.facts.cd_runs_terraform and cls.facts.cd_pushes_git and not cls.facts.ignores
        assert all(cls.claims.terraform_owns.holds.values())
        text = "\n".join(p.read_text() for p in cls.terraform_config().glob("*.tf"))
        assert 'variable "image_tag"' in text and "ignore_changes =" not in text


def test_server_records_api_calls_only_while_recording(server) -> None:
    ecs = _client(server, "ecs")
    ecs.list_clusters()
    with server.recording.recording(ApiCallRecorder(account_id=ACCOUNT)) as calls:
        ecs.list_clusters()
        ecs.describe_clusters(clusters=["none"])
    ecs.list_task_definitions()
    assert calls.iam_actions() == ["ecs:DescribeClusters", "ecs:ListClusters"]


@pytest.mark.parametrize("which", ["terraform-cd-central", "terraform-cd-app"])
def test_the_rollback_matrix_varies_what_its_configurations_declare_and_says_why_not_blue_green(which) -> None:
    cls = approaches.entry(which).cls()
    varied = {"circuit_breaker": False, "load_balanced": True, "desired_count": 4}
    assert cls.variation_problem(varied) is None
    assert cls.terraform_variables("s1", **varied) == {"name": "s1", **varied}
    config = (cls.terraform_config() / "variables.tf").read_text()
    assert all(f'variable "{option}"' in config for option in cls.terraform_options)
    blue_green = cls.variation_problem({"strategy": "BLUE_GREEN"})
    assert blue_green.startswith("strategy=BLUE_GREEN:") and "6.4.0" in blue_green
    assert "no such variable" in cls.variation_problem({"version_consistency": False})

