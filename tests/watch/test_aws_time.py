"""The tool keeps AWS's time: the `Date` of AWS's answers corrects the CD
runner's clock, so a runner a day ahead (or behind) stamps its progress lines,
measures `--min-age` and marks on AWS's time. In-process on the simulator's
virtual clock, with a skewed runner clock; the same against `harness serve`
(virtual time at 60 x the wall) is in tests/faults/test_pipeline_aws_time.py."""
from __future__ import annotations

import datetime
import email.utils
import re
from types import SimpleNamespace

import pytest

from ecs_template_deploy.clock import AwsTime, Clock
from ecs_template_deploy.errors import EXIT_OK
from harness.clock import SkewedClock
from harness.worlds import ToolWorld

DAY = 86400.0
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class Local:
    """A runner's clock, set by hand."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += seconds


def answer(at: float | None = None, date: str | None = None) -> SimpleNamespace:
    headers = {"Date": date if date is not None else email.utils.formatdate(at, usegmt=True)}
    return SimpleNamespace(headers=headers)


def aws_time(local: Local) -> AwsTime:
    return AwsTime(Clock(local.now, local.sleep))


def test_before_any_answer_it_is_the_runner_clock():
    assert aws_time(Local(T0)).now() == T0


def test_the_first_answer_sets_aws_time_and_the_runner_clock_ticks_it_on():
    local = Local(T0 + DAY)  # a day ahead
    time = aws_time(local)
    time.observe(http_response=answer(T0))
    assert time.now() == T0
    local.sleep(30)
    assert time.now() == T0 + 30


def test_whole_second_dates_are_floors_so_the_latest_of_those_that_agree_is_kept():
    local = Local(T0 + 0.7)  # AWS at T0 + 0.7: its Date says T0
    time = aws_time(local)
    time.observe(http_response=answer(T0))
    assert time.now() == pytest.approx(T0)
    local.at = T0 + 1.2  # AWS at T0 + 1.2: Date T0 + 1, a floor 0.2 s nearer the truth
    time.observe(http_response=answer(T0 + 1))
    assert time.now() == pytest.approx(T0 + 1)
    local.at = T0 + 2.9  # Date T0 + 2 says less than what is known: kept
    time.observe(http_response=answer(T0 + 2))
    assert time.now() == pytest.approx(T0 + 2.7)


@pytest.mark.parametrize("dates, expected", [
    # the server runs faster, or the runner clock stepped back
    pytest.param([T0, T0 + 600], [T0, T0 + 600], id="a-later-time-replaces-it-at-once"),
    # the runner clock stepped ahead: one answer alone does not set it back
    pytest.param([T0, T0 - 600, T0 - 600], [T0, T0, T0 - 600], id="an-earlier-time-counts-once-two-answers-say-it"),
])
def test_a_later_time_counts_at_once_and_an_earlier_one_once_two_answers_say_it(dates, expected):
    time = aws_time(Local(T0))
    for date, now in zip(dates, expected, strict=True):
        time.observe(http_response=answer(date))
        assert time.now() == pytest.approx(now)


def test_one_late_answer_does_not_set_aws_time_back_so_a_bake_is_never_cut_short():
    local = Local(T0)
    time = aws_time(local)
    time.observe(http_response=answer(T0))
    local.at = T0 + 100
    time.observe(http_response=answer(T0 + 95))  # delivered 5 s after AWS dated it
    clean_since = time.now()
    local.at = T0 + 110
    time.observe(http_response=answer(T0 + 110))  # the next one on time
    assert time.now() - clean_since == pytest.approx(10)  # ten seconds passed, not fifteen


@pytest.mark.parametrize("date", ["", "yesterday", "Mon, 99 Foo 2026 99:99:99 GMT"])
def test_an_answer_without_a_usable_date_changes_nothing(date):
    time = aws_time(Local(T0))
    time.observe(http_response=answer(T0 - 60))  # the first answer sets it, earlier or later
    time.observe(http_response=answer(date=date))
    time.observe(http_response=None)
    assert time.now() == pytest.approx(T0 - 60)


def test_a_date_without_a_zone_is_utc():
    time = aws_time(Local(T0))
    time.observe(http_response=answer(date="Thu, 01 Jan 2026 00:00:00 -0000"))
    assert time.now() == pytest.approx(T0)


@pytest.fixture
def tool_world(aws):
    return ToolWorld.build(aws, desired=2)


@pytest.mark.parametrize("skew", [DAY, -DAY])
def test_a_skewed_runner_stamps_its_progress_on_aws_time_next_to_the_service_events(aws, tool_world, skew):
    run = tool_world.run("deploy", "--tag", "v1", "--poll-interval", "5", clock=SkewedClock(aws.clock, skew))

    assert run.code == EXIT_OK, run.stderr
    stamped = [epoch_of(line["at"]) for line in run.lines if "at" in line]
    assert stamped and all(abs(at - aws.clock.now()) < 3600 for at in stamped), (aws.clock.now(), stamped)
    events = [epoch_of(line["at"]) for line in run.lines if line["kind"] == "service-event"]
    steady = next(epoch_of(line["at"]) for line in run.lines if line["kind"] == "verdict")
    assert events and 0 <= steady - max(events) <= 10  # decided within two polls of ECS's own word


def test_prune_min_age_is_measured_on_aws_time_so_a_runner_a_day_ahead_keeps_a_young_revision(aws, tool_world):
    for tag in ("v1", "v2", "v3"):
        assert tool_world.run("deploy", "--tag", tag, "--poll-interval", "5").code == EXIT_OK
    aws.clock.sleep(900)  # web:1 is minutes old, and neither runs nor is where a rollback goes

    pruned = tool_world.run("prune", "--keep", "0", "--min-age", "86400", clock=SkewedClock(aws.clock, DAY))

    assert pruned.code == EXIT_OK, pruned.stderr
    assert tool_world.revisions() == [tool_world.rev(1), tool_world.rev(2), tool_world.rev(3)]
    young = re.search(r"web:1\", \"reason\": \"registered (\d+) s ago \(--min-age 86400\)", pruned.text)
    assert young and 900 <= int(young.group(1)) < 3600, pruned.text  # on AWS's clock, not a day and more


def epoch_of(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
