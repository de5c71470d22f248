"""`harness rehearse`: the benchmark's service, read as `check` reads it and replayed,
predicts what `bench/rollback.py` measures, and names the largest lever."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ecs_template_deploy.settings import read_settings
from harness.commands import rehearse
from harness.worlds import CLUSTER, SERVICE

ROOT = Path(__file__).resolve().parents[2]
SCHEDULER_PASS = 5.0  # Params.scheduler_interval


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_rollback", ROOT / "bench" / "rollback.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_settings(bench):
    """The benchmark's service, read-only, by the deploy tool's own reader."""
    world = bench.Bench(bench.MODES["crash"], "ROLLING")
    try:
        aws = world.aws
        return read_settings(aws.client("ecs"), CLUSTER, SERVICE, elbv2=aws.client("elbv2"),
                             ecr_for=lambda region: aws.client("ecr"))
    finally:
        world.close()


def test_rehearsal_predicts_the_benchmark_within_one_scheduler_pass_and_names_the_drain(bench, bench_settings):
    measured = bench.tool(bench.MODES["crash"], "ROLLING", 5.0)
    service = rehearse.Service.from_settings(bench_settings, cd_alarms=(bench.ALARM,), cd_bake=bench.TOOL_BAKE)
    assert service.deregistration_delay == 300 and service.tg_healthy == 5 and not service.breaker

    result = rehearse.rehearse(service, ["crash"], workers=1)

    predicted = result.cell("crash", "current")
    assert predicted.recovered and measured.steady is not None
    assert abs(predicted.seconds - measured.steady) <= SCHEDULER_PASS, (predicted.seconds, measured.steady)
    assert result.largest("setting")[0] == "deregistration-delay"
    shorter = result.cell("crash", "deregistration-delay").seconds
    assert shorter <= predicted.seconds - 300 + 30 + SCHEDULER_PASS  # the drain was the difference
    # a bigger change than any one setting, named apart: blue/green rolls back by shifting traffic
    assert result.largest("design")[0] == "blue-green"


def test_what_nothing_watches_is_never_recovered_and_the_lever_that_watches_it_is_named():
    service = rehearse.Service(desired=2, load_balanced=True, tg_interval=10, tg_healthy=2, deregistration_delay=30)

    result = rehearse.rehearse(service, ["alarm"], ["cd-bake", "deployment-alarms"], workers=1)

    assert not result.cell("alarm", "current").recovered  # CD stopped watching at steady state; ECS watches no alarm
    assert "nothing rolled back" in result.cell("alarm", "current").note
    assert result.cell("alarm", "cd-bake").recovered
    assert result.largest("setting")[0] in ("cd-bake", "deployment-alarms")
    # the saving counts "never" as the rehearsal's horizon, and the summary says so
    said = rehearse.summary(result)
    assert any(f"as {rehearse.LIMIT:g} s, the rehearsal's horizon" in line for line in said), said


def test_rehearse_from_a_file_that_is_not_settings_says_what_to_pass(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps({"kind": "deploy"}))
    for argv, fragment in ((("--from", str(bad)), "not a settings document"),
                           (("--from", str(tmp_path / "missing.json")), "cannot read settings from"),
                           ((), "say which service")):
        done = subprocess.run([sys.executable, "-m", "harness", "rehearse", *argv], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], done.stderr


def test_rehearse_replays_under_a_timing_profile_and_writes_one_with_the_services_own_settings(bench_settings, tmp_path):
    settings = tmp_path / "check.json"
    settings.write_text(json.dumps(bench_settings))
    written = tmp_path / "web.toml"
    done = subprocess.run([sys.executable, "-m", "harness", "rehearse", "--from", str(settings), "--mode", "good",
                           "--no-levers", "--workers", "1", "--write-profile", str(written)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Timings: the fargate timing profile" in done.stdout  # the calibrated one unless told otherwise
    from harness.ecs import profiles

    mine = profiles.load(written)
    service = rehearse.Service.from_settings(bench_settings)
    # the service's own drain and checks replace the profile's; the rest is fargate's, each with its source
    assert mine.params.deregistration_delay == service.deregistration_delay
    assert mine.params.tg_health_interval == service.tg_interval and mine.params.stop_timeout == service.stop_timeout
    assert mine.params.image_pull_seconds == profiles.load("fargate").params.image_pull_seconds
    assert mine.sources["deregistration_delay"].startswith(f"read from {settings}")
    assert mine.sources["image_pull_seconds"].endswith("(from fargate)")

    bad = subprocess.run([sys.executable, "-m", "harness", "rehearse", "--from", str(settings), "--timing-profile",
                          "lambda"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "--timing-profile: no timing profile 'lambda'" in bad.stderr
