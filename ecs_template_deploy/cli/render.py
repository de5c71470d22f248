"""Print, as JSON, the task definition a deploy would register.

The output is a RegisterTaskDefinition request: `aws ecs
register-task-definition --cli-input-json file://out.json` accepts it. It holds
the template's plain `environment` values as they are (stderr says so);
`--mask` masks those that look secret, for output that goes into logs.
"""
from __future__ import annotations

import argparse

from ..errors import EXIT_OK
from ..plan import DeployRequest, prepare
from ..secrets import environment_values, mask_definition
from .common import Context, add_image_arguments, add_target_arguments, image_selection


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)
    parser.add_argument("--mask", action="store_true",
                        help="mask environment values that look secret (the output is then not for registering)")


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
    definition = plan.definition
    values = environment_values(definition)
    if args.mask:
        definition, masked = mask_definition(definition)
        context.warn(f"masked {masked} of {values} environment value(s) that look secret; "
                     "this output is for reading, not for registering")
    elif values:
        context.warn(f"the output holds {values} environment value(s) in clear, as the template declares them: "
                     "pass --mask before it goes into a log (and keep secrets in `secrets`, not `environment`)")
    context.print_json(definition)
    return EXIT_OK
