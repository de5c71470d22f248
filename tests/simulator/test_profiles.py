"""Timing profiles: named sets of the simulator's parameters, every value with its
source; a team's own file starts from a bundled one; a bad file is refused in one
line naming the file and what to fix; docs/timing-profiles.md shows what the files say."""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from harness.backends.embedded import EmbeddedAws
from harness.ecs import profiles
from harness.ecs.params import Params
from harness.metrics.results import Results
from harness.report.writers import profile_line

ROOT = Path(__file__).resolve().parents[2]
# What a source may be: a page (a measurement, AWS's documentation), or said to be assumed, derived or none
CITED = re.compile(r"https://|^(assumed|derived|none|fast, for tests)")


@pytest.mark.parametrize("name", profiles.BUNDLED)
def test_every_value_of_a_bundled_profile_says_where_it_comes_from(name) -> None:
    profile = profiles.load(name)
    assert set(profile.sources) == {f.name for f in fields(Params)}
    uncited = [key for key, source in profile.sources.items() if not CITED.search(source)]
    assert not uncited, f"{name}: these values cite no page and say no 'assumed'/'derived': {uncited}"


def test_the_fast_profile_is_what_the_tests_run_and_fargate_is_slower_where_measurements_say() -> None:
    assert profiles.load("fast").params == Params()
    fargate = profiles.load("fargate").params
    # a 413 MB image: ~57 s from creation to RUNNING (pull with the network interface, then start)
    assert fargate.image_pull_seconds + fargate.container_start_seconds == 57.0
    assert profiles.load("ec2-cached").params.image_pull_seconds < fargate.image_pull_seconds


def test_a_teams_own_file_starts_from_a_bundled_profile(tmp_path) -> None:
    mine = tmp_path / "checkout.toml"
    mine.write_text('summary = "checkout"\nbase = "fargate"\n\n[tg_health_interval]\nvalue = 10\n'
                    'source = "our target group"\n')
    profile = profiles.load(mine)
    assert profile.name == "checkout" and profile.params.tg_health_interval == 10.0
    assert profile.params.image_pull_seconds == 53.0 and profile.sources["tg_health_interval"] == "our target group"
    assert profile.sources["image_pull_seconds"].endswith("(from fargate)")
    assert isinstance(profile.params.tg_healthy_threshold, int)


@pytest.mark.parametrize("text, message", [
    ('summary = "x"\nbase = "fargate"\n[image_pull]\nvalue = 1\nsource = "s"\n', r"unknown parameter \[image_pull\]"),
    ('summary = "x"\nbase = "fargate"\n[image_pull_seconds]\nvalue = 1\n', r"\[image_pull_seconds\] needs source"),
    ('summary = "x"\nbase = "fargate"\n[image_pull_seconds]\nvalue = -1\nsource = "s"\n', "a number of 0 or more"),
    ('summary = "x"\nbase = "fargate"\n[image_pull_seconds]\nvalue = "ten"\nsource = "s"\n', "a number of 0 or more"),
    ('summary = "x"\nbase = "fargate"\n[image_pull_seconds]\nvalue = nan\nsource = "s"\n', "a number of 0 or more"),
    ('base = "fargate"\n', "give it a summary"),
    ('summary = "x"\nbase = "lambda"\n', "base must name a bundled profile"),
    ('summary = "x"\n[image_pull_seconds]\nvalue = 1\nsource = "s"\n', "no value for .*stop_timeout"),
    ('summary = "x\n', "cannot read it"),
])
def test_a_bad_profile_file_is_refused_naming_the_file_and_the_fix(tmp_path, text, message) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(profiles.ProfileError, match=message) as raised:
        profiles.load(bad)
    assert str(bad) in str(raised.value) and "\n" not in str(raised.value)


def test_an_unknown_name_lists_the_bundled_ones() -> None:
    with pytest.raises(profiles.ProfileError, match="no timing profile 'nope': give one of fargate, ec2-cached, fast"):
        profiles.load("nope")


def test_an_image_that_declares_its_size_pulls_at_the_profiles_rate() -> None:
    params = profiles.load("fargate").params
    with EmbeddedAws(params=params) as aws:
        aws.sim.declare_image("big:1", size_mb=960.0)
        aws.sim.declare_image("small:1", size_mb=96.0)
        ec2, ecs = aws.client("ec2"), aws.client("ecs")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        network = {"awsvpcConfiguration": {"subnets": [subnet], "assignPublicIp": "DISABLED"}}
        ecs.create_cluster(clusterName="c")
        started = {}
        for image in ("big:1", "small:1"):
            arn = ecs.register_task_definition(
                family=image.split(":")[0], requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
                memory="512", containerDefinitions=[{"name": "app", "image": image}])["taskDefinition"]["taskDefinitionArn"]
            started[image] = ecs.run_task(cluster="c", taskDefinition=arn, launchType="FARGATE",
                                          networkConfiguration=network)["tasks"][0]["taskArn"]
        aws.clock.sleep(200)
        tasks = {t["taskArn"]: t for t in ecs.describe_tasks(cluster="c", tasks=list(started.values()))["tasks"]}
        took = {image: (tasks[arn]["startedAt"] - tasks[arn]["createdAt"]).total_seconds() for image, arn in started.items()}
    # the network interface first, then the pull by size, then the start
    eni, rate, start = params.fargate_provisioning_seconds, params.image_pull_mb_per_second, params.container_start_seconds
    assert took == {"big:1": eni + 960.0 / rate + start, "small:1": eni + 96.0 / rate + start}


def test_the_report_names_the_profile_its_seconds_come_from() -> None:
    assert profile_line(Results(parameters={})) is None
    line = profile_line(Results(parameters={"profile": {"fargate": True}}))
    assert line is not None and "`fargate` timing profile" in line and "published measurements" in line
    mixed = profile_line(Results(parameters={"profile": {"fargate": True, "fast": True}}))
    assert mixed is not None and "do not compare" in mixed


def test_the_docs_show_what_the_profile_files_say() -> None:
    page = (ROOT / "docs" / "timing-profiles.md").read_text()
    generated = page.split("<!-- generated: harness profiles --markdown -->\n", 1)[1].split("<!-- end generated -->", 1)[0]
    assert generated == profiles.markdown(), "docs/timing-profiles.md is stale: regenerate its tables with " \
                                             "python3 -m harness profiles --markdown"


def test_pytest_refuses_a_bad_profile_before_any_test_runs(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pytest", "--profile", "nope", "-p", "no:cacheprovider", "-n", "0",
                           "--collect-only", "-q", str(ROOT / "tests" / "simulator" / "test_clock.py")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 4  # a usage error
    assert "--profile: no timing profile 'nope'" in proc.stderr
