"""`-n auto` (pyproject's addopts) starts one xdist worker more than CPUs: the
harness's plugin answers xdist's hook before xdist does, whatever order the two
plugins were registered in (an entry-point plugin can come before xdist's)."""
from __future__ import annotations

import os

import pytest


def test_auto_asks_the_harness_first_for_one_worker_more_than_cpus(request, monkeypatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    if not request.config.pluginmanager.has_plugin("xdist"):
        pytest.skip("pytest-xdist is not installed: -n auto means nothing here")
    hook = request.config.hook.pytest_xdist_auto_num_workers
    assert hook(config=request.config) == (os.cpu_count() or 1) + 1


def test_xdists_own_override_still_wins(request, monkeypatch) -> None:
    if not request.config.pluginmanager.has_plugin("xdist"):
        pytest.skip("pytest-xdist is not installed: -n auto means nothing here")
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "5")
    assert request.config.hook.pytest_xdist_auto_num_workers(config=request.config) == 5
