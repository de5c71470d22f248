"""moto's state as the simulator reads it: the one place the simulator reaches
moto's in-process backends (ECS's record of services and task definitions, ECR
images, CloudWatch alarms, ELBv2 listener rules, Application Auto Scaling).

moto keeps its backends in process-wide dictionaries keyed by account and
region; the simulator is handed one `MotoState` instead of importing them, so a
test can give it another, and every reach into moto is listed here.
"""
from __future__ import annotations

from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.ecr.models import ecr_backends
from moto.ec2.models import ec2_backends
from moto.ecs.models import Service as MotoService, ecs_backends
from moto.elbv2.models import elbv2_backends


def account_region(arn: str) -> tuple[str, str]:
    """`arn:aws:SERVICE:REGION:ACCOUNT:...` -> (account, region)."""
    fields = arn.split(":")
    return fields[4], fields[3]


class MotoState:
    def ecs(self, arn: str) -> Any:
        """moto's ECS backend of the account and region `arn` lives in."""
        account, region = account_region(arn)
        return ecs_backends[account][region]

    def service_shadow(self, service_arn: str) -> MotoService | None:
        """moto's record of a service (its tags, what Application Auto Scaling reads), or None."""
        return next((s for s in self.ecs(service_arn).services.values() if s.arn == service_arn), None)

    def task_definition(self, arn: str) -> Any:
        return self.ecs(arn).describe_task_definition(arn)

    def subnet(self, arn: str, subnet_id: str) -> tuple[str, str] | None:
        """(Availability Zone, CIDR block) of a subnet in the account and region of `arn`; None: moto has none such."""
        account, region = account_region(arn)
        for zone, subnets in ec2_backends[account][region].subnets.items():  # {zone: {subnet id: Subnet}}
            if subnet_id in subnets:
                return zone, subnets[subnet_id].cidr_block
        return None

    def ecr(self, account: str, region: str) -> Any:
        return ecr_backends[account][region]

    def cloudwatch(self, account: str, region: str) -> Any:
        return cloudwatch_backends[account][region]

    def elbv2(self, arn: str) -> Any:
        account, region = account_region(arn)
        return elbv2_backends[account][region]

    def autoscaling(self, arn: str) -> Any:
        account, region = account_region(arn)
        return applicationautoscaling_backends[account][region]
