"""Show field by field what a deploy would change in the service's task definition.

Values of environment entries whose name looks secret (PASSWORD, SECRET,
TOKEN, KEY, ...) are masked. Provenance tags are left out.
"""
from __future__ import annotations

import argparse
import json

from ..diff import diff
from ..errors import EXIT_OK
from .common import Context, add_image_arguments, add_target_arguments, short_name
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
    context.print(f"service {plan.service.name} runs {short_name(plan.current.arn)}; a deploy would render {plan.family} from {short_name(plan.template.arn)}")
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
