"""The one seam to moto: installed when a backend starts, removed when it stops."""
from __future__ import annotations

from moto.ecs.responses import EC2ContainerServiceResponse as ECS

from harness.backends.embedded import EmbeddedAws
from harness.ecs import api


def test_backend_routes_owned_actions_to_the_simulator_only_while_it_runs():
    with EmbeddedAws() as aws:
        assert all(getattr(getattr(ECS, name), "_harness_route", False) for name in api.OWNED_ACTIONS)
        assert api.active() is aws.sim
    # moto's methods are back (moto_compat's own patches, which stay installed, aside)
    assert not any(getattr(getattr(ECS, name, None), "_harness_route", False) for name in api.OWNED_ACTIONS)
    assert not hasattr(ECS, "list_service_deployments")  # actions moto lacks are gone again
    assert api.active() is None


def test_moto_answers_again_after_the_simulator_stops():
    """Outside a backend, plain moto's UpdateService behaviour is back (no deployments added)."""
    with EmbeddedAws():
        pass
    from moto import mock_aws
    import boto3

    with mock_aws():
        ecs = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        ecs.create_cluster(clusterName="c")
        td = ecs.register_task_definition(family="a", containerDefinitions=[{"name": "a", "image": "x", "memory": 8}])
        ecs.create_service(cluster="c", serviceName="s", taskDefinition="a", desiredCount=2)
        service = ecs.update_service(cluster="c", service="s", desiredCount=3)["service"]
        assert service["runningCount"] == 3          # moto's jump, not a rollout
        assert td["taskDefinition"]["revision"] == 1
