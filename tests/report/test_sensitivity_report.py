"""The sensitivity section: rankings under every timing profile, from the results alone;
a swap of places under one profile is a flip, seconds within a tie are not; an approach
replayed in part is named; the section is in report.md, report.html and the terminal."""
from __future__ import annotations

from harness.metrics.results import ProfileOutcome, Results, RollbackMatrix, Sensitivity, cell_key
from harness.report import write_reports
from harness.report.matrix import build_matrix
from harness.report.sensitivity import build_sensitivity

from test_rollback_matrix_report import MODES, _cell

CRASH = cell_key("crash-at-once", "ROLLING")
ALARM = cell_key("alarm-after-release", "ROLLING")
PHASE = {"scheduler_interval": 5.0, "poll_interval_seconds": 5.0}  # a tie: closer than 10 s


def results(ignore_changes_under_fast: float | None = 150.0, replay_alarm: bool = True) -> Results:
    """Two approaches measured under fargate (this run) and replayed under ec2-cached and fast:
    template 90 s, ignore-changes 120 s under fargate; under fast, ignore-changes takes
    ``ignore_changes_under_fast`` (None: not back)."""
    r = Results(parameters={"failure_modes": MODES, "profile": {"fargate": True},
                            "sensitivity": {"ec2-cached": PHASE, "fast": PHASE}})
    under = {"template": {"ec2-cached": 40.0, "fast": 60.0}, "ignore-changes": {"ec2-cached": 70.0,
                                                                               "fast": ignore_changes_under_fast}}
    for name, seconds in (("template", 90.0), ("ignore-changes", 120.0)):
        r.add(name, RollbackMatrix(cells={CRASH: _cell("crash-at-once", "ROLLING", seconds),
                                          ALARM: _cell("alarm-after-release", "ROLLING", seconds + 100)}))
        outcomes = {p: {CRASH: ProfileOutcome(s is not None, s)} for p, s in under[name].items()}
        if replay_alarm or name == "template":
            for p, s in under[name].items():
                outcomes[p][ALARM] = ProfileOutcome(True, (s or 0.0) + 100)
        r.add(name, Sensitivity(outcomes=outcomes))
    return r


def view(r: Results):
    found = build_sensitivity(r, build_matrix(r))
    assert found is not None
    return found


def test_a_ranking_that_keeps_its_order_under_every_profile_holds() -> None:
    found = view(results())
    assert found.profiles == ("fargate", "ec2-cached", "fast")  # this run's first, then bundled order
    crash = next(x for x in found.rankings if x.column.mode == "crash-at-once")
    assert crash.holds and crash.flips == ()
    assert {p: crash.winners[p] for p in found.profiles} == {p: ("template",) for p in found.profiles}
    assert crash.winner_text("ec2-cached") == "5 template: 40 s"
    assert found.summary() == "2 of 2 rankings hold under every profile."


def test_a_swap_of_places_under_one_profile_is_a_flip_and_says_the_seconds() -> None:
    found = view(results(ignore_changes_under_fast=30.0))
    crash = next(x for x in found.rankings if x.column.mode == "crash-at-once")
    assert not crash.holds
    assert crash.flips == ("5 template is ahead of 2 ignore-changes under fargate (90 s against 120 s), ec2-cached "
                           "(40 s against 70 s), behind it under fast (60 s against 30 s)",)
    assert crash.winners["fast"] == ("ignore-changes",)
    assert found.summary() == "0 of 2 rankings hold under every profile; 2 flip."  # the alarm column too


def test_seconds_within_a_tie_are_no_place_and_not_back_ranks_last() -> None:
    within_tie = view(results(ignore_changes_under_fast=55.0))  # 5 s faster than template: a tie, not a flip
    crash = next(x for x in within_tie.rankings if x.column.mode == "crash-at-once")
    assert crash.holds and set(crash.winners["fast"]) == {"template", "ignore-changes"}
    not_back = view(results(ignore_changes_under_fast=None))
    crash = next(x for x in not_back.rankings if x.column.mode == "crash-at-once")
    assert crash.holds and crash.winners["fast"] == ("template",)


def test_an_approach_replayed_in_part_is_named_and_ranked_only_where_replayed() -> None:
    found = view(results(replay_alarm=False))
    assert found.partial == ("ignore-changes",)
    alarm = [x for x in found.rankings if x.column.mode == "alarm-after-release"]
    assert alarm == []  # one approach left in the column: no ranking


def test_no_section_without_a_replay() -> None:
    r = results()
    for name in r.data:
        del r.data[name][Sensitivity.key]
    assert build_sensitivity(r, build_matrix(r)) is None


def test_the_section_is_in_every_form_of_the_report(tmp_path) -> None:
    paths = write_reports(results(ignore_changes_under_fast=30.0), tmp_path)
    md = paths.markdown.read_text()
    assert "## Sensitivity: do the rankings hold under other timings?" in md
    assert "| Every task crashes (rolling) | article's | 5 template: 90 s | 5 template: 40 s | 2 ignore-changes: 30 s |" \
        " flips: 5 template is ahead of 2 ignore-changes" in md
    html = paths.html.read_text()
    assert 'id="sensitivity"' in html and "behind it under fast (60 s against 30 s)" in html
    assert paths.pick[-1] == ("Sensitivity to the timing profile (report.md, 'Sensitivity'): "
                              "0 of 2 rankings hold under every profile; 2 flip.")
