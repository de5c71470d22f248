"""How fast the simulator covers virtual time, in-process, and its memory.

Prints, for a 100- and a 1,000-task service rolling to a new revision, for a
crashing deploy rolled back by the circuit breaker, for a 100-task blue/green
deployment with a 10-minute bake and a linear one of 10 % steps: simulated
seconds covered per wall second. Floors: one simulated hour of a 100-task
rolling service in under one wall second; at least 3,600 simulated seconds per
wall second for the blue/green and linear ones. Then peak memory (tracemalloc)
for a 1,000-task service, rolling and blue/green (floor: blue/green under 200
MB). Numbers are printed, never asserted.

    python3 dev.py bench simulator
"""
from __future__ import annotations

import time
import tracemalloc

from harness.backends.embedded import EmbeddedAws
from harness.worlds import BlueGreenLoadBalancer

HOUR = 3600.0
SHIFTING = {
    "blue/green": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10},
    "linear": {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 10.0, "stepBakeTimeInMinutes": 1}},
}


def setup(aws, desired: int, breaker: bool):
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="bench")
    register = lambda image: ecs.register_task_definition(  # noqa: E731
        family="app", containerDefinitions=[{"name": "app", "image": image, "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    config = {"deploymentCircuitBreaker": {"enable": breaker, "rollback": breaker}}
    ecs.create_service(cluster="bench", serviceName="web", taskDefinition=register("app:1"), desiredCount=desired,
                       deploymentConfiguration=config)
    aws.clock.sleep(600)
    return ecs, register


def shifting_setup(aws, desired: int, config: dict):
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="bench")
    lb = BlueGreenLoadBalancer.build(aws)
    register = lambda image: ecs.register_task_definition(  # noqa: E731
        family="app", containerDefinitions=[{"name": "app", "image": image, "memory": 128,
                                             "portMappings": [{"containerPort": 80}]}])["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="bench", serviceName="web", taskDefinition=register("app:1"), desiredCount=desired,
                       loadBalancers=lb.load_balancers(), healthCheckGracePeriodSeconds=0, deploymentConfiguration=config)
    aws.clock.sleep(900)
    return ecs, register


def shifting(desired: int, kind: str) -> tuple[float, float, str]:
    """(simulated seconds, wall seconds, final status) from UpdateService to the deployment's end."""
    with EmbeddedAws(seed=1) as aws:
        ecs, register = shifting_setup(aws, desired, SHIFTING[kind])
        ecs.update_service(cluster="bench", service="web", taskDefinition=register("app:2"))
        arn = ecs.describe_services(cluster="bench", services=["web"])["services"][0]["currentServiceDeployment"]
        record = aws.sim.service_deployments[arn]
        start, began = time.perf_counter(), aws.clock.now()
        aws.clock.run_until(lambda: not record.ongoing, limit=6 * HOUR, step=5)
        wall = time.perf_counter() - start
        return aws.clock.now() - began, wall, f"{record.status} after {aws.clock.now() - began:.0f} s"


def shifting_memory(desired: int) -> float:
    with EmbeddedAws(seed=1) as aws:
        tracemalloc.start()
        ecs, register = shifting_setup(aws, desired, SHIFTING["blue/green"])
        ecs.update_service(cluster="bench", service="web", taskDefinition=register("app:2"))
        aws.clock.sleep(HOUR)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak / 2**20


def rollout(desired: int, crash: bool) -> tuple[float, float, str]:
    """(simulated seconds, wall seconds, final state) for one hour after UpdateService."""
    with EmbeddedAws(seed=1) as aws:
        ecs, register = setup(aws, desired, breaker=crash)
        if crash:
            aws.sim.declare_image("app:2", crash_after=15)
        ecs.update_service(cluster="bench", service="web", taskDefinition=register("app:2"))
        start = time.perf_counter()
        aws.clock.sleep(HOUR)
        wall = time.perf_counter() - start
        service = ecs.describe_services(cluster="bench", services=["web"])["services"][0]
        final = f"{service['taskDefinition'].rsplit('/', 1)[-1]} {service['deployments'][0]['rolloutState']} running={service['runningCount']}"
        return HOUR, wall, final


def memory(desired: int) -> float:
    with EmbeddedAws(seed=1) as aws:
        tracemalloc.start()
        ecs, register = setup(aws, desired, breaker=False)
        ecs.update_service(cluster="bench", service="web", taskDefinition=register("app:2"))
        aws.clock.sleep(HOUR)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak / 2**20


def main() -> None:
    print("ECS rollout simulator, in-process (virtual clock); 1 simulated hour after UpdateService")
    print(f"{'scenario':46} {'sim s':>7} {'wall s':>7} {'sim s / wall s':>15}  final")
    for label, desired, crash in [
        ("100-task rolling update", 100, False),
        ("1,000-task rolling update", 1000, False),
        ("100-task crashing deploy, breaker rollback", 100, True),
        ("1,000-task crashing deploy, breaker rollback", 1000, True),
    ]:
        sim, wall, final = rollout(desired, crash)
        print(f"{label:46} {sim:7.0f} {wall:7.3f} {sim / wall:15,.0f}  {final}")
    for label, kind in [("100-task blue/green, 10 min bake", "blue/green"), ("100-task linear, 10 % steps, 1 min apart", "linear")]:
        sim, wall, final = shifting(100, kind)
        print(f"{label:46} {sim:7.0f} {wall:7.3f} {sim / wall:15,.0f}  {final}")
    print("floors: 1 simulated hour of a 100-task rolling service in < 1 wall second (the first row's wall s); "
          ">= 3,600 sim s / wall s for blue/green and linear")
    print(f"peak traced memory, 1,000-task service (setup + 1 h rollout): {memory(1000):.1f} MiB")
    print(f"peak traced memory, 1,000-task blue/green (setup + 1 h of it): {shifting_memory(1000):.1f} MiB (floor: < 200 MB)")


if __name__ == "__main__":
    main()
