"""Print, as JSON, the task definition a deploy would register.

The output is a RegisterTaskDefinition request: `aws ecs
register-task-definition --cli-input-json file://out.json` accepts it. It holds
the template's values as they are, secrets too: stderr says how many values
look secret and where.

--mask masks them, for output that goes into a log: what looks secret in any
field (environment, command, entryPoint, healthCheck, dockerLabels, log and
volume options, tags, ...), by name or by value (as `diff` does), becomes `***`
(only the secret part where the rest is useful: `postgres://admin:***@db/app`).
The `masked` field lists each masked path and why, and stderr says so too; that
field also makes the output a request AWS refuses, so a masked definition is
never registered by mistake.
"""
from __future__ import annotations

import argparse

from ..errors import EXIT_OK
from ..plan import DeployRequest, prepare
from ..secrets import environment_values, mask_definition, note
from .common import Context, add_image_arguments, add_target_arguments, image_selection


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)
    parser.add_argument("--mask", action="store_true",
                        help="mask every value that looks secret, in any field (the output is then not for registering)")


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
    masked_definition, masked = mask_definition(plan.definition)
    if args.mask:
        if masked:
            context.warn(f"{note(masked)}; this output is for reading, not for registering")
        context.print_json({**masked_definition, "masked": [m.to_dict() for m in masked]})
        return EXIT_OK
    if masked:
        context.warn(f"the output holds {len(masked)} value(s) that look secret, in clear, as the template declares "
                     f"them ({', '.join(m.path for m in masked)}): it is for register-task-definition; pass --mask "
                     "before it goes into a log (and keep secrets in `secrets`, not in the definition)")
    elif environment_values(plan.definition):
        context.warn(f"the output holds {environment_values(plan.definition)} environment value(s) in clear, as the "
                     "template declares them (none looks secret): pass --mask before it goes into a log")
    context.print_json(plan.definition)
    return EXIT_OK
