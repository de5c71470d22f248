"""Claims: one mapping per approach, read by the scenarios and the report, the
same type for an approach described in a file; a contradiction of the article by
today's ECS said once, with its reason."""
from __future__ import annotations

import pytest

from harness.approaches import TABLE, Approach, Claims, Said
from harness.approaches.claims import CLAIM_KEYS, no_person_needed, recovers
from harness.approaches.described import EXPECT
from harness.report.claims import JUDGES
from harness.approaches.failures import MODES

# What the article claims of each of its approaches, and every scenario asserts.
ASSERTED = ("plan_clean_after_deploy", "version_readable", "moving_tag", "scale_out_skew", "infra_change_reaches",
            "terraform_owns", "rollback", "rollback_moves_tag", "multi_service_release")


def test_a_contradiction_needs_todays_value_and_the_reason() -> None:
    with pytest.raises(ValueError, match="both today's value and the reason"):
        Said(True, today=False)
    with pytest.raises(ValueError, match="both today's value and the reason"):
        Said(True, because="ECS changed")
    said = Said(True, today=False, because="ECS changed")
    assert said.holds is False and said.contradicted
    assert said.citation() == "the article says True; today False: ECS changed"
    assert Said("next deploy").holds == "next deploy" and Said("x").citation() == "claimed: 'x'"


@pytest.mark.parametrize("row", TABLE, ids=str)
def test_every_article_approach_claims_what_the_scenarios_assert(row) -> None:
    claims = row.claims
    missing = [key for key in ASSERTED if claims.said(key) is None]
    assert not missing, f"{row.name} claims nothing about {missing}"
    rollback = claims.rollback.holds
    assert set(rollback) == {mode.key for mode in MODES}
    for key in claims.quotes:  # a quote no judge reads would never reach the report
        assert key in {judge for judge, _, _ in JUDGES}, key


@pytest.mark.parametrize("row", TABLE, ids=str)
def test_a_row_with_a_stand_in_is_an_approach_that_builds_one(row) -> None:
    builds = row.cls().stand_in_definition.__func__ is not Approach.stand_in_definition.__func__
    assert builds == row.stand_in


def test_a_described_approach_reads_its_expect_table_into_the_same_type() -> None:
    assert set(EXPECT) <= set(CLAIM_KEYS)
    claims = Claims.from_expect({"version_readable": True, "rollback": {"crash-at-once": True}})
    assert claims.expected("version_readable") is True and claims.expected("moving_tag") is None
    assert recovers(claims.rollback.holds, "crash-at-once", "ROLLING") is True
    assert recovers(claims.rollback.holds, "breaker-off", "ROLLING") is None
    with pytest.raises(KeyError, match="no claim 'quotes'"):
        claims.said("quotes")


def test_a_rollback_claim_can_name_one_strategy() -> None:
    claim = no_person_needed({"crash-at-once/BLUE_GREEN": False}, default=True)
    assert recovers(claim, "crash-at-once", "BLUE_GREEN") is False
    assert recovers(claim, "crash-at-once", "ROLLING") is True


def test_where_todays_ecs_contradicts_the_article_the_claim_says_why() -> None:
    contradicted = {(row.name, key) for row in TABLE for key in CLAIM_KEYS
                    if (said := row.claims.said(key)) is not None and said.contradicted}
    # the circuit breaker (2020) and version consistency (2024) came after the article
    assert {key for _, key in contradicted} == {"rollback", "scale_out_skew"}
    for name, key in contradicted:
        assert next(row for row in TABLE if row.name == name).claims.said(key).because
