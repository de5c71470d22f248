"""The plugin's measurements and report (registered by ``harness.plugin``).

- ``--report-dir DIR``: every scenario's measurements are gathered across
  xdist workers into ``DIR/results/``; when the run ends, the controller merges
  them, writes report.md/json/html (+ the README PNG) into ``DIR`` and prints
  the table in the terminal summary.
- ``measurements`` fixture: what a scenario records with.

      def test_rollback_is_fast(approach, measurements):
          ...
          measurements.record(approach.name, Rollback(simulated_seconds=..., api_calls=...))
          measurements.parameters({"simulator": aws.params.as_dict()})

With ``--shard K/N`` (``harness.plugin.sharding``) only the results are
written; ``harness report merge`` makes the report from every shard's.

Without ``--report-dir`` the measurements still go through the same checks
(and into a temporary directory) but no report is written.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Mapping

import pytest
from rich.console import Console

from harness.metrics.collect import SUFFIX, ResultsSink, load_results, worker_name
from harness.metrics.results import Property, ResultsError
from harness.plugin.state import profile_key, report_dir_key, report_error_key, report_paths_key, shard_key
from harness.report import print_table, write_reports


def pytest_configure(config: pytest.Config) -> None:
    option = config.getoption("harness_report_dir", None)
    directory = Path(option).resolve() if option else None
    config.stash[report_dir_key] = directory
    if directory is not None and not hasattr(config, "workerinput"):
        # The controller starts from an empty results directory; workers start later.
        results = directory / "results"
        results.mkdir(parents=True, exist_ok=True)
        for stale in results.glob(f"*{SUFFIX}"):
            stale.unlink()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("harness", "ECS Terraform/CD harness").addoption(
        "--report-dir", dest="harness_report_dir", default=None, metavar="DIR",
        help="gather the scenarios' measurements (across xdist workers) and write "
        "report.md, report.json, report.html and rollback-timelines.png into DIR")


class Measurements:
    """A scenario's handle on this process's results file."""

    def __init__(self, sink: ResultsSink) -> None:
        self._sink = sink

    def record(self, approach: Any, measured: Property) -> None:
        """``approach``: a row of the table of approaches (the ``approach`` parameter) or its name."""
        self._sink.record(str(approach), measured)

    def timing(self, record: Mapping[str, Any]) -> None:
        """Where one scenario's wall time went (bench/compare.py reads these)."""
        self._sink.record_timing(record)

    def parameters(self, parameters: Mapping[str, Any]) -> None:
        self._sink.record_parameters(parameters)

    @property
    def path(self) -> Path:
        return self._sink.path


@pytest.fixture(scope="session")
def _results_sink(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ResultsSink:
    directory = request.config.stash.get(report_dir_key, None)
    where = directory / "results" if directory is not None else tmp_path_factory.mktemp("measurements")
    return ResultsSink(where, worker_name(request.config))


@pytest.fixture
def measurements(request: pytest.FixtureRequest, _results_sink: ResultsSink) -> Measurements:
    measured = Measurements(_results_sink)
    profile = request.config.stash.get(profile_key, None)
    if profile is not None:  # every figure says which timing profile it was measured under
        measured.parameters({"profile": {profile.name: True}})
    return measured


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    directory = config.stash.get(report_dir_key, None)
    if directory is None or hasattr(config, "workerinput"):
        return
    if config.stash.get(shard_key, None) is not None:
        return  # one shard's results are a part; `harness report merge` writes the report from all parts
    try:
        config.stash[report_paths_key] = write_reports(load_results(directory / "results"), directory)
    except ResultsError as err:
        config.stash[report_error_key] = str(err)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    error = config.stash.get(report_error_key, None)
    if error is not None:
        terminalreporter.write_line(f"harness report not written: {error}", red=True)
    paths = config.stash.get(report_paths_key, None)
    if paths is None:
        return
    buffer = io.StringIO()
    print_table(paths.table, Console(file=buffer, width=max(terminalreporter._tw.fullwidth, 100),
                                     force_terminal=terminalreporter.hasmarkup, color_system="standard"))
    terminalreporter.write_sep("=", "comparison")
    terminalreporter.write(buffer.getvalue())
    for line in (*paths.said, *paths.pick):
        terminalreporter.write_line(line)
    written = ", ".join(str(p) for p in (paths.markdown, paths.json, paths.html, paths.png) if p is not None)
    terminalreporter.write_line(f"report written: {written}")
