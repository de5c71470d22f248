"""The report in four forms: a rich table for the terminal, report.md,
report.json and a self-contained report.html. All read the same ``Table``.

report.md and report.json are byte-identical for the same results: no wall
time, sorted keys, fixed float formatting. report.html embeds its CSS and its
SVG charts, so it opens offline.
"""
from __future__ import annotations

import html
import json
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table as RichTable

from harness.metrics.columns import Column
from harness.metrics.results import CdPermissions, Clobber, DriftAfterDeploy, Results, Rollback
from harness.report import charts
from harness.report.table import WINNER_MARK, Table, approach_label, json_value

SCHEMA_VERSION = 1

TITLE = "Terraform and CD for ECS: the approaches compared"

WINNER_RULES = {
    "lower": "lowest is best",
    "higher": "highest is best",
    "true": "yes is best",
    "false": "no is best",
    None: "informational, no winner",
}


def _mark(text: str, winner: bool) -> str:
    return f"{WINNER_MARK} {text}" if winner else text


# --- terminal ------------------------------------------------------------------------


def print_table(table: Table, console: Console) -> None:
    """Rows = approaches, columns = properties, winners marked. Where the
    console is too narrow for every column (an 80-column CI log), the columns
    are split over several tables, each repeating the approach, rather than
    folded into unreadable slivers."""
    label_width = max([cell_len("Approach")] + [cell_len(row.short_label) for row in table.rows])
    cells = [[_terminal_cell(cell) for cell in row.cells] for row in table.rows]
    widths = [max([cell_len(col.short_title)] + [cell_len(_plain(r[i])) for r in cells])
              for i, col in enumerate(table.columns)]
    groups: list[list[int]] = [[]]
    used = label_width + 4  # the approach column, its borders and padding
    for index, width in enumerate(widths):
        if groups[-1] and used + width + 3 > console.width:
            groups.append([])
            used = label_width + 4
        groups[-1].append(index)
        used += width + 3
    for number, group in enumerate(groups):
        last = number == len(groups) - 1
        rich_table = RichTable(title=TITLE if number == 0 else None, show_lines=len(groups) == 1, caption=(
            f"{WINNER_MARK} best in its column, – not measured; full column names and details in report.md"
            if last else None))
        rich_table.add_column("Approach", style="bold", no_wrap=True)
        for index in group:
            rich_table.add_column(table.columns[index].short_title, overflow="fold")
        for row, row_cells in zip(table.rows, cells):
            rich_table.add_row(row.short_label, *(row_cells[index] for index in group))
        console.print(rich_table)


def _terminal_cell(cell: Any) -> str:
    if cell.winner:
        return f"[bold green]{_mark(cell.compact, True)}[/]"
    return f"[dim]{cell.compact}[/]" if cell.value is None else cell.compact


def _plain(markup: str) -> str:
    from rich.text import Text

    return Text.from_markup(markup).plain


# --- markdown ------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(results: Results, table: Table) -> str:
    lines = [f"# {TITLE}", ""]
    lines += [
        "Every figure below was measured by a run of the harness (scenarios in "
        "`scenarios/`); none is typed in. " f"{WINNER_MARK} marks the best value of each column; "
        "*not measured* means no scenario of this run measured it.",
        "",
    ]
    header = ["Approach"] + [c.title for c in table.columns]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in table.rows:
        cells = [f"**{_md_escape(_mark(c.text, True))}**" if c.winner else (f"*{c.text}*" if c.value is None else _md_escape(c.text))
                 for c in row.cells]
        lines.append("| " + " | ".join([row.label] + cells) + " |")
    lines += ["", "## Columns", ""]
    for col in table.columns:
        lines.append(f"- **{col.title}** ({WINNER_RULES[col.better]}): {col.claim}.")
    lines += ["", "## Per approach", ""]
    for row in table.rows:
        lines += _md_details(results, row.approach)
    lines += ["## Parameters", ""]
    if results.parameters:
        lines += ["| parameter | value |", "|---|---|"]
        for key, value in _flatten(results.parameters):
            lines.append(f"| {key} | {_md_escape(json.dumps(value, sort_keys=True))} |")
    else:
        lines.append("*none recorded*")
    lines.append("")
    return "\n".join(lines)


def _md_details(results: Results, approach: str) -> list[str]:
    lines = [f"### {approach_label(approach)} (`{approach}`)", ""]
    drift = results.get(approach, DriftAfterDeploy)
    if drift is not None and drift.plan_exit_code is not None:
        lines.append(f"- `terraform plan -detailed-exitcode` after a deploy: exit {drift.plan_exit_code}")
        for change in drift.changes or []:
            attrs = ", ".join(f"`{a}`" for a in change.attributes) or "no attribute detail"
            lines.append(f"  - `{change.address}` {'/'.join(change.actions)}: {attrs}")
    clobber = results.get(approach, Clobber)
    for name, case in sorted(((clobber.cases if clobber else None) or {}).items()):
        lines.append(
            f"- infrastructure change `{name}`: deployed `{case.image_deployed}`, runs `{case.image_after}` afterwards"
            f"; version lost: {_yes_no(case.version_lost)}; reaches tasks: {case.reaches_tasks or 'not measured'}"
            + (f" after {case.seconds_to_reach:.1f} s" if case.seconds_to_reach is not None else "")
        )
    rollback = results.get(approach, Rollback)
    if rollback is not None:
        parts = []
        if rollback.simulated_seconds is not None:
            parts.append(f"{rollback.simulated_seconds:.1f} s simulated")
        if rollback.terraform_seconds is not None:
            parts.append(f"{rollback.terraform_seconds:.1f} s of Terraform")
        if rollback.api_calls is not None:
            parts.append(f"{rollback.api_calls} API calls")
        if rollback.lowest_healthy is not None:
            parts.append(f"lowest healthy {rollback.lowest_healthy}" + (f"/{rollback.desired}" if rollback.desired is not None else ""))
        if rollback.by:
            parts.append(f"rolled back by {rollback.by}")
        if rollback.recovered is not None:
            parts.append("recovered" if rollback.recovered else "NOT recovered")
        lines.append("- rollback: " + ", ".join(parts))
        if rollback.timeline is not None:
            lines.append("  - moments: " + ", ".join(f"{m.kind} at {m.t:.1f} s" for m in rollback.timeline.markers))
    permissions = results.get(approach, CdPermissions)
    if permissions is not None:
        if permissions.iam_actions is not None:
            lines.append("- IAM actions CD called: " + ", ".join(f"`{a}`" for a in permissions.iam_actions))
        if permissions.policy is not None:
            lines += ["", "  Least-privilege policy for CD:", "", "  ```json"]
            lines += ["  " + line for line in json.dumps(permissions.policy, indent=2, sort_keys=True).splitlines()]
            lines.append("  ```")
    lines.append("")
    return lines


def _yes_no(value: bool | None) -> str:
    return "not measured" if value is None else ("yes" if value else "no")


def _flatten(mapping: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for key in sorted(mapping):
        value = mapping[key]
        if isinstance(value, dict) and value:
            out += _flatten(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


# --- json --------------------------------------------------------------------------------


def _column_json(col: Column) -> dict[str, Any]:
    return {"key": col.key, "title": col.title, "property": col.prop.key, "better": col.better, "claim": col.claim}


def report_json(results: Results, table: Table) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "parameters": results.parameters,
        "columns": [_column_json(c) for c in table.columns],
        "winners": table.winners,
        "approaches": [
            {
                "name": row.approach,
                "label": row.label,
                "cells": {
                    col.key: {"value": json_value(cell.value), "text": cell.text, "winner": cell.winner}
                    for col, cell in zip(table.columns, row.cells)
                },
                "measured": results.data.get(row.approach, {}),
            }
            for row in table.rows
        ],
        "unmeasured": [{"approach": a, "column": c} for a, c in table.unmeasured()],
    }
    return json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"


# --- html --------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #222; max-width: 80rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f2f2f2; }
td.winner { background: #e3f6e8; font-weight: 600; }
td.unmeasured { color: #999; font-style: italic; }
section.approach { margin-top: 2rem; }
.chart svg { max-width: 100%; height: auto; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.8rem; }
pre { background: #f7f7f7; padding: 0.5rem; overflow-x: auto; }
"""


def report_html(results: Results, table: Table) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{e(TITLE)}</title>",
           f"<style>{CSS}</style></head><body>", f"<h1>{e(TITLE)}</h1>",
           f"<p>Every figure was measured by a run of the harness. {WINNER_MARK} marks the best value of each column.</p>",
           "<table><thead><tr><th>Approach</th>"]
    out += [f'<th title="{e(c.claim)}">{e(c.title)}</th>' for c in table.columns]
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        out.append(f"<tr><th>{e(row.label)}</th>")
        for cell in row.cells:
            cls = "winner" if cell.winner else ("unmeasured" if cell.value is None else "")
            out.append(f'<td class="{cls}">{e(_mark(cell.text, cell.winner))}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    out.append("<h2>Columns</h2><ul>")
    out += [f"<li><b>{e(c.title)}</b> ({e(WINNER_RULES[c.better])}): {e(c.claim)}.</li>" for c in table.columns]
    out.append("</ul><h2>Failing deploy and rollback, per approach</h2>")
    for row in table.rows:
        out.append(f'<section class="approach" id="{e(row.approach)}"><h3>{e(row.label)}</h3>')
        rollback = results.get(row.approach, Rollback)
        if rollback is not None and rollback.timeline is not None and rollback.timeline.samples:
            fig = charts.timeline_figure(rollback.timeline, f"{row.label}: failing deploy and rollback")
            out.append(f'<div class="chart">{charts.svg(fig)}</div>')
        else:
            out.append('<p class="unmeasured">No rollback timeline measured.</p>')
        details = _md_details(results, row.approach)[2:]
        if any(line.strip() for line in details):
            out.append(f"<pre>{e(chr(10).join(details).strip())}</pre>")
        out.append("</section>")
    out.append("<h2>Parameters</h2><table><tbody>")
    out += [f"<tr><th>{e(k)}</th><td><code>{e(json.dumps(v, sort_keys=True))}</code></td></tr>"
            for k, v in _flatten(results.parameters)]
    out.append("</tbody></table></body></html>")
    return "\n".join(out) + "\n"
