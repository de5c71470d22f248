"""What to pick: derived from the run's results, line by line; a measurement that
changes changes the guide; what the CD does is told apart from what the approach does."""
from __future__ import annotations

from typing import Any

from harness.metrics.results import (AutoscalingDrift, CdPermissions, ConfigOwnership, ExplicitVersion, Results,
                                     RollbackMatrix, VersionSkew, cell_key)
from harness.report import write_reports
from harness.report.guide import terminal_lines, what_to_pick
from harness.report.matrix import build_matrix

from test_rollback_matrix_report import MODES, _cell

OWNED = {"cpu": True, "memory": True, "environment": True, "secrets": True}


def results(app_repo_changed: bool = False) -> Results:
    """Three approaches; ``app_repo_changed``: approach 3 measured keeping its settings in
    Terraform and scaling without drift (what a change of its configuration would show)."""
    r = Results(parameters={"failure_modes": MODES})
    r.add("persistent-tag", ExplicitVersion(readable=False, image="app:prod", pinned_by="moving tag"))
    r.add("app-repo", ExplicitVersion(readable=True, image="app:v3", pinned_by="tag"))
    r.add("template", ExplicitVersion(readable=True, image="app:v3", pinned_by="tag"))
    r.add("persistent-tag", ConfigOwnership(terraform_owns=OWNED))
    r.add("app-repo", ConfigOwnership(terraform_owns=OWNED if app_repo_changed else {k: False for k in OWNED}))
    r.add("template", ConfigOwnership(terraform_owns=OWNED))
    for name in ("persistent-tag", "app-repo", "template"):
        r.add(name, CdPermissions(iam_actions=["ecs:UpdateService"], needs_terraform_state=False, needs_git_push=False))
        r.add(name, AutoscalingDrift(drift=name != "template" and not (app_repo_changed and name == "app-repo")))
        r.add(name, VersionSkew(share_vc_on=0.0, share_vc_off=0.5 if name == "persistent-tag" else 0.0))
        capable_alarm = 245.0 if name != "persistent-tag" else None
        r.add(name, RollbackMatrix(cells={
            cell_key("crash-at-once", "BLUE_GREEN"): _cell("crash-at-once", "BLUE_GREEN", 245.0),
            cell_key("crash-at-once", "BLUE_GREEN", "capable"): _cell("crash-at-once", "BLUE_GREEN", 30.0, cd="capable"),
            cell_key("alarm-after-release", "ROLLING"): _cell("alarm-after-release", "ROLLING", None,
                                                              human_steps=("update the service",)),
            cell_key("alarm-after-release", "ROLLING", "capable"): _cell(
                "alarm-after-release", "ROLLING", capable_alarm, cd="capable",
                **({} if capable_alarm else {"human_steps": ("move the tag back",)})),
        }))
    return r


def guide(r: Results) -> dict[str, Any]:
    """Constraint (up to its first parenthesis) -> advice."""
    return {a.constraint.split(" (Application")[0]: a for a in what_to_pick(r, build_matrix(r)).advice}


def test_each_constraint_names_the_approaches_that_meet_it_and_why_the_others_do_not() -> None:
    found = guide(results())
    version = found["You must read the deployed version off the task definition"]
    assert version.meets == ("app-repo", "template") and "1 names app:prod (moving tag)" in version.measured
    settings = found["All container settings (CPU, memory, environment, secrets) must live in Terraform"]
    assert settings.meets == ("persistent-tag", "template")
    assert "3 leaves cpu, memory, environment, secrets outside Terraform" in settings.measured
    assert found["CD may not hold Terraform state or push commits"].measured == "every approach measured meets it"
    scaling = found["The service scales automatically"]
    assert scaling.meets == ("template",) and "50% of tasks started by a scale-out" in scaling.measured
    # blue/green and a late alarm: what the most capable CD gets back, the article's CD beside it
    blue_green = found["You deploy with ECS's own blue/green"]
    assert blue_green.meets == ("persistent-tag", "app-repo", "template")
    assert "Every task crashes (blue/green): 1: ✓ 30 s (article's CD: ✓ 245 s)" in blue_green.measured
    alarm = found["An alarm may fire after the release completed, and must bring it back"]
    assert alarm.meets == ("app-repo", "template") and "with the CD the article sketches: none" in alarm.measured
    assert what_to_pick(results(), build_matrix(results())).every == ("template",)


def test_a_measurement_that_changes_changes_the_guide() -> None:
    r = results(app_repo_changed=True)
    changed = what_to_pick(r, build_matrix(r))
    assert guide(r)["The service scales automatically"].meets == ("app-repo", "template")
    assert changed.every == ("app-repo", "template")
    assert "Meets every line: 3 container definition in app repo, 5 template task definition" in terminal_lines(changed)[-1]


def test_the_guide_heads_the_report_and_links_its_evidence(tmp_path) -> None:
    paths = write_reports(results(), tmp_path)
    markdown = paths.markdown.read_text()
    assert markdown.index("## What to pick") < markdown.index("## The approaches compared")
    assert "([evidence](#col-explicit_version))" in markdown and '<a id="col-explicit_version"></a>' in markdown
    html = paths.html.read_text()
    assert html.index('id="what-to-pick"') < html.index('id="approaches-compared"') and 'id="col-explicit_version"' in html
    assert paths.pick[0].startswith("What to pick") and any("blue/green: 1 persistent tag" in line for line in paths.pick)


def test_no_guide_without_measurements() -> None:
    assert what_to_pick(Results(), None).advice == ()
    assert terminal_lines(what_to_pick(Results(), None)) == []


def test_the_readme_takes_the_runs_guide_table_and_matrix_between_its_markers(tmp_path, capsys) -> None:
    import argparse

    from harness.commands.report import run

    write_reports(results(), tmp_path / "report")
    readme = tmp_path / "README.md"
    marked = "".join(f"## {name}\n<!-- report: {name} -->\nstale figures\n<!-- /report -->\n"
                     for name in ("what-to-pick", "table", "matrix"))
    readme.write_text("# Title\n" + marked + "the end\n")
    assert run(argparse.Namespace(action="readme", report=str(tmp_path / "report"), into=str(readme))) == 0
    text = readme.read_text()
    assert "stale figures" not in text and text.startswith("# Title\n") and text.endswith("the end\n")
    assert "| If | Pick | Measured |" in text and "Meets every line above: 5 template task definition." in text
    assert "| 1 persistent tag, most capable CD |" in text and "| Approach | Drift after deploy |" in text
    again = readme.read_text()
    assert run(argparse.Namespace(action="readme", report=str(tmp_path / "report"), into=str(readme))) == 0
    assert readme.read_text() == again  # the same run gives the same README

    readme.write_text("# Only the guide\n<!-- report: what-to-pick -->\nstale\n<!-- /report -->\n")
    assert run(argparse.Namespace(action="readme", report=str(tmp_path / "report"), into=str(readme))) == 0
    assert "| If | Pick | Measured |" in readme.read_text() and "| Approach |" not in readme.read_text()

    readme.write_text("# no markers\n")
    assert run(argparse.Namespace(action="readme", report=str(tmp_path / "report"), into=str(readme))) == 2
    assert "no '<!-- report: NAME -->'" in capsys.readouterr().err
    readme.write_text("<!-- report: table -->\nnot closed\n")
    assert run(argparse.Namespace(action="readme", report=str(tmp_path / "report"), into=str(readme))) == 2
    assert "'<!-- report: table -->' is not closed" in capsys.readouterr().err
