"""Where configuration lives: which container settings (CPU, memory,
environment, secret ARNs) of the revision the service runs after a CD deploy
come from a task definition Terraform manages, read from Terraform's state and
the running revision.

The article: approaches 1, 2, 4 and 5 keep "all configuration managed by
Terraform"; approach 3's drawback is "infrastructure configuration would be
stored outside Terraform (i.e. CPU/memory values, Secrets Manager ARNs)".
"""
from __future__ import annotations

import pytest

from harness.metrics.ownership import config_ownership

from scenario_support import parameters

# On real AWS (and a LocalStack that runs tasks): the approach's own configuration, applied there.
pytestmark = [pytest.mark.terraform, pytest.mark.real_aws(budget=1800)]


def test_terraform_owns_the_container_settings(approach, make_approach_world, measurements) -> None:
    w = make_approach_world(terraform=True)
    w.ensure_deployed("v2")
    answer = w.client("ecs").describe_task_definition(taskDefinition=w.service()["taskDefinition"], include=["TAGS"])
    tags = {t["key"]: t["value"] for t in answer.get("tags", [])}
    measured = config_ownership(w.workspace.state(), answer["taskDefinition"], tags, w.container)
    said = approach.claims.terraform_owns
    if said is not None:
        declared = {k: v for k, v in said.holds.items() if k != "image"}  # the container's settings: what is measured
        assert measured.terraform_owns == declared, (f"{approach.name}: measured {measured.terraform_owns}, "
                                                     f"expected {declared} ({said.citation()})")
    measurements.record(approach.name, measured)
    measurements.parameters(parameters(w))
