"""The simulator's timing profiles: each parameter's value and where it comes from.

  harness profiles                 the bundled profiles side by side
  harness profiles --markdown      the tables of docs/timing-profiles.md, sources included
  harness profiles --check FILE    read a profile file of your own, say what is wrong with it

`harness compare --profile NAME|FILE`, `pytest scenarios/ --profile NAME|FILE` and
`harness rehearse --profile NAME|FILE` replay under one.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from harness.ecs import profiles
from harness.ecs.params import Params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true", help="print the tables of docs/timing-profiles.md")
    parser.add_argument("--check", metavar="FILE", default=None, help="read a profile file and print its values")


def run(args: argparse.Namespace) -> int:
    try:
        chosen = (profiles.load(args.check),) if args.check else tuple(profiles.load(n) for n in profiles.BUNDLED)
    except profiles.ProfileError as err:
        print(f"harness profiles: error: {err}", file=sys.stderr)
        return 2
    if args.markdown:
        sys.stdout.write(profiles.markdown(chosen))
        return 0
    width = max(len(f.name) for f in fields(Params))
    print(f"{'parameter':<{width}}  " + "  ".join(f"{p.name:>10}" for p in chosen))
    for f in fields(Params):
        values = [getattr(p.params, f.name) for p in chosen]
        print(f"{f.name:<{width}}  " + "  ".join(f"{'none' if v is None else format(v, 'g'):>10}" for v in values))
    print("sources: harness profiles --markdown (docs/timing-profiles.md)")
    return 0
