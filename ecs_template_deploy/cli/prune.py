"""Deregister old revisions of the target family, keeping the newest N.

Never deregisters the revision the service runs, one a deployment of the
service still uses, a protected (known-good) one, or anything in the template
family.
"""
from __future__ import annotations

import argparse

from .. import knowngood
from ..errors import EXIT_OK, aws_call
from ..prune import PruneRequest, prune
from ..render import target_family
from ..resources import fetch_service, fetch_task_definition
from .common import Context, add_target_arguments, short_name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument("--keep", type=int, required=True, metavar="N", help="how many of the newest revisions to keep")
    parser.add_argument("--dry-run", action="store_true", help="say what would be deregistered, change nothing")


def request_from(args: argparse.Namespace, context: Context) -> PruneRequest:
    return PruneRequest(
        cluster=args.cluster,
        service=args.service,
        template=args.template,
        family=args.family,
        keep=args.keep,
        dry_run=args.dry_run,
        extra_protected=frozenset(_extra_protected(args, context)),
    )


def _extra_protected(args: argparse.Namespace, context: Context) -> set[str]:
    """The known-good revisions a rollback would return to (read-only lookups)."""
    family = target_family(fetch_task_definition(context.ecs, args.template).family, args.family)
    service = fetch_service(context.ecs, args.cluster, args.service)
    with aws_call("ecs:ListTagsForResource"):
        raw = context.ecs.list_tags_for_resource(resourceArn=service.arn).get("tags", [])
        tags = {t["key"]: t["value"] for t in raw}
        return knowngood.rollback_targets(context.ecs, family, service_tags=tags)


def run(args: argparse.Namespace, context: Context) -> int:
    result = prune(context.ecs, request_from(args, context))
    if context.json:
        context.print_json(result.to_dict())
        return EXIT_OK
    verb = "would deregister" if result.dry_run else "deregistered"
    context.print(f"family {result.family}: kept {len(result.kept)} newest ({', '.join(map(short_name, result.kept)) or 'none'})")
    for arn in result.protected:
        context.print(f"  kept {short_name(arn)}: {result.reasons[arn]}")
    context.print(f"{verb} {len(result.deregistered)}" + (f": {', '.join(map(short_name, result.deregistered))}" if result.deregistered else ""))
    return EXIT_OK
