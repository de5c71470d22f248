"""Service-managed EBS volumes (volumeConfigurations): checked against the task
definition's volumes configured at launch, shown on deployments, and a change
of volume alone starts a deployment, as any deployment-shaping change does."""
from __future__ import annotations

import pytest

ROLE = "arn:aws:iam::123456789012:role/ebs"


def volume(name: str = "data", size: int = 20) -> dict:
    return {"name": name, "managedEBSVolume": {"roleArn": ROLE, "sizeInGiB": size, "volumeType": "gp3"}}


@pytest.fixture
def td(ecs) -> str:
    return ecs.client.register_task_definition(
        family="app", volumes=[{"name": "data", "configuredAtLaunch": True}],
        containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128,
                               "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}]}],
    )["taskDefinition"]["taskDefinitionArn"]


def test_a_volume_name_no_launch_volume_has_is_refused_and_nothing_is_created(ecs, td):
    with pytest.raises(ecs.client.exceptions.InvalidParameterException, match="not a volume of task definition app:1 "
                       r"with configuredAtLaunch true \(it has: data\)"):
        ecs.service(td, volumeConfigurations=[volume("logs")])
    assert ecs.client.list_services(cluster="c")["serviceArns"] == []


def test_more_than_one_service_managed_volume_is_refused(ecs, td):
    with pytest.raises(ecs.client.exceptions.InvalidParameterException, match="one service-managed volume per task"):
        ecs.service(td, volumeConfigurations=[volume(), volume()])


def test_deployments_show_their_volume_and_a_volume_change_alone_starts_a_deployment(ecs, td):
    ecs.service(td, volumeConfigurations=[volume(size=20)])
    ecs.settle()
    (first,) = ecs.describe()["deployments"]
    assert first["volumeConfigurations"] == [volume(size=20)]
    assert "volumeConfigurations" not in ecs.describe()   # not a field of the service itself
    ecs.update(volumeConfigurations=[volume(size=50)])
    deployments = ecs.describe()["deployments"]
    assert len(deployments) == 2 and deployments[0]["volumeConfigurations"] == [volume(size=50)]
    assert deployments[0]["taskDefinition"] == td   # same revision: the volume is what changed
    ecs.settle()
    ecs.update(volumeConfigurations=[volume(size=50)])   # the same again: nothing to deploy
    assert len(ecs.describe()["deployments"]) == 1
