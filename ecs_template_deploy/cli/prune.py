"""Deregister old revisions of the target family, keeping the newest N.

Never deregisters the revision the service runs, one a deployment of the
service still uses, one a rollback could return to, one registered less than
--min-age ago, or anything in the template family.
"""
from __future__ import annotations

import argparse

from ..errors import EXIT_OK
from ..prune import DEFAULT_MIN_AGE, PruneRequest, prune
from ..resources import short
from .common import Context, add_target_arguments, at_least_zero, non_negative_seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument("--keep", type=at_least_zero, required=True, metavar="N", help="how many of the newest revisions to keep")
    parser.add_argument("--min-age", type=non_negative_seconds, default=DEFAULT_MIN_AGE, metavar="SECONDS",
                        help=f"keep revisions registered less than this long ago (default {DEFAULT_MIN_AGE:g}): "
                             "a deploy may be about to use them")
    parser.add_argument("--dry-run", action="store_true", help="say what would be deregistered, change nothing")


def run(args: argparse.Namespace, context: Context) -> int:
    request = PruneRequest(cluster=args.cluster, service=args.service, template=args.template, family=args.family,
                           keep=args.keep, min_age=args.min_age, dry_run=args.dry_run)
    result = prune(context.ecs, request, clock=context.clock, journal=context.journal, sink=context.sink)
    if context.json:
        context.print_json(result.to_dict())
        return EXIT_OK
    verb = "would deregister" if result.dry_run else "deregistered"
    context.print(f"family {result.family}: kept {len(result.kept)} newest ({', '.join(map(short, result.kept)) or 'none'})")
    for arn in result.protected:
        context.print(f"  kept {short(arn)}: {result.reasons[arn]}")
    context.print(f"{verb} {len(result.deregistered)}" + (f": {', '.join(map(short, result.deregistered))}" if result.deregistered else ""))
    return EXIT_OK
