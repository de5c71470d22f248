"""The approaches' replays on a real backend (the drift after a deploy; the
rollback matrix's every-task-crashes cell, the table's rollback column), as
`--backend aws --aws-dry-run` runs them: each approach's own Terraform configuration applied by
real Terraform to `harness serve` posing as AWS, in a run of its own (every name
prefixed with the run's id, every resource tagged with it through the provider's
default_tags), its images built per behaviour and pushed before the service
exists, CD's deploy on the run's clock, a real `terraform plan`, the rollback
timed from ECS read while CD waits, and the run's teardown finding everything,
CD's revisions included."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.metrics.collect import load_results
from harness.metrics.results import Rollback

from test_real_aws_scenarios import SUMMARY

pytestmark = pytest.mark.terraform

ROOT = Path(__file__).resolve().parents[2]
DRIFT = "scenarios/test_drift_after_deploy.py"
# 5 (base module, then images, then the rest) and 4b (central infrastructure, images, the
# app's own configuration; its CD is Terraform): the two ways a world is applied
APPROACHES = ("template", "terraform-cd-app")
ROLLBACK = "scenarios/test_rollback_matrix.py"
# the deploy tool's way back, and approach 1's (it moves a tag back: the built image follows its digest)
ROLLED_BACK = ("template", "persistent-tag")


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory) -> SimpleNamespace:
    env = {name: value for name, value in os.environ.items()  # no credentials, no endpoint, no allowlist
           if not name.startswith(("AWS_", "HARNESS_AWS_"))}
    chosen = [f"{DRIFT}::test_cd_deploy_leaves_terraform_plan_clean[{approach}]" for approach in APPROACHES]
    chosen += [f"{ROLLBACK}::test_rollback_matrix[{approach}-crash-at-once-rolling-article]" for approach in ROLLED_BACK]
    report = tmp_path_factory.mktemp("report")
    done = subprocess.run([sys.executable, "-m", "pytest", *chosen, "--backend", "aws", "--aws-dry-run", "-n", "0",
                           "-p", "no:cacheprovider", "-rs", "-v", "--report-dir", str(report)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if "needs Terraform's AWS provider, which `terraform init` could not install" in done.stdout:
        pytest.skip("the drift scenario needs Terraform's AWS provider here: set HARNESS_TF_PROVIDER_MIRROR")
    runs = [m.groupdict() for m in SUMMARY.finditer(done.stderr)]
    return SimpleNamespace(done=done, output=done.stdout + done.stderr, runs=runs, report=report)


def test_terraform_plans_clean_after_a_cd_deploy_on_the_real_path(dry_run) -> None:
    assert dry_run.done.returncode == 0, dry_run.output[-4000:]
    summary = dry_run.done.stdout.strip().splitlines()[-1]
    assert re.search(rf"^=+ {len(APPROACHES) + len(ROLLED_BACK)} passed in ", summary), summary
    for approach in APPROACHES:
        assert f"test_cd_deploy_leaves_terraform_plan_clean[{approach}] PASSED" in dry_run.done.stdout


def test_the_rollback_is_timed_on_the_wall_clock_from_ecs_read_while_cd_waits(dry_run) -> None:
    assert dry_run.done.returncode == 0, dry_run.output[-4000:]
    results = load_results(dry_run.report / "results")
    for approach in ROLLED_BACK:
        rollback = results.get(approach, Rollback)
        assert rollback.clock == "wall" and rollback.recovered, (approach, rollback)
        assert 0 < rollback.simulated_seconds and rollback.lowest_healthy == rollback.desired == 2, (approach, rollback)
        kinds = [marker.kind for marker in rollback.timeline.markers]
        assert kinds[0] == "deploy" and "failure" in kinds and kinds[-1] == "recovery", (approach, kinds)
        assert rollback.timeline.samples[-1].tasks == {"v3": 2}, approach  # every task back on known good
    assert results.get("persistent-tag", Rollback).api_calls > 0  # CD's own calls, seen client-side
    report = (dry_run.report / "report.md").read_text()
    assert "rollback: " in report and " s on the wall clock, " in report  # the approach's details
    assert "N seconds on the wall clock (tasks really ran) after the failing deploy" in report  # the matrix legend
    assert "simulated" not in report, [line for line in report.splitlines() if "simulated" in line]


def test_each_approach_is_a_run_of_its_own_with_a_network_tasks_can_pull_through(dry_run) -> None:
    assert len(dry_run.runs) == len(APPROACHES) + len(ROLLED_BACK), dry_run.output[-3000:]
    for run in dry_run.runs:
        created = run["created"]
        assert "1 vpc" in created and "2 subnets" in created and "1 internet gateway" in created, run
        assert "1 ecs cluster" in created and "1 ecs service (FARGATE)" in created, run
        assert run["marked"] == "each named or tagged with the run id", run
        # the images are in ECR before the service exists: its first tasks find them
        assert created.index("image push") < created.index("ecs service"), run
    template = [run for run in dry_run.runs if f"{run['run']}-template" in dry_run.done.stderr]
    assert len(template) == 2 and all("1 scalable target" in run["created"] for run in template), template


def test_teardown_leaves_nothing_cd_registered_outside_terraform_included(dry_run) -> None:
    assert [run["left"] for run in dry_run.runs] == ["left nothing"] * len(dry_run.runs), dry_run.output[-3000:]
    # the template approach's CD registers revisions in a family Terraform does not manage: found by the run's prefix
    run = next(run["run"] for run in dry_run.runs if f"deleted ecs service {run['run']}-template" in dry_run.done.stderr)
    assert re.search(rf"deleted ecs task definition {run}-template:\d+", dry_run.done.stderr)
    assert re.search(rf"deleted ecs task definition {run}-template-template:1", dry_run.done.stderr)
