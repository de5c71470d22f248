"""Steady, said once: the harness's one answer to "has this service settled?", read
through the deploy tool's view of a DescribeServices answer
(``ecs_template_deploy.views.Service``).

Steady is botocore's ``services_stable`` waiter (``Service.is_stable``: one deployment,
every desired task running) and, where ECS reports one, a COMPLETED rollout: a
deployment with every task running that is still IN_PROGRESS (a blue/green bake, a
lifecycle hook) has not finished. (``Service.steady_on`` in the views trusts COMPLETED
without counting tasks: after a task of a completed deployment dies, the harness does
not call that steady.)
"""
from __future__ import annotations

from ecs_template_deploy.views import Service, revision_name


def is_steady(service: Service) -> bool:
    primary = service.primary
    return service.is_stable and primary is not None and primary.rollout_state in (None, "COMPLETED")


def steady_on(service: Service) -> str:
    """The revision (`web:N`) a steady service runs; "" while it is not steady."""
    primary = service.primary
    return revision_name(primary.task_definition) if primary is not None and is_steady(service) else ""
