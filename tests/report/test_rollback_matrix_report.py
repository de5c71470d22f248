"""The rollback matrix in the report: cells ordered and shaded from the data,
winners decided in data, the claims list judged from the results, and the same
facts in report.md, report.json and report.html."""
from __future__ import annotations

import json
import re
from pathlib import Path

from harness.metrics.collect import ResultsSink, load_results
from harness.metrics.results import Clobber, ClobberCase, Results, RollbackCell, RollbackMatrix, cell_key
from harness.report import write_reports
from harness.report.claims import judge_all
from harness.report.matrix import build_matrix
from harness.report.table import WINNER_MARK

from report_samples import rollback_timeline

MODES = {
    "crash-at-once": {"title": "Every task crashes", "what": "every task exits", "order": 0},
    "alarm-after-release": {"title": "Alarm after the release", "what": "an alarm later", "order": 1},
}


def _cell(mode: str, strategy: str, seconds: float | None, **fields) -> RollbackCell:
    recovered = seconds is not None
    return RollbackCell(mode=mode, strategy=strategy, recovered=recovered, seconds=seconds, lowest_healthy=3,
                        desired=4, api_calls=10, final="v3 (web:1)" if recovered else "v9 (web:2)",
                        rolled_back_by="cd" if recovered else "", note="why",
                        timeline=rollback_timeline(10, 15, max(seconds or 200.0, 20.0)), **fields)


def matrix_results() -> Results:
    r = Results(parameters={"failure_modes": MODES})
    put = ("ecr:PutImage", "ecs:UpdateService")
    update = ("ecs:UpdateService",)
    r.add("persistent-tag", RollbackMatrix(cells={
        cell_key("crash-at-once", "ROLLING"): _cell("crash-at-once", "ROLLING", 90.0, rollback_actions=put),
        cell_key("crash-at-once", "BLUE_GREEN"): _cell("crash-at-once", "BLUE_GREEN", 245.0, rollback_actions=put),
        cell_key("alarm-after-release", "ROLLING"): _cell("alarm-after-release", "ROLLING", None,
                                                          human_steps=("move the tag back", "force a new deployment")),
    }))
    r.add("ignore-changes", RollbackMatrix(cells={
        cell_key("crash-at-once", "ROLLING"): _cell("crash-at-once", "ROLLING", 90.0, rollback_actions=update),
        cell_key("crash-at-once", "BLUE_GREEN"): _cell("crash-at-once", "BLUE_GREEN", 160.0, rollback_actions=update),
    }))
    r.add("ignore-changes", Clobber(cases={"memory": ClobberCase(
        "v3", "v3", False, "next deploy", family_latest_image="app:v1", family_latest_version="v1",
        declaration_lost=True)}))
    r.add("template", RollbackMatrix(cells={
        cell_key("crash-at-once", "ROLLING"): _cell("crash-at-once", "ROLLING", 90.0, rollback_actions=update),
        cell_key("crash-at-once", "BLUE_GREEN"): _cell("crash-at-once", "BLUE_GREEN", 30.0),
        cell_key("alarm-after-release", "ROLLING"): _cell("alarm-after-release", "ROLLING", 245.0),
    }))
    return r


def test_columns_follow_the_modes_order_then_rolling_before_blue_green() -> None:
    matrix = build_matrix(matrix_results())
    assert [(c.mode, c.strategy) for c in matrix.columns] == [
        ("crash-at-once", "ROLLING"), ("crash-at-once", "BLUE_GREEN"), ("alarm-after-release", "ROLLING")]
    assert matrix.columns[0].title == "Every task crashes"


def test_the_fastest_recovery_wins_a_column_a_tie_of_all_has_no_winner_and_not_recovered_ranks_last() -> None:
    matrix = build_matrix(matrix_results())
    assert matrix.winners[cell_key("crash-at-once", "ROLLING")] == []  # 90 s everywhere: nothing to tell apart
    assert matrix.winners[cell_key("crash-at-once", "BLUE_GREEN")] == ["template"]
    assert matrix.winners[cell_key("alarm-after-release", "ROLLING")] == ["template"]
    by = {(a, k): e for (a, k), e in matrix.entries.items()}
    blue_green = cell_key("crash-at-once", "BLUE_GREEN")
    assert [by[(a, blue_green)].shade for a in ("template", "ignore-changes", "persistent-tag")] == [
        "best", "slow", "slowest"]
    alarm = cell_key("alarm-after-release", "ROLLING")
    assert by[("persistent-tag", alarm)].shade == "failed" and by[("persistent-tag", alarm)].text == "✗ 2 steps"
    assert by[("ignore-changes", alarm)].cell is None and by[("ignore-changes", alarm)].text == "–"
    assert by[("template", blue_green)].text == "✓ 30 s"


def test_no_matrix_without_cells() -> None:
    assert build_matrix(Results()) is None
    assert "*not measured in this run*" in write_reports(Results(), Path("/tmp") / "empty-matrix-report").markdown.read_text()


def test_claims_are_judged_from_the_results() -> None:
    results = matrix_results()
    verdicts = {claim.key: verdict for claim, verdict in judge_all(results, build_matrix(results))}
    assert verdicts["manual-intervention"].verdict == "partly"
    assert "7 of 8 failing deploys" in verdicts["manual-intervention"].measured
    assert verdicts["speedy-rollback"].verdict == "yes"
    assert verdicts["rollback-moves-tag"].verdict == "yes"
    assert "other approaches whose rollback wrote to ECR: none" in verdicts["rollback-moves-tag"].measured
    assert verdicts["declaration-overwritten"].verdict == "partly"
    assert "v1" in verdicts["declaration-overwritten"].measured
    assert verdicts["autoscaling-tag"].verdict == "not measured"

    results.add("ignore-changes", Clobber(cases={"secret": ClobberCase("v3", "v1", True, "immediately")}))
    verdicts = {claim.key: verdict for claim, verdict in judge_all(results, build_matrix(results))}
    assert verdicts["declaration-overwritten"].verdict == "yes"


def test_markdown_has_the_claims_the_matrix_and_a_section_per_mode(tmp_path: Path) -> None:
    md = write_reports(matrix_results(), tmp_path).markdown.read_text()
    assert "## What the article said, what we measured" in md
    assert re.search(r"- \*\*partly\*\*: the article: \"All of the approaches", md)
    template_row = next(line for line in md.splitlines() if line.startswith("| 5 template") and "✓ 30 s" in line)
    assert f"**{WINNER_MARK} ✓ 30 s**" in template_row
    assert '<a id="mode-alarm-after-release"></a>' in md
    assert "✗ 2 steps: move the tag back; force a new deployment" in md
    for anchor in re.findall(r"\(#([a-z0-9-]+)\)", md):  # every evidence link has its target
        assert f'<a id="{anchor}"></a>' in md, anchor


def test_html_draws_the_heat_map_a_chart_per_mode_and_links_that_resolve(tmp_path: Path) -> None:
    page = write_reports(matrix_results(), tmp_path).html.read_text()
    assert 'class="matrix"' in page and 'class="m-failed"' in page and 'class="m-best"' in page
    modes = re.findall(r'<section class="mode" id="mode-([a-z-]+)">(.*?)</section>', page, re.S)
    assert [m for m, _ in modes] == ["crash-at-once", "alarm-after-release"]
    assert all(body.count("<svg") == 1 for _, body in modes)
    ids = set(re.findall(r'id="([^"]+)"', page))
    for target in re.findall(r'href="#([^"]+)"', page):
        assert target in ids, target
    assert "<pre>- " not in page  # details are lists, not markdown source


def test_the_matrix_survives_the_results_files_and_report_json(tmp_path: Path) -> None:
    results = matrix_results()
    sink = ResultsSink(tmp_path / "records", "gw0")
    for approach in results.approaches():
        sink.record(approach, results.get(approach, RollbackMatrix))
    sink.record_parameters(results.parameters)
    again = load_results(tmp_path / "records")
    cell = again.get("persistent-tag", RollbackMatrix).cell("alarm-after-release", "ROLLING")
    assert cell.human_steps == ("move the tag back", "force a new deployment") and cell.recovered is False
    assert again.get("template", RollbackMatrix).cell("crash-at-once", "BLUE_GREEN").timeline.samples
    doc = json.loads(write_reports(again, tmp_path / "out").json.read_text())
    template = next(a for a in doc["approaches"] if a["name"] == "template")
    assert template["measured"]["rollback_matrix"]["cells"]["crash-at-once/BLUE_GREEN"]["seconds"] == 30.0


def two_cd_results() -> Results:
    """Approaches 1 and 2 under the article's CD and the most capable CD: blue/green
    crash 245 s -> 30 s for both (the CD's doing), alarm ✗ -> ✓ (the CD's), and one
    column where approach 1 stays behind even with the capable CD (the approach's)."""
    r = Results(parameters={"failure_modes": MODES, "simulator": {"scheduler_interval": 5.0},
                            "scenario": {"poll_interval_seconds": 5.0}})
    for name, capable_rolling in (("persistent-tag", 150.0), ("ignore-changes", 92.0)):
        r.add(name, RollbackMatrix(cells={
            cell_key("crash-at-once", "ROLLING"): _cell("crash-at-once", "ROLLING", 90.0),
            cell_key("crash-at-once", "ROLLING", "capable"): _cell("crash-at-once", "ROLLING", capable_rolling,
                                                                    cd="capable"),
            cell_key("crash-at-once", "BLUE_GREEN"): _cell("crash-at-once", "BLUE_GREEN", 245.0),
            cell_key("crash-at-once", "BLUE_GREEN", "capable"): _cell("crash-at-once", "BLUE_GREEN", 30.0, cd="capable"),
            cell_key("alarm-after-release", "ROLLING"): _cell("alarm-after-release", "ROLLING", None,
                                                              human_steps=("update the service",)),
            cell_key("alarm-after-release", "ROLLING", "capable"): _cell("alarm-after-release", "ROLLING", 245.0,
                                                                          cd="capable"),
        }))
    return r


def test_each_approach_has_a_row_per_cd_and_winners_are_decided_among_the_same_cd() -> None:
    from harness.report.matrix import row_label

    matrix = build_matrix(two_cd_results())
    assert matrix.approaches == ("persistent-tag", "persistent-tag+capable-cd", "ignore-changes", "ignore-changes+capable-cd")
    assert row_label("ignore-changes+capable-cd") == "2 ignore changes, most capable CD"
    rolling = cell_key("crash-at-once", "ROLLING")
    # the article's CDs tie at 90 s (no winner among them); among capable CDs approach 2 wins
    assert matrix.winners[rolling] == ["ignore-changes+capable-cd"]
    assert matrix.entry("ignore-changes+capable-cd", matrix.columns[0]).text == "✓ 92 s"


def test_the_report_says_which_differences_come_from_the_cd_and_which_from_the_approach() -> None:
    from harness.report.matrix import differences

    found = {(d.column.mode, d.column.strategy): d for d in differences(build_matrix(two_cd_results()))}
    blue_green = found[("crash-at-once", "BLUE_GREEN")]
    assert len(blue_green.from_cd) == 2 and not blue_green.from_approach
    assert "245 s with the article's CD, ✓ 30 s with the most capable one" in blue_green.from_cd[0]
    assert "✗ 1 step (not back) with the article's CD, ✓ 245 s" in found[("alarm-after-release", "ROLLING")].from_cd[0]
    rolling = found[("crash-at-once", "ROLLING")]
    assert not rolling.from_cd  # a capable CD made no one faster here
    assert rolling.from_approach == ("1 persistent tag: ✓ 150 s, against 92 s at best (why)",)
    # seconds within the tolerance (a scheduler pass and a poll on the simulator) are no difference
    wide = {(d.column.mode, d.column.strategy) for d in differences(build_matrix(two_cd_results()), tolerance=60.0)}
    assert ("crash-at-once", "ROLLING") not in wide and ("crash-at-once", "BLUE_GREEN") in wide


def test_the_main_table_shows_both_cds_and_the_report_explains_the_split(tmp_path) -> None:
    from harness.report.table import build_table

    results = two_cd_results()
    table = build_table(results)
    keys = [c.key for c in table.columns]
    row = next(r for r in table.rows if r.approach == "persistent-tag")
    article, capable = (row.cells[keys.index(k)] for k in ("recovered_article_cd", "recovered_capable_cd"))
    assert (article.text, capable.text) == ("2/3", "3/3")
    markdown = write_reports(results, tmp_path).markdown.read_text()
    assert "### Approach or CD?" in markdown and "from the CD: 1 persistent tag" in markdown
    assert "| 1 persistent tag, most capable CD |" in markdown
    html = (tmp_path / "report.html").read_text()
    assert 'id="approach-or-cd"' in html and "2 ignore changes, most capable CD" in html
