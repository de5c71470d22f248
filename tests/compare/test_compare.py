"""`harness compare`: its arguments, its refusals, and that one run writes the
report files (moto-only scenarios of two approaches, to stay fast)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import commands
from harness.commands.compare import CompareError, add_arguments, pytest_args, run
from harness.report.not_measured import write_not_measured

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_compare_is_a_harness_command() -> None:
    assert commands.COMMANDS["compare"] == "harness.commands.compare"


def test_defaults_run_every_scenario_with_two_workers_one_approach_per_worker() -> None:
    argv = pytest_args(parse())
    assert argv[0] == str(ROOT / "scenarios")
    assert argv[argv.index("--report-dir") + 1] == "report"
    assert argv[argv.index("-n") + 1] == "2" and argv[argv.index("--dist") + 1] == "loadgroup"
    assert argv[argv.index("--backend") + 1] == "moto"
    assert "--no-terraform" not in argv
    assert argv[argv.index("--profile") + 1] == "fargate"  # the calibrated numbers, not the tests' fast ones
    assert argv[argv.index("--sensitivity") + 1] == "quick"  # the other profiles replay the matrix, Terraform's in part


def test_options_reach_pytest() -> None:
    argv = pytest_args(parse("--no-terraform", "-n", "0", "--out", "x", "--backend", "server", "-k", "template",
                             "--sensitivity", "full"))
    assert argv[argv.index("--sensitivity") + 1] == "full"
    # -n 0 reaches pytest (pyproject's addopts would start workers otherwise), without --dist
    assert "--no-terraform" in argv and argv[argv.index("-n") + 1] == "0" and "--dist" not in argv
    assert argv[argv.index("--report-dir") + 1] == "x"
    assert argv[argv.index("--backend") + 1] == "server"
    assert argv[argv.index("-k") + 1] == "template"


def test_a_profile_file_reaches_pytest_by_its_absolute_path(tmp_path, monkeypatch) -> None:
    (tmp_path / "mine.toml").write_text('summary = "ours"\nbase = "fargate"\n')
    monkeypatch.chdir(tmp_path)
    argv = pytest_args(parse("--profile", "mine.toml"))
    assert argv[argv.index("--profile") + 1] == str(tmp_path / "mine.toml")


@pytest.mark.parametrize("argv, message", [
    (("--profile", "lambda"), "no timing profile 'lambda': give one of fargate, ec2-cached, fast"),
    (("-n", "two"), "--workers 'two' is not a number or 'auto'"),
    (("--scenarios", "/nonexistent/scenarios"), "no scenarios directory at /nonexistent/scenarios"),
])
def test_bad_arguments_are_refused_with_what_to_do(argv, message) -> None:
    with pytest.raises(CompareError, match=message):
        pytest_args(parse(*argv))


def test_an_out_path_that_is_a_file_is_refused_in_one_line(tmp_path, capsys) -> None:
    target = tmp_path / "report"
    target.write_text("not a directory")
    assert run(parse("--out", str(target))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file: give a directory" in err
    assert target.read_text() == "not a directory"


def test_unknown_backend_is_an_argparse_error() -> None:
    with pytest.raises(SystemExit):
        parse("--backend", "azure")


def test_not_measured_reasons_are_listed_in_report_md(tmp_path) -> None:
    (tmp_path / "report.md").write_text("# report\n")
    write_not_measured(tmp_path, {"scenarios/test_x.py::t[app-repo]": "not measured: needs Terraform"})
    text = (tmp_path / "report.md").read_text()
    assert text.endswith("- `scenarios/test_x.py::t[app-repo]`: not measured: needs Terraform\n")
    assert json.loads((tmp_path / "not-measured.json").read_text()) == {
        "scenarios/test_x.py::t[app-repo]": "not measured: needs Terraform"}


def test_a_cell_that_does_not_exist_is_not_listed_as_not_measured() -> None:
    from types import SimpleNamespace

    from harness.commands.compare import NotMeasured

    collector = NotMeasured()
    for node, reason in (("m.py::t[app-repo-tag-moved]", "Skipped: n/a: a mode about approach 1 only"),
                         ("m.py::t[app-repo-drift]", "Skipped: not measured: needs Terraform")):
        collector.pytest_runtest_logreport(SimpleNamespace(skipped=True, failed=False, passed=False, when="setup", nodeid=node,
                                                           longrepr=("m.py", 1, reason)))
    assert collector.reasons == {"m.py::t[app-repo-drift]": "not measured: needs Terraform"}


def test_a_failed_scenario_is_listed_with_its_one_line_reason() -> None:
    from types import SimpleNamespace

    from harness.commands.compare import NotMeasured

    collector = NotMeasured()
    crash = SimpleNamespace(message="AssertionError: `./deploy.sh x` exited 1: no credentials\nassert False")
    collector.pytest_runtest_logreport(SimpleNamespace(skipped=False, failed=True, passed=False, when="call", nodeid="m.py::t[own]",
                                                       longrepr=SimpleNamespace(reprcrash=crash)))
    assert collector.reasons == {"m.py::t[own]": "failed: AssertionError: `./deploy.sh x` exited 1: no credentials"}


def test_one_run_writes_the_report_files(tmp_path) -> None:
    out = tmp_path / "report"
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_REQUIRE_TERRAFORM"}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--no-terraform", "-n", "0", "--out", str(out),
         "-k", "(crash-at-once-rolling or test_explicit_version or test_drift_after) and (app-repo or template)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert {p.name for p in out.iterdir()} >= {"report.md", "report.json", "report.html", "rollback-timelines.png",
                                                 "not-measured.json"}
    report = json.loads((out / "report.json").read_text())
    rows = {row["name"]: row["cells"] for row in report["approaches"]}
    assert set(rows) == {"app-repo", "template"}
    assert all(rows[name]["rollback_seconds"]["value"] > 0 for name in rows)  # measured, not typed
    assert all(rows[name]["drift_after_deploy"]["value"] is None for name in rows)  # needs Terraform
    text = (out / "report.md").read_text()
    assert "| 3 container definition in app repo |" in text and "| 5 template task definition |" in text
    # the Terraform-backed scenario was skipped, and the report says why
    reasons = json.loads((out / "not-measured.json").read_text())
    assert any("test_drift_after_deploy" in node and "--no-terraform" in why for node, why in reasons.items())
    assert "## Not measured in this run" in text
    # its header says so first, and never that Terraform ran; so does the terminal, before anything runs
    header = text.split("\n## ", 1)[0]
    assert "Terraform did not run (--no-terraform was given)" in header and "really ran" not in text
    assert done.stderr.lstrip().startswith("Terraform: not run (--no-terraform)")
    assert (out / "rollback-timelines.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "report.html").read_text()


def test_on_a_backend_where_tasks_really_run_the_report_says_what_ran_there(tmp_path) -> None:
    """--backend aws --aws-dry-run: the real path on harness serve posing as AWS. The report
    lists the scenarios that ran and passed there (a deploy tool scenario; an approach's
    replay on its own Terraform configuration) apart from those it could not measure."""
    out = tmp_path / "report"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HARNESS_AWS_"))}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--backend", "aws", "--aws-dry-run", "-n", "0", "--out", str(out),
         "-k", "test_first_deploy or ((test_explicit_version or test_cd_permissions) and template)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = (out / "report.md").read_text()
    measured = text.split("## Measured on harness serve posing as real AWS", 1)[1].split("\n## ", 1)[0]
    assert "passed: their verdicts are its behaviour, not the simulator's" in measured
    assert ("- `scenarios/test_deploy_tool_rollback.py::"
            "test_first_deploy_reaches_steady_state_and_is_marked_known_good`") in measured
    reasons = json.loads((out / "not-measured.json").read_text())
    if not any("test_explicit_version" in node for node in reasons):  # Terraform could run here
        assert "- `scenarios/test_explicit_version.py::test_deployed_version_can_be_read_from_the_task_definition" \
               "[template]`" in measured
    assert "test_cd_permissions" not in measured
    assert reasons["scenarios/test_cd_permissions.py::test_cd_needs_only_the_permissions_it_calls[template]"] \
        .startswith("not measured on real AWS: CD's calls are read from what harness serve recorded"), reasons
    assert not any("test_first_deploy" in node for node in reasons)


def test_on_the_simulator_the_report_has_no_measured_on_section(tmp_path) -> None:
    from harness.commands.compare import where_it_ran
    from harness.report.not_measured import write_measured_where

    (tmp_path / "report.md").write_text("# report\n")
    assert where_it_ran(parse("--backend", "moto")) is None and where_it_ran(parse("--backend", "server")) is None
    write_measured_where(tmp_path, where_it_ran(parse()), ["scenarios/test_x.py::t"])
    assert (tmp_path / "report.md").read_text() == "# report\n"
    write_measured_where(tmp_path, "real AWS", [])
    assert "*No scenario passed on real AWS in this run" in (tmp_path / "report.md").read_text()


def test_a_scenario_whose_teardown_failed_is_not_listed_as_measured() -> None:
    """A real run that passed but whose teardown left resources: an error, not a measurement."""
    from types import SimpleNamespace

    from harness.commands.compare import NotMeasured

    collector = NotMeasured()
    node = "scenarios/test_deploy_tool_rollback.py::test_first_deploy"
    collector.pytest_runtest_logreport(SimpleNamespace(passed=True, failed=False, skipped=False, when="call", nodeid=node))
    assert collector.passed == [node]
    crash = SimpleNamespace(message="Failed: run hr0123abcd: teardown left 1 resource(s) on real AWS (vpc vpc-1)")
    collector.pytest_runtest_logreport(SimpleNamespace(passed=False, failed=True, skipped=False, when="teardown",
                                                       nodeid=node, longrepr=SimpleNamespace(reprcrash=crash)))
    assert collector.passed == []
    assert collector.reasons == {node: "failed in teardown: Failed: run hr0123abcd: teardown left 1 resource(s) on "
                                       "real AWS (vpc vpc-1)"}


def _fake_terraform(tmp_path: Path, init_says: str) -> Path:
    """A terraform whose `init` fails as Terraform does offline (or as given)."""
    binary = tmp_path / "bin" / "terraform"
    binary.parent.mkdir(parents=True)
    binary.write_text(f'#!/bin/sh\nif [ "$1" = init ]; then echo "{init_says}" >&2; exit 1; fi\necho fake\n')
    binary.chmod(0o755)
    return binary


def test_without_a_provider_compare_refuses_before_running_anything_and_says_where_it_looked(
        tmp_path, monkeypatch, capsys) -> None:
    offline = ("Error: Failed to query available provider packages: could not connect to "
               "registry.terraform.io: failed to request discovery document")
    monkeypatch.setenv("HARNESS_TERRAFORM", str(_fake_terraform(tmp_path, offline)))
    for name in ("HARNESS_TF_PROVIDER_MIRROR", "TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "HARNESS_TF_PLUGIN_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "share"))
    out = tmp_path / "report"
    assert run(parse("--out", str(out))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("harness compare: error: Terraform cannot run here")
    assert "cannot install the AWS provider" in err and "--no-terraform" in err and "HARNESS_TF_PROVIDER_MIRROR" in err
    assert f"looked in {tmp_path / 'home' / '.terraform.d' / 'plugins'}" in err  # where Terraform itself looks
    assert not out.exists()  # refused before pytest wrote anything


def test_without_a_terraform_binary_compare_refuses_with_how_to_install_one(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HARNESS_TERRAFORM", str(tmp_path / "no-such-terraform"))
    assert run(parse("--out", str(tmp_path / "report"))) == 2
    err = capsys.readouterr().err
    assert "Terraform cannot run here" in err and "no Terraform binary" in err and not (tmp_path / "report").exists()


def test_the_report_says_terraform_did_not_run_and_never_that_it_ran() -> None:
    from harness.metrics.results import Results
    from harness.report.writers import terraform_line

    skipped = Results(parameters={"terraform_not_run": {"--no-terraform was given": True}})
    assert terraform_line(skipped) == ("Terraform did not run (--no-terraform was given): every cell that needs it "
                                       "reads not measured.")
    ran = Results(parameters={"terraform": {"version": {"1.11.4": True}, "provider": {"a mirror": True}},
                              "terraform_not_run": {"x": True}})
    assert terraform_line(ran).startswith("Terraform 1.11.4 really ran")
    assert terraform_line(Results()) is None
