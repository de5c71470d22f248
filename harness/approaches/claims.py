"""What is claimed of an approach, said once: the one mapping the scenarios assert
and the report judges.

A built-in approach's claims are the article's (``Claims`` on its class, in its
package); a described approach's are the team's own, read from the ``[expect]``
table of its ``harness.toml`` into the same type (``Claims.from_expect``). A
scenario asks ``claims.expected(key)``: the value to assert, or None where nothing
is claimed (then the cell is measured and reported, not judged).

Where today's ECS contradicts the article, the claim says so once: ``Said`` holds
the article's value, today's and the reason (``CIRCUIT_BREAKER``,
``VERSION_CONSISTENCY``); scenarios assert today's and cite the reason.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar

from harness.approaches.failures import MODES

T = TypeVar("T")

# Why today's ECS does not do what the article says (it predates these features).
CIRCUIT_BREAKER = ("ECS's deployment circuit breaker (rollback on, in every configuration here) rolls back a "
                   "deployment whose tasks keep failing, and CD watching its rollout (one failed task is a failure) "
                   "runs its own rollback step: a failure during the rollout needs no person; one after the rollout "
                   "completed (an alarm) is seen by neither, and there the article still holds")
VERSION_CONSISTENCY = ("since 2024 ECS resolves an image tag to a digest when a deployment starts (software version "
                       "consistency, on by default), so tasks a scale-out starts run that digest, not where the tag "
                       "has moved since")


@dataclass(frozen=True)
class Said(Generic[T]):
    """One claim: what the article (or a team's file) says, and, where today's ECS
    behaves otherwise, what it does instead and why (``today`` and ``because``, both or neither)."""

    article: T
    today: T | None = None
    because: str = ""

    def __post_init__(self) -> None:
        if (self.today is None) != (not self.because):
            raise ValueError("a claim today's ECS contradicts needs both today's value and the reason (because)")

    @property
    def holds(self) -> T:
        """What is true today: the value a scenario asserts."""
        return self.article if self.today is None else self.today

    @property
    def contradicted(self) -> bool:
        return self.today is not None

    def citation(self) -> str:
        """For an assertion's message: the article's value and, if contradicted, why today differs."""
        if not self.contradicted:
            return f"claimed: {self.article!r}"
        return f"the article says {self.article!r}; today {self.today!r}: {self.because}"


def no_person_needed(modes: Mapping[str, bool] | None = None, *, default: bool) -> dict[str, bool]:
    """A rollback claim: failure mode key (``harness.approaches.failures.MODES``, or
    ``mode/STRATEGY`` for one strategy) -> does the service get back to known good
    without a person; ``default`` for every mode not named."""
    return {mode.key: default for mode in MODES} | dict(modes or {})


def recovers(rollback: Mapping[str, bool], mode: str, strategy: str) -> bool | None:
    """What a rollback claim says of one cell (its strategy's own entry first), None if nothing."""
    return rollback.get(f"{mode}/{strategy}", rollback.get(mode))


@dataclass(frozen=True)
class Claims:
    """Everything claimed of one approach. Each field is a ``Said`` or None (no claim)."""

    plan_clean_after_deploy: Said[bool] | None = None  # `terraform plan` right after a CD deploy has no changes
    version_readable: Said[bool] | None = None  # the running task definition names the version deployed
    moving_tag: Said[bool] | None = None  # the task definition names a tag that moves between deploys
    # With ECS's defaults, does a scale-out after the tag moved run another image than the one deployed?
    scale_out_skew: Said[bool] | None = None
    infra_change_reaches: Said[str] | None = None  # "immediately", "next deploy" or "never"
    terraform_owns: Said[Mapping[str, bool]] | None = None  # container setting -> Terraform declares it
    rollback: Said[Mapping[str, bool]] | None = None  # see no_person_needed
    rollback_moves_tag: Said[bool] | None = None  # CD's rollback writes a tag in ECR before it touches ECS
    multi_service_release: Said[tuple[str, ...]] | None = None  # services a failed release of two leaves on it
    # The article's words the report judges (a claim key of harness.report.claims -> the quote).
    quotes: Mapping[str, str] = field(default_factory=dict)

    def said(self, key: str) -> Said[Any] | None:
        if key not in {f.name for f in fields(self)} or key == "quotes":
            raise KeyError(f"no claim {key!r}; claims: {', '.join(CLAIM_KEYS)}")
        return getattr(self, key)

    def expected(self, key: str) -> Any:
        """The value a scenario asserts for ``key`` (today's where ECS contradicts the article), or None."""
        said = self.said(key)
        return None if said is None else said.holds

    @classmethod
    def from_expect(cls, expect: Mapping[str, Any]) -> Claims:
        """A team's own expectations (``[expect]`` of a description file, checked there), as claims."""
        said: dict[str, Any] = {key: Said(value) for key, value in expect.items()}
        return cls(**said)


CLAIM_KEYS = tuple(f.name for f in fields(Claims) if f.name != "quotes")
