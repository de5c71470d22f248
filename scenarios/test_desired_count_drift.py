"""Auto scaling vs Terraform's ``desired_count``: after auto scaling moved the
service's desired count, does `terraform plan` want to set it back?

Not in the article's lists, but the same ownership question (two writers of
one attribute): Terraform fights auto scaling unless the service ignores
``desired_count``. The scenario reads whether the configuration ignores it and
asserts the plan agrees.
"""
from __future__ import annotations

import pytest

from harness.metrics.drift import autoscaling_drift

from scenario_support import parameters

# On real AWS (and a LocalStack that runs tasks): the approach's own configuration, applied there.
pytestmark = [pytest.mark.terraform, pytest.mark.real_aws(budget=1800)]

def test_autoscaling_is_drift_unless_desired_count_is_ignored(approach, make_approach_world, measurements) -> None:
    w = make_approach_world(terraform=True)
    ecs = w.client("ecs")
    before = w.service()["desiredCount"]
    ecs.update_service(cluster=w.cluster, service=w.service_name, desiredCount=before + 2)  # a scale-out
    w.settle()
    ignored = w.service_ignores("desired_count")
    plan = w.workspace.plan()
    measured = autoscaling_drift(plan, w.service_address(), desired_count_ignored=ignored)
    assert measured.drift is (not ignored)
    # Leave the world as Terraform declares it for the scenarios that follow.
    ecs.update_service(cluster=w.cluster, service=w.service_name, desiredCount=before)
    w.settle()
    measurements.record(approach.name, measured)
    measurements.parameters(parameters(w))
