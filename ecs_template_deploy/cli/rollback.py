"""Return the service to its last known-good revision (or --to REVISION) and wait until it is steady.

Known good means a deployment of that revision reached COMPLETED; the marks are
tags in AWS, so this works from any machine. Without --to, the target is the
last known-good revision other than the one the service runs now.
"""
from __future__ import annotations

import argparse

from ..errors import EXIT_OK
from ..rollback import roll_back
from .common import Context
from .wait import add_wait_arguments, make_watcher, print_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("target")
    target.add_argument("--cluster", required=True, help="ECS cluster name or ARN")
    target.add_argument("--service", required=True, help="ECS service name or ARN")
    target.add_argument(
        "--to", metavar="REVISION",
        help="revision to return to: N (in the family the service runs), family:N or an ARN "
             "(default: the last known-good revision other than the running one)",
    )
    add_wait_arguments(parser, deploy=False)


def run(args: argparse.Namespace, context: Context) -> int:
    watcher = make_watcher(args, context)
    report = roll_back(context.ecs, watcher, cluster=args.cluster, service=args.service, to=args.to)
    print_report(report, context)
    report.raise_for_outcome()
    return EXIT_OK
