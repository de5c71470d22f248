"""Where things stand when a command ends: what it did, what the service runs,
what is known good, and the one command that finishes the job.

Commands write what they do into a `Journal` as they go, so that whatever ends
them (a verdict, an AWS outage, SIGTERM, a bug) the CLI can say it. `look()`
reads the service once more for the report and falls back to the last
snapshot the command saw when AWS does not answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import knowngood
from .clock import Clock, iso
from .errors import DeployToolError, Next
from .resources import fetch_service, short
from .views import Service, family_of

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient


@dataclass
class Journal:
    """What one command did in AWS, in order, and the last look it had at the service."""

    actions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)  # revisions this command registered (or may have)
    service_changed: bool = False  # an UpdateService of this command may have taken effect
    # What finishes the job if the command is stopped now (None: the same command
    # again). A deploy whose release failed sets ROLLBACK: re-running it would
    # release the failed revision again. `resume_to`: the revision to name with
    # `rollback --to` when nothing is known good.
    resume: Next | None = None
    resume_to: str = ""
    last_seen: Service | None = None
    last_seen_at: float | None = None
    # Commands over several services (a release): where each stands, one line each,
    # and the commands that finish the job, instead of one service's look.
    now: list[str] = field(default_factory=list)
    next_commands: list[str] = field(default_factory=list)

    def did(self, action: str, *, service_changed: bool = False) -> None:
        self.actions.append(action)
        self.service_changed = self.service_changed or service_changed

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)

    def saw(self, service: Service | None, at: float) -> None:
        if service is not None:
            self.last_seen, self.last_seen_at = service, at


@dataclass(frozen=True)
class Standing:
    service: str
    running: str  # task definition ARN the service runs; "" when unknown
    rollout_state: str  # of the PRIMARY deployment
    deployments: tuple[str, ...]  # one summary per deployment
    known_good: str  # the last known-good revision (ARN), "" if none is recorded
    as_of: str  # ISO time of the look
    fresh: bool  # read at the end (False: the command's last look, AWS did not answer)

    def line(self) -> str:
        if not self.running:
            return f"service {self.service}: unknown (AWS did not answer); known good: unknown"
        seen = "" if self.fresh else f" (as last seen at {self.as_of}; AWS did not answer since)"
        rollout = f"{self.rollout_state}: {'; '.join(self.deployments)}" if self.deployments else self.rollout_state
        return (f"service {self.service} runs {short(self.running)} ({rollout}){seen}; "
                f"known good: {short(self.known_good) if self.known_good else 'none recorded'}")

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.service, "taskDefinitionArn": self.running or None, "rolloutState": self.rollout_state,
                "deployments": list(self.deployments), "knownGood": self.known_good or None, "asOf": self.as_of,
                "fresh": self.fresh}


def _standing(name: str, service: Service, known: str, at: float, fresh: bool) -> Standing:
    return Standing(name, service.task_definition, service.rollout_state,
                    tuple(d.summary() for d in service.deployments), known, iso(at), fresh)


def look(ecs: ECSClient, cluster: str, service: str, journal: Journal, clock: Clock, *, read: bool = True) -> Standing:
    """Where the service stands now, read once; the journal's last look if AWS does not
    answer, or when `read` is false (a signal arrived while the first look was read)."""
    if read:
        try:
            snapshot = fetch_service(ecs, cluster, service)
            found = knowngood.find(ecs, family_of(snapshot.task_definition), service_tags=snapshot.tags,
                                   service_arn=snapshot.arn) if snapshot.task_definition else None
            return _standing(snapshot.name or service, snapshot, found.task_definition if found else "", clock.now(),
                             True)
        except DeployToolError:
            pass
    last = journal.last_seen
    if last is None:
        return Standing(service, "", "-", (), "", iso(clock.now()), False)
    pointer = last.tags.get(knowngood.TAG, "")
    return _standing(last.name or service, last, pointer, journal.last_seen_at or clock.now(), False)
