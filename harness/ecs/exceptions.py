"""ECS's errors, named after its error codes, for the simulator's answers.

moto's own ECS exceptions are reused where they exist (same code, same HTTP
status), the ones moto lacks are defined here: one place to find them all.
"""
from __future__ import annotations

from moto.ecs.exceptions import (  # noqa: F401 - re-exported: the simulator's errors come from here
    ClusterNotFoundException, ECSException, InvalidParameterException, ServiceNotFoundException,
)


class ServiceNotActiveException(ECSException):
    def __init__(self) -> None:
        super().__init__("ServiceNotActiveException", "Service was not ACTIVE.")


class ServiceDeploymentNotFoundException(ECSException):
    def __init__(self, arn: str) -> None:
        super().__init__("ServiceDeploymentNotFoundException", f"The service deployment {arn} does not exist.")


class ConflictException(ECSException):
    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)
