"""Run a one-off task of the revision a deploy would roll out (a migration, a job), wait for it, exit with its code.

Renders the template with the image options (registering the revision, or
reusing it, as deploy would), starts one task where the service's tasks run
(its network configuration and launch settings), with --command and --env as
overrides of one container, streams its state and exits with that
container's exit code. A task that never runs to an exit (it fails to start,
is stopped, or is still running at --timeout) exits 6; one still running is
left running, and the same command again follows it to its end.
"""
from __future__ import annotations

import argparse
import re
import shlex

from ..deploy import registered_revision
from ..errors import BadInputError, Next, TaskFailedError, shown
from ..oneoff import OneOff, launch_settings, pick_container, run_task
from ..plan import Plan, prepare
from ..registry import check_pushed
from ..resources import fetch_task_definition
from ..secrets import MASK, mask_text
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


def _parsed(command: str | None, env: list[str], *, option: str = "--command") -> tuple[
        tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The command's words and the --env pairs, checked; `option` names the command in messages
    (deploy's --run-before is parsed here too)."""
    try:
        words = tuple(shlex.split(command)) if command else ()
    except ValueError as err:
        raise BadInputError(f"{option} {shown(command)} does not split like a shell command ({err}): check the "
                            "quotes") from err
    if command is not None and not words:
        raise BadInputError(f"{option} is empty: give the command the task runs")
    pairs = []
    for item in env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise BadInputError(f"--env {shown(item)} is not NAME=VALUE: give --env NAME=VALUE, e.g. "
                                "--env LOG_LEVEL=debug (--env NAME= for an empty value)")
        if not name.isprintable():
            raise BadInputError(f"--env {shown(item)}: the name holds a control character: give a name like "
                                "LOG_LEVEL")
        pairs.append((name, value))
    return words, tuple(pairs)


def check_task_options(plan: Plan | None, command: str | None, env: list[str], container: str | None, *,
                       option: str = "--command") -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Everything about the one-off task, checked before anything is registered or run (the
    container against the plan's template; no plan: not yet); the command's words and the --env
    pairs. The values are the user's (`--command "migrate --password X"`, `--env TOKEN=...`) and
    errors go into CI logs: an error about them is the same check's on them masked."""
    try:
        parsed = _parsed(command, env, option=option)
    except BadInputError:
        hidden_env = []
        for item in env:
            name, sep, value = item.partition("=")
            if sep:  # NAME=VALUE: the value is read under its name
                hidden_env.append(f"{name}={mask_text(value, name)[0]}" if name else f"={MASK}")
            else:  # not NAME=VALUE: a variable's name (upper case) is shown; anything else may be its value
                hidden_env.append(item if re.fullmatch(r"[A-Z_][A-Z0-9_]*", item) else MASK)
        try:  # nothing looks secret: the very same error
            _parsed(mask_text(command)[0] if command else command, hidden_env, option=option)
        except BadInputError as masked:
            raise BadInputError(str(masked)) from None  # not chained: the first error's text holds the values
        raise BadInputError(f"{option} or an --env is not valid where it holds something that looks secret (not "
                            f"shown): check the quotes in {option} and that each --env is NAME=VALUE") from None
    if plan is not None:
        pick_container(plan.template, container)
    return parsed


def job_from(context: Context, cluster: str, plan: Plan, revision: str, command: str | None, env: list[str],
             container: str | None) -> OneOff:
    words, pairs = check_task_options(None, command, env, container)
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
        failed = TaskFailedError(end.describe())
        if end.still_running:
            failed.next = Next.RERUN  # a re-run follows the task still running, never starts it twice
        raise failed
    if not context.json:
        context.print(end.describe())
    return end.exit_code
