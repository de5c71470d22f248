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
from harness.metrics.results import CdPermissions, Clobber, DriftAfterDeploy, MultiServiceRelease, Results, Rollback
from harness.report import charts
from harness.report.claims import judge_all
from harness.report import guide, sensitivity
from harness.report.matrix import (MODE_TABLE_HEADER, Matrix, MatrixColumn, build_matrix, differences, row_label)
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
        for row, row_cells in zip(table.rows, cells, strict=True):
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


def terraform_line(results: Results) -> str | None:
    """How this run's Terraform ran (version, how commands got their AWS provider), or why it
    did not, in one line for the reports' headers; None when no scenario asked for Terraform."""
    recorded = results.parameters.get("terraform")
    if not recorded:
        why = "; ".join(sorted(results.parameters.get("terraform_not_run") or {}))
        return f"Terraform did not run ({why}): every cell that needs it reads not measured." if why else None
    versions = ", ".join(sorted(recorded.get("version", {})))
    modes = "; ".join(sorted(recorded.get("provider", {})))
    return f"Terraform {versions or 'of unknown version'} really ran, with {modes or 'its own provider starts'}."


def profile_line(results: Results) -> str | None:
    """Which timing profile the simulated seconds come from, in one line for the reports'
    headers; None where no scenario recorded one (results of older runs, the wall clock)."""
    from harness.ecs import profiles

    named = sorted(results.parameters.get("profile") or {})
    if not named:
        return None
    if len(named) > 1:
        return (f"Timings: the parts of this report were measured under different timing profiles ({', '.join(named)}): "
                "their seconds do not compare.")
    name = named[0]
    summary = profiles.load(name).summary if name in profiles.BUNDLED else "a team's own profile file"
    return f"Timings: the `{name}` timing profile ({summary}; every value and its source: docs/timing-profiles.md)."


def header_lines(results: Results) -> list[str]:
    """What the reports say first about how the figures were made."""
    return [line for line in (terraform_line(results), profile_line(results)) if line]


def markdown(results: Results, table: Table) -> str:
    lines = [f"# {TITLE}", ""]
    lines += [
        "Every figure below was measured by a run of the harness (scenarios in "
        f"`scenarios/`); none is typed in. {WINNER_MARK} marks the best value of each column; "
        "*not measured* means no scenario of this run measured it."
        + "".join(f" {line}" for line in header_lines(results)),
        "",
    ]
    matrix = build_matrix(results)
    lines += guide.markdown_lines(guide.what_to_pick(results, matrix))
    lines += ["## The approaches compared", ""]
    header = ["Approach"] + [c.title for c in table.columns]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in table.rows:
        cells = [f"**{_md_escape(_mark(c.text, True))}**" if c.winner else (f"*{c.text}*" if c.value is None else _md_escape(c.text))
                 for c in row.cells]
        lines.append("| " + " | ".join([row.label] + cells) + " |")
    lines += ["", "## Columns", ""]
    for col in table.columns:
        lines.append(f'- <a id="col-{col.key}"></a>**{col.title}** ({WINNER_RULES[col.better]}): {col.claim}.')
    lines += ["", "## What the article said, what we measured", ""]
    for claim, verdict in judge_all(results, matrix):
        lines.append(f"- **{verdict.verdict}**: {claim.who}: \"{claim.said}\". {_md_escape(verdict.measured)} "
                     f"([evidence](#{claim.evidence}))")
    lines += _md_matrix(matrix, matrix_legend(results), results.phase_seconds())
    lines += _md_sensitivity(sensitivity.build_sensitivity(results, matrix))
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


def on_wall_clock(results: Results) -> bool:
    """Were the scenarios measured where tasks really run (seconds on the wall clock)?
    (``scenarios/scenario_support.parameters`` says so.)"""
    return results.parameters.get("clock") == "wall"


def matrix_legend(results: Results) -> str:
    seconds = ("seconds on the wall clock (tasks really ran)" if on_wall_clock(results)
               else "simulated seconds")
    return ("✓ N s: back on the known-good version, every task healthy and all production traffic, N "
            f"{seconds} after the failing deploy started (Terraform's part included where CD runs it: the timing "
            "profile's model, not this machine's time), "
            "without a person. ✗ N steps: not back; a person must take the N steps named. "
            f"{WINNER_MARK}: fastest in its column among rows of the same CD. –: not measured or not applicable. "
            "Each approach runs twice: with the CD the article sketches for it, and with the most capable CD it "
            "allows (the deploy tool's watcher, bake and alarms, a blue/green stop, following ECS's own rollback; "
            "each returning to what that approach can return to).")


def approach_or_cd_intro(tolerance: float) -> str:
    return ("Where an approach's most capable CD did better than the CD the article sketches, the difference comes "
            "from the CD: any team can have it. Where an approach stays behind even with the most capable CD, the "
            f"difference comes from the approach. Seconds closer than {tolerance:g} s (a scheduler pass and a poll "
            "of CD's: where a deploy happens to fall between them) are no difference.")


def _md_differences(matrix: Matrix, tolerance: float) -> list[str]:
    """Per column: what comes from the CD, what from the approach."""
    found = differences(matrix, tolerance)
    if not found:
        return []
    lines = ["", '<a id="approach-or-cd"></a>', "", "### Approach or CD?", "", approach_or_cd_intro(tolerance), ""]
    for difference in found:
        col = difference.column
        lines.append(f"- **{_md_escape(col.title)} ({col.strategy_label})**")
        lines += [f"  - from the CD: {_md_escape(line)}" for line in difference.from_cd]
        lines += [f"  - from the approach: {_md_escape(line)}" for line in difference.from_approach]
    return lines


def _md_matrix(matrix: Matrix | None, legend: str, tolerance: float = 10.0) -> list[str]:
    lines = ["", '<a id="rollback-matrix"></a>', "", "## Rollback matrix", ""]
    if matrix is None:
        return lines + ["*not measured in this run*"]
    lines += [legend, ""]
    header = ["Approach"] + [f"{col.title} ({col.strategy_label})" for col in matrix.columns]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for approach in matrix.approaches:
        cells = []
        for col in matrix.columns:
            entry = matrix.entry(approach, col)
            cells.append(f"**{WINNER_MARK} {entry.text}**" if entry.winner else entry.text)
        lines.append("| " + " | ".join([row_label(approach)] + cells) + " |")
    lines += _md_differences(matrix, tolerance)
    for mode, title, what, columns in matrix.modes():
        lines += ["", f'<a id="mode-{mode}"></a>', "", f"### {title}", "", f"{_md_escape(what)}.", ""]
        lines += ["| " + " | ".join(MODE_TABLE_HEADER) + " |", "|" + "---|" * len(MODE_TABLE_HEADER)]
        lines += ["| " + " | ".join(_md_escape(text) for text in row.texts) + " |" for row in matrix.mode_rows(columns)]
    return lines


def _md_sensitivity(view: sensitivity.SensitivityView | None) -> list[str]:
    if view is None:
        return []
    header = sensitivity.header(view)
    lines = ["", f'<a id="{sensitivity.ANCHOR}"></a>', "", "## Sensitivity: do the rankings hold under other timings?", "",
             _md_escape(sensitivity.intro(view)), ""]
    if view.partial:
        lines += [_md_escape(sensitivity.partial_text(view)), ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_escape(t) for t in sensitivity.row_texts(view, r)) + " |" for r in view.rankings]
    return lines


def _md_details(results: Results, approach: str) -> list[str]:
    lines = [f'<a id="details-{approach}"></a>', "", f"### {approach_label(approach)} (`{approach}`)", ""]
    described = results.parameters.get("described_approaches", {}).get(approach)
    if described:  # a team's own approach: where it came from, and who decided its times
        back = described["rollback"]
        lines.append(f"- described in `{described['file']}`; CD: `{described['deploy']}`, "
                     + ("no rollback command of its own (who rolled back is said below)" if back == "none"
                        else f"rollback command: `{back}`") + f"; {described['clock']}")
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
            + (f"; the family's latest revision names `{case.family_latest_image}`"
               + (f" ({case.family_latest_version})" if case.family_latest_version else "")
               if case.family_latest_image else "")
        )
    rollback = results.get(approach, Rollback)
    if rollback is not None:
        parts = []
        if rollback.simulated_seconds is not None:
            parts.append(f"{rollback.simulated_seconds:.1f} s " + ("on the wall clock" if rollback.clock == "wall"
                                                                      else "simulated"))
        if rollback.terraform_seconds:
            parts.append(f"of which {rollback.terraform_seconds:.1f} s Terraform (modelled)")
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
    release = results.get(approach, MultiServiceRelease)
    if release is not None and release.services:
        lines.append(f"- release of {' and '.join(release.services)}" + (f" ({release.procedure})" if release.procedure else "")
                     + ": " + "; ".join(_released_text(name, service) for name, service in release.services.items()))
        if release.human_steps:
            lines.append("  - a person must still: " + "; ".join(release.human_steps))
        if release.note:
            lines.append(f"  - why: {release.note}")
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


def _released_text(name: str, service: Any) -> str:
    text = f"{name} released {service.released}, ends on {service.ended_on}"
    if service.revision:
        text += f" (`{service.revision}`)"
    if service.back_at is not None:
        text += f", back on known good {service.known_good} at {service.back_at:.1f} s"
    return text


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
                    for col, cell in zip(table.columns, row.cells, strict=True)
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
table { border-collapse: collapse; font-size: 0.8rem; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.4rem; vertical-align: top; text-align: left; }
.wide { overflow-x: auto; }
th { background: #f2f2f2; }
td.winner { background: #e3f6e8; font-weight: 600; }
td.unmeasured { color: #999; font-style: italic; }
td.m-best { background: #7fcf8f; font-weight: 600; }
td.m-good { background: #c3e8c9; }
td.m-slow { background: #f3e3a6; }
td.m-slowest { background: #f5c58a; }
td.m-failed { background: #e98b8b; }
td.m-none { color: #999; }
table.matrix td { text-align: center; white-space: nowrap; }
.verdict { font-weight: 700; text-transform: uppercase; font-size: 0.75rem; padding: 0.05rem 0.3rem; border-radius: 0.2rem; }
.verdict-yes { background: #c3e8c9; } .verdict-no { background: #f3b4b4; } .verdict-partly { background: #f3e3a6; }
.verdict-not-measured { background: #e6e6e6; }
section.approach { margin-top: 2rem; }
.chart svg { max-width: 100%; height: auto; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.8rem; }
pre { background: #f7f7f7; padding: 0.5rem; overflow-x: auto; }
"""


def _inline(text: str) -> str:
    """The markdown the details use inline: `code` spans, nothing else."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _details_html(lines: list[str]) -> list[str]:
    """The per-approach details (markdown bullets, one nested level, a fenced
    JSON block) as HTML lists, so the page reads as a page, not as source."""
    out: list[str] = []
    fenced: list[str] | None = None
    level = 0
    for line in lines:
        stripped = line.strip()
        if fenced is not None:
            if stripped == "```":
                out.append(f"<pre>{html.escape(chr(10).join(fenced))}</pre>")
                fenced = None
            else:
                fenced.append(line[2:] if line.startswith("  ") else line)
            continue
        if stripped.startswith("```"):
            fenced = []
            continue
        if not stripped:
            continue
        depth = 2 if line.startswith("  - ") else (1 if stripped.startswith("- ") else 0)
        while level < depth:
            out.append("<ul>")
            level += 1
        while level > depth:
            out.append("</ul>")
            level -= 1
        out.append(f"<li>{_inline(stripped[2:])}</li>" if depth else f"<p>{_inline(stripped)}</p>")
    out += ["</ul>"] * level
    return out


def _html_matrix(results: Results, matrix: Matrix | None) -> list[str]:
    e = html.escape
    out = ['<h2 id="rollback-matrix">Rollback matrix</h2>']
    if matrix is None:
        return out + ['<p class="unmeasured">Not measured in this run.</p>']
    out.append(f"<p>{e(matrix_legend(results))} Colour: green fastest in its column, then yellow to orange as it gets "
               "slower, red where a person must act.</p>")
    out.append('<table class="matrix"><thead><tr><th>Approach</th>')
    out += [f'<th><a href="#mode-{e(col.mode)}">{e(col.title)}</a><br><small>{e(col.strategy_label)}</small></th>'
            for col in matrix.columns]
    out.append("</tr></thead><tbody>")
    for approach in matrix.approaches:
        out.append(f"<tr><th>{e(row_label(approach))}</th>")
        for col in matrix.columns:
            entry = matrix.entry(approach, col)
            tip = "" if entry.cell is None else entry.cell.note
            out.append(f'<td class="m-{entry.shade}" title="{e(tip)}">'
                       f"{e(_mark(entry.text, entry.winner))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    tolerance = results.phase_seconds()
    found = differences(matrix, tolerance)
    if found:
        out.append(f'<h3 id="approach-or-cd">Approach or CD?</h3><p>{e(approach_or_cd_intro(tolerance))}</p><ul>')
        for difference in found:
            col = difference.column
            out.append(f"<li><b>{e(col.title)} ({e(col.strategy_label)})</b><ul>")
            out += [f"<li>from the CD: {e(line)}</li>" for line in difference.from_cd]
            out += [f"<li>from the approach: {e(line)}</li>" for line in difference.from_approach]
            out.append("</ul></li>")
        out.append("</ul>")
    for mode, title, what, columns in matrix.modes():
        out.append(f'<section class="mode" id="mode-{e(mode)}"><h3>{e(title)}</h3><p>{e(what)}.</p>')
        out.append(f'<div class="chart">{charts.svg(_mode_figure(matrix, columns))}</div>')
        out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in MODE_TABLE_HEADER) + "</tr></thead><tbody>")
        for row in matrix.mode_rows(columns):
            approach, strategy, result, *rest = row.texts
            out.append(f"<tr><th>{e(approach)}</th><td>{e(strategy)}</td>"
                       f'<td class="m-{row.entry.shade}">{e(_mark(result, row.entry.winner))}</td>'
                       + "".join(f"<td>{e(text)}</td>" for text in rest) + "</tr>")
        out.append("</tbody></table></section>")
    return out


def _html_sensitivity(view: sensitivity.SensitivityView | None) -> list[str]:
    if view is None:
        return []
    e = html.escape
    out = [f'<h2 id="{sensitivity.ANCHOR}">Sensitivity: do the rankings hold under other timings?</h2>',
           f"<p>{e(sensitivity.intro(view))}</p>"]
    if view.partial:
        out.append(f"<p>{e(sensitivity.partial_text(view))}</p>")
    out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in sensitivity.header(view)) + "</tr></thead><tbody>")
    for ranking in view.rankings:
        column, cd, *winners, verdict = sensitivity.row_texts(view, ranking)
        out.append(f"<tr><th>{e(column)}</th><td>{e(cd)}</td>" + "".join(f"<td>{e(w)}</td>" for w in winners)
                   + f'<td class="{"" if ranking.holds else "m-slow"}">{e(verdict)}</td></tr>')
    out.append("</tbody></table>")
    return out


def _mode_figure(matrix: Matrix, columns: list[MatrixColumn]) -> Any:
    """The failure mode's small multiples: an approach per row, a strategy per column."""
    rows = []
    for approach in matrix.approaches:
        if all(matrix.entry(approach, col).cell is None for col in columns):
            continue
        row = []
        for col in columns:
            cell = matrix.entry(approach, col).cell
            title = f"{row_label(approach)}, {col.strategy_label}: " + (
                "not measured" if cell is None else matrix.entry(approach, col).text)
            row.append((title, None if cell is None else cell.timeline))
        rows.append(row)
    return charts.mode_figure(rows, [col.strategy_label for col in columns])


def report_html(results: Results, table: Table) -> str:
    e = html.escape
    said = " ".join(header_lines(results))
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{e(TITLE)}</title>",
           f"<style>{CSS}</style></head><body>", f"<h1>{e(TITLE)}</h1>",
           f"<p>Every figure was measured by a run of the harness. {WINNER_MARK} marks the best value of each column."
           + (f" {e(said)}" if said else "") + "</p>"]
    picked = guide.what_to_pick(results, build_matrix(results))
    if picked.advice:
        out += ['<h2 id="what-to-pick">What to pick</h2><p>From this run\'s measurements: a constraint your team has, '
                "the approaches that meet it, and what was measured.</p>",
                "<table><thead><tr><th>If</th><th>Pick</th><th>Measured</th></tr></thead><tbody>"]
        out += [f'<tr><th>{e(a.constraint)}</th><td>{e(a.answer)}</td><td>{e(a.measured)} '
                f'(<a href="#{e(a.evidence)}">evidence</a>)</td></tr>' for a in picked.advice]
        out += ["</tbody></table>", f"<p>Meets every line above: {e(guide.every_text(picked))}.</p>"]
    out += ['<h2 id="approaches-compared">The approaches compared</h2>', "<table><thead><tr><th>Approach</th>"]
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
    out += [f'<li id="col-{e(c.key)}"><b>{e(c.title)}</b> ({e(WINNER_RULES[c.better])}): {e(c.claim)}.</li>'
            for c in table.columns]
    out.append("</ul>")
    matrix = build_matrix(results)
    out.append('<h2 id="claims">What the article said, what we measured</h2><ul class="claims">')
    for claim, verdict in judge_all(results, matrix):
        out.append(f'<li><span class="verdict verdict-{e(verdict.verdict.replace(" ", "-"))}">{e(verdict.verdict)}</span> '
                   f'{e(claim.who)}: &ldquo;{e(claim.said)}&rdquo;. {e(verdict.measured)} '
                   f'(<a href="#{e(claim.evidence)}">evidence</a>)</li>')
    out.append("</ul>")
    out += _html_matrix(results, matrix)
    out += _html_sensitivity(sensitivity.build_sensitivity(results, matrix))
    out.append("<h2>Failing deploy and rollback, per approach</h2>")
    for row in table.rows:
        out.append(f'<section class="approach" id="details-{e(row.approach)}"><h3>{e(row.label)}</h3>')
        rollback = results.get(row.approach, Rollback)
        if rollback is not None and rollback.timeline is not None and rollback.timeline.samples:
            fig = charts.timeline_figure(rollback.timeline, f"{row.label}: failing deploy and rollback")
            out.append(f'<div class="chart">{charts.svg(fig)}</div>')
        else:
            out.append('<p class="unmeasured">No rollback timeline measured.</p>')
        out += _details_html(_md_details(results, row.approach)[4:])
        out.append("</section>")
    out.append("<h2>Parameters</h2><table><tbody>")
    out += [f"<tr><th>{e(k)}</th><td><code>{e(json.dumps(v, sort_keys=True))}</code></td></tr>"
            for k, v in _flatten(results.parameters)]
    out.append("</tbody></table></body></html>")
    # a table wider than the window scrolls in place; the page never scrolls sideways
    return "\n".join(out).replace("<table", '<div class="wide"><table').replace("</table>", "</table></div>") + "\n"
