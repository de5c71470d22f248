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

Without ``--report-dir`` the measurements gather in a temporary directory (the
controller's, handed to xdist workers), and when tests under ``scenarios/`` ran
the report goes to ``report/`` under the rootdir (in .gitignore), printed the same
way: ``pytest scenarios/`` ends with the comparison. A run without scenarios
(the unit tests alone) writes nothing. That default report never fails the run
(a run of the unit tests must not fail on it, and CI's ``pytest`` includes the
scenarios): what stopped it is said in the summary instead; with ``--report-dir``
a conflict in the measurements still fails the run. No default report with
``--shard`` (a part is not a report), on ``--backend aws``/``localstack`` (their
report needs `harness compare`'s "measured on" section: pass ``--report-dir``
or use it), or in a pytest started by a test (``PYTEST_CURRENT_TEST`` is set:
the report directory is the outer run's, not a test's).
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

import pytest
from rich.console import Console

from harness.metrics.collect import SUFFIX, ResultsSink, load_results, worker_name
from harness.metrics.results import Property, ResultsError
from harness.plugin.scheduling import SCENARIOS_DIR
from harness.plugin.state import (
    default_report_key, profile_key, recorded_key, report_dir_key, report_error_key, report_paths_key, results_dir_key,
    scenarios_ran_key, shard_key,
)
from harness.report import ReportPaths, print_table, write_reports
from harness.report.not_measured import NOT_MEASURED_FILE, write_not_measured
from harness.report.shards import MANIFEST

DEFAULT_REPORT = "report"  # without --report-dir: <rootdir>/report, when scenarios ran
SIMULATED = ("moto", "server")  # the backends a default report is written for
WORKER_RESULTS = "harness_results_dir"  # workerinput: the controller's results directory, for its xdist workers
NOT_APPLICABLE = "n/a:"  # a skip reason starting so is a cell that does not exist, not a measurement missing
_heard_key = pytest.StashKey["ScenariosHeard"]()  # without --report-dir, on the controller: what the scenarios did


def pytest_configure(config: pytest.Config) -> None:
    option = config.getoption("harness_report_dir", None)
    directory = Path(option).resolve() if option else None
    config.stash[report_dir_key] = directory
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        if directory is None and worker.get(WORKER_RESULTS):
            config.stash[results_dir_key] = Path(worker[WORKER_RESULTS])
        return
    if directory is not None:
        # The controller starts from an empty results directory; workers start later.
        results = directory / "results"
        results.mkdir(parents=True, exist_ok=True)
        for stale in results.glob(f"*{SUFFIX}"):
            stale.unlink()
        return
    default = default_report_dir(config)
    if default is not None:
        gathered = Path(tempfile.mkdtemp(prefix="harness-results-"))
        config.add_cleanup(lambda: shutil.rmtree(gathered, ignore_errors=True))
        config.stash[results_dir_key] = gathered
        config.stash[default_report_key] = default
        heard = config.stash[_heard_key] = ScenariosHeard(config)
        config.pluginmanager.register(heard, "harness-scenarios-heard")


def default_report_dir(config: pytest.Config) -> Path | None:
    """Where a run without --report-dir writes its report if scenarios ran (see the module
    docstring for when there is none)."""
    if config.getoption("harness_shard", None) is not None:
        return None
    if config.getoption("harness_backend", "moto") not in SIMULATED:
        return None
    if os.environ.get("PYTEST_CURRENT_TEST"):
        return None
    return config.rootpath / DEFAULT_REPORT


@pytest.hookimpl(optionalhook=True)  # an xdist hook, on the controller
def pytest_configure_node(node: Any) -> None:
    """Each worker appends its results where the controller will read them."""
    gathered = node.config.stash.get(results_dir_key, None)
    if gathered is not None and node.config.stash.get(report_dir_key, None) is None:
        node.workerinput[WORKER_RESULTS] = str(gathered)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("harness", "ECS Terraform/CD harness").addoption(
        "--report-dir", dest="harness_report_dir", default=None, metavar="DIR",
        help="gather the scenarios' measurements (across xdist workers) and write "
        "report.md, report.json, report.html and rollback-timelines.png into DIR (without it: into report/ "
        "under the rootdir when scenarios ran on the simulator)")


class Measurements:
    """A scenario's handle on this process's results file. What it recorded stays in
    ``recorded`` too: the scenario's line in the terminal (``harness.plugin.scenario_lines``) says it."""

    def __init__(self, sink: ResultsSink) -> None:
        self._sink = sink
        self.recorded: list[tuple[str, Property]] = []

    def record(self, approach: Any, measured: Property) -> None:
        """``approach``: a row of the table of approaches (the ``approach`` parameter) or its name."""
        self._sink.record(str(approach), measured)
        self.recorded.append((str(approach), measured))

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
    where = (directory / "results" if directory is not None
             else request.config.stash.get(results_dir_key, None) or tmp_path_factory.mktemp("measurements"))
    return ResultsSink(where, worker_name(request.config))


@pytest.fixture
def measurements(request: pytest.FixtureRequest, _results_sink: ResultsSink) -> Measurements:
    measured = Measurements(_results_sink)
    request.node.stash[recorded_key] = measured.recorded
    profile = request.config.stash.get(profile_key, None)
    if profile is not None:  # every figure says which timing profile it was measured under
        measured.parameters({"profile": {profile.name: True}})
    return measured


class NotMeasured:
    """Collects why tests did not run (skips, failures) for the report's "not measured" list,
    and which passed (on a backend where tasks really run, the report lists them: their
    verdicts are that backend's behaviour, not the simulator's). `harness compare` registers
    one; a run without --report-dir hears the scenarios with ``ScenariosHeard``.
    A skip whose reason starts "n/a:" is a cell that does not exist (a failure mode
    about another approach), not a measurement missing: it is left out."""

    def __init__(self) -> None:
        self.reasons: dict[str, str] = {}
        self.passed: list[str] = []

    def pytest_runtest_logreport(self, report: Any) -> None:
        node = report.nodeid.split("@", 1)[0]
        if report.passed and report.when == "call":
            self.passed.append(report.nodeid)
        if report.failed and report.when == "teardown":  # e.g. a real run's teardown left resources
            self.passed = [n for n in self.passed if n != report.nodeid]
            before = self.reasons.get(node)
            self.reasons[node] = (f"{before}; and in teardown: " if before else "failed in teardown: ") + first_line(report)
        if report.failed and report.when in ("setup", "call"):  # a failed scenario measured nothing either
            self.reasons[node] = "failed: " + first_line(report)
        if report.skipped and report.when in ("setup", "call") and not hasattr(report, "wasxfail"):
            reason = skip_reason(report)
            if not reason.startswith(NOT_APPLICABLE):
                self.reasons[node] = reason


class ScenariosHeard(NotMeasured):
    """On the controller of a run without --report-dir (which hears every worker's reports):
    did tests under ``scenarios/`` run, and which measured nothing and why (the default
    report lists them, as `harness compare`'s does)."""

    def __init__(self, config: pytest.Config) -> None:
        super().__init__()
        self.config = config

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.nodeid.startswith(SCENARIOS_DIR):
            self.config.stash[scenarios_ran_key] = True
            super().pytest_runtest_logreport(report)


def skip_reason(report: Any) -> str:
    """A skipped report's reason, as ``pytest.skip`` was given it."""
    longrepr = report.longrepr
    return (longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)).removeprefix("Skipped: ")


def first_line(report: Any) -> str:
    """The first line of a failed report's error."""
    crash = getattr(report.longrepr, "reprcrash", None)
    lines = (crash.message if crash is not None else str(report.longrepr)).strip().splitlines()
    return lines[0] if lines else "see the output above"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    directory = config.stash.get(report_dir_key, None)
    if hasattr(config, "workerinput"):
        return
    if directory is None:
        write_default_report(config)
        return
    if config.stash.get(shard_key, None) is not None:
        return  # one shard's results are a part; `harness report merge` writes the report from all parts
    try:
        config.stash[report_paths_key] = write_reports(load_results(directory / "results"), directory)
    except ResultsError as err:
        config.stash[report_error_key] = str(err)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def write_default_report(config: pytest.Config) -> None:
    """Without --report-dir: the report into ``<rootdir>/report`` when scenarios ran. Whatever
    goes wrong is said in the summary, never the run's failure (see the module docstring)."""
    out = config.stash.get(default_report_key, None)
    gathered = config.stash.get(results_dir_key, None)
    if out is None or gathered is None or not config.stash.get(scenarios_ran_key, False):
        return
    try:
        config.stash[report_paths_key] = report_from(gathered, out, config.stash[_heard_key].reasons)
    except Exception as err:  # the report must not fail a run: said in the summary instead
        config.stash[report_error_key] = f"{out}: {type(err).__name__}: {err}"


def report_from(gathered: Path, out: Path, reasons: dict[str, str]) -> ReportPaths:
    """The report of the results in ``gathered``, written into ``out`` with a copy of the
    results (``out/results``, as --report-dir leaves them) and the list of what was not measured."""
    results = load_results(gathered)  # a conflict is said before anything in ``out`` changes
    kept = out / "results"
    kept.mkdir(parents=True, exist_ok=True)
    for stale in (*kept.glob(f"*{SUFFIX}"), out / MANIFEST, out / NOT_MEASURED_FILE):
        stale.unlink(missing_ok=True)  # nothing of an earlier run (a shard's manifest, a comparison's list) stays
    for path in sorted(gathered.glob(f"*{SUFFIX}")):
        shutil.copyfile(path, kept / path.name)
    paths = write_reports(results, out)
    write_not_measured(out, reasons)
    return paths


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
    terminalreporter.write_line(f"report written: {written}"
                                + ("" if config.stash.get(report_dir_key, None) is not None
                                   else " (the default for a run with scenarios; --report-dir DIR writes it elsewhere)"))
