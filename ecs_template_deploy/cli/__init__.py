"""ecs-template-deploy: deploy an ECS service from a Terraform-managed template task definition.

Reads the template, injects the image, registers a revision in a family
Terraform does not manage, points the service at it, watches the rollout and
returns to the last known-good revision if it fails.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import io
import json
import os
import re
import shlex
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, Iterator, TextIO

import boto3
import botocore
import botocore.loaders
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, InvalidRegionError, NoRegionError, ProfileNotFound

from .. import __version__
from ..clock import AwsTime, Clock
from ..errors import (
    EXIT_AWS_ERROR, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK, NO_REGION_FIX, BadInputError,
    DeployToolError, ForeignAnswerError, Next, aws_error, bounded, one_line, shown,
)
from ..secrets import mask
from ..standing import Journal, look
from ..views import family_of, revision_name
from .common import Context, Parser, common_parser
from .output import renderer_for

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecr import ECRClient

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
    "continue": "ecs_template_deploy.cli.pause",
    "release": "ecs_template_deploy.cli.release",
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
    """The complete parser (every command of COMMANDS) and each command's module, by name;
    builds, never runs: `main` parses with it, and the docs' command reference is made from it."""
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
    """The one place boto3 sessions and clients are made. The profile, region and
    endpoint they use are checked here, before any call: a bad one is exit 2 at
    once, not retries against an endpoint that does not exist."""
    built = session is None
    try:
        if built:
            session = boto3.Session(profile_name=_profile(args), region_name=_region_asked(args))
        region, source = _region(args, session, built)
        check_region(region, source, _loader(session))
        # Adaptive retries: a deploy polls for minutes and must ride out throttling.
        ecs = session.client("ecs", region_name=region, config=RETRIES)
        cloudwatch = session.client("cloudwatch", region_name=region, config=RETRIES)
        elbv2 = session.client("elbv2", region_name=region, config=RETRIES)
    except ProfileNotFound as err:
        raise BadInputError(f"AWS profile {shown(err.kwargs.get('profile', args.profile))} not found: check --profile "
                            "or AWS_PROFILE against ~/.aws/config") from err
    except NoRegionError as err:
        raise BadInputError(f"no AWS region configured: {NO_REGION_FIX}") from err
    except InvalidRegionError as err:
        raise BadInputError(f"region {shown(err.kwargs.get('region_name', args.region))} is not a region name: "
                            "pass --region like us-east-1 (or fix AWS_REGION / AWS_DEFAULT_REGION)") from err
    except ValueError as err:  # botocore's word for an endpoint URL it cannot use
        if not str(err).startswith("Invalid endpoint:"):
            raise
        url = str(err).partition(":")[2].strip()
        raise BadInputError(f"AWS endpoint {shown(url)} is not a URL: set {_endpoint_source(url)} to "
                            "http(s)://HOST[:PORT], or unset it to reach AWS itself") from err
    except BotoCoreError as err:  # the AWS configuration itself: a config file that does not parse, a bad mode
        raise BadInputError(f"the AWS configuration cannot be used: {one_line(str(err))}: check the AWS_* "
                            "environment variables and ~/.aws/config") from err
    ecr_clients: dict[str, ECRClient] = {}

    def ecr_for(region: str) -> ECRClient:  # images may live in another region's registry
        if region not in ecr_clients:
            ecr_clients[region] = expect_aws_answers(session.client("ecr", region_name=region, config=RETRIES))
            aws_time.attach(ecr_clients[region])
        return ecr_clients[region]

    aws_time = AwsTime()
    for client in (ecs, cloudwatch, elbv2):
        aws_time.attach(expect_aws_answers(client))
    return Context(session=session, ecs=ecs, cloudwatch=cloudwatch, elbv2=elbv2, ecr_for=ecr_for, json=args.json,
                   sink=renderer_for(sys.stdout, json_lines=args.json, environ=os.environ), clock=aws_time.clock,
                   aws_time=aws_time)


def _profile(args: argparse.Namespace) -> str | None:
    """--profile, checked: an empty one (or an empty AWS_PROFILE) is a mistake, not "the default"."""
    if args.profile == "":
        raise BadInputError("--profile is empty: pass a profile name from ~/.aws/config, or leave --profile out")
    if args.profile is None and os.environ.get("AWS_PROFILE") == "":
        raise BadInputError("AWS_PROFILE is set but empty: set it to a profile in ~/.aws/config, or unset it")
    profile: str | None = args.profile
    return profile


def _region_asked(args: argparse.Namespace) -> str | None:
    """The region asked for before boto3's own chain (AWS_DEFAULT_REGION, the
    profile's): --region, then AWS_REGION, as the AWS CLI v2 resolves it (boto3
    alone reads only AWS_DEFAULT_REGION, and CI actions often set just AWS_REGION)."""
    if args.region is not None:
        return args.region or None
    return os.environ.get("AWS_REGION") or None


def _region(args: argparse.Namespace, session: Any, built: bool) -> tuple[str, str]:
    """The region the clients will use and the setting it came from; empty ones refused
    (botocore would build `https://ecs..amazonaws.com` from one). A session the caller
    built (`built` false) carries its own region: the environment is not read for it."""
    if args.region is not None:
        if not args.region:
            raise BadInputError("--region is empty: pass a region like us-east-1, or leave --region out to use "
                                "AWS_REGION or the profile's")
        return args.region, "--region"
    region = session.region_name
    if built and os.environ.get("AWS_REGION") == "":
        raise BadInputError("AWS_REGION is set but empty: set it to a region like us-east-1, or unset it")
    if built and os.environ.get("AWS_DEFAULT_REGION") == "" and not region:
        raise BadInputError("AWS_DEFAULT_REGION is set but empty: set it to a region like us-east-1, or unset it")
    if region is None:
        raise BadInputError(f"no AWS region configured: {NO_REGION_FIX}")
    if region == "":
        raise BadInputError("the profile's region is empty: set region in ~/.aws/config, or pass --region")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if built and os.environ.get(name) == region:
            return region, name
    return region, "the profile's region" if built else "the session's region"


def _loader(session: Any) -> Any:
    """botocore's data loader: the session's (its cache is shared), or a fresh one."""
    core = getattr(session, "_session", None)
    return core.get_component("data_loader") if core is not None else botocore.loaders.create_loader()


@functools.lru_cache(maxsize=None)
def _region_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)  # the endpoint data's \w is [A-Za-z0-9_], as in the other SDKs reading it


def check_region(region: str, source: str, loader: Any) -> None:
    """`region` is one botocore's endpoint data knows: a region a partition lists,
    or a name of a partition's form (a region newer than this botocore). Anything
    else would go to an endpoint that does not exist, and be retried for a while."""
    partitions = loader.load_data("endpoints").get("partitions", [])
    if any(region in partition.get("regions", {}) or _region_pattern(partition.get("regionRegex", "^$")).fullmatch(region)
           for partition in partitions):
        return
    fix = "pass --region" if source == "--region" else f"fix {source} or pass --region"
    raise BadInputError(f"region {shown(region)} is not a region name: {fix} like us-east-1 (no AWS partition that "
                        f"botocore {botocore.__version__} knows has regions of that form)")


def _endpoint_source(url: str) -> str:
    """Which setting holds the endpoint URL botocore refused."""
    for name in ("AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
                 "AWS_ENDPOINT_URL"):
        if os.environ.get(name) == url:
            return name
    return "endpoint_url in the profile"


_JSON_PROTOCOLS = ("json", "rest-json")
_CBOR_MAPS = range(0xA0, 0xC0)  # an initial byte of major type 5: a map
_MEMBERS_EXPECTED = ("json", "smithy-rpc-v2-cbor")  # protocols whose answers carry the output's members in the body


def _not_the_protocol(protocol: str, operation: str, body: bytes) -> str:
    """What a 2xx `body` is instead of an answer in `protocol`; "" when it has the
    protocol's form (botocore parses the rest, and `after_call` judges what it found)."""
    if not body.strip():
        return ""
    if protocol == "smithy-rpc-v2-cbor":
        return "" if body[0] in _CBOR_MAPS else f"{len(body)} bytes that are not CBOR"
    try:
        text = body.decode("utf-8").lstrip()
    except UnicodeDecodeError:
        return f"{len(body)} bytes that are not UTF-8 text"
    if "<html" in text[:500].lower() or text[:20].lower().startswith("<!doctype"):
        return "an HTML page"
    if protocol in _JSON_PROTOCOLS and not text.startswith("{"):
        return f"text that is not JSON (starting {shown(text[:20])})"
    if protocol in ("query", "ec2"):
        root = re.match(r"(?:<\?xml[^>]*\?>\s*)?<(?:\w+:)?(\w+)", text)
        if not root or root.group(1) != f"{operation}Response":
            return f"text that is not its XML answer (starting {shown(text[:20])})"
    if protocol == "rest-xml" and not text.startswith("<"):
        return f"text that is not XML (starting {shown(text[:20])})"
    return ""


def expect_aws_answers(client: Any) -> Any:
    """Make `client` refuse a 2xx answer that is not the AWS API speaking (a proxy's
    or captive portal's page, another server at AWS_ENDPOINT_URL, cut-off bytes)
    with a ForeignAnswerError, which `aws_call` reports as exit 3 naming the
    endpoint, the action and what to check, rather than a KeyError or a
    UnicodeDecodeError further on. Before parsing, the body must have the
    protocol's form; after, a JSON or CBOR answer must hold at least one member of
    the operation's output (AWS writes its lists even when they are empty)."""
    endpoint = client.meta.endpoint_url
    model = client.meta.service_model
    protocol = getattr(model, "resolved_protocol", None) or model.protocol

    def before_parse(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        body = response_dict.get("body")
        if not 200 <= response_dict.get("status_code", 0) < 300 or not isinstance(body, (bytes, bytearray)):
            return  # error answers are parsed as errors; a streaming body is the caller's to read
        what = _not_the_protocol(protocol, operation_model.name, bytes(body))
        if what:
            raise ForeignAnswerError(endpoint=endpoint, operation=operation_model.name, what=what)

    def after_call(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        shape = model.output_shape
        if not 200 <= getattr(http_response, "status_code", 0) < 300 or protocol not in _MEMBERS_EXPECTED \
                or shape is None or not shape.members:
            return
        if not any(name in parsed for name in shape.members):
            members = ", ".join(list(shape.members)[:3])
            raise ForeignAnswerError(endpoint=endpoint, operation=model.name,
                                     what=f"an answer holding none of its members ({members})")

    client.meta.events.register("before-parse", before_parse)
    client.meta.events.register("after-call", after_call)
    return client


def next_command(step: Next, args: argparse.Namespace, argv: list[str], journal: Journal | None = None) -> str:
    """The one command that finishes the job, ready to paste."""
    if step is Next.NOTHING:
        return ""
    if step is Next.RERUN or getattr(args, "service", None) is None:
        # what looks secret in the command line (`run --command "migrate --password X"`) is not
        # repeated into the log: the reader puts it back as they passed it
        shown, found = mask(list(argv), "", "command")
        masked = bool(found)
        for index, word in enumerate(shown[:-1]):
            if word == "--env" and "=" in shown[index + 1]:  # --env values are never printed, only their names
                name, _, value = shown[index + 1].partition("=")
                masked = masked or bool(value)
                shown[index + 1] = f"{name}=***" if value else shown[index + 1]
        return shlex.join([PROG, *shown]) + (" (with the values shown as *** as you passed them)" if masked else "")
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
            step: Next = Next.NOTHING, *, read: bool = True) -> int:
    """Print the end of a command: warnings, the error, where things stand and the
    command that finishes the job; with --json, the result object as the last line."""
    journal = context.journal if context is not None else Journal()
    failed = code not in (EXIT_OK, EXIT_ROLLED_BACK)
    if failed and step is Next.NOTHING and (journal.service_changed or code == EXIT_AWS_ERROR):
        step = Next.RERUN  # picks up where this run stopped (or, before any change, simply tries again)
    if step is Next.RERUN and journal.resume is not None:
        step = journal.resume  # the release failed: running the same deploy again would release it again
    standing = None
    if context is not None and code != EXIT_OK and getattr(args, "service", None) \
            and (journal.service_changed or code not in (EXIT_BAD_INPUT, EXIT_AWS_ERROR, EXIT_CHECK_FAILED)):
        standing = look(context.ecs, args.cluster, args.service, journal, context.clock, read=read)
    command = (" && ".join(journal.next_commands) or next_command(step, args, argv, journal)) if failed else ""
    stderr = context.stderr if context is not None else sys.stderr
    if error and code == EXIT_AWS_ERROR and not journal.service_changed:
        error = f"{error}; the service was not changed"
    lines = [f"warning: {warning}" for warning in journal.warnings]
    if error:
        lines.append(f"error: {error}")
    if standing is not None or (journal.now and code != EXIT_OK):
        # the service may have changed: where it stands (each service of a release), what finishes the job
        lines.extend(f"now: {line}" for line in ([standing.line()] if standing is not None else journal.now))
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
        elif journal.now and code != EXIT_OK:
            result["now"] = list(journal.now)  # a release: one line per service
        if context.result is not None or code != EXIT_OK:  # streaming commands, and every failure
            context.stdout.write(json.dumps(result, default=str) + "\n")
        lines = [line for line in lines if line.startswith("error: ")]
    elif args.json and error:  # no context: the failure happened while building it
        print(json.dumps({"kind": "result", "exitCode": code, "error": error, "message": error}))
    for line in lines:
        print(f"{PROG}: {line}", file=stderr)
    return code


def main(argv: list[str] | None = None, *, session: Any = None, clock: Any = None) -> int:
    """Run one command; return its exit code (docs/deploy-tool/index.md has the table).

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
    with _sigterm_as_exception():
        context, code, error, step = _outcome(args, modules, session, clock)
        try:
            return _finish(context, args, argv, code, error, step)
        except (Stopped, KeyboardInterrupt):
            # A signal while the end was being said (its last look at the service): the
            # command had ended; say so from its own last look, with its own exit code,
            # never as an uncaught exception (exit 1 would read "rolled back").
            return _finish(context, args, argv, code, error, step, read=False)


def _outcome(args: argparse.Namespace, modules: dict[str, Any], session: Any, clock: Any
             ) -> tuple[Context | None, int, str, Next]:
    """Run the command: (its context, exit code, error line, what finishes the job)."""
    context: Context | None = None
    try:
        context = build_context(args, session)
        if clock is not None:  # anything with now() and sleep(seconds), e.g. the harness's VirtualClock
            context.aws_time.local = Clock(clock.now, clock.sleep)  # ticks; AWS's answers still set the time
        return context, modules[args.command].run(args, context), "", Next.NOTHING
    except DeployToolError as err:  # our own words (AWS's parts were bounded where they came in): one line
        return context, err.exit_code, bounded(" ".join(str(err).split())), err.next
    except (ClientError, BotoCoreError) as err:  # a call no aws_call wrapped: AWS's failure all the same, not a bug
        failure = aws_error(_operation(err), err)
        changed = context is not None and context.journal.service_changed
        code = EXIT_NOT_RECOVERED if changed and failure.exit_code == EXIT_AWS_ERROR else failure.exit_code
        return context, code, bounded(" ".join(str(failure).split())), failure.next
    except (Stopped, KeyboardInterrupt) as stop:
        signum = stop.signum if isinstance(stop, Stopped) else signal.SIGINT
        name = signal.Signals(signum).name
        return context, 128 + signum, f"stopped by {name} before the command finished", Next.RERUN
    except Exception as err:  # a bug: still say where things stand, never exit 1 ("rolled back")
        changed = context is not None and context.journal.service_changed
        return (context, EXIT_NOT_RECOVERED if changed else EXIT_AWS_ERROR,
                f"internal error: {type(err).__name__}: {one_line(str(err))} (a bug: please report it)", Next.RERUN)


def _operation(err: ClientError | BotoCoreError) -> str:
    """The API operation a botocore failure names, for a message."""
    return getattr(err, "operation_name", None) or getattr(err, "kwargs", {}).get("operation") or "an AWS call"
