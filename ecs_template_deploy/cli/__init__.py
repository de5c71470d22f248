"""ecs-template-deploy: deploy an ECS service from a Terraform-managed template task definition.

Reads the template, injects the image, registers a revision in a family
Terraform does not manage, and points the service at it.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import NoRegionError, ProfileNotFound

from ..errors import BadInputError, DeployToolError
from .common import Context, common_parser

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
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
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
    try:
        if session is None:
            session = boto3.Session(profile_name=args.profile, region_name=args.region)
        # Adaptive retries: a deploy polls for minutes and must ride out throttling.
        ecs = session.client("ecs", region_name=args.region, config=RETRIES)
    except ProfileNotFound as err:
        raise BadInputError(f"AWS profile {args.profile!r} not found: check --profile or AWS_PROFILE against ~/.aws/config") from err
    except NoRegionError as err:
        raise BadInputError("no AWS region configured: pass --region or set AWS_REGION") from err
    return Context(session=session, ecs=ecs, json=args.json)


def main(argv: list[str] | None = None, *, session: Any = None, clock: Any = None) -> int:
    """Run one command; return its exit code (see the README's table).

    `session` lets a caller (a test, the harness) pass a prepared boto3 Session;
    `clock` (with `now()` and `sleep(seconds)`) replaces the wall clock for waiting.
    """
    parser, modules = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)
    try:
        context = build_context(args, session)
        if clock is not None:  # anything with now() and sleep(seconds), e.g. the harness's VirtualClock
            context.now, context.sleep = clock.now, clock.sleep
        return modules[args.command].run(args, context)
    except DeployToolError as err:
        message = str(err).replace("\n", " ")
        if args.json:
            print(json.dumps({"error": message, "exitCode": err.exit_code}))
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
