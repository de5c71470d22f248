"""Return the service to its last known-good revision (or --to REVISION) and wait until it is steady.

Known good means proven good: a deploy of this tool saw the revision's bake
pass on this service, or a person named it with --to. The marks are tags in
AWS, so this works from any machine. Without --to, the target is the last
known-good revision other than the one the service runs now; if a rollback to
a known-good revision is already in progress (a killed run's), it is followed
to its end instead. --to names its target known good once it is steady; on the
revision the service already runs, steady, it changes nothing and only marks it.
"""
from __future__ import annotations

import argparse

from ..errors import BadInputError
from ..manifest import Watch
from ..release import rollback_release
from .common import Context, add_service_arguments, service_or_release
from .release import conclude as released
from .wait import add_wait_arguments, conclude, rollback_for, wait_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = add_service_arguments(parser, or_release="return to its known good")
    target.add_argument(
        "--to", metavar="REVISION",
        help="revision to return to: N (in the family the service runs), family:N or an ARN "
             "(default: the last known-good revision other than the running one)",
    )
    target.add_argument(
        "--family", help="with --to: the family to return to, when it is not the one the service runs",
    )
    add_wait_arguments(parser, deploy=False)


def run(args: argparse.Namespace, context: Context) -> int:
    service_or_release(args, alone=("--to", "--family"))
    if args.release is not None:
        options = wait_options(args)
        report = rollback_release(context.ecs, args.cluster, args.release, clock=context.clock, sink=context.sink,
                                  poll_interval=options.poll_interval, journal=context.journal,
                                  watch=Watch(timeout=options.timeout, failure_threshold=options.failure_threshold,
                                              on_pause=options.on_pause))
        return released(report, context, args, clusters=[args.cluster], rollback=True)
    if args.family is not None and args.to is None:  # the target comes from the known-good marks, in the running family
        raise BadInputError("--family only applies with --to: pass --to REVISION (e.g. --to web:3) with it, or "
                            "drop --family to return to the last known-good revision")
    rollback = rollback_for(context, wait_options(args))
    return conclude(rollback.roll_back(args.cluster, args.service, to=args.to, family=args.family), context)
