"""The Terraform module for the template pattern (terraform/modules/ecs-template-service):
its own `terraform test` suite (mocked provider, offline) passes, and its example,
applied against the emulator and deployed by the tool, plans clean."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import boto3
import pytest

from ecs_template_deploy.cli import main
from harness.terraform.fixtures import skip_without_provider
from harness.terraform.runner import TerraformError
from harness.worlds.images import push_images
from harness.backends.embedded import cd_process_env

MODULE = Path(__file__).resolve().parents[2] / "terraform" / "modules" / "ecs-template-service"
pytestmark = pytest.mark.terraform


def test_the_module_layout_is_the_registry_s():
    assert {p.name for p in MODULE.iterdir()} >= {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md",
                                                   "examples", "tests"}


def test_the_module_s_terraform_test_suite_passes_offline(terraform, tmp_path):
    work = tmp_path / "module"
    shutil.copytree(MODULE, work, ignore=shutil.ignore_patterns(".terraform*", "examples"))
    env = terraform.env()
    init = subprocess.run([terraform.binary, "init", "-backend=false", "-input=false", "-no-color"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    if init.returncode != 0:
        skip_without_provider(TerraformError("init failed", init.stdout + init.stderr), "the module's terraform test")
        pytest.fail(init.stdout + init.stderr)
    tested = subprocess.run([terraform.binary, "test", "-no-color"], cwd=work, env=env, capture_output=True, text=True,
                            timeout=600)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "6 passed, 0 failed" in tested.stdout


def test_the_example_applies_deploys_with_the_tool_and_plans_clean(tf_workspace, terraform_endpoint, monkeypatch):
    ws = tf_workspace(MODULE / "examples" / "basic", root=MODULE)
    ws.apply()
    out = ws.outputs()
    for key, value in cd_process_env(terraform_endpoint).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    push_images(boto3.client("ecr"), out["repository_name"], ["v1"])
    code = main(["deploy", "--cluster", out["cluster_name"], "--service", out["service_name"],
                 "--template", out["template_family"], "--tag", "v1", "--no-wait"])
    assert code == 0
    service = boto3.client("ecs").describe_services(cluster=out["cluster_name"], services=[out["service_name"]])["services"][0]
    assert service["taskDefinition"].endswith(f":task-definition/{out['service_name']}:1")   # CD's family, not the template's
    plan = ws.plan()
    assert not plan.has_changes, plan.summary
