"""The runner against `harness serve` with real Terraform: the provider is
linked, never copied; infrastructure changes and out-of-band changes come back
as data."""
from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest

from harness.terraform.fixtures import APPROACHES_DIR, unique_name

TEMPLATE = APPROACHES_DIR / "template" / "terraform"
pytestmark = pytest.mark.terraform


def test_init_links_the_provider_from_the_shared_cache_instead_of_copying_it(tf_workspace, terraform):
    ws = tf_workspace(TEMPLATE)
    providers = ws.directory / ".terraform" / "providers"
    binaries = [Path(dirpath, name) for dirpath, _dirs, files in os.walk(providers, followlinks=True)
                for name in files if name.startswith("terraform-provider-aws")]
    assert len(binaries) == 1
    assert binaries[0].stat().st_size > 50_000_000  # the real provider, reached through a link
    assert ws.provider_bytes() < 1_000_000  # what the working directory itself holds
    platform_dir = next(p for p in providers.rglob("*") if p.is_symlink())
    assert Path(os.path.realpath(platform_dir)).is_relative_to(
        Path(os.path.realpath(terraform.settings.mirror or terraform.settings.plugin_cache))
    )


def test_a_second_init_leaves_the_shared_cache_alone(tf_workspace, terraform, terraform_endpoint):
    # Terraform >= 1.4 re-installs a provider into the cache when a working directory has no
    # lock file yet: it removes and recreates the cache entry, and a command running at that
    # moment in another xdist worker fails with "Required plugins are not installed".
    tf_workspace(TEMPLATE)
    entries = sorted(p for p in (terraform.settings.plugin_cache / "registry.terraform.io").rglob("*")
                     if p.is_symlink() or p.is_file())
    before = [(p, os.lstat(p).st_ino, os.lstat(p).st_mtime_ns) for p in entries]
    assert before, "the first init put the provider in the shared cache"
    second = terraform.workspace(TEMPLATE, terraform_endpoint, {"name": unique_name()}, root=APPROACHES_DIR)
    second.init(reuse=False)  # a real second `terraform init`, not the copy of the first one's
    assert second.timings.cpu[-1][1] > 0  # a Terraform process ran
    assert [(p, os.lstat(p).st_ino, os.lstat(p).st_mtime_ns) for p in entries] == before


def test_a_later_workspace_of_a_configuration_gets_what_init_wrote_without_running_it(tf_workspace, terraform):
    first, second = tf_workspace(TEMPLATE), tf_workspace(TEMPLATE)  # the first init ran (or one before it did)
    assert second.timings.runs == [("init", second.timings.last("init"))] and second.timings.cpu == [("init", 0.0)]

    def wrote(ws):  # what init leaves in a working directory, links as links
        found = {}
        for path in sorted((ws.directory / ".terraform").rglob("*")):
            relative = str(path.relative_to(ws.directory))
            found[relative] = os.readlink(path) if path.is_symlink() else path.read_text() if path.is_file() else "dir"
        return {**found, ".terraform.lock.hcl": (ws.directory / ".terraform.lock.hcl").read_text()}

    real = terraform.workspace(TEMPLATE, "http://127.0.0.1:1", {"name": unique_name()}, root=APPROACHES_DIR)
    real.init(reuse=False)
    assert wrote(second) == wrote(real) == wrote(first)  # byte for byte what a real init writes
    result = second.plan()  # and Terraform takes it as initialised: no "run terraform init"
    assert result.exit_code == 2  # nothing applied yet: everything to create


def clients(endpoint: str):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    return boto3.client("ecs", **kw), boto3.client("logs", **kw)


def test_infrastructure_and_out_of_band_changes_come_back_as_plan_data(tf_workspace, terraform_endpoint):
    # One apply serves three claims: applying this configuration takes ~20 s.
    ws = tf_workspace(TEMPLATE)
    name = ws.variables["name"]
    ws.apply()
    baseline = ws.plan().summary

    # Terraform's own change: more memory replaces the template only; the
    # service ignores its task definition, so nothing else moves.
    memory = ws.plan(memory=1024)
    assert memory.exit_code == 2
    assert memory.summary.by_action() == {"replace": ["aws_ecs_task_definition.template"]}
    assert memory.summary.change("aws_ecs_task_definition.template").paths == ["memory"]

    # Changes made outside Terraform: a CD deploy (new revision in another
    # family, count 3) and a hand-edited log retention.
    ecs, logs = clients(terraform_endpoint)
    template = ecs.describe_task_definition(taskDefinition=f"{name}-template")["taskDefinition"]
    container = {**template["containerDefinitions"][0], "image": f"{name}:v2"}
    deployed = ecs.register_task_definition(
        family=name, containerDefinitions=[container], requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc", cpu=template["cpu"], memory=template["memory"],
        executionRoleArn=template["executionRoleArn"],   # its awslogs needs it on Fargate, as ECS says
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=name, service=name, taskDefinition=deployed, desiredCount=3)
    logs.put_retention_policy(logGroupName=f"/ecs/{name}", retentionInDays=30)

    after = ws.plan()
    assert after.exit_code == 2
    assert after.summary.by_action() == {"update": ["module.base.aws_cloudwatch_log_group.app"]}
    assert after.summary.drift_since(baseline) == {
        ("aws_ecs_service.app", "desired_count"),
        ("aws_ecs_service.app", "task_definition"),
        ("module.base.aws_cloudwatch_log_group.app", "retention_in_days"),
    }

    # And the way back: destroy removes everything the configuration created
    # (the fixtures do not destroy on the emulator; this is where it is proven).
    ws.destroy()
    state = json.loads((ws.directory / "terraform.tfstate").read_text())
    assert state["resources"] == []
    gone = ecs.describe_task_definition(taskDefinition=template["taskDefinitionArn"])["taskDefinition"]
    assert gone["status"] == "INACTIVE"


def test_commands_attach_to_one_long_lived_provider_and_plan_as_without_it(tf_workspace, terraform):
    if terraform.reattach_problem is not None:
        pytest.skip(f"commands start their own provider here: {terraform.reattach_problem}")
    from harness.terraform.reattach import installed_aws_provider

    ws = tf_workspace(TEMPLATE)
    ws.apply()
    server = terraform.provider_server(ws.directory)
    assert server is not None and server.binary == installed_aws_provider(ws.directory)[1]
    pid, starts = server.pid, server.starts
    attached = ws.plan(memory=1024)
    assert server.pid == pid and server.starts == starts  # apply, plan and show: one process
    assert (attached.exit_code, [c.address for c in attached.summary.changes]) == (2, ["aws_ecs_task_definition.template"])
    # the same plan from a provider the command starts itself
    terraform.reattach_problem, saved = "turned off by this test", terraform.reattach_problem
    try:
        plain = ws.plan(memory=1024)
    finally:
        terraform.reattach_problem = saved
    assert plain.exit_code == attached.exit_code
    assert plain.summary.changes == attached.summary.changes
    assert server.rss_bytes() > 100_000_000  # the real provider, its schema built once
