"""Waiting options and the result shared by `deploy` and `rollback`."""
from __future__ import annotations

import argparse

from ..errors import BadInputError
from ..rollback import Rollout, RolloutReport
from ..verdict import DEFAULT_FAILURE_THRESHOLD
from ..watch import DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT, RolloutWatcher, WaitOptions
from .common import Context, at_least_one, positive_seconds


def add_wait_arguments(parser: argparse.ArgumentParser, *, deploy: bool) -> None:
    wait = parser.add_argument_group("waiting and rollback")
    if deploy:
        wait.add_argument("--no-wait", action="store_true",
                          help="return once the service is updated; do not watch the rollout or roll back")
        wait.add_argument("--no-rollback", action="store_true",
                          help="on failure, leave the service on the new revision (exit 4) instead of returning "
                               "to the last known-good one")
    wait.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                      help=f"give up waiting after this long (default {DEFAULT_TIMEOUT:g}); a deploy then rolls back")
    wait.add_argument("--poll-interval", type=positive_seconds, default=DEFAULT_POLL_INTERVAL, metavar="SECONDS",
                      help=f"seconds between looks at the service (default {DEFAULT_POLL_INTERVAL:g})")
    wait.add_argument("--failure-threshold", type=at_least_one, default=DEFAULT_FAILURE_THRESHOLD, metavar="N",
                      help="failed tasks of the new revision (crash, pull error, failed health check) that fail "
                           f"the deploy (default {DEFAULT_FAILURE_THRESHOLD}: the first)")


def wait_options(args: argparse.Namespace) -> WaitOptions:
    """The parsed waiting options, checked together (argparse checked each one)."""
    if args.poll_interval > args.timeout:
        raise BadInputError(f"--poll-interval {args.poll_interval:g} is longer than --timeout {args.timeout:g}: "
                            "poll more often than the deploy may take")
    no_wait = getattr(args, "no_wait", False)
    no_rollback = getattr(args, "no_rollback", False)
    if no_wait and no_rollback:
        raise BadInputError("--no-rollback has no effect with --no-wait (nothing is watched): pass one of them")
    return WaitOptions(poll_interval=args.poll_interval, timeout=args.timeout,
                       failure_threshold=args.failure_threshold, wait=not no_wait, rollback=not no_rollback)


def rollout_for(context: Context, options: WaitOptions) -> Rollout:
    return Rollout(context.ecs, RolloutWatcher(context.ecs, clock=context.clock, options=options, sink=context.sink,
                                               journal=context.journal))


def conclude(report: RolloutReport, context: Context) -> int:
    """Hand the report to `main` (which prints it last) and raise for a bad outcome."""
    context.result = {"kind": "result", **report.to_dict()}
    report.raise_for_outcome()
    if not context.json:
        context.print(report.message)
    return report.exit_code
