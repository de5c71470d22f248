"""`pytest scenarios/` reads as a demo (``harness.plugin.scenario_lines``, ``harness.plugin.measurements``):
a line per scenario as it finishes (claim, figures, verdict), the skips grouped by reason
in the summary, and the report written to ``report/`` when no --report-dir is given.

Each run is a pytest of its own on a throwaway rootdir whose ``scenarios/`` directory
holds scenarios that record measurements without any world (no Terraform, no simulator):
seconds each."""
from __future__ import annotations

import re
import textwrap
from types import SimpleNamespace

import pytest

from harness.metrics.results import (
    Clobber, ClobberCase, DriftAfterDeploy, ExplicitVersion, RollbackCell, RollbackMatrix, VersionSkew,
)
from harness.plugin.scenario_lines import figures, is_scenario, reason_group, verdict

pytest_plugins = ["pytester"]

SCENARIOS = textwrap.dedent('''
    import pytest

    from harness.metrics.results import DriftAfterDeploy, RollbackCell, RollbackMatrix, cell_key


    def test_cd_deploy_leaves_terraform_plan_clean(approach, measurements):
        if not approach.stand_in:  # as the plugin says it for approach 4's Terraform world
            pytest.skip(f"not measured: {approach.name} needs Terraform here (--no-terraform was given)")
        measurements.record(approach, DriftAfterDeploy(plan_exit_code=0 if approach.name != "ignore-changes" else 2))


    @pytest.mark.parametrize("strategy", ["ROLLING", "BLUE_GREEN"])
    def test_rollback_matrix(approach, measurements, strategy):
        if approach.name != "template":
            pytest.skip("n/a: a cell about approach 5 only")
        cell = RollbackCell("crash-at-once", strategy, recovered=True, seconds=180.0, rolled_back_by="cd")
        measurements.record(approach, RollbackMatrix(cells={cell_key("crash-at-once", strategy): cell}))


    def test_a_claim_that_does_not_hold(approach):
        """The rollback is over in a minute."""
        if approach.name == "template":
            assert False, "the rollback took 300 s"
''')
UNIT = textwrap.dedent('''
    def test_a_unit(measurements):
        from harness.metrics.results import DriftAfterDeploy

        measurements.record("template", DriftAfterDeploy(plan_exit_code=0))
''')


@pytest.fixture
def rootdir(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A throwaway rootdir (an ini: node ids start ``scenarios/``, as the plugin's scenarios do),
    with scenarios and a unit test beside them."""
    pytester.makeini("[pytest]\n")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "test_demo_claims.py").write_text(SCENARIOS)
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_unit.py").write_text(UNIT)
    monkeypatch.setenv("COLUMNS", "200")
    return pytester


def run(pytester: pytest.Pytester, *args: str, env: dict[str, str] | None = None) -> SimpleNamespace:
    """pytest in a process of its own. ``PYTEST_CURRENT_TEST`` (this test's) is not passed on: a
    pytest started with it writes no default report (a test's run is not the one report/ is for)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PYTEST_CURRENT_TEST", raising=False)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        done = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--no-terraform", "-ra", *args, timeout=300)
    return SimpleNamespace(code=done.ret, out=done.stdout.str(), lines=done.stdout.lines, err=done.stderr.str())


def scenario_lines(ran: SimpleNamespace) -> list[str]:
    return [line for line in ran.lines if re.match(r"(PASS|FAIL|SKIP) ", line)]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_each_scenario_says_its_claim_figures_and_verdict_and_the_skips_are_grouped(rootdir, workers) -> None:
    """With xdist the line is made on the worker and printed by the controller."""
    ran = run(rootdir, "scenarios", "-n", workers)
    assert ran.code == 1, ran.out + ran.err  # the claim that does not hold fails the run
    lines = scenario_lines(ran)
    assert any(line.startswith("PASS  5 template · rollback matrix: blue green · back on known good in 180 s "
                               "without a person, by cd") for line in lines), lines
    assert any(line.startswith("PASS  5 template · cd deploy leaves terraform plan clean · plan after deploy: clean")
               for line in lines), lines
    assert any(line.startswith("PASS  2 ignore-changes · cd deploy leaves terraform plan clean · plan after deploy: "
                               "drift (0 changes)") for line in lines), lines
    assert any(line.startswith("SKIP  4a terraform-cd-central · cd deploy leaves terraform plan clean · not measured: "
                               "needs Terraform (--no-terraform was given)") for line in lines), lines
    assert any(line.startswith("FAIL  5 template · The rollback is over in a minute · AssertionError: the rollback "
                               "took 300 s") for line in lines), lines
    assert any(line.startswith("PASS  1 persistent-tag · The rollback is over in a minute") for line in lines), lines
    # a line per scenario that ran (six approaches, two cells of the matrix), but none for the
    # cells that do not exist (ten: five approaches, two strategies)
    assert len(lines) == 6 + 6 + 2, lines
    assert not any("n/a" in line for line in lines), lines
    # the skips: a line per reason with its count, not pytest's line per location; the failure's line stays
    assert "not measured (2): needs Terraform (--no-terraform was given)" in ran.lines, ran.out
    assert "n/a (10): cells that do not apply" in ran.lines, ran.out
    assert "SKIPPED [" not in ran.out
    assert any(line.startswith("FAILED scenarios/test_demo_claims.py::test_a_claim_that_does_not_hold[template]")
               for line in ran.lines), ran.out
    assert re.search(r"\b1 failed, 11 passed, 12 skipped\b", ran.lines[-1]), ran.lines[-1]  # pytest's counts


def test_without_report_dir_the_report_goes_to_report_under_the_rootdir(rootdir) -> None:
    ran = run(rootdir, "scenarios", "tests", "-n", "0")
    report = rootdir.path / "report"
    assert {"report.md", "report.json", "report.html", "not-measured.json"} <= {p.name for p in report.iterdir()}, ran.out
    assert [p.name for p in (report / "results").iterdir()] == ["main.jsonl"]
    assert re.search(r"=+ comparison =+", ran.out), ran.out
    assert f"report written: {report / 'report.md'}" in ran.out, ran.out
    markdown = (report / "report.md").read_text()
    assert "## Not measured in this run" in markdown  # the skips' reasons, as `harness compare` lists them
    assert "test_cd_deploy_leaves_terraform_plan_clean[terraform-cd-app]`: not measured: terraform-cd-app needs " \
           "Terraform here" in markdown
    assert "n/a" not in markdown.split("## Not measured in this run", 1)[1]
    # the unit test beside them got no line and kept its dot
    assert not any("a unit" in line for line in scenario_lines(ran))


def test_with_report_dir_the_report_goes_there_and_nowhere_else(rootdir) -> None:
    out = rootdir.path / "elsewhere"
    ran = run(rootdir, "scenarios", "-n", "0", "--report-dir", str(out))
    assert (out / "report.md").exists(), ran.out
    assert not (rootdir.path / "report").exists()
    assert f"report written: {out / 'report.md'}" in ran.out and "the default" not in ran.out


@pytest.mark.parametrize("args, env", [
    (["tests"], {}),  # no scenario ran: the unit tests write nothing, even where they record measurements
    (["scenarios", "--shard", "1/1"], {}),  # a shard without --report-dir: as before, only its results, somewhere temporary
    (["scenarios"], {"PYTEST_CURRENT_TEST": "tests/x.py::test_y (call)"}),  # a pytest started by a test
], ids=["unit-tests-only", "shard", "started-by-a-test"])
def test_no_report_is_written(rootdir, args, env) -> None:
    ran = run(rootdir, *args, "-n", "0", env=env)
    assert ran.code in (0, 1), ran.out + ran.err
    assert not (rootdir.path / "report").exists(), ran.out
    assert "report written" not in ran.out and "comparison" not in ran.out


def test_quiet_keeps_pytest_dots_and_still_groups_the_skips(rootdir) -> None:
    """`harness compare` runs -q under its own progress bar: no line per scenario there."""
    ran = run(rootdir, "scenarios", "-n", "0", "-q")
    assert scenario_lines(ran) == [], ran.out
    assert any(set(line.split(" ")[0]) <= set(".sF") and line.startswith((".", "s", "F")) for line in ran.lines), ran.out
    assert "not measured (2): needs Terraform (--no-terraform was given)" in ran.lines, ran.out


def test_verbose_keeps_pytest_lines_and_adds_each_scenarios_including_cells_that_do_not_apply(rootdir) -> None:
    ran = run(rootdir, "scenarios", "-n", "0", "-v", "-k", "rollback_matrix")
    assert "scenarios/test_demo_claims.py::test_rollback_matrix[template-ROLLING] PASSED" in ran.out, ran.out
    lines = scenario_lines(ran)
    assert any(line.startswith("SKIP  1 persistent-tag · rollback matrix: rolling · n/a: a cell about approach 5 only")
               for line in lines), lines
    assert len(lines) == 12, lines


# --- what a line is made of ----------------------------------------------------------


def test_a_skip_reason_is_grouped_without_its_approachs_name() -> None:
    assert reason_group("not measured: template-module needs Terraform here (--no-terraform was given)") == \
        reason_group("not measured: needs Terraform (--no-terraform was given)") == \
        ("not measured", "needs Terraform (--no-terraform was given)")
    assert reason_group("not measured on real AWS: template's description maps no Terraform variable to memory") == \
        ("not measured on real AWS", "its description maps no Terraform variable to memory")
    assert reason_group("n/a: Moving tag is about persistent-tag only") == ("n/a", "cells that do not apply")
    assert reason_group("Terraform tests need Terraform: no binary") == ("skipped", "Terraform tests need Terraform: no binary")


def test_each_kind_of_property_has_a_short_text_and_an_unknown_one_its_key() -> None:
    back = RollbackCell("crash-at-once", "ROLLING", recovered=True, seconds=42.0)
    stuck = RollbackCell("alarm-after-release", "ROLLING", recovered=False, human_steps=("a", "b"))
    said = figures([("template", RollbackMatrix(cells={"a": back})), ("template", RollbackMatrix(cells={"b": stuck})),
                    ("template", DriftAfterDeploy(plan_exit_code=0)), ("template", VersionSkew(share_vc_off=0.5)),
                    ("template", ExplicitVersion(readable=True, image="app:v3", pinned_by="tag")),
                    ("template", Clobber(cases={"memory": ClobberCase(version_lost=False, reaches_tasks="next deploy")})),
                    ("template", DriftAfterDeploy(plan_exit_code=0))])
    assert said == ["back on known good in 42 s without a person", "not back: 2 steps for a person",
                    "plan after deploy: clean", "version consistency off: 50% of tasks on another digest",
                    "version readable: app:v3 (pinned by tag)",
                    "infrastructure change: deployed version kept, reaches tasks: next deploy"]
    assert figures([("template", Clobber(cases={}))]) == ["clobber"]


def test_a_verdict_names_where_a_failure_happened() -> None:
    crash = SimpleNamespace(message="ValueError: boom\nmore")
    failed = SimpleNamespace(failed=True, skipped=False, when="setup", longrepr=SimpleNamespace(reprcrash=crash))
    assert verdict(failed) == ("FAIL", "error in setup: ValueError: boom", False)  # type: ignore[arg-type]
    not_applicable = SimpleNamespace(failed=False, skipped=True, when="call", longrepr=("f.py", 1, "Skipped: n/a: x"))
    assert verdict(not_applicable) == ("SKIP", "n/a: x", True)  # type: ignore[arg-type]


def test_a_line_is_only_for_a_path_under_scenarios() -> None:
    assert is_scenario("scenarios/test_x.py::test_y[template]")
    assert not is_scenario("tests/report/test_guide.py::test_x")
