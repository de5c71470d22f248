"""A release's world: several services of one cluster, each as `ToolWorld` builds
it (its template, its family, its repository), proven once, and the manifest CD
releases them with.

    world = ReleaseWorld.build(aws, ["worker", "scheduler", "web"], after={"web": ["worker", "scheduler"]})
    run = world.release(tags={"worker": "v2", "scheduler": "v2", "web": "crash"})
    run.code, world.steady(), world.known_good()
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.worlds.tool import Names, ToolRun, ToolWorld

# Every image the worlds push behaves as declared here, on every service.
BEHAVIOURS: dict[str, dict[str, Any]] = {"crash": {"crash_after": 5}, "slow": {"start_seconds": 120},
                                          "sick": {"target_health": "fail"}}


@dataclass
class ReleaseWorld:
    aws: Any
    services: dict[str, ToolWorld]
    after: dict[str, list[str]] = field(default_factory=dict)
    bake: float = 60.0
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="release-")))

    @classmethod
    def build(cls, aws: Any, names: Sequence[str] = ("worker", "scheduler", "web"), *,
              after: Mapping[str, Sequence[str]] | None = None, desired: int = 2, bake: float = 60.0,
              first: str | None = "v1", strategies: Mapping[str, str] | None = None,
              configuration: Mapping[str, Mapping[str, Any]] | None = None) -> "ReleaseWorld":
        """The services, each settled on its template and (unless `first` is None) deployed
        once with tag `first` and a bake, so each has a known-good revision. `strategies`
        and `configuration` (deploymentConfiguration, e.g. lifecycleHooks) per service."""
        services = {}
        for name in names:
            strategy = (strategies or {}).get(name, "ROLLING")
            extra = {"bakeTimeInMinutes": 1} if strategy != "ROLLING" else {}
            services[name] = ToolWorld.build(aws, desired=desired, names=Names.of(name), strategy=strategy,
                                             **{**extra, **(configuration or {}).get(name, {})})
            for tag, behaviour in BEHAVIOURS.items():
                services[name].declare_image(tag, **behaviour)
        world = cls(aws, services, {k: list(v) for k, v in (after or {}).items()}, bake)
        if first is not None:
            for name, service in services.items():
                run = service.run("deploy", "--tag", first, "--bake", "30", "--poll-interval", "5", "--on-pause", "continue")
                if run.code != 0:
                    raise RuntimeError(f"the first deploy of {name} failed: {run.stderr[-500:]}")
        return world

    @property
    def any(self) -> ToolWorld:
        return next(iter(self.services.values()))

    def manifest(self, tags: Mapping[str, str], *, release_id: str | None = None, extra: str = "",
                 name: str = "release.toml", per_service: Mapping[str, str] | None = None) -> Path:
        """A TOML manifest releasing `tags` (service -> tag), in the world's waves; `extra`
        top-level lines, `per_service` lines for one service's entry (``{"web": "bake = 0"}``)."""
        lines = [f'cluster = "{self.any.names.cluster}"', f"bake = {self.bake:g}"]
        if release_id is not None:
            lines.append(f'id = "{release_id}"')
        lines.append(extra)
        for service, tag in tags.items():
            names = self.services[service].names
            lines += ["", "[[service]]", f'name = "{names.service}"', f'template = "{names.template}"', f'tag = "{tag}"']
            if self.after.get(service):
                lines.append(f"after = {json.dumps([self.services[s].names.service for s in self.after[service]])}")
            if per_service and service in per_service:
                lines.append(per_service[service])
        path = self.directory / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def release(self, tags: Mapping[str, str], *argv: str, release_id: str | None = None, session: Any = None,
                poll: str = "5", per_service: Mapping[str, str] | None = None) -> ToolRun:
        path = self.manifest(tags, release_id=release_id, per_service=per_service)
        return self.any.run_argv(["release", "--manifest", str(path), "--poll-interval", poll, *argv], session=session)

    def run(self, *argv: str, session: Any = None) -> ToolRun:
        return self.any.run_argv(list(argv), session=session)

    def steady(self) -> dict[str, str]:
        return {name: world.steady_on() for name, world in self.services.items()}

    def known_good(self) -> dict[str, str | None]:
        return {name: world.known_good() for name, world in self.services.items()}

    def tags(self) -> dict[str, str]:
        """The tag each service runs (steady or not)."""
        return {name: world.tag_of(world.service().task_definition) for name, world in self.services.items()}
