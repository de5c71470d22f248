"""The comparison report: merged from shards run on several machines, or photographed.

  harness report merge SHARD_DIR... --out REPORT
  harness report screenshot REPORT/report.html --out PNG   the top of the page, in headless Chromium
  harness report readme REPORT [--into README.md]   put the run's guide, table and matrix into the README

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
    readme = actions.add_parser("readme", help="put a run's 'What to pick', table and matrix into the README")
    readme.add_argument("report", metavar="REPORT", help="the --out directory of a harness compare run")
    readme.add_argument("--into", default="README.md", metavar="FILE", help="the file with the markers (default README.md)")


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    if args.action == "screenshot":
        return _screenshot(args)
    if args.action == "readme":
        return _readme(args)
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



# What `readme` replaces: the text between "<!-- report: NAME -->" and "<!-- /report -->" in the README
README_PARTS = ("what-to-pick", "table", "matrix")


def report_parts(markdown: str) -> dict[str, str]:
    """The parts of a report.md the README shows: the guide's table and its last line, the
    main table, the rollback matrix's table."""
    def table_after(heading: str) -> list[str]:
        lines = markdown.split(f"\n{heading}\n", 1)[1].splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("|"))
        end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
        return lines[start:end]

    for heading in ("## What to pick", "## The approaches compared", "## Rollback matrix"):
        if f"\n{heading}\n" not in markdown:
            raise ValueError(f"the report has no '{heading}' section: write it with harness compare first")
    guide = markdown.split("\n## What to pick\n", 1)[1].split("\n## ", 1)[0]
    every = [line for line in guide.splitlines() if line.startswith("Meets every line")]
    return {"what-to-pick": "\n".join([*table_after("## What to pick"), "", *every]),
            "table": "\n".join(table_after("## The approaches compared")),
            "matrix": "\n".join(table_after("## Rollback matrix"))}


def splice(text: str, parts: dict[str, str]) -> str:
    """``text`` with each part it marks (``<!-- report: NAME -->`` ... ``<!-- /report -->``, NAME one of
    ``README_PARTS``) replaced; a ValueError when it marks none, or opens a marker it does not close."""
    found = 0
    for name in README_PARTS:
        begin, end = f"<!-- report: {name} -->\n", "<!-- /report -->"
        if begin not in text:
            continue
        if end not in text.split(begin, 1)[1]:
            raise ValueError(f"'<!-- report: {name} -->' is not closed: add '<!-- /report -->' after it")
        head, rest = text.split(begin, 1)
        text = head + begin + parts[name] + "\n" + end + rest.split(end, 1)[1]
        found += 1
    if not found:
        raise ValueError(f"no '<!-- report: NAME -->' ... '<!-- /report -->' markers (NAME: {', '.join(README_PARTS)}): "
                         "add them where the parts go")
    return text


def _readme(args: argparse.Namespace) -> int:
    from pathlib import Path

    report, into = Path(args.report) / "report.md", Path(args.into)
    try:
        into.write_text(splice(into.read_text(), report_parts(report.read_text())))
    except (OSError, ValueError) as err:
        print(f"harness report readme: error: {err}", file=sys.stderr)
        return 2
    print(f"{into}: {', '.join(README_PARTS)} from {report}")
    return 0
