"""Show field by field what a deploy would change in the service's task definition.

Values of environment entries that look secret, by name (PASSWORD, TOKEN,
KEY, PAT, DSN, ...) or by value (a URL with a password, an AWS access key id,
a JWT, a long random token), are masked. Provenance tags are left out.
"""
from __future__ import annotations

import argparse
import json

from ..diff import diff
from ..errors import EXIT_OK
from ..resources import short
from .common import Context, add_image_arguments, add_target_arguments
from .render import request_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)


def run(args: argparse.Namespace, context: Context) -> int:
    result = diff(context.ecs, request_from(args))
    if context.json:
        context.print_json(result.to_dict())
        return EXIT_OK
    plan = result.plan
    context.print(f"service {plan.service.name} runs {short(plan.current.arn)}; a deploy would render {plan.family} from {short(plan.template.arn)}")
    if result.unchanged:
        context.print("no changes: a deploy would register nothing")
        return EXIT_OK
    if not result.changes:
        context.print("no field changes (only the family); a deploy would register a new revision")
    for change in result.changes:
        sign = {"added": "+", "removed": "-", "changed": "~"}[change.kind]
        if change.kind == "added":
            context.print(f"  {sign} {change.path}: {_show(change.new)}")
        elif change.kind == "removed":
            context.print(f"  {sign} {change.path}: {_show(change.old)}")
        else:
            context.print(f"  {sign} {change.path}: {_show(change.old)} -> {_show(change.new)}")
    return EXIT_OK


def _show(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
