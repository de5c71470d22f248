"""Drift after a deploy: CD deploys a new version, then a real `terraform plan
-detailed-exitcode` on the approach's configuration. Does Terraform want to
undo the deploy, and what would it change?

The article: approach 1, "no Terraform changes are required in order to deploy
a new version"; approach 2 ignores the task definition to avoid drift ("any
changes to the ECS Task Definition that are made outside of Terraform will be
flagged by Terraform as drift", hence ``ignore_changes``); approach 3's
Terraform holds only a dummy task definition; approach 4's CD *is* Terraform;
approach 5's CD registers revisions in a family Terraform does not manage and
the service ignores ``task_definition``. So every approach, as configured
here, must leave the plan clean: the drawbacks show elsewhere (what an
infrastructure change does, what CD must be allowed to do).
"""
from __future__ import annotations

import pytest

from harness.metrics.drift import drift_after_deploy

from scenario_support import parameters

# On real AWS (and a LocalStack that runs tasks) the same claim, with the real
# provider reading real resources back: the apply, the images, a deploy and
# the plan take 10-20 minutes of wall time there.
pytestmark = [pytest.mark.terraform, pytest.mark.real_aws(budget=1800)]


def test_cd_deploy_leaves_terraform_plan_clean(approach, make_approach_world, measurements) -> None:
    w = make_approach_world(terraform=True)
    # v3, which the scenarios after this one in a shared Terraform world start
    # from (saving approach 4 an apply each). The claim needs a deploy that
    # changes the running version: in another order v3 may run already.
    if w.digests["v3"] in w.running_digests():
        w.ensure_deployed("v2")
    assert (step := w.deploy("v3")).succeeded, step.message
    assert set(w.running_digests()) == {w.digests["v3"]}
    plan = w.workspace.plan()
    measured = drift_after_deploy(plan)
    changes = [f"{c.address} {c.actions} {c.attributes}" for c in measured.changes or []]
    said = approach.claims.plan_clean_after_deploy  # the plan right after a CD deploy has no changes
    if said is not None:
        assert (plan.exit_code == 0) == said.holds, f"{approach.name}: plan wants {changes} ({said.citation()})"
    measurements.record(approach.name, measured)
    measurements.parameters(parameters(w))
