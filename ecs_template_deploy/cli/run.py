"""Run a one-off task of the revision a deploy would roll out (a migration, a job), wait for it, exit with its code.

Renders the template with the image options (registering the revision, or
reusing it, as deploy would), starts one task where the service's tasks run
(its network configuration and launch settings), with --command and --env as
overrides of one container, streams its state and exits with that
container's exit code. A task that never runs to an exit (it fails to start,
is stopped, or is still running at --timeout) exits 6.
"""
from __future__ import annotations

import argparse
import shlex

from ..deploy import registered_revision
from ..errors import BadInputError, TaskFailedError
from ..oneoff import OneOff, launch_settings, pick_container, run_task
from ..plan import prepare
from ..registry import check_pushed
from ..resources import fetch_task_definition
from .common import Context, add_image_arguments, add_target_arguments, positive_seconds
from .render import request_from

DEFAULT_TIMEOUT = 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)
    add_task_arguments(parser)
    task = parser.add_argument_group("waiting")
    task.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                      help=f"stop waiting after this long (default {DEFAULT_TIMEOUT:g}; the task keeps running)")
    task.add_argument("--poll-interval", type=positive_seconds, default=5.0, metavar="SECONDS",
                      help="seconds between looks at the task (default 5)")


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    task = parser.add_argument_group("the one-off task")
    task.add_argument("--command", metavar="CMD", dest="task_command",  # `command` is the subcommand's name
                      help="the container's command, as a shell would split it (default: the task definition's)")
    task.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                      help="an environment variable for the task's container (repeatable)")
    task.add_argument("--container", metavar="NAME",
                      help="the container whose command, environment and exit code count (default: the only essential one)")


def _parsed(command: str | None, env: list[str]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    try:
        words = tuple(shlex.split(command)) if command else ()
    except ValueError as err:
        raise BadInputError(f"--command {command!r} does not split like a shell command ({err}): check the quotes") from err
    if command is not None and not words:
        raise BadInputError("--command is empty: give the command the task runs")
    pairs = []
    for item in env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise BadInputError(f"--env {item!r} is not NAME=VALUE")
        pairs.append((name, value))
    return words, tuple(pairs)


def check_task_options(plan, command: str | None, env: list[str], container: str | None) -> None:
    """Everything about the one-off task, checked before anything is registered or run."""
    _parsed(command, env)
    pick_container(plan.template, container)


def job_from(context: Context, cluster: str, plan, revision: str, command: str | None, env: list[str],
             container: str | None) -> OneOff:
    words, pairs = _parsed(command, env)
    definition = fetch_task_definition(context.ecs, revision, "the revision to run")
    return OneOff(cluster=cluster, task_definition=definition, container=pick_container(definition, container),
                  command=words, environment=pairs, network=launch_settings(plan.service))


def run(args: argparse.Namespace, context: Context) -> int:
    plan = prepare(context.ecs, request_from(args))
    check_task_options(plan, args.task_command, args.env, args.container)
    if context.ecr_for is not None:
        check_pushed(context.ecr_for, plan.images, unchanged=plan.current.images, warn=context.warn)
    revision = registered_revision(context.ecs, plan, clock=context.clock, journal=context.journal, sink=context.sink)
    job = job_from(context, args.cluster, plan, revision, args.task_command, args.env, args.container)
    end = run_task(context.ecs, job, clock=context.clock, timeout=args.timeout, poll_interval=args.poll_interval,
                   sink=context.sink, journal=context.journal)
    context.result = {"kind": "result", "taskArn": end.task_arn, "exitCode": end.exit_code, "stopCode": end.stop_code,
                      "stoppedReason": end.reason, "taskDefinitionArn": revision, "message": end.describe()}
    if end.exit_code is None:
        raise TaskFailedError(end.describe())
    if not context.json:
        context.print(end.describe())
    return end.exit_code
