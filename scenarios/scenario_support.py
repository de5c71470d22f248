"""What scenario modules import beside their fixtures (a module of its own,
not ``conftest``, so its name cannot clash with another directory's conftest):
the versions every world holds and the parameters a figure was measured with."""
from __future__ import annotations

from typing import Any

# Virtual seconds per wall second on the scenarios' server: none, so only
# sleeps (the scenario's, CD's polling) move time and a run's figures do not
# depend on how loaded the machine was.
SPEED = 0.0
SETTLE = 300.0  # virtual seconds for a service to settle after it is built
# Images every world's repository holds; BROKEN crashes CRASH_AFTER s after it starts.
VERSIONS = ("v1", "v2", "v3", "v4", "v5", "v6")
BROKEN = "v9-broken"
CRASH_AFTER = 5


def parameters(world: Any) -> dict[str, Any]:
    """The simulation parameters a figure was measured with (for the report)."""
    return {
        "simulator": world.sim.params.as_dict(),
        "scenario": {"settle_seconds": SETTLE, "broken_image_crash_after_seconds": CRASH_AFTER,
                     "poll_interval_seconds": world.context.poll_interval if world.context else None},
    }
