"""ecs-template-deploy: deploy an ECS service from a Terraform-managed template task definition.

Reads the template, injects the image, registers a revision in a family
Terraform does not manage, points the service at it, watches the rollout and
returns to the last known-good revision if it fails.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import shlex
import signal
import sys
import threading
from typing import Any, Iterator, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import InvalidRegionError, NoRegionError, ProfileNotFound

from .. import __version__
from ..clock import Clock
from ..errors import (
    EXIT_AWS_ERROR, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK, NO_REGION_FIX, BadInputError,
    DeployToolError, Next, one_line,
)
from ..standing import Journal, look
from ..views import family_of, revision_name
from .common import Context, Parser, common_parser
from .output import renderer_for

PROG = "ecs-template-deploy"
RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10})

# name -> module exposing `add_arguments(parser)`, `run(args, context) -> int`
# and a docstring whose first line is the command's help.
COMMANDS: dict[str, str] = {
    "render": "ecs_template_deploy.cli.render",
    "diff": "ecs_template_deploy.cli.diff",
    "deploy": "ecs_template_deploy.cli.deploy",
    "prune": "ecs_template_deploy.cli.prune",
    "status": "ecs_template_deploy.cli.status",
    "rollback": "ecs_template_deploy.cli.rollback",
    "run": "ecs_template_deploy.cli.run",
    "policy": "ecs_template_deploy.cli.policy",
    "check": "ecs_template_deploy.cli.check",
}


class ReaderMayLeave(io.TextIOBase):
    """stdout whose reader may go away (`render | head`, a log shipper that dies):
    once the pipe breaks, the rest of the output is dropped and the command carries
    on, because a deploy must not stop halfway, its rollout unwatched, for want of
    a reader. The outcome still reaches stderr and the exit code."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self.gone = True
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.gone = True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def writable(self) -> bool:
        return True


@contextlib.contextmanager
def _stdout_reader_may_leave() -> Iterator[ReaderMayLeave]:
    guarded = ReaderMayLeave(sys.stdout)
    try:
        with contextlib.redirect_stdout(guarded):
            yield guarded
    finally:
        guarded.flush()  # a break shows here, where it can be caught, not in the interpreter's flush at exit
    if guarded.gone:  # keep the interpreter's own flush at exit from tracing back on the broken pipe
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), guarded.stream.fileno())


class Stopped(BaseException):
    """SIGTERM (a cancelled CI job) while a command runs: report, then exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    parent = common_parser()
    modules = {}
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        doc = (module.__doc__ or "").strip()
        module.add_arguments(sub.add_parser(name, parents=[parent], help=doc.splitlines()[0], description=doc))
    return parser, modules


def build_context(args: argparse.Namespace, session: Any = None) -> Context:
    """The one place boto3 sessions and clients are made."""
    region = args.region
    try:
        if session is None:
            # As the AWS CLI v2 resolves it: AWS_REGION first (boto3 alone reads only
            # AWS_DEFAULT_REGION, and CI actions often set just AWS_REGION), then boto3's own.
            region = region or os.environ.get("AWS_REGION") or None
            session = boto3.Session(profile_name=args.profile, region_name=region)
        # Adaptive retries: a deploy polls for minutes and must ride out throttling.
        ecs = session.client("ecs", region_name=region, config=RETRIES)
        cloudwatch = session.client("cloudwatch", region_name=region, config=RETRIES)
        elbv2 = session.client("elbv2", region_name=region, config=RETRIES)
    except ProfileNotFound as err:
        raise BadInputError(f"AWS profile {args.profile!r} not found: check --profile or AWS_PROFILE against ~/.aws/config") from err
    except NoRegionError as err:
        raise BadInputError(f"no AWS region configured: {NO_REGION_FIX}") from err
    except InvalidRegionError as err:
        raise BadInputError(f"region {err.kwargs.get('region_name', args.region)!r} is not a region name: "
                            "pass --region like us-east-1 (or fix AWS_REGION / AWS_DEFAULT_REGION)") from err
    ecr_clients: dict[str, Any] = {}

    def ecr_for(region: str) -> Any:  # images may live in another region's registry
        if region not in ecr_clients:
            ecr_clients[region] = session.client("ecr", region_name=region, config=RETRIES)
        return ecr_clients[region]

    return Context(session=session, ecs=ecs, cloudwatch=cloudwatch, elbv2=elbv2, ecr_for=ecr_for, json=args.json,
                   sink=renderer_for(sys.stdout, json_lines=args.json, environ=os.environ))


def next_command(step: Next, args: argparse.Namespace, argv: list[str], journal: Journal | None = None) -> str:
    """The one command that finishes the job, ready to paste."""
    if step is Next.NOTHING:
        return ""
    if step is Next.RERUN:
        return shlex.join([PROG, *argv])
    aws = [option for name in ("region", "profile") if getattr(args, name, None)
           for option in (f"--{name}", getattr(args, name))]
    named: list[str] = []
    if step is Next.ROLLBACK and journal is not None and journal.resume_to:
        # nothing is known good: the revision to return to is a person's call, named with --to
        to = revision_name(journal.resume_to)
        running = journal.last_seen.task_definition if journal.last_seen is not None else ""
        named = ["--to", to] + (["--family", family_of(to)] if family_of(to) != family_of(running) else [])
    return shlex.join([PROG, step.value, "--cluster", args.cluster, "--service", args.service, *named, *aws])


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """A cancelled CI job gets SIGTERM: unwind and say where things stand (SIGINT
    already arrives as KeyboardInterrupt). Only the main thread can set handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        raise Stopped(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _finish(context: Context | None, args: argparse.Namespace, argv: list[str], code: int, error: str = "",
            step: Next = Next.NOTHING) -> int:
    """Print the end of a command: warnings, the error, where things stand and the
    command that finishes the job; with --json, the result object as the last line."""
    journal = context.journal if context is not None else Journal()
    failed = code not in (EXIT_OK, EXIT_ROLLED_BACK)
    if failed and step is Next.NOTHING and (journal.service_changed or code == EXIT_AWS_ERROR):
        step = Next.RERUN  # picks up where this run stopped (or, before any change, simply tries again)
    if step is Next.RERUN and journal.resume is not None:
        step = journal.resume  # the release failed: running the same deploy again would release it again
    standing = None
    if context is not None and code != EXIT_OK and hasattr(args, "service") \
            and (journal.service_changed or code not in (EXIT_BAD_INPUT, EXIT_AWS_ERROR, EXIT_CHECK_FAILED)):
        standing = look(context.ecs, args.cluster, args.service, journal, context.clock)
    command = next_command(step, args, argv, journal) if failed else ""
    stderr = context.stderr if context is not None else sys.stderr
    if error and code == EXIT_AWS_ERROR and not journal.service_changed:
        error = f"{error}; the service was not changed"
    lines = [f"warning: {warning}" for warning in journal.warnings]
    if error:
        lines.append(f"error: {error}")
    if standing is not None:  # the service may have changed: where it stands, what finishes the job
        lines.append(f"now: {standing.line()}")
        if journal.actions:
            lines.append(f"done: {'; '.join(journal.actions)}")
        if command:
            lines.append(f"next: {command}")
    if context is not None and context.json:
        result = dict(context.result or {"kind": "result"})
        result.update(exitCode=code, actions=journal.actions, warnings=journal.warnings, next=command or None)
        if error:
            result.update(error=error, message=error)
        if standing is not None:
            result["standing"] = standing.to_dict()
        if context.result is not None or code != EXIT_OK:  # streaming commands, and every failure
            context.stdout.write(json.dumps(result, default=str) + "\n")
        lines = [line for line in lines if line.startswith("error: ")]
    elif args.json and error:  # no context: the failure happened while building it
        print(json.dumps({"kind": "result", "exitCode": code, "error": error, "message": error}))
    for line in lines:
        print(f"{PROG}: {line}", file=stderr)
    return code


def main(argv: list[str] | None = None, *, session: Any = None, clock: Any = None) -> int:
    """Run one command; return its exit code (see the README's table).

    `session` lets a caller (a test, the harness) pass a prepared boto3 Session;
    `clock` (with `now()` and `sleep(seconds)`) replaces the wall clock for waiting.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, modules = build_parser()
    with _stdout_reader_may_leave():
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # argparse: --help/--version (0) or a usage error (2, printed on one line)
            return int(exit_.code or 0)
        return _run(args, argv, modules, session, clock)


def _run(args: argparse.Namespace, argv: list[str], modules: dict[str, Any], session: Any, clock: Any) -> int:
    context: Context | None = None
    with _sigterm_as_exception():
        try:
            context = build_context(args, session)
            if clock is not None:  # anything with now() and sleep(seconds), e.g. the harness's VirtualClock
                context.clock = Clock(clock.now, clock.sleep)
            code = modules[args.command].run(args, context)
            return _finish(context, args, argv, code)
        except DeployToolError as err:  # our own words (AWS's parts were bounded where they came in): one line
            return _finish(context, args, argv, err.exit_code, " ".join(str(err).split()), err.next)
        except (Stopped, KeyboardInterrupt) as stop:
            signum = stop.signum if isinstance(stop, Stopped) else signal.SIGINT
            name = signal.Signals(signum).name
            return _finish(context, args, argv, 128 + signum, f"stopped by {name} before the command finished",
                           Next.RERUN)
        except Exception as err:  # a bug: still say where things stand, never exit 1 ("rolled back")
            changed = context is not None and context.journal.service_changed
            return _finish(context, args, argv, EXIT_NOT_RECOVERED if changed else EXIT_AWS_ERROR,
                           f"internal error: {type(err).__name__}: {one_line(str(err))} (a bug: please report it)",
                           Next.RERUN)

