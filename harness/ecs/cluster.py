"""What the scheduler, the deployment strategies and auto scaling may ask of
the cluster they act on: the simulator's surface toward its rooms, said once.

`Simulator` owns the state and implements this; `scheduler`, `strategies` and
`scaling` are written against it, so the imports run one way (simulator ->
scheduler/strategies/scaling -> cluster) and a reader sees in one place every
call those rooms make back into the simulator.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from moto.ecs.models import Service as MotoService

    from harness.clock import VirtualClock
    from harness.ecs.deployments import SimulatedServiceDeployment
    from harness.ecs.moto_state import MotoState
    from harness.ecs.params import Params
    from harness.ecs.services import SimulatedDeployment, SimulatedService
    from harness.ecs.tasks import Task, TaskRunner
    from harness.ecs.timeline import Timeline


class Cluster(Protocol):
    clock: "VirtualClock"
    params: "Params"
    moto: "MotoState"
    runner: "TaskRunner"
    timeline: "Timeline"

    def service(self, name_or_arn: str) -> "SimulatedService": ...
    def shadow(self, service: "SimulatedService") -> MotoService | None: ...
    def event(self, service: "SimulatedService", message: str) -> None: ...
    def set_desired_count(self, service: "SimulatedService", count: int, source: str = "user") -> None: ...
    def start_service_tasks(self, service: "SimulatedService", deployment: "SimulatedDeployment", count: int) -> None: ...
    def stop_service_tasks(self, service: "SimulatedService", tasks: list["Task"], reason: str) -> None: ...
    def serves_production(self, service: "SimulatedService", task: "Task") -> None: ...
    def complete_deployment(self, service: "SimulatedService", deployment: "SimulatedDeployment") -> None: ...
    def roll_back(self, service: "SimulatedService", failed: "SimulatedDeployment", target: "SimulatedDeployment", reason: str = "") -> None: ...
    def record_moves(self, service: "SimulatedService", record: "SimulatedServiceDeployment", status: str, reason: str = "") -> None: ...
    def alarm_states(self, service: "SimulatedService", names: list[str]) -> dict[str, str]: ...
    def hook_answer(self, target_arn: str, stage: str, call: int) -> str: ...
    def hook_id(self) -> str: ...
