"""What every command shares: options, the AWS context built at the edge, output."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from ..clock import WALL, AwsTime, Clock
from ..errors import BadInputError, bounded, shown
from ..events import Sink, discard
from ..render import ImageSelection
from ..standing import Journal

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from boto3 import Session
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient


@dataclass
class Context:
    """Built once by `main`: the boto3 session, its ECS client, the clock, where output goes."""

    session: Session
    ecs: ECSClient
    cloudwatch: CloudWatchClient | None = None  # for --alarm
    elbv2: Any = None  # for check: target group health checks and deregistration delay (no elbv2 stubs in `lint`)
    ecr_for: Callable[[str], ECRClient] | None = None  # region -> ECR client, for checking that images are pushed
    json: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    # The clock commands wait with and stamp times by: AWS's time (`aws_time`'s) on
    # the local clock's ticks, which the harness makes its virtual clock's.
    clock: Clock = WALL
    aws_time: AwsTime = field(default_factory=AwsTime)
    sink: Sink = discard  # progress events, rendered for the terminal, CI or --json
    journal: Journal = field(default_factory=Journal)
    # deploy/rollback: their result object, printed last by `main` (the last JSON line with --json)
    result: dict[str, Any] | None = None

    def print(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def print_json(self, data: Any) -> None:
        json.dump(data, self.stdout, indent=2, sort_keys=False, default=str)
        self.stdout.write("\n")

    def warn(self, text: str) -> None:
        print(f"ecs-template-deploy: warning: {text}", file=self.stderr)


class Parser(argparse.ArgumentParser):
    """argparse with usage errors in the tool's one-line form (exit 2, nothing changed):
    the values argparse echoes cut and escaped, and what to do said."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"ecs-template-deploy: error: {bounded(message)}{_usage_fix(message)} (see {self.prog} --help)\n")


# argparse's own messages, by what they say -> what to do about them (its other messages,
# and our types', say it already: "invalid choice: ... (choose from ...)")
_USAGE_FIXES = (
    ("the following arguments are required", ": pass each with its value"),
    ("unrecognized arguments", ": check the spelling, and write a value that starts with '-' as --option=VALUE"),
    ("ambiguous option", ": use the option's full name"),
    ("expected one argument", ": give it a value (as --option=VALUE when the value starts with '-')"),
    ("ignored explicit argument", ": give that option no value"),
    ("not allowed with argument", ": pass only one of the two"),
)


def _usage_fix(message: str) -> str:
    return next((fix for said, fix in _USAGE_FIXES if said in message), "")


def common_parser() -> Parser:
    """Options every command accepts (as a parent parser, so they go after the command)."""
    parser = Parser(add_help=False)
    aws = parser.add_argument_group("AWS")
    aws.add_argument("--region", help="AWS region (default: as the AWS CLI v2 resolves it: AWS_REGION, AWS_DEFAULT_REGION, the profile's)")
    aws.add_argument("--profile", help="named profile from the AWS config files (default: AWS_PROFILE or the default chain)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return parser


def add_service_arguments(parser: argparse.ArgumentParser, *, or_release: str = "") -> argparse._ArgumentGroup:
    """--cluster and --service; with `or_release` (what the command does to a release),
    --release ID instead of --service: every service of the cluster that release changed."""
    target = parser.add_argument_group("target")
    target.add_argument("--cluster", required=True, help="ECS cluster name or ARN")
    target.add_argument("--service", required=not or_release,
                        help="ECS service name or ARN" + (" (or --release)" if or_release else ""))
    if or_release:
        target.add_argument("--release", metavar="ID",
                            help=f"instead of --service: {or_release} every service of --cluster that release "
                                 "(ecs-template-deploy release) changed, found by the record it wrote on them")
    return target


def service_or_release(args: argparse.Namespace, *, alone: tuple[str, ...] = ()) -> None:
    """Exactly one of --service and --release; options that only apply to one service refused with --release."""
    if args.service is not None and args.release is not None:
        raise BadInputError("--service and --release both given: pass --service NAME for one service, or --release ID "
                            "for every service a release changed")
    if args.service is None and args.release is None:
        raise BadInputError("no service named: pass --service NAME, or --release ID for every service a release changed")
    if args.release is not None:
        from ..manifest import RELEASE_ID

        if not RELEASE_ID.fullmatch(args.release):
            raise BadInputError(f"--release {shown(args.release)} is not a release id: give the id the release printed "
                                "(letters, digits, '.', '_' or '-')")
        for option in alone:
            if getattr(args, option.lstrip("-").replace("-", "_"), None) is not None:
                raise BadInputError(f"{option} applies to one service: drop it with --release (a release returns each "
                                    "service to its own known good)")


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    target = add_service_arguments(parser)
    target.add_argument(
        "--template", required=True,
        help="template task definition: family (its latest ACTIVE revision), family:revision or ARN",
    )
    target.add_argument(
        "--family",
        help="task definition family CD registers into (default: the template family without '-template')",
    )


def add_image_arguments(parser: argparse.ArgumentParser) -> None:
    images = parser.add_argument_group("image")
    images.add_argument(
        "--image", action="append", default=[], metavar="CONTAINER=IMAGE",
        help="image for one container (repeatable)",
    )
    images.add_argument(
        "--tag", help="replace the tag (or digest, if it starts with sha256:) of the containers in --repository, or of the only container",
    )
    images.add_argument("--repository", help="with --tag: the image repository whose containers get the tag")
    images.add_argument(
        "--keep-image", action="append", default=[], metavar="CONTAINER",
        help="deploy this container with the template's image as is (repeatable; e.g. a sidecar)",
    )


def image_selection(args: argparse.Namespace) -> ImageSelection:
    return ImageSelection.from_options(args.image, args.tag, args.repository, args.keep_image)


# The longest wait any option takes: ten years. Python's sleep and the clock's
# arithmetic overflow long before a float does, and nothing waits longer.
MAX_SECONDS = 10 * 365 * 86400
# The most any count option takes: ECS keeps at most 1,000,000 revisions per family.
MAX_COUNT = 1_000_000


N = TypeVar("N", int, float)


def _parsed(text: str, convert: Callable[[str], N], what: str) -> N:
    """``convert(text)`` of ASCII digits only (int() and float() also read other
    scripts' digits); else the one-line argparse error that ``text`` is not ``what``."""
    try:
        if not text.isascii():
            raise ValueError(text)
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not {what}") from None


def seconds(text: str, *, allow_zero: bool = False) -> float:
    """argparse type: validated while parsing, so a bad value changes nothing in AWS."""
    kind = "non-negative" if allow_zero else "positive"
    value = _parsed(text, float, "a number of seconds: give one like 600")
    if value != value or value == float("inf") or value < 0 or (value == 0 and not allow_zero):
        raise argparse.ArgumentTypeError(f"{shown(text, quoted=False)} must be a {kind} number of seconds: give one "
                                         "like 600")
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{shown(text, quoted=False)} seconds is more than ten years: give at most "
                                         f"{MAX_SECONDS}")
    return value


def positive_seconds(text: str) -> float:
    return seconds(text)


def non_negative_seconds(text: str) -> float:
    return seconds(text, allow_zero=True)


def whole_number(text: str, *, minimum: int, maximum: int = MAX_COUNT) -> int:
    value = _parsed(text, int, f"a whole number: give one like {max(minimum, 3)}")
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{shown(text, quoted=False)} must be {minimum} or more: give one like "
                                         f"{max(minimum, 3)}")
    if value > maximum:
        raise argparse.ArgumentTypeError(f"{shown(text, quoted=False)} is more than {maximum}: give at most {maximum}")
    return value


def at_least_one(text: str) -> int:
    return whole_number(text, minimum=1)


def at_least_zero(text: str) -> int:
    return whole_number(text, minimum=0)
