"""What CD must be allowed to do, recorded from the calls it really made (not
guessed): the IAM actions of one deploy and one rollback, whether it needed
Terraform state or git push, and the least-privilege IAM policy, written as
JSON per approach into the report directory (``cd-policy-<approach>.json``),
with ``<name>`` where the application's name (Terraform's ``var.name``) goes.

The article on approach 4: "Requires allowing CD tooling to apply Terraform
changes", "Requires allowing CD tooling to push git commits", and "I'm not
enthusiastic about granting Semaphore CI permission to make and commit
Terraform changes". The other approaches' CD calls ECS (and ECR) only.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from harness.backends.embedded import ACCOUNT
from harness.plugin.state import report_dir_key
from harness.metrics.iam import ApiCallRecorder, with_placeholder
from harness.metrics.measure import cd_permissions

from scenario_support import BROKEN, parameters

# Actions no approach's CD may need: it must not touch infrastructure it does not own.
NEVER_FOR_ECS_ONLY_CD = ("ec2:", "iam:CreateRole", "logs:", "secretsmanager:", "ecr:CreateRepository")


@pytest.mark.last_in_world  # in a shared Terraform world it reads the deploys the other scenarios ran
@pytest.mark.simulator_only("CD's calls are read from what harness serve recorded (CD that is Terraform, or a "
                            "command, is seen nowhere else); on AWS that record is CloudTrail's, minutes late")
def test_cd_needs_only_the_permissions_it_calls(approach, make_approach_world, measurements, request, tmp_path) -> None:
    w = make_approach_world(terraform=False)
    facts = w.approach.facts
    # A deploy that succeeds, one that fails, and a rollback: reuse what this
    # world's CD already ran (a shared Terraform world), else run them now.
    can_roll_back = w.approach.can_roll_back  # a described CD may have no rollback step
    wanted = {("deploy", True), ("deploy", False)} | ({("rollback", True)} if can_roll_back else set())
    if not wanted <= {(step.kind, step.succeeded) for step in w.history}:
        assert (step := w.deploy("v5")).succeeded, step.message
        assert not w.deploy(BROKEN).succeeded
        if can_roll_back:
            assert (step := w.rollback()).succeeded, step.message
    # CD that runs Terraform calls AWS from Terraform's Go SDK: only the server sees those calls.
    recorder = ApiCallRecorder(account_id=ACCOUNT)
    for step in w.history:
        for call in step.calls(server_side=facts.cd_calls_server_side):
            recorder.record(call.service, call.operation, call.region, call.params)
    measured = cd_permissions(recorder, needs_terraform_state=facts.cd_runs_terraform,
                              needs_git_push=facts.cd_pushes_git)
    measured = dataclasses.replace(measured, policy=with_placeholder(measured.policy, w.resource_name))
    assert "<name>" in json.dumps(measured.policy)  # CD's own service is named in its policy, as a placeholder
    actions = measured.iam_actions or []
    assert "ecs:DescribeServices" in actions  # every CD watches its rollout
    if facts.cd_runs_terraform:
        # "Requires allowing CD tooling to apply Terraform changes": it reads everything Terraform manages
        assert any(a.startswith(("ec2:", "iam:")) for a in actions), actions
    else:
        assert not [a for a in actions if a.startswith(NEVER_FOR_ECS_ONLY_CD)], actions
        assert "ecs:UpdateService" in actions
    statements = measured.policy["Statement"]
    assert {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])} >= set(
        a for a in actions if ":" in a)

    directory = request.config.stash.get(report_dir_key, None) or tmp_path
    Path(directory).mkdir(parents=True, exist_ok=True)
    (Path(directory) / f"cd-policy-{approach.name}.json").write_text(json.dumps(measured.policy, indent=2, sort_keys=True) + "\n")
    measurements.record(approach.name, measured)
    measurements.parameters(parameters(w))
