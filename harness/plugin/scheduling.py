"""The order tests run in, and how xdist hands them out.

Every process runs its embedded tests before its served ones (see
``harness.plugin``): collection puts the embedded tests first, then the
approach scenarios grouped by approach, heaviest Terraform first (``Entry.cost``;
within one approach, ``last_in_world`` scenarios last), then the other served
tests. Every worker computes the same order, as xdist requires.

Under xdist (``--dist load`` or ``loadgroup``) the scheduler hands out work
units in that order, each worker taking them first come, first served, so each
worker's own sequence keeps the order. A unit is one test, or all of one
approach's scenarios: one worker applies an approach's Terraform world once and
runs everything on it, or all of a module whose tests share one long run. (xdist's own ``loadgroup`` reads ``xdist_group`` marks
from node ids, which pytest 9 no longer lets it write; the controller sees only
node ids, so the approach is read from the scenario's parameter id.)
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from harness.approaches import BY_NAME, Entry
from harness.plugin.state import served_started_key

# Fixtures that hold a session-long in-process server: a test using one is `served`.
SESSION_SERVER_FIXTURES = frozenset({"terraform_endpoint", "scenario_server", "harness_server", "tf_workspace"})
SCENARIOS_DIR = "scenarios/"  # the approach scenarios; their worlds are what a group shares


def approach_in_node_id(nodeid: str) -> Entry | None:
    """The approach an approach scenario's node id is parametrized with
    (``scenarios/test_rollback_matrix.py::test_x[template-crash-at-once-rolling]`` -> template), None for other tests."""
    if not nodeid.startswith(SCENARIOS_DIR):
        return None
    found = re.search(r"\[([^\]]*)\]$", nodeid)
    if found is None:
        return None
    for name in sorted(BY_NAME, key=len, reverse=True):  # longest first: "terraform-cd-app" before a shorter name in it
        if re.search(rf"(^|-){re.escape(name)}(-|$)", found.group(1)):
            return BY_NAME[name]
    return None


# Test modules whose tests read one module-scoped run of minutes (a whole scenario file
# in a subprocess): split across workers, each worker would run it again.
ONE_UNIT_MODULES = frozenset({"tests/backends/test_real_aws_scenarios.py",
                              "tests/backends/test_real_aws_approaches.py",
                              "tests/backends/test_localstack_scenarios.py"})


def work_unit(nodeid: str) -> str:
    """What one worker runs whole: all of one approach's scenarios (``approach-<name>``),
    all of a module in ``ONE_UNIT_MODULES``, else one test."""
    approach = approach_in_node_id(nodeid)
    if approach is not None:
        return f"approach-{approach.name}"
    module = nodeid.split("::", 1)[0]
    return module if module in ONE_UNIT_MODULES else nodeid


def approach_of(item: pytest.Item) -> Entry | None:
    """The approach an item is parametrized with, None for a test without one."""
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("approach") if callspec is not None else None
    return value if isinstance(value, Entry) else None


@pytest.hookimpl(trylast=True)  # after the other plugins have collected and filtered
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # a test on a session-long server, or an approach scenario (its approach's group is served)
        if (SESSION_SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
                or (approach_of(item) is not None and item.nodeid.startswith(SCENARIOS_DIR))):
            item.add_marker(pytest.mark.served)

    def key(indexed: tuple[int, pytest.Item]) -> tuple[int, int, int, int]:
        index, item = indexed
        if item.get_closest_marker("served") is None:
            return (0, 0, 0, index)
        approach = approach_of(item)
        if approach is None or not item.nodeid.startswith(SCENARIOS_DIR):
            return (2, 0, 0, index)
        return (1, approach.cost, int(item.get_closest_marker("last_in_world") is not None), index)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A served test is about to start its server: no embedded test may follow in this process."""
    if item.get_closest_marker("served") is not None:
        item.config.stash[served_started_key] = True


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    # LoadScope would hand the largest units out first, an approach's served
    # group before the embedded tests: the collection order already puts the
    # heaviest group first among the served ones, and must stay.
    config.option.loadscopereorder = False

    class ApproachScheduling(LoadScopeScheduling):
        """One unit per test, or per approach for the approach scenarios; units go out in collection order."""

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ApproachScheduling(config, log)
