"""Waiting options and the result shared by `deploy` and `rollback`."""
from __future__ import annotations

import argparse

from ..rollback import Rollback, RolloutReport
from ..service_deploy import check_wait_options
from ..verdict import DEFAULT_FAILURE_THRESHOLD
from ..watch import DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT, ON_PAUSE, RolloutWatcher, WaitOptions
from .common import Context, at_least_one, non_negative_seconds, positive_seconds


def add_wait_arguments(parser: argparse.ArgumentParser, *, deploy: bool) -> None:
    wait = parser.add_argument_group("waiting and rollback")
    if deploy:
        wait.add_argument("--no-wait", action="store_true",
                          help="return once the service is updated; do not watch the rollout or roll back")
        wait.add_argument("--no-rollback", action="store_true",
                          help="on failure, leave the service on the new revision (exit 4) instead of returning "
                               "to the last known-good one")
        wait.add_argument("--bake", type=non_negative_seconds, default=0.0, metavar="SECONDS",
                          help="keep watching this long after the deployment completed; a failed task or an alarm "
                               "then still rolls back, and the revision is marked known good only after it passed "
                               "(recorded on the revision as it starts, so a run killed during it leaves it unproven)")
        wait.add_argument("--alarm", action="append", default=[], metavar="NAME",
                          help="a CloudWatch alarm whose ALARM fails the deploy during the rollout and the bake "
                               "(repeatable). One already in ALARM when the deploy starts is said on the first line; "
                               "the deploy goes ahead, and the bake passes only once it has left ALARM (within its "
                               "periods x (evaluation periods + 1)) and stayed out for the whole bake")
    wait.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                      help=f"give up waiting after this long (default {DEFAULT_TIMEOUT:g}); a deploy then rolls back")
    wait.add_argument("--poll-interval", type=positive_seconds, default=DEFAULT_POLL_INTERVAL, metavar="SECONDS",
                      help=f"seconds between looks at the service (default {DEFAULT_POLL_INTERVAL:g})")
    wait.add_argument("--failure-threshold", type=at_least_one, default=DEFAULT_FAILURE_THRESHOLD, metavar="N",
                      help="failed tasks of the new revision (crash, pull error, failed health check) that fail "
                           f"the deploy (default {DEFAULT_FAILURE_THRESHOLD}: the first)")
    wait.add_argument("--on-pause", choices=ON_PAUSE, default="wait",
                      help="when the deployment stops at a PAUSE lifecycle hook (blue/green, linear, canary): wait "
                           "for someone to answer it (default; `continue` answers it), answer CONTINUE or ROLLBACK "
                           "(ContinueServiceDeployment), or fail the deploy (which then rolls back as on any failure). "
                           "The pause is said, with its stage and when it expires, whatever is chosen. On the tool's "
                           "own way back to known good a pause is answered CONTINUE whatever is chosen")


def wait_options(args: argparse.Namespace) -> WaitOptions:
    """The parsed waiting options, checked together (argparse checked each one)."""
    options = WaitOptions(poll_interval=args.poll_interval, timeout=args.timeout,
                          failure_threshold=args.failure_threshold, wait=not getattr(args, "no_wait", False),
                          rollback=not getattr(args, "no_rollback", False), bake=getattr(args, "bake", 0.0),
                          alarms=tuple(getattr(args, "alarm", None) or ()), on_pause=args.on_pause)
    check_wait_options(options)
    return options


def rollback_for(context: Context, options: WaitOptions) -> Rollback:
    """What `rollback` returns the service with (a `deploy` goes through `service_deploy`)."""
    return Rollback(context.ecs, RolloutWatcher(context.ecs, clock=context.clock, options=options, sink=context.sink,
                                                journal=context.journal))


def conclude(report: RolloutReport, context: Context) -> int:
    """Hand the report to `main` (which prints it last) and raise for a bad outcome."""
    context.result = {"kind": "result", **report.to_dict()}
    report.raise_for_outcome()
    if not context.json:
        context.print(report.message)
    return report.exit_code
