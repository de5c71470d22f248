"""The report: terminal table, report.md, report.json, report.html and the README chart."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from harness.metrics.collect import ResultsSink, load_results
from harness.metrics.columns import COLUMNS
from harness.metrics.results import Results, Rollback, property_class
from harness.report import build_table, charts, write_reports
from harness.report.table import WINNER_MARK

from report_samples import rollback_timeline


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=250, color_system=None, legacy_windows=False), buffer


def test_table_has_a_row_per_approach_in_article_order_and_a_cell_per_column(results: Results) -> None:
    table = build_table(results)
    assert [row.approach for row in table.rows] == [
        "persistent-tag", "ignore-changes", "app-repo", "terraform-cd-central", "template"]
    assert all(len(row.cells) == len(COLUMNS) for row in table.rows)
    rows = {row.approach: dict(zip((c.key for c in table.columns), row.cells, strict=True)) for row in table.rows}
    assert rows["template"]["rollback_seconds"].winner
    assert rows["template"]["rollback_seconds"].text == "65.0 s"
    assert not rows["persistent-tag"]["rollback_seconds"].winner
    assert rows["terraform-cd-central"]["drift_after_deploy"].text == "yes: aws_ecs_task_definition.app (container_definitions)"
    assert rows["app-repo"]["rollback_seconds"].text == "not measured"
    assert ("app-repo", "rollback_seconds") in table.unmeasured()


def test_terminal_table_marks_each_column_winner(results: Results, tmp_path: Path) -> None:
    console, buffer = _console()
    write_reports(results, tmp_path, console=console)
    text = buffer.getvalue()
    assert "Terraform and CD for ECS" in text
    template_line = next(line for line in text.splitlines() if "5 template" in line)
    persistent_line = next(line for line in text.splitlines() if "1 persistent-tag" in line)
    assert f"{WINNER_MARK} 65.0 s" in template_line
    assert f"{WINNER_MARK} 95.0 s" not in persistent_line
    assert f"{WINNER_MARK} 4/4" in template_line  # lowest healthy: 4 of 4 beats 3 of 4
    central_line = next(line for line in text.splitlines() if "4a terraform-cd-central" in line)
    assert "yes" in central_line and "–" in central_line  # compact drift, unmeasured cells as a dash


def test_narrow_terminal_splits_the_columns_over_tables_instead_of_folding_them(results: Results) -> None:
    from harness.report import print_table

    table = build_table(results)
    buffer = io.StringIO()
    print_table(table, Console(file=buffer, width=80, color_system=None, legacy_windows=False))
    lines = buffer.getvalue().splitlines()
    tables = sum(line.startswith("┏") for line in lines)
    assert tables >= 2
    assert sum("5 template" in line for line in lines) == tables  # the approach repeats in each part
    assert sum("Terraform and CD for ECS" in line for line in lines) == 1
    text = buffer.getvalue()
    for col in table.columns:  # each title whole, on one line
        assert col.short_title in text, col.short_title
    template = [line for line in lines if "5 template" in line]
    assert sum(f"{WINNER_MARK} 65.0 s" in line for line in template) == 1

    wide = io.StringIO()
    print_table(table, Console(file=wide, width=400, color_system=None, legacy_windows=False))
    assert sum("5 template" in line for line in wide.getvalue().splitlines()) == 1  # one table when it fits


def test_markdown_has_the_table_the_rules_the_details_and_the_parameters(results: Results, tmp_path: Path) -> None:
    md = write_reports(results, tmp_path).markdown.read_text()
    header = next(line for line in md.splitlines() if line.startswith("| Approach"))
    assert header.count("|") == len(COLUMNS) + 2
    template_row = next(line for line in md.splitlines() if line.startswith("| 5 template"))
    assert f"**{WINNER_MARK} 65.0 s**" in template_row
    assert "*not measured*" in next(line for line in md.splitlines() if line.startswith("| 3 container"))
    assert "- <a id=\"col-rollback_seconds\"></a>**Rollback to known-good** (lowest is best):" in md
    assert "exit 2" in md and "`aws_ecs_task_definition.app` delete/create: `container_definitions`" in md
    assert "infrastructure change `memory`: deployed `repo/app:v2`, runs `repo/app:v1` afterwards; version lost: yes" in md
    assert "| simulator.scheduler_interval | 5.0 |" in md
    assert "decision at 35.0 s" in md


def test_json_holds_every_figure_winners_parameters_and_what_was_not_measured(results: Results, tmp_path: Path) -> None:
    doc = json.loads(write_reports(results, tmp_path).json.read_text())
    assert doc["parameters"] == results.parameters
    assert [c["key"] for c in doc["columns"]] == [c.key for c in COLUMNS]
    template = next(a for a in doc["approaches"] if a["name"] == "template")
    assert template["cells"]["rollback_seconds"] == {"value": 65.0, "text": "65.0 s", "winner": True}
    assert template["measured"]["rollback"]["timeline"]["markers"][1] == {"t": 30.0, "kind": "failure", "label": ""}
    assert doc["winners"]["rollback_seconds"] == ["template"]
    assert {"approach": "app-repo", "column": "rollback_seconds"} in doc["unmeasured"]


def test_unrecovered_rollback_is_written_as_null_not_infinity(tmp_path: Path) -> None:
    results = Results()
    results.add("template", Rollback(simulated_seconds=300.0, recovered=False))
    results.add("app-repo", Rollback(simulated_seconds=60.0, recovered=True))
    doc = json.loads(write_reports(results, tmp_path).json.read_text())
    template = next(a for a in doc["approaches"] if a["name"] == "template")
    assert template["cells"]["rollback_seconds"]["value"] is None
    assert template["cells"]["rollback_seconds"]["text"] == "300.0 s, not recovered"
    assert doc["winners"]["rollback_seconds"] == ["app-repo"]


def test_md_and_json_are_byte_identical_for_the_same_results_whatever_the_worker_split(results: Results, tmp_path: Path) -> None:
    first = write_reports(results, tmp_path / "one")
    # Same measurements, recorded by two workers in another order, then merged.
    records = tmp_path / "records"
    for index, (approach, properties) in enumerate(reversed(list(results.to_dict()["approaches"].items()))):
        sink = ResultsSink(records, f"gw{index % 2}")
        for key, fields in properties.items():
            sink.record(approach, property_class(key).from_dict(fields))
    ResultsSink(records, "gw1").record_parameters(results.parameters)
    second = write_reports(load_results(records), tmp_path / "two")
    assert first.markdown.read_bytes() == second.markdown.read_bytes()
    assert first.json.read_bytes() == second.json.read_bytes()
    assert first.html.read_bytes() == second.html.read_bytes()


def test_html_is_self_contained_with_one_chart_per_measured_rollback(results: Results, tmp_path: Path) -> None:
    page = write_reports(results, tmp_path).html.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "report.html must open offline"
    assert "<script" not in page
    assert page.count("<svg") == 2  # persistent-tag and template measured a rollback
    assert page.count("No rollback timeline measured.") == 3
    assert 'class="winner"' in page


def test_readme_png_has_a_panel_per_measured_rollback_and_is_replaced_each_run(results: Results, tmp_path: Path) -> None:
    paths = write_reports(results, tmp_path)
    assert paths.png is not None and paths.png.read_bytes().startswith(b"\x89PNG")
    empty = write_reports(Results(), tmp_path)
    assert empty.png is None and not (tmp_path / "rollback-timelines.png").exists()


def test_chart_draws_a_series_per_image_healthy_and_desired_and_a_line_per_marker() -> None:
    fig = charts.timeline_figure(rollback_timeline(30, 35, 65), "template")
    (ax,) = fig.axes
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["running app:v1", "running app:v2", "healthy", "desired"]
    annotations = sorted(child.get_text() for child in ax.texts)
    assert annotations == ["decision 35s", "deploy 0s", "failure 30s", "recovery 65s"]


def test_chart_svg_is_inline_and_deterministic() -> None:
    one = charts.svg(charts.timeline_figure(rollback_timeline(30, 35, 65), "template"))
    two = charts.svg(charts.timeline_figure(rollback_timeline(30, 35, 65), "template"))
    assert one.startswith("<svg") and one == two
    assert "<?xml" not in one


def test_moments_at_one_instant_share_one_label() -> None:
    fig = charts.timeline_figure(rollback_timeline(30, 30, 65), "template")  # failure and decision in one pass
    annotations = sorted(child.get_text() for child in fig.axes[0].texts)
    assert annotations == ["deploy 0s", "failure + decision 30s", "recovery 65s"]


def test_approaches_whose_rollbacks_went_alike_share_one_panel_that_names_them() -> None:
    alike, other = rollback_timeline(30, 35, 65), rollback_timeline(30, 35, 120)
    fig = charts.timelines_figure([("1 tag", alike), ("2 ignore", rollback_timeline(30, 35, 65)), ("5 template", other),
                                   ("3 app repo", alike)])
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["1 tag, 2 ignore, 3 app repo: the same timeline", "5 template"]


def test_in_small_multiples_a_timeline_that_ends_early_holds_its_last_state_to_the_axis_end() -> None:
    short, long = rollback_timeline(30, 35, 65), rollback_timeline(30, 35, 400)
    fig = charts.mode_figure([[("1 short", short)], [("2 long", long)]], ["rolling"])
    ends = [max(max(path.vertices[:, 0]) for path in collection.get_paths())
            for collection in fig.axes[0].collections if collection.get_paths()]
    assert min(ends) >= 400  # the short one's tasks are drawn to where the long one ends, not gone at 68 s
    most = max(sample.running for sample in short.samples)
    assert fig.axes[0].get_ylim()[1] == pytest.approx(1.12 * most)  # no label headroom in a small panel


def test_readme_figure_needs_at_least_one_timeline() -> None:
    with pytest.raises(ValueError, match="no approach measured a rollback"):
        charts.timelines_figure([])


def test_a_described_approach_keeps_its_title_where_no_registry_knows_it(tmp_path: Path) -> None:
    # `harness report merge` runs in a process that never loaded the team's description:
    # the label the measuring run recorded with the results is the one the report shows
    results = Results(parameters={"described_approaches": {"team-cd": {
        "file": "team.toml", "deploy": "./deploy.sh", "rollback": "none", "clock": "speed 0",
        "label": "our template + our script", "short_label": "our-script"}}})
    results.add("team-cd", Rollback(simulated_seconds=90.0, terraform_seconds=0.0, api_calls=3, lowest_healthy=2,
                                    desired=2, recovered=True, by="cd", timeline=rollback_timeline(30, 35, 90)))
    paths = write_reports(results, tmp_path)
    (row,) = paths.table.rows
    assert (row.label, row.short_label) == ("our template + our script", "our-script")
    assert "| our template + our script |" in paths.markdown.read_text()
    assert "our template + our script" in paths.html.read_text()
