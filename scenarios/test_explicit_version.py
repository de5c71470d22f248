"""Explicit version: can one read the deployed version from the service's task
definition (a pinned tag or digest), or only from a moving tag?

The article: approach 1 "cannot declare an explicit application artifact
version to deploy"; approach 2 "allows for declaring an explicit application
artifact version for each deployment"; approaches 3, 4 and 5 put the tag CD
chose into the task definition too.
"""
from __future__ import annotations

import pytest

from harness.metrics.results import ExplicitVersion

from scenario_support import VERSIONS, parameters

# On real AWS (and a LocalStack that runs tasks): the approach's own configuration, applied there.
pytestmark = pytest.mark.real_aws(budget=1800)


def test_deployed_version_can_be_read_from_the_task_definition(approach, make_approach_world, measurements) -> None:
    w = make_approach_world(terraform=False)
    w.ensure_deployed("v3")  # approach 4's shared Terraform world may run it already (the drift scenario)
    image = w.running_container()["image"]
    reference = image.rsplit("/", 1)[-1]
    if "@sha256:" in reference:
        pinned_by, named = "digest", reference.split("@", 1)[1]
        readable = named == w.digests["v3"]
    else:
        tag = reference.rsplit(":", 1)[-1] if ":" in reference else "latest"
        readable = tag == "v3"
        pinned_by = "tag" if tag in VERSIONS else "moving tag"
    # What runs is v3 either way; the question is whether the definition says so.
    assert set(w.running_digests()) == {w.digests["v3"]}
    said = approach.claims.version_readable  # can the deployed version be read from the task definition?
    if said is not None:
        assert readable == said.holds, f"{approach.name}: task definition names {image} ({said.citation()})"
    measurements.record(approach.name, ExplicitVersion(readable=readable, image=reference, pinned_by=pinned_by))
    measurements.parameters(parameters(w))
