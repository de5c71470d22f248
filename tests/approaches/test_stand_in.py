"""The boto3 stand-in for an approach's Terraform: same outputs, same service shape."""
from __future__ import annotations

import pytest
from test_approach_configs import NEEDED

from harness.approaches import ApproachError
from harness.worlds.stand_in import stand_in


@pytest.mark.parametrize("name", sorted(NEEDED))
def test_stand_in_gives_every_output_cd_reads_and_a_service_like_terraforms(aws, name) -> None:
    built = stand_in(aws.client, name, images=["v1", "v2"])
    assert NEEDED[name] <= set(built.outputs)
    assert set(built.digests) == {"v1", "v2"} and built.digests["v1"] != built.digests["v2"]
    service = aws.client("ecs").describe_services(cluster=built.outputs["cluster_name"],
                                                  services=[built.outputs["service_name"]])["services"][0]
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["deploymentConfiguration"]["minimumHealthyPercent"] == 100


def test_persistent_tag_stand_in_points_the_environment_tag_at_the_initial_image(aws) -> None:
    built = stand_in(aws.client, "persistent-tag", images=["v1", "v2"], environment="prod")
    image = aws.client("ecr").batch_get_image(repositoryName="app", imageIds=[{"imageTag": "prod"}])["images"][0]
    assert image["imageId"]["imageDigest"] == built.digests["v1"]


def test_stand_in_refuses_approaches_whose_cd_runs_terraform_and_a_missing_initial_image(aws) -> None:
    with pytest.raises(ApproachError, match="no stand-in for 'terraform-cd-central'"):
        stand_in(aws.client, "terraform-cd-central")
    with pytest.raises(ApproachError, match="the service starts on 'v1': include it in images"):
        stand_in(aws.client, "app-repo", images=["v2"])
