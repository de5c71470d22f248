"""A progress display for a scenario run: one rich progress bar over the
collected scenarios, advanced as results arrive (on the xdist controller, which
receives every worker's reports), with the running count of failures.

`harness compare` passes it to ``pytest.main(args, plugins=[ScenarioProgress(console)])``.
It only draws; pytest's own output is left as configured (use ``-q``/``-p no:terminal``
to keep the screen to the bar).
"""
from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class ScenarioProgress:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]scenarios"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), TextColumn("{task.fields[current]}"),
            console=console, transient=False,
        )
        self.task: Any = None
        self.done = 0
        self.failed = 0

    def _start(self, total: int) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("scenarios", total=total, failed=0, current="")

    # without xdist: collection happens here; with xdist the controller learns the count from workers
    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput") and session.config.pluginmanager.get_plugin("dsession") is None:
            self._start(len(session.items))

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._start(len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.task is None:
            return
        finished = report.when == "call" or (report.when == "setup" and not report.passed)
        if report.failed and not finished:  # a teardown error after a pass
            self.failed += 1
        if not finished:
            return
        self.done += 1
        if report.failed:
            self.failed += 1
        self.progress.update(self.task, completed=self.done, failed=self.failed, current=report.nodeid.rsplit("::", 1)[-1])

    def pytest_sessionfinish(self) -> None:
        if self.task is not None:
            self.progress.update(self.task, current="")
            self.progress.stop()
