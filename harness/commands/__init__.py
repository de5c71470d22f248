"""harness: replay the ways to split Terraform and CD for Amazon ECS against emulated
AWS (moto plus an ECS rollout simulator on a virtual clock) and compare them.

  harness compare    every approach through every scenario: the comparison report
  harness demo       the deploy tool (ecs-template-deploy) end to end, step by step
  harness serve      the emulator over HTTP, for Terraform, the AWS CLI or your own CD
  harness report     merge the shards of a comparison run on several machines (compare --shard K/N)
  harness localstack up|down|status   LocalStack in Docker for --backend localstack
  harness aws cleanup --run-id ID     remove what a run on real AWS left (a killed run)
  harness rehearse   predict one service's recovery from its real settings, and what would cut it
  harness profiles   the simulator's timing profiles, each value with its source
  harness docs       regenerate the docs' generated pages (the command reference); --check: are they current
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

# The harness's commands live in this package, one module each: the top layer, the
# only code that may import any other harness package (pyproject's import-linter contracts).
# name -> module exposing `add_arguments(parser)` and `run(args) -> int`
COMMANDS: dict[str, str] = {}
COMMANDS["serve"] = "harness.commands.serve"  # moto + ECS simulator over HTTP
COMMANDS["demo"] = "harness.commands.demo"  # the deploy tool end to end, step by step
COMMANDS["compare"] = "harness.commands.compare"  # the comparison report: scenarios over every approach
COMMANDS["report"] = "harness.commands.report"  # merge the shards of a matrix run on several machines
COMMANDS["localstack"] = "harness.commands.localstack"  # LocalStack in Docker for --backend localstack
COMMANDS["aws"] = "harness.commands.aws"  # real AWS: remove what a killed run left
COMMANDS["rehearse"] = "harness.commands.rehearse"  # one service's settings replayed: predicted recovery, levers
COMMANDS["profiles"] = "harness.commands.profiles"  # the timing profiles and their sources
COMMANDS["docs"] = "harness.commands.docs"  # the docs' generated pages: the command reference


class ExtraMissing(Exception):
    """A command module needs a package of the harness's extras that is not installed."""

    def __init__(self, name: str | None) -> None:
        super().__init__(name)
        self.name = name


def build_parser() -> argparse.ArgumentParser:
    """The complete `harness` parser, one subcommand per module of COMMANDS (its docstring is
    its help), built without running anything; ExtraMissing when an extra is not installed."""
    parser = argparse.ArgumentParser(prog="harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:  # the deploy tool's wheel alone: the harness's extras are not there
            if (err.name or "").split(".")[0] in ("harness", "ecs_template_deploy"):
                raise
            raise ExtraMissing(err.name) from err
        doc = (module.__doc__ or "").strip()
        module.add_arguments(sub.add_parser(name, help=doc.splitlines()[0], description=doc,
                                            formatter_class=argparse.RawDescriptionHelpFormatter))
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ExtraMissing as missing:
        print(f"harness: {missing.name} is not installed: the harness needs its extras: "
              "pip install 'ecs-template-deploy[harness]' (or python3 dev.py in a clone)", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    # build_parser imported every command's module: this only looks it up
    run: Callable[[argparse.Namespace], int] = importlib.import_module(COMMANDS[args.command]).run
    return run(args)
