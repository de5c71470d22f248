"""The measurement data model: properties, merging across workers, winners per column."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.metrics.collect import ResultsSink, load_results, worker_name
from harness.metrics.columns import COLUMNS, NOT_MEASURED, column, winners
from harness.metrics.results import (
    CdPermissions,
    Clobber,
    ClobberCase,
    ConfigOwnership,
    DriftAfterDeploy,
    Marker,
    ResourceChange,
    Results,
    ResultsError,
    Rollback,
    Sample,
    Timeline,
    VersionSkew,
)


def _timeline() -> Timeline:
    return Timeline(
        samples=(
            Sample(0.0, {"app:1": 4}, 4),
            Sample(20.0, {"app:1": 4, "app:2": 2}, 4),
            Sample(60.0, {"app:1": 4}, 4),
        ),
        markers=(Marker(15.0, "failure", "task exited"), Marker(45.0, "decision"), Marker(60.0, "recovery")),
        desired=4,
        images=("app:1", "app:2"),
    )


def test_a_property_round_trips_through_json_including_its_timeline() -> None:
    rollback = Rollback(simulated_seconds=60.0, terraform_seconds=0.0, api_calls=7, lowest_healthy=4,
                        desired=4, recovered=True, by="cd", timeline=_timeline())
    again = Rollback.from_dict(json.loads(json.dumps(rollback.to_dict())))
    assert again == rollback
    assert again.timeline.lowest_healthy() == 4
    assert again.timeline.marker("decision") == Marker(45.0, "decision")


def test_unmeasured_fields_are_left_out_not_written_as_null() -> None:
    assert VersionSkew(share_vc_on=0.0).to_dict() == {"share_vc_on": 0.0}


def test_unknown_fields_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ResultsError, match=r"unknown fields \['seconds'\]; known: .*simulated_seconds"):
        Rollback.from_dict({"seconds": 3})


def test_timeline_refuses_out_of_order_samples_and_negative_counts() -> None:
    with pytest.raises(ResultsError, match="time order"):
        Timeline(samples=(Sample(5.0, {"a": 1}, 1), Sample(1.0, {"a": 1}, 1)))
    with pytest.raises(ResultsError, match="negative"):
        Sample(0.0, {"a": -1}, 0)


def test_timeline_lists_declared_images_first_then_those_seen() -> None:
    timeline = Timeline(samples=(Sample(0, {"z": 1, "b": 1}, 2),), images=("b",))
    assert timeline.all_images() == ["b", "z"]


def test_partial_measurements_from_several_workers_merge(tmp_path: Path) -> None:
    ResultsSink(tmp_path, "gw0").record("persistent-tag", VersionSkew(share_vc_on=0.0))
    ResultsSink(tmp_path, "gw1").record("persistent-tag", VersionSkew(share_vc_off=0.5))
    ResultsSink(tmp_path, "gw1").record_parameters({"scheduler_pass_seconds": 5})
    ResultsSink(tmp_path, "gw0").record_parameters({"scheduler_pass_seconds": 5, "backend": "moto"})
    ResultsSink(tmp_path, "gw0").record("template", Clobber(cases={"memory": ClobberCase(version_lost=False)}))
    ResultsSink(tmp_path, "gw1").record("template", Clobber(cases={"secret": ClobberCase(version_lost=False, reaches_tasks="next deploy")}))

    results = load_results(tmp_path)
    assert results.get("persistent-tag", VersionSkew) == VersionSkew(share_vc_on=0.0, share_vc_off=0.5)
    assert results.parameters == {"scheduler_pass_seconds": 5, "backend": "moto"}
    assert sorted(results.get("template", Clobber).cases) == ["memory", "secret"]


def test_merge_is_independent_of_which_worker_measured_what(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    ResultsSink(a, "gw0").record("template", VersionSkew(share_vc_on=0.0))
    ResultsSink(a, "gw1").record("app-repo", VersionSkew(share_vc_on=0.25))
    ResultsSink(b, "gw0").record("app-repo", VersionSkew(share_vc_on=0.25))
    ResultsSink(b, "gw1").record("template", VersionSkew(share_vc_on=0.0))
    assert json.dumps(load_results(a).to_dict()) == json.dumps(load_results(b).to_dict())


def test_a_field_measured_twice_differently_is_an_error_naming_the_file(tmp_path: Path) -> None:
    ResultsSink(tmp_path, "gw0").record("template", VersionSkew(share_vc_on=0.0))
    ResultsSink(tmp_path, "gw1").record("template", VersionSkew(share_vc_on=0.5))
    with pytest.raises(ResultsError, match=r"template\.version_skew\.share_vc_on measured twice .*gw1\.jsonl:1"):
        load_results(tmp_path)


def test_the_same_value_measured_twice_is_accepted(tmp_path: Path) -> None:
    for worker in ("gw0", "gw1"):
        ResultsSink(tmp_path, worker).record("template", VersionSkew(share_vc_on=0.0))
    assert load_results(tmp_path).get("template", VersionSkew).share_vc_on == 0.0


def test_recording_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="nothing measured"):
        ResultsSink(tmp_path).record("template", VersionSkew())
    with pytest.raises(ResultsError, match="plain name"):
        ResultsSink(tmp_path, "../x")


def test_a_corrupt_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "gw0.jsonl").write_text('{"parameters": {}}\n{oops\n')
    with pytest.raises(ResultsError, match=r"gw0\.jsonl:2: not a JSON line"):
        load_results(tmp_path)


def test_worker_name_reads_xdist_worker_id() -> None:
    class Worker:
        workerinput = {"workerid": "gw3"}

    class Controller:
        pass

    assert worker_name(Worker()) == "gw3"
    assert worker_name(Controller()) == "main"


def test_approaches_are_listed_in_the_article_order() -> None:
    results = Results()
    for name in ("template", "app-repo", "persistent-tag", "some-new-one"):
        results.add(name, VersionSkew(share_vc_on=0.0))
    assert results.approaches() == ["persistent-tag", "app-repo", "template", "some-new-one"]


# --- columns and winners -----------------------------------------------------------


def _results() -> Results:
    results = Results()
    results.add("persistent-tag", Rollback(simulated_seconds=90.0, terraform_seconds=0.0, api_calls=6, lowest_healthy=2, desired=4, recovered=True))
    results.add("app-repo", Rollback(simulated_seconds=60.0, terraform_seconds=0.0, api_calls=4, lowest_healthy=4, desired=4, recovered=True))
    results.add("terraform-cd-central", Rollback(simulated_seconds=80.0, terraform_seconds=20.0, api_calls=4, lowest_healthy=4, desired=4, recovered=True))
    results.add("template", Rollback(simulated_seconds=10.0, api_calls=2, lowest_healthy=4, desired=4, recovered=False))
    for name, lost in (("persistent-tag", False), ("ignore-changes", True), ("template", False)):
        results.add(name, Clobber(cases={"memory": ClobberCase(version_lost=lost, reaches_tasks="next deploy")}))
    return results


def test_lower_is_better_counts_terraform_seconds_and_a_failed_rollback_loses() -> None:
    win = winners(_results())
    # app-repo 60 s beats terraform-cd-central's 80 s (20 s of them Terraform's); template never recovered
    assert win["rollback_seconds"] == ["app-repo"]


def test_ties_share_the_win_and_higher_is_better_for_healthy_count() -> None:
    win = winners(_results())
    assert win["lowest_healthy"] == ["app-repo", "terraform-cd-central", "template"]
    assert win["rollback_api_calls"] == ["template"]


def test_false_is_better_for_version_lost() -> None:
    assert winners(_results())["version_lost"] == ["persistent-tag", "template"]


def test_no_winner_when_informational_all_equal_or_only_one_measured() -> None:
    win = winners(_results())
    assert win["infra_change_reaches"] == []  # informational column
    results = Results()
    results.add("template", VersionSkew(share_vc_on=0.0))
    assert winners(results)["skew_vc_on"] == []  # one approach measured
    results.add("app-repo", VersionSkew(share_vc_on=0.0))
    assert winners(results)["skew_vc_on"] == []  # all equal


def test_every_column_has_a_known_winner_rule_and_a_claim() -> None:
    assert len({c.key for c in COLUMNS}) == len(COLUMNS)
    for col in COLUMNS:
        assert col.better in ("lower", "higher", "true", "false", None)
        assert col.claim


def test_column_text_says_not_measured_and_explains_drift() -> None:
    drift = column("drift_after_deploy")
    results = Results()
    results.add("ignore-changes", DriftAfterDeploy(plan_exit_code=2, changes=[
        ResourceChange("aws_ecs_task_definition.app", ("delete", "create"), ("container_definitions",))]))
    value, prop = drift.measure(results, "ignore-changes")
    assert drift.text(value, prop) == "yes: aws_ecs_task_definition.app (container_definitions)"
    assert drift.text(*drift.measure(results, "template")) == NOT_MEASURED


def test_config_ownership_counts_and_names_what_terraform_does_not_own() -> None:
    col = column("config_in_terraform")
    results = Results()
    results.add("app-repo", ConfigOwnership(terraform_owns={"cpu": False, "memory": False, "environment": False, "secrets": False}))
    results.add("template", ConfigOwnership(terraform_owns={"cpu": True, "memory": True, "environment": True, "secrets": True}))
    assert col.text(*col.measure(results, "template")) == "4/4"
    assert col.text(*col.measure(results, "app-repo")) == "0/4 (not cpu, memory, environment, secrets)"
    assert winners(results)["config_in_terraform"] == ["template"]


def test_iam_action_count_column_counts_recorded_actions() -> None:
    col = column("cd_iam_actions")
    results = Results()
    results.add("template", CdPermissions(iam_actions=["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:UpdateService"]))
    assert col.measure(results, "template")[0] == 3


def test_unknown_column_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: drift_after_deploy"):
        column("speed")


def test_simulated_seconds_within_a_scheduler_pass_and_a_poll_tie() -> None:
    results = Results(parameters={"simulator": {"scheduler_interval": 5.0}, "scenario": {"poll_interval_seconds": 5.0}})
    for name, seconds in (("persistent-tag", 166.2), ("app-repo", 166.0), ("terraform-cd-central", 199.8)):
        results.add(name, Rollback(simulated_seconds=seconds, api_calls=4, lowest_healthy=2, desired=2, recovered=True))
    # 0.2 s apart is where the deploy fell between two scheduler passes, not a faster approach
    assert winners(results)["rollback_seconds"] == ["persistent-tag", "app-repo"]
    results.add("template", Rollback(simulated_seconds=150.0, api_calls=4, lowest_healthy=2, desired=2, recovered=True))
    assert winners(results)["rollback_seconds"] == ["template"]  # 16 s faster is a difference
