"""Helpers for the simulator's tests: a cluster, task definitions, a service,
and a probe that samples the service every scheduler pass."""
from __future__ import annotations

import pytest

from harness.ecs import wire
from harness.ecs.tasks import ALIVE, RUNNING


class Ecs:
    """A small scenario builder over a real boto3 ECS client."""

    def __init__(self, aws):
        self.aws = aws
        self.client = aws.client("ecs")
        self.client.create_cluster(clusterName="c")

    def task_definition(self, image: str = "nginx:1.27", health_check: dict | None = None, **container) -> str:
        definition = {"name": "app", "image": image, "memory": 128, "essential": True, **container}
        if health_check:
            definition["healthCheck"] = health_check
        return self.client.register_task_definition(family="app", containerDefinitions=[definition])[
            "taskDefinition"]["taskDefinitionArn"]

    def service(self, task_definition: str, desired: int = 2, name: str = "web", **kwargs) -> dict:
        return self.client.create_service(cluster="c", serviceName=name, taskDefinition=task_definition,
                                          desiredCount=desired, **kwargs)["service"]

    def describe(self, name: str = "web") -> dict:
        return self.client.describe_services(cluster="c", services=[name])["services"][0]

    def tasks(self, desired_status: str = "RUNNING", name: str = "web") -> list[dict]:
        arns = self.client.list_tasks(cluster="c", serviceName=name, desiredStatus=desired_status)["taskArns"]
        return self.client.describe_tasks(cluster="c", tasks=arns)["tasks"] if arns else []

    def settled_service(self, image: str = "nginx:1", desired: int = 2, **kwargs) -> str:
        """A service of `image`, settled on its first deployment; returns its task definition."""
        task_definition = self.task_definition(image)
        self.service(task_definition, desired=desired, **kwargs)
        self.settle()
        return task_definition

    def update(self, name: str = "web", **kwargs) -> dict:
        return self.client.update_service(cluster="c", service=name, **kwargs)["service"]

    def settle(self, seconds: float = 600) -> None:
        self.aws.clock.sleep(seconds)

    def events(self, name: str = "web") -> list[str]:
        """Service events, oldest first."""
        return [e["message"] for e in reversed(self.describe(name)["events"])]


@pytest.fixture
def ecs(aws) -> Ecs:
    return Ecs(aws)


@pytest.fixture
def probe():
    """`probe(aws, seconds)`: samples of the service every virtual second."""
    return sample_every


def sample_every(aws, seconds: float, every: float = 1.0, name: str = "web") -> list[dict]:
    """Sample the simulator's own view every `every` virtual seconds."""
    service = aws.sim.service(name)
    samples = []
    end = aws.clock.now() + seconds
    while aws.clock.now() < end:
        aws.clock.sleep(every)
        tasks = [t for t in service.tasks() if t.last_status in ALIVE]
        samples.append({
            "t": aws.clock.now(),
            "alive": len(tasks),
            "healthy": sum(1 for t in tasks if t.healthy and t.wanted),
            "running": sum(1 for t in tasks if t.last_status == RUNNING),
            "primary_running": sum(1 for t in service.primary.tasks if t.last_status == RUNNING),
            "deployments": len(service.deployments),
        })
    return samples


@pytest.fixture(autouse=True)
def _check_wire(monkeypatch):
    """Every ECS answer the simulator gives in these tests also goes through
    moto's serializer, and must read the same (harness.ecs.wire)."""
    monkeypatch.setattr(wire, "CHECK", True)
