"""Where the plugin keeps its state: keys into ``config.stash`` (one module, so
every part of the plugin imports them without importing each other)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

backend_key = pytest.StashKey[str]()  # --backend
profile_key = pytest.StashKey[Any]()  # --profile: the harness.ecs.profiles.Profile the simulator runs
served_started_key = pytest.StashKey[bool]()  # a session-long server started in this process
report_dir_key = pytest.StashKey[Path | None]()  # --report-dir
report_paths_key = pytest.StashKey[Any]()  # what the report writers wrote
report_error_key = pytest.StashKey[str]()  # why no report was written
shard_key = pytest.StashKey[Any]()  # --shard K/N (a harness.report.shards.Shard), or None
real_aws_identity_key = pytest.StashKey[Any]()  # --backend aws: the checked caller identity
real_aws_parts_key = pytest.StashKey[Any]()  # --backend aws: makes the clock and image builder (tests pose as AWS)
aws_dry_run_key = pytest.StashKey[Any]()  # --aws-dry-run: the harness.backends.posing.PosingAws of this process
call_report_key = pytest.StashKey[Any]()  # on an item: its call phase's report (a real run says how its scenario ended)
recorded_key = pytest.StashKey[list]()  # on an item: the (approach, Property) pairs its test recorded (its line)
results_dir_key = pytest.StashKey[Path]()  # no --report-dir: where this run's results gather (a temporary directory)
default_report_key = pytest.StashKey[Path]()  # no --report-dir: where the report goes if scenarios ran (<rootdir>/report)
scenarios_ran_key = pytest.StashKey[bool]()  # the controller heard a report of a test under scenarios/
