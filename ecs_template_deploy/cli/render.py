"""Print, as JSON, the task definition a deploy would register.

The output is a RegisterTaskDefinition request: `aws ecs
register-task-definition --cli-input-json file://out.json` accepts it.
"""
from __future__ import annotations

import argparse

from ..errors import EXIT_OK
from ..plan import DeployRequest, prepare
from .common import Context, add_image_arguments, add_target_arguments, image_selection


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)


def request_from(args: argparse.Namespace) -> DeployRequest:
    return DeployRequest(
        cluster=args.cluster,
        service=args.service,
        template=args.template,
        images=image_selection(args),
        family=args.family,
    )


def run(args: argparse.Namespace, context: Context) -> int:
    plan = prepare(context.ecs, request_from(args))
    context.print_json(plan.definition)
    return EXIT_OK
