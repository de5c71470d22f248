"""What scenario modules import beside their fixtures (a module of its own,
not ``conftest``, so its name cannot clash with another directory's conftest):
the versions every world holds and the parameters a figure was measured with.

What a scenario asserts of an approach is its claims (``approach.claims``, from
its package, or a described approach's ``[expect]``): ``said(key)`` is None where
nothing is claimed (the cell is measured and reported, not judged); otherwise
assert ``said.holds`` (today's behaviour, where today's ECS contradicts the
article) and cite ``said.citation()`` in the message."""
from __future__ import annotations

from typing import Any

from harness.worlds.approach import BROKEN, CRASH_AFTER, SETTLE, VERSIONS  # noqa: F401  (what scenarios import)


def parameters(world: Any) -> dict[str, Any]:
    """The parameters a figure was measured with (for the report): the simulator's,
    or none where tasks really run (a world on the wall clock settles until steady)."""
    scenario = {"broken_image_crash_after_seconds": CRASH_AFTER,
                "poll_interval_seconds": world.context.poll_interval if world.context else None}
    if world.sim is None:  # the report's seconds are the wall clock's (harness.report.writers.on_wall_clock)
        return {"clock": "wall", "scenario": scenario}
    return {"simulator": world.sim.params.as_dict(), "scenario": {"settle_seconds": SETTLE, **scenario}}
