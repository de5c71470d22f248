"""One shard of the scenarios: ``--shard K/N`` (registered by ``harness.plugin``).

A matrix too big for one CI runner is split over N jobs, each running
``harness compare --shard K/N --out DIR`` (or ``pytest scenarios/ --shard K/N
--report-dir DIR``); ``harness report merge`` then joins their results into the
report one run would have written (``harness.report.merge``).

What is split is the scheduler's work units (``harness.plugin.scheduling.work_unit``):
all of one approach's scenarios stay in one shard, since they share one
Terraform world that a second shard would have to build again. (pytest-split
balances single tests by recorded durations and cannot keep such a group
together, hence this module.) Units go heaviest first to the lightest shard
(longest processing time first), so every shard computes the same split from
the same collection, with nothing shared between the jobs but the commit.

A unit's weight is an estimate from what the harness knows before running:
about a second per scenario on the emulator; with Terraform, an approach's
scenarios cost three times that (one world, its plans and shows), and
approach 4's six times (its CD is ``terraform apply``). So an approach's 20
scenarios weigh 60 (120 for approach 4); ``bench/compare.py`` measured them
at 46-62 s (108-113 s for approach 4) with Terraform on a 2-core machine.

With ``--report-dir``, the shard writes ``shard.json`` beside its results: which
shard it is and what it ran (code, versions, options, the whole collection), so
a merge can refuse shards that are not parts of one run. A shard writes no
report of its own: a partial table would read like a whole one.
"""
from __future__ import annotations

import hashlib
import heapq
import importlib.metadata
import json
import platform
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from harness.plugin.state import report_dir_key, shard_key
from harness.report.shards import MANIFEST, MANIFEST_VERSION, Shard, ShardError, collection_digest

# The code a shard ran: a merge refuses shards of different code (hashed, not a git
# commit: a clone without .git, or uncommitted changes, still count).
CODE_ROOTS = ("harness", "ecs_template_deploy", "scenarios", "examples", "terraform")
CODE_SUFFIXES = (".py", ".tf", ".toml", ".json", ".sh")
# The packages whose versions change what the emulator answers.
PACKAGES = ("ecs-template-deploy", "moto", "boto3", "botocore", "pytest")


def assign(weights: dict[str, float], total: int) -> dict[str, int]:
    """Each unit's shard (1..total): heaviest unit first (ties by name) to the
    least loaded shard (ties: the lowest number). Deterministic for the same weights."""
    loads = [(0.0, number) for number in range(1, total + 1)]
    heapq.heapify(loads)
    placed: dict[str, int] = {}
    for unit in sorted(weights, key=lambda name: (-weights[name], name)):
        load, number = heapq.heappop(loads)
        placed[unit] = number
        heapq.heappush(loads, (load + weights[unit], number))
    return placed


def estimated_weight(item: pytest.Item, terraform: bool) -> float:
    """Roughly the seconds ``item`` takes (see the module docstring)."""
    from harness.plugin.scheduling import approach_of

    approach = approach_of(item)
    if approach is None:
        return 1.0
    if not terraform:
        # a scenario whose approach has no boto3 stand-in skips at once without Terraform
        return 1.0 if approach.stand_in else 0.1
    if approach.stand_in or approach.described:
        return 3.0
    return 6.0  # approach 4: every deploy is a terraform apply


def split(items: list[pytest.Item], shard: Shard, terraform: bool) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, deselected): the items of ``shard``, in their collection order."""
    from harness.plugin.scheduling import work_unit

    weights: dict[str, float] = defaultdict(float)
    for item in items:
        weights[work_unit(item.nodeid)] += estimated_weight(item, terraform)
    placed = assign(dict(weights), shard.total)
    kept = [item for item in items if placed[work_unit(item.nodeid)] == shard.number]
    return kept, [item for item in items if placed[work_unit(item.nodeid)] != shard.number]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("harness", "ECS Terraform/CD harness").addoption(
        "--shard", dest="harness_shard", default=None, metavar="K/N",
        help="run only shard K of N (an approach's scenarios stay together); with --report-dir, write "
        "the shard's results for `harness report merge` instead of a report")


def pytest_configure(config: pytest.Config) -> None:
    text = config.getoption("harness_shard", None)
    try:
        config.stash[shard_key] = Shard.parse(text) if text is not None else None
    except ShardError as err:
        raise pytest.UsageError(str(err)) from None
    if hasattr(config, "workerinput"):
        return
    report_dir = config.getoption("harness_report_dir", None)
    if report_dir is not None:
        # Nothing of an earlier run may pass for this one's: a manifest beside fresh results, or
        # (for a shard, which writes no report) a whole run's report beside a part's results.
        stale = [MANIFEST] + (list(WHOLE_RUN_FILES) if text is not None else [])
        for name in stale:
            (Path(report_dir) / name).unlink(missing_ok=True)
    if text is not None:
        # before any scenario runs: what a run writes (Terraform lock files, reports) is not the code it ran
        config.stash[_code_key] = code_digest(Path(__file__).resolve().parents[2])
        config.stash[_ran_key] = RanTests()
        config.pluginmanager.register(config.stash[_ran_key], "harness-shard-ran-tests")


_code_key = pytest.StashKey[str]()
_ran_key = pytest.StashKey["RanTests"]()
WHOLE_RUN_FILES = ("report.md", "report.json", "report.html", "rollback-timelines.png")


class RanTests:
    """The tests whose teardown was reported: they ran to the end (the xdist controller
    hears every worker's reports), so a shard cut short says so in its manifest."""

    def __init__(self) -> None:
        self.nodeids: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown":
            self.nodeids.add(report.nodeid)


@pytest.hookimpl(trylast=True)  # after -k/-m and the harness's ordering
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = config.stash.get(shard_key, None)
    if shard is None:
        return
    collected = collection_digest(item.nodeid for item in items)
    kept, deselected = split(items, shard, terraform=not config.getoption("harness_no_terraform", False))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = kept
    # Under xdist the controller collects nothing: each worker collects (the same),
    # and sends what it found back with its results (``workeroutput``).
    config.stash[_collection_key] = {"collected": collected, "tests": sorted(item.nodeid for item in kept)}
    if hasattr(config, "workeroutput"):
        config.workeroutput["harness_shard"] = config.stash[_collection_key]


@pytest.hookimpl(optionalhook=True)  # an xdist hook
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker finished; keep what it collected."""
    collection = getattr(node, "workeroutput", {}).get("harness_shard")
    if collection is not None:
        node.config.stash[_collection_key] = collection


_collection_key = pytest.StashKey[dict]()


def manifest(config: pytest.Config, shard: Shard, exitstatus: int = 0) -> dict[str, Any]:
    """What this shard ran: two shards merge only if everything in ``run`` agrees; ``tests`` are
    the shard's, ``ran`` those that ran to the end, ``exitstatus`` pytest's."""
    collection = config.stash.get(_collection_key, {"collected": collection_digest([]), "tests": []})
    approach_files = config.getoption("harness_approaches", []) or [
        str(config.rootpath / path) for path in config.getini("harness_approaches")]
    return {
        "manifest": MANIFEST_VERSION,
        "shard": str(shard),
        "tests": collection["tests"],
        "ran": sorted(config.stash[_ran_key].nodeids) if _ran_key in config.stash else [],
        "exitstatus": int(exitstatus),
        "run": {
            "code": config.stash[_code_key],
            "packages": {name: _version(name) for name in PACKAGES},
            "python": platform.python_version(),
            "options": {
                "backend": config.getoption("harness_backend", None),
                "no_terraform": bool(config.getoption("harness_no_terraform", False)),
                "keyword": config.getoption("keyword", "") or "",
                "markexpr": config.getoption("markexpr", "") or "",
                "only_approaches": bool(config.getoption("harness_only_described", False)),
                "approach_files": sorted(_approach_digest(path) for path in approach_files),
            },
            "collected": collection["collected"],  # every shard's tests together must hash to this
        },
    }


def code_digest(root: Path) -> str:
    """sha256 over the harness's code and scenarios (paths and contents)."""
    digest = hashlib.sha256()
    for top in CODE_ROOTS:
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix in CODE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts \
                    and ".terraform" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _approach_digest(path: str) -> str:
    """A described approach's name and a digest of its file and Terraform configuration."""
    from harness.approaches.described import DescriptionError, load

    try:
        description = load(path)
    except DescriptionError:
        return f"{Path(path).name}:unreadable"
    digest = hashlib.sha256(description.source.read_bytes())
    for file in sorted(description.root.rglob("*")):
        if file.is_file() and not {".terraform", ".git", "__pycache__"} & set(file.parts):
            digest.update(file.relative_to(description.root).as_posix().encode() + b"\0" + file.read_bytes())
    return f"{description.name}:{digest.hexdigest()[:16]}"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    shard = config.stash.get(shard_key, None)
    directory = config.stash.get(report_dir_key, None)
    if shard is None or directory is None or hasattr(config, "workerinput"):
        return
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{MANIFEST}.partial"  # whole or absent: a merge never reads half a manifest
    partial.write_text(json.dumps(manifest(config, shard, session.exitstatus), indent=2, sort_keys=True) + "\n",
                       encoding="utf-8")
    partial.replace(directory / MANIFEST)


def pytest_report_header(config: pytest.Config) -> str | None:
    shard = config.stash.get(shard_key, None)
    return f"harness shard: {shard}" if shard is not None else None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    shard = config.stash.get(shard_key, None)
    directory = config.stash.get(report_dir_key, None)
    if shard is not None and directory is not None:
        terminalreporter.write_line(
            f"shard {shard}: {len(config.stash.get(_collection_key, {}).get('tests', []))} tests; results in {directory}; when every shard is done: harness report merge DIR... --out REPORT")
