"""The comparison report: merged from shards run on several machines, or photographed.

  harness report merge SHARD_DIR... --out REPORT
  harness report screenshot REPORT/report.html --out PNG   the top of the page, in headless Chromium

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
    shot = actions.add_parser("screenshot", help="the top of report.html as a PNG, as a reader first sees it")
    shot.add_argument("html", metavar="REPORT_HTML", help="a report.html (harness compare writes report/report.html)")
    shot.add_argument("--out", required=True, metavar="PNG", help="the PNG to write")
    shot.add_argument("--width", type=int, default=1280, help="viewport width in pixels (default 1280)")
    shot.add_argument("--height", type=int, default=900, help="viewport height in pixels (default 900)")


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    if args.action == "screenshot":
        return _screenshot(args)
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


def _screenshot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.report.browser import NoBrowser, screenshot

    html, png = Path(args.html), Path(args.out)
    if not html.is_file():
        print(f"harness report screenshot: error: no report at {html}: run `harness compare` first "
              "(it writes report/report.html)", file=sys.stderr)
        return 2
    try:
        logged = screenshot(html, png, args.width, args.height)
    except NoBrowser as err:
        print(f"harness report screenshot: error: {err}", file=sys.stderr)
        return 2
    for line in logged:  # a page that logs is a page that broke somewhere: say so, still write the picture
        print(f"harness report screenshot: the page logged: {line}", file=sys.stderr)
    print(f"{png} ({args.width}x{args.height} of {html})")
    return 1 if logged else 0

