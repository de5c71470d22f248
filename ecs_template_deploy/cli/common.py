"""What every command shares: options, the AWS context built at the edge, output."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

from ..render import ImageSelection


@dataclass
class Context:
    """Built once by `main`: the boto3 session, its ECS client, where output goes."""

    session: Any
    ecs: Any
    json: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    # The clock commands wait with (deploy, rollback); the harness passes a virtual one.
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def print(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def print_json(self, data: Any) -> None:
        json.dump(data, self.stdout, indent=2, sort_keys=False, default=str)
        self.stdout.write("\n")


def common_parser() -> argparse.ArgumentParser:
    """Options every command accepts (as a parent parser, so they go after the command)."""
    parser = argparse.ArgumentParser(add_help=False)
    aws = parser.add_argument_group("AWS")
    aws.add_argument("--region", help="AWS region (default: as the AWS CLI resolves it: AWS_REGION, profile, ...)")
    aws.add_argument("--profile", help="named profile from the AWS config files (default: AWS_PROFILE or the default chain)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return parser


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("target")
    target.add_argument("--cluster", required=True, help="ECS cluster name or ARN")
    target.add_argument("--service", required=True, help="ECS service name or ARN")
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


def short_name(task_definition_arn: str) -> str:
    """`arn:...:task-definition/web:3` -> `web:3`."""
    return task_definition_arn.rsplit("/", 1)[-1]
