"""Waiting options and output shared by `deploy` and `rollback`.

Progress goes to stdout as the watcher sees it: coloured lines on a terminal,
plain lines in CI (or when piped), JSON lines with `--json`. The clock comes
from the context (`time` by default; the harness passes its virtual clock).
"""
from __future__ import annotations

import argparse
import json
import os

from ..deploy import DeployResult
from ..errors import EXIT_OK
from ..rollback import RolloutReport, see_through
from ..watch import DEFAULT_FAILURE_THRESHOLD, DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT, RolloutWatcher, renderer_for
from .common import Context


def positive_seconds(text: str) -> float:
    """argparse type: validated while parsing, so a bad value changes nothing in AWS."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number of seconds")
    return value


def at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


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


def make_watcher(args: argparse.Namespace, context: Context) -> RolloutWatcher:
    """The watcher for the parsed (already validated) waiting options."""
    return RolloutWatcher(
        context.ecs, now=context.now, sleep=context.sleep, poll_interval=args.poll_interval, timeout=args.timeout,
        failure_threshold=args.failure_threshold,
        sink=renderer_for(context.stdout, json_lines=context.json, environ=os.environ),
    )


def print_report(report: RolloutReport, context: Context) -> None:
    if context.json:
        context.stdout.write(json.dumps({"kind": "result", **report.to_dict()}, default=str) + "\n")
    elif report.exit_code == EXIT_OK:
        context.print(report.message)


def finish_deploy(result: DeployResult, args: argparse.Namespace, context: Context,
                  watcher: RolloutWatcher | None = None) -> int:
    """After `deploy` updated the service (or found nothing to change): watch, judge, roll back."""
    if args.no_wait:
        return EXIT_OK
    watcher = watcher or make_watcher(args, context)
    report = see_through(context.ecs, watcher, cluster=result.cluster, service=result.service,
                         task_definition=result.task_definition_arn, rollback=not args.no_rollback)
    print_report(report, context)
    report.raise_for_outcome()
    return EXIT_OK
