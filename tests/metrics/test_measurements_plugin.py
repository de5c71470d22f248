"""The pytest side: scenarios record through the `measurements` fixture, xdist
workers' records are merged, and `--report-dir` writes the report at the end."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCENARIOS = textwrap.dedent('''
    import pytest
    from harness.metrics.results import Rollback, VersionSkew

    @pytest.mark.parametrize("approach, seconds", [
        ("persistent-tag", 95.0), ("ignore-changes", 70.0), ("app-repo", 60.0), ("template", 40.0)])
    def test_rollback(approach, seconds, measurements):
        measurements.record(approach, Rollback(simulated_seconds=seconds, api_calls=3, recovered=True))
        measurements.parameters({"simulator": {"scheduler_interval": 5.0}})

    @pytest.mark.parametrize("vc", ["on", "off"])
    def test_skew(vc, measurements):
        field = "share_vc_on" if vc == "on" else "share_vc_off"
        measurements.record("persistent-tag", VersionSkew(**{field: 0.0 if vc == "on" else 0.5}))
''')


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest with the measurements room alone (``-p no:harness``: not the whole plugin the
    package's entry point loads, whose ``approach`` these scenarios define themselves)."""
    (tmp_path / "test_claims.py").write_text(SCENARIOS)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "harness.plugin.measurements", "-p", "no:harness", "-q",
         "-p", "no:cacheprovider",
         str(tmp_path / "test_claims.py"), *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )


def test_records_from_two_xdist_workers_are_merged_into_one_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = _pytest(tmp_path, "-n", "2", "--report-dir", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in (out / "results").glob("*.jsonl")) == ["gw0.jsonl", "gw1.jsonl"]
    doc = json.loads((out / "report.json").read_text())
    assert doc["winners"]["rollback_seconds"] == ["template"]
    tag = next(a for a in doc["approaches"] if a["name"] == "persistent-tag")
    assert tag["measured"]["version_skew"] == {"share_vc_off": 0.5, "share_vc_on": 0.0}
    assert doc["parameters"] == {"simulator": {"scheduler_interval": 5.0}}
    assert "comparison" in run.stdout and "report written:" in run.stdout
    assert (out / "report.html").exists() and (out / "report.md").exists()


def test_a_rerun_starts_from_empty_results(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "results").mkdir(parents=True)
    (out / "results" / "gw7.jsonl").write_text('{"approach": "template", "property": "rollback", "fields": {"simulated_seconds": 1.0}}\n')
    run = _pytest(tmp_path, "--report-dir", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert [p.name for p in (out / "results").glob("*.jsonl")] == ["main.jsonl"]
    template = next(a for a in json.loads((out / "report.json").read_text())["approaches"] if a["name"] == "template")
    assert template["measured"]["rollback"]["simulated_seconds"] == 40.0


def test_conflicting_measurements_fail_the_run_with_a_one_line_reason(tmp_path: Path) -> None:
    (tmp_path / "test_conflict.py").write_text(textwrap.dedent('''
        from harness.metrics.results import VersionSkew

        def test_a(measurements):
            measurements.record("template", VersionSkew(share_vc_on=0.0))

        def test_b(measurements):
            measurements.record("template", VersionSkew(share_vc_on=0.5))
    '''))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "harness.plugin.measurements", "-p", "no:harness", "-q",
         "-p", "no:cacheprovider",
         str(tmp_path / "test_conflict.py"), "--report-dir", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert run.returncode == 1
    assert "harness report not written: template.version_skew.share_vc_on measured twice" in run.stdout


def test_without_report_dir_nothing_is_written(tmp_path: Path) -> None:
    run = _pytest(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "report written" not in run.stdout
    assert not (tmp_path / "report.md").exists()
