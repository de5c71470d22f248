"""The release of two services (``scenarios/test_multi_service_release.py``) in the
report: its own column in the table, decided and written from the data, through
the results files the scenarios write, in report.md, report.json and report.html."""
from __future__ import annotations

import json
from pathlib import Path

from harness.metrics.collect import ResultsSink, load_results
from harness.metrics.columns import column, winners
from harness.metrics.results import MultiServiceRelease, ReleasedService, Results, property_class
from harness.report import write_reports
from harness.report.table import WINNER_MARK, build_table

from report_samples import sample_results

TITLE = "Release of two services, one crashes"


def service(released: str, ended_on: str, back_at: float | None) -> ReleasedService:
    return ReleasedService(released=released, known_good="v3", ended_on=ended_on, on_release=ended_on == released,
                           back_on_good=back_at is not None, back_at=back_at, revision="app:3")


def release_results() -> Results:
    r = sample_results()
    r.add("persistent-tag", MultiServiceRelease(
        procedure="CD per service, web then worker",
        services={"web": service("v4", "v4", None), "worker": service("v9-broken", "v3", 155.0)},
        all_back=False, terraform_seconds=0.0,
        human_steps=["web: move the environment tag back", "web: force a new deployment"], note="web stayed"))
    r.add("terraform-cd-central", MultiServiceRelease(
        procedure="one `terraform apply` per service, web then worker",
        services={"web": service("v4", "v4", None), "worker": service("v9-broken", "v3", 155.0)},
        all_back=False, terraform_seconds=31.5, human_steps=["web: revert the image_tag commit"], note="web stayed"))
    r.add("template", MultiServiceRelease(
        procedure="one `ecs-template-deploy release`", all_back=True, seconds=455.0, terraform_seconds=0.0,
        services={"web": service("v4", "v3", 450.0), "worker": service("v9-broken", "v3", 455.0)},
        human_steps=[], note="`release` exited 1"))
    return r


def test_the_release_is_a_column_whose_winner_got_every_service_back() -> None:
    results = release_results()
    col = column("multi_service_release")
    assert col.measure(results, "template")[0] == 455.0
    assert col.measure(results, "persistent-tag")[0] == float("inf")  # never back: ranks last
    assert col.measure(results, "ignore-changes")[0] is None  # not measured
    assert winners(results)["multi_service_release"] == ["template"]
    table = build_table(results)
    index = [c.key for c in table.columns].index("multi_service_release")
    cells = {row.approach: row.cells[index] for row in table.rows}
    assert cells["template"].text == "every service back on known good in 455.0 s" and cells["template"].winner
    assert cells["persistent-tag"].text == "web left on the failed release; a person must take 2 steps"
    assert cells["terraform-cd-central"].compact == "✗ web left"
    assert cells["template"].compact == "✓ 455 s"


def test_no_winner_when_no_approach_got_every_service_back() -> None:
    results = release_results()
    results.data["template"].pop("multi_service_release")
    assert winners(results)["multi_service_release"] == []


def test_the_column_appears_in_every_form_of_a_generated_report(tmp_path: Path) -> None:
    # as the scenarios hand it over: a results file per worker, merged
    results = release_results()
    sink = ResultsSink(tmp_path / "records", "gw0")
    for approach in results.approaches():
        for key in results.data[approach]:
            sink.record(approach, results.get(approach, property_class(key)))
    again = load_results(tmp_path / "records")
    assert again.get("template", MultiServiceRelease).services["web"].back_at == 450.0
    paths = write_reports(again, tmp_path / "out")

    md = paths.markdown.read_text()
    header = next(line for line in md.splitlines() if line.startswith("| Approach"))
    assert f"| {TITLE} |" in header
    template_row = next(line for line in md.splitlines() if line.startswith("| 5 template task definition"))
    position = header.split(" | ").index(TITLE)
    assert template_row.split(" | ")[position] == f"**{WINNER_MARK} every service back on known good in 455.0 s**"
    assert "web left on the failed release; a person must take 2 steps" in md
    assert "(31.5 s Terraform)" not in md  # a release that never got back has no time to add Terraform's to
    assert ("- release of web and worker (one `ecs-template-deploy release`): web released v4, ends on v3 "
            "(`app:3`), back on known good v3 at 450.0 s") in md
    assert "  - a person must still: web: move the environment tag back; web: force a new deployment" in md

    doc = json.loads(paths.json.read_text())
    assert "multi_service_release" in [c["key"] for c in doc["columns"]]
    by_name = {a["name"]: a for a in doc["approaches"]}
    assert by_name["template"]["cells"]["multi_service_release"] == {
        "value": 455.0, "text": "every service back on known good in 455.0 s", "winner": True}
    assert by_name["persistent-tag"]["cells"]["multi_service_release"]["value"] is None  # never back: inf is not JSON
    assert {"approach": "ignore-changes", "column": "multi_service_release"} in doc["unmeasured"]

    page = paths.html.read_text()
    assert f">{TITLE}</th>" in page and 'id="col-multi_service_release"' in page
    assert f"{WINNER_MARK} every service back on known good in 455.0 s" in page
    assert "<li>a person must still: web: revert the image_tag commit</li>" in page
