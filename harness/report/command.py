"""The comparison report of a matrix run as shards, on several machines.

  harness report merge SHARD_DIR... --out REPORT

Each SHARD_DIR is the --out of one `harness compare --shard K/N` (all N of
them, any order). The shards are checked to be the parts of one run (same
code, versions and options; every shard once; every test in exactly one) before
anything is written; then REPORT gets report.md/json/html, the chart and the
not-measured list, the same as one `harness compare` would have written.
"""
from __future__ import annotations

import argparse
import sys

from rich.console import Console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    merge = actions.add_parser("merge", help="join the results of every shard into one report",
                               description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    merge.add_argument("shards", nargs="+", metavar="SHARD_DIR", help="the --out directory of each shard")
    merge.add_argument("--out", default="report", metavar="DIR", help="where the merged report goes (default: report/)")


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    from harness.report import print_table
    from harness.report.merge import MergeError, merge

    try:
        paths = merge(args.shards, args.out)
    except MergeError as err:
        print(f"harness report merge: error: {err}", file=sys.stderr)
        return 2
    console = console or Console()
    print_table(paths.table, console)
    console.print(f"report: {paths.markdown}, {paths.json}, {paths.html}" + (f", {paths.png}" if paths.png else ""))
    return 0
