"""Render the template with the image, register it in the target family, update the service.

If the service already runs the same definition (provenance tags aside),
nothing is registered or updated: re-running a deploy is safe.
"""
from __future__ import annotations

import argparse
import json

from ..deploy import DeployResult, deploy
from ..errors import EXIT_OK
from ..plan import DeployRequest
from .common import Context, add_image_arguments, add_target_arguments, short_name
from .render import request_from
from .wait import add_wait_arguments, finish_deploy


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)
    add_wait_arguments(parser, deploy=True)


def run(args: argparse.Namespace, context: Context) -> int:
    request = request_from(args)
    result = deploy(context.ecs, request)
    report(result, context)
    return _after_update(result, request, args, context)


def report(result: DeployResult, context: Context) -> None:
    if context.json:
        # One line: the watch's progress events and result follow as JSON lines.
        context.stdout.write(json.dumps({"kind": "deploy", **result.to_dict()}, default=str) + "\n")
        return
    images = ", ".join(f"{name}={image}" for name, image in result.images.items())
    if not result.registered:
        context.print(
            f"nothing to deploy: service {result.service} already runs {short_name(result.task_definition_arn)} "
            f"with {images} from {short_name(result.template_arn)}"
        )
        return
    context.print(f"registered {short_name(result.task_definition_arn)} from {short_name(result.template_arn)} with {images}")
    context.print(
        f"updated service {result.service} in cluster {result.cluster}: "
        f"{short_name(result.previous_task_definition_arn)} -> {short_name(result.task_definition_arn)}"
    )


def _after_update(result: DeployResult, request: DeployRequest, args: argparse.Namespace, context: Context) -> int:
    """Hook for the watch step: wait for the rollout, judge it, roll back.

    Called after every deploy, changed or not (`result.updated` says which):
    a re-run after an interrupted deploy watches the rollout still in progress.
    Returns the command's exit code.
    """
    return finish_deploy(result, args, context)
