"""What the tool saw and did, as data: the watcher and the commands emit
`ProgressEvent`s to a sink; the CLI's renderers (`cli/output.py`) turn them
into terminal lines, plain CI lines or JSON lines."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .clock import iso

# service-event: an ECS service event; rollout: tasks per deployment changed;
# task-failed: a task of the watched revision failed; verdict: a watch ended;
# action: something the tool did; warning: something went wrong that the tool
# rides out (a failed call it retries) or reports without failing.
KINDS = ("service-event", "rollout", "task-failed", "verdict", "action", "warning")


@dataclass(frozen=True)
class ProgressEvent:
    kind: str
    at: float  # epoch seconds, from the clock the emitter was given
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"at": iso(self.at), "kind": self.kind, "message": self.message, **self.data}


Sink = Callable[[ProgressEvent], None]


def discard(_: ProgressEvent) -> None:
    """A sink for callers that only want the outcome."""
