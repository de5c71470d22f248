"""A Terraform plan as data: `terraform show -json <planfile>` turned into the
resources Terraform would create, update, replace or delete, each with the
attribute paths that differ, and, separately, the drift Terraform detected
during refresh (changes made outside Terraform).

Paths are tuples such as ("container_definitions",) or
("network_configuration", 0, "subnets"); `ResourceChange.paths` gives them as
dotted strings ("network_configuration.0.subnets") for reading and asserting.
"""
from __future__ import annotations

import json

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]


def _empty(value: Any) -> bool:
    # The provider reads back `null`, `{}`, `[]` and `""` interchangeably for
    # unset values (tags = null in state, {} after refresh): not a change.
    return value is None or value == {} or value == [] or value == ""


def _unknown(after_unknown: Any, path: Path) -> bool:
    node = after_unknown
    for key in path:
        if node is True:
            return True
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return False
    return node is True


def diff_paths(before: Any, after: Any, after_unknown: Any = None, _prefix: Path = ()) -> Iterator[Path]:
    """The leaf paths where `before` and `after` are known to differ. Paths
    whose new value is unknown until apply are left out: see `unknown_paths`."""
    if _unknown(after_unknown, _prefix):
        return
    if _empty(before) and _empty(after):
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after)):
            yield from diff_paths(before.get(key), after.get(key), after_unknown, _prefix + (key,))
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from diff_paths(b, a, after_unknown, _prefix + (index,))
        return
    decoded = _json_document(before), _json_document(after)
    if None not in decoded:
        # JSON-encoded attributes (container_definitions, policies): say which
        # field inside changed, e.g. container_definitions.0.image.
        yield from diff_paths(decoded[0], decoded[1], None, _prefix)
        return
    if before != after:
        yield _prefix


def _json_document(value: Any) -> Any:
    if not isinstance(value, str) or not value.lstrip().startswith(("[", "{")):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def unknown_paths(after_unknown: Any, _prefix: Path = ()) -> Iterator[Path]:
    """The paths Terraform marks "known after apply"."""
    if after_unknown is True:
        yield _prefix
    elif isinstance(after_unknown, Mapping):
        for key in sorted(after_unknown):
            yield from unknown_paths(after_unknown[key], _prefix + (key,))
    elif isinstance(after_unknown, list):
        for index, item in enumerate(after_unknown):
            yield from unknown_paths(item, _prefix + (index,))


def dotted(path: Path) -> str:
    return ".".join(str(part) for part in path) or "<resource>"


def _action(actions: list[str]) -> str:
    if actions == ["no-op"]:
        return "no-op"
    if actions == ["read"]:
        return "read"
    if "create" in actions and "delete" in actions:
        return "replace"
    if actions in (["create"], ["update"], ["delete"]):
        return actions[0]
    return "+".join(actions)


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    action: str  # create | update | replace | delete | no-op | read
    changed: tuple[Path, ...] = ()  # known before -> after differences
    unknown: tuple[Path, ...] = ()  # values only known after apply
    replace_paths: tuple[Path, ...] = ()  # what forces a replacement
    action_reason: str | None = None

    @property
    def paths(self) -> list[str]:
        return [dotted(p) for p in self.changed]

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> ResourceChange:
        change = item["change"]
        before, after = change.get("before"), change.get("after")
        action = _action(change["actions"])
        if action in ("create", "delete"):
            changed: tuple[Path, ...] = ()
        else:
            changed = tuple(diff_paths(before, after, change.get("after_unknown")))
        return cls(
            address=item["address"],
            type=item["type"],
            action=action,
            changed=changed,
            unknown=tuple(unknown_paths(change.get("after_unknown"))),
            replace_paths=tuple(tuple(p) for p in change.get("replace_paths") or ()),
            action_reason=item.get("action_reason"),
        )


@dataclass(frozen=True)
class PlanSummary:
    """What a plan would do (`changes`) and what changed outside Terraform
    (`drift`); `relevant` is Terraform's list of (resource, attribute) that fed
    into the planned changes."""

    changes: tuple[ResourceChange, ...] = ()
    drift: tuple[ResourceChange, ...] = ()
    relevant: tuple[tuple[str, Path], ...] = ()
    output_changes: tuple[str, ...] = ()
    errored: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, plan: Mapping[str, Any]) -> PlanSummary:
        changes = tuple(
            c for c in (ResourceChange.from_json(i) for i in plan.get("resource_changes") or ())
            if c.action not in ("no-op", "read")
        )
        # Refresh reports every resource whose stored value moved, including
        # null -> {} noise; keep the ones where something really differs.
        drift = tuple(
            d for d in (ResourceChange.from_json(i) for i in plan.get("resource_drift") or ())
            if d.action == "delete" or d.changed
        )
        relevant = tuple(
            (r["resource"], tuple(r.get("attribute") or ())) for r in plan.get("relevant_attributes") or ()
        )
        outputs = tuple(
            name for name, oc in (plan.get("output_changes") or {}).items()
            if oc.get("actions") not in (["no-op"], None)
        )
        return cls(changes, drift, relevant, outputs, bool(plan.get("errored")), plan)

    @property
    def is_empty(self) -> bool:
        """No resource would change (what `plan -detailed-exitcode` exits 0 for,
        output-only changes aside)."""
        return not self.changes

    def drift_paths(self) -> set[tuple[str, str]]:
        """(address, dotted path) of every attribute that changed outside Terraform."""
        return {(d.address, path) for d in self.drift for path in (d.paths or ["<resource>"])}

    def drift_since(self, baseline: PlanSummary) -> set[tuple[str, str]]:
        """Drift not already present in `baseline` (e.g. the plan right after
        a clean apply): what a deploy or an out-of-band change caused."""
        return self.drift_paths() - baseline.drift_paths()

    def change(self, address: str) -> ResourceChange:
        for c in self.changes:
            if c.address == address:
                return c
        raise KeyError(f"{address} has no planned change; planned: {[c.address for c in self.changes]}")

    def drifted(self, address: str) -> ResourceChange:
        for d in self.drift:
            if d.address == address:
                return d
        raise KeyError(f"{address} did not drift; drifted: {[d.address for d in self.drift]}")

    def by_action(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for c in self.changes:
            out.setdefault(c.action, []).append(c.address)
        return out
