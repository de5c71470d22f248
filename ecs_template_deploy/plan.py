"""Resolve and validate everything a deploy needs, changing nothing in AWS.

`prepare` reads the template, the service and the revision it runs, chooses the
images and renders the definition. render, diff and deploy all start here, so
every bad input fails before the first call that mutates AWS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .render import ImageSelection, choose_images, registrable_fields, registrable_view, render, same_definition, target_family
from .resources import check_drivable, check_family, fetch_service, fetch_task_definition, fetch_template
from .views import Service, TaskDefinition

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient


@dataclass(frozen=True)
class DeployRequest:
    """What to deploy where; the CLI builds one from its options."""

    cluster: str
    service: str
    template: str  # family (latest ACTIVE), family:revision, or ARN
    images: ImageSelection
    family: str | None = None  # target family; default: template family without "-template"


@dataclass(frozen=True)
class Plan:
    request: DeployRequest
    template: TaskDefinition
    service: Service
    current: TaskDefinition  # the revision the service runs now
    family: str
    images: dict[str, str]
    definition: dict[str, Any]  # the RegisterTaskDefinition request
    current_definition: dict[str, Any]  # `current` in the same shape, for comparison

    @property
    def unchanged(self) -> bool:
        """True when the service already runs this definition (provenance tags aside)."""
        return self.current.family == self.family and same_definition(self.definition, self.current_definition)


def prepare(ecs: ECSClient, request: DeployRequest) -> Plan:
    if request.family is not None:
        check_family(request.family)
    template = fetch_template(ecs, request.template)
    family = target_family(template.family, request.family)
    service = fetch_service(ecs, request.cluster, request.service)
    check_drivable(service)
    images = choose_images(template, request.images)
    fields = registrable_fields(ecs)
    definition = render(template, family, images, fields, service.arn)
    current = fetch_task_definition(ecs, service.task_definition, "the service's task definition")
    return Plan(
        request=request,
        template=template,
        service=service,
        current=current,
        family=family,
        images=images,
        definition=definition,
        current_definition=registrable_view(current, fields),
    )
