"""`harness` command line: one subcommand per module, registered here."""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> module exposing `add_arguments(parser)` and `run(args) -> int`
COMMANDS: dict[str, str] = {}
COMMANDS["serve"] = "harness.serve"  # moto + ECS simulator over HTTP
COMMANDS["demo"] = "harness.demo"  # main job: the deploy tool end to end, step by step
COMMANDS["compare"] = "harness.compare"  # the comparison report: scenarios over every approach


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = {}
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0]))
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
