"""The comparison report: `write_reports(results, out_dir)` writes

- ``report.md``   the table (winner of each column marked), "what the article
                  said / what we measured" (``claims``), the rollback matrix
                  (``matrix``) with a section per failure mode, per-approach
                  details, least-privilege policies, simulation parameters;
- ``report.json`` every figure, the winners and the parameters;
- ``report.html`` self-contained (inline CSS and SVG): the same, the matrix as a
                  heat map, per failure mode small multiples (approaches side by
                  side on one time axis) and, per approach, the timeline chart
                  of its failing deploy and rollback; with a sensitivity pass
                  (``sensitivity``), which rankings hold under every timing profile;
- ``rollback-timelines.png`` every approach's timeline, for the README
                  (only when at least one rollback timeline was measured);

and prints the table to ``console`` when one is given. ``results`` comes from
``harness.metrics.collect.load_results``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from harness.metrics.results import Results
from harness.report import guide, sensitivity
from harness.report.matrix import build_matrix
from harness.report.published import timelines_png
from harness.report.table import Table, build_table
from harness.report.writers import header_lines, markdown, print_table, report_html, report_json

__all__ = ["ReportPaths", "write_reports", "build_table", "print_table"]


@dataclass(frozen=True)
class ReportPaths:
    markdown: Path
    json: Path
    html: Path
    png: Path | None
    table: Table = field(repr=False)
    said: tuple[str, ...] = ()  # how the figures were made (Terraform, timing profile): the headers' lines
    pick: tuple[str, ...] = ()  # the "what to pick" guide, a line per constraint, for a terminal


def write_reports(results: Results, out_dir: str | os.PathLike[str], console: Console | None = None) -> ReportPaths:
    """Write every form of the report into ``out_dir`` (created if missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = build_table(results)
    matrix = build_matrix(results)
    held = sensitivity.build_sensitivity(results, matrix)
    pick = (*guide.terminal_lines(guide.what_to_pick(results, matrix)),
            *([f"Sensitivity to the timing profile (report.md, 'Sensitivity'): {held.summary()}"] if held is not None else []))
    paths = ReportPaths(out / "report.md", out / "report.json", out / "report.html", None, table,
                        tuple(header_lines(results)), pick)
    paths.markdown.write_text(markdown(results, table), encoding="utf-8")
    paths.json.write_text(report_json(results, table), encoding="utf-8")
    paths.html.write_text(report_html(results, table), encoding="utf-8")
    png_path = out / "rollback-timelines.png"
    png_path.unlink(missing_ok=True)  # never leave a chart of an earlier run beside this report
    png = timelines_png(results)
    if png is not None:
        png_path.write_bytes(png)
        paths = ReportPaths(paths.markdown, paths.json, paths.html, png_path, table, paths.said, paths.pick)
    if console is not None:
        print_table(table, console)
        for line in (*paths.said, *paths.pick):
            console.print(line, highlight=False)
    return paths
