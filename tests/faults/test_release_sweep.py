"""A release of three services, killed at every call that changes AWS and then run
again, and failed every other way at calls across the run: every service ends on the
release (each known good) or every one back on what it ran, or the tool said it
could not get there; a failed release is never deployed a second time. The judge is
`harness.faults.release`; `python3 dev.py bench faults --scenario release-...` runs
every kind at every call."""
from __future__ import annotations

import pytest

from harness.faults.release import RELEASE_SCENARIOS, baseline, run_release_cases, sampled, sweep


# release-good is swept by `bench faults` only: release-blue-green-paused is a good release too, with more calls
@pytest.mark.parametrize("name", [name for name in RELEASE_SCENARIOS if name != "release-good"])
def test_a_release_stopped_or_failed_at_any_call_ends_whole_or_back_or_says_so(name):
    runs = sweep(name, sampled)  # the clean run, then the sample of its calls: one world built
    clean = next(runs)
    assert clean.held, clean.explain()
    assert clean.exit_codes == [1 if RELEASE_SCENARIOS[name].fails else 0]
    cases = sampled(clean)  # what the sweep runs next (a function of the clean run alone)
    assert any(case.fault.kills for case in cases)

    results = list(runs)

    assert len(results) == len(cases)
    assert [r.explain() for r in results if not r.held] == []


def test_the_judge_catches_a_re_run_that_deploys_a_failed_release_again():
    """A release whose re-run forgets that it failed (the old behaviour of a deploy re-run) is not held."""
    from unittest import mock

    from ecs_template_deploy.release import Release
    from harness.faults.cases import Case
    from harness.faults.inject import Fault

    clean = baseline("release-last-fails")
    with mock.patch.object(Release, "_failed_before", lambda self, records: []):
        (result,) = run_release_cases([Case("release-last-fails", Fault.KILL_AFTER, clean.calls)])
    assert not result.held and "deployed again after its failure was recorded" in result.explain(), result.explain()


def test_the_judge_catches_a_release_that_leaves_the_first_wave_on_a_failed_release():
    """No all-or-nothing (each service rolls back only itself, as three `deploy` runs would) while the exit says
    rolled back: worker and scheduler stay on the failed release, misreported."""
    from unittest import mock

    from ecs_template_deploy.release import Release, ReleaseReport

    def each_for_itself(self, failing, lock, clock):
        self.failed = True

    def says_rolled_back(self, reason=""):
        return ReleaseReport(self.manifest.id, 1, "rolled back", list(self.results.values()))

    with mock.patch.object(Release, "_fail", each_for_itself), mock.patch.object(Release, "_report", says_rolled_back):
        clean = baseline("release-last-fails")
    assert not clean.held and "exit 1, but not every service is back" in clean.explain(), clean.explain()
