"""Field-level difference between the running task definition and the rendered one.

Paths name things the way people do: containers and environment entries by
name (`containerDefinitions[web].environment[LOG_LEVEL]`), tags by key, list
items by index (`containerDefinitions[web].command[2]`). Both definitions are
masked whole before they are compared (`secrets.mask`): what looks secret, by
name or by value, in any field, shows as `***` (only the secret part where the
rest is useful), and each change says what it masked and why. Changes are found
on the real values, so a rotated password still shows as a change (`*** -> ***`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .plan import DeployRequest, Plan, prepare
from .render import is_provenance_tag
from .secrets import KEYED, Masked, field_path, mask, merged

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient

_MISSING = object()


@dataclass(frozen=True)
class Change:
    path: str
    old: Any  # None when added; masked
    new: Any  # None when removed; masked
    masked: tuple[Masked, ...] = ()  # what of old and new was masked, and why

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class DiffResult:
    plan: Plan
    changes: list[Change]

    @property
    def unchanged(self) -> bool:
        return self.plan.unchanged

    @property
    def masked(self) -> list[Masked]:
        return merged(m for change in self.changes for m in change.masked)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.plan.request.cluster,
            "service": self.plan.service.name,
            "current": self.plan.current.arn,
            "family": self.plan.family,
            "template": self.plan.template.arn,
            "wouldRegister": not self.plan.unchanged,
            "changes": [c.to_dict() for c in self.changes],
            "masked": [m.to_dict() for m in self.masked],
        }


def diff(ecs: ECSClient, request: DeployRequest) -> DiffResult:
    plan = prepare(ecs, request)
    return DiffResult(plan, diff_definitions(plan.current_definition, plan.definition))


def diff_definitions(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Changes from `old` to `new`, provenance tags left out, what looks secret masked."""
    masked_old, old_marks = mask(old)
    masked_new, new_marks = mask(new)
    found: list[tuple[str, Any, Any]] = []
    _walk(_Sides(_comparable(old), _comparable(masked_old)), _Sides(_comparable(new), _comparable(masked_new)), "", found)
    marks = old_marks + new_marks
    return [Change(path, old_value, new_value, _under(path, marks)) for path, old_value, new_value in found]


@dataclass(frozen=True)
class _Sides:
    """One definition's value at a path: the real one (compared) and the masked one (shown)."""

    real: Any
    shown: Any

    def get(self, key: Any) -> "_Sides":
        return _Sides(self.real.get(key, _MISSING), self.shown.get(key, _MISSING))

    def item(self, index: int) -> "_Sides":
        return _Sides(self.real[index], self.shown[index])


def _comparable(definition: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in definition.items() if k != "tags"}
    result["tags"] = {t["key"]: t["value"] for t in definition.get("tags", []) if not is_provenance_tag(t["key"])}
    result["containerDefinitions"] = {
        c["name"]: _container(c) for c in definition.get("containerDefinitions", [])
    }
    return result


def _container(container: dict[str, Any]) -> dict[str, Any]:
    result = dict(container)
    if "environment" in result:
        result["environment"] = {e["name"]: e.get("value") for e in container["environment"]}
    return result


def _walk(old: _Sides, new: _Sides, path: str, found: list[tuple[str, Any, Any]]) -> None:
    if isinstance(old.real, dict) and isinstance(new.real, dict):
        keyed = path.rsplit(".", 1)[-1] in KEYED  # containers, environment entries and tags by name
        for key in list(old.real) + [k for k in new.real if k not in old.real]:
            child = f"{path}[{key}]" if keyed else field_path(path, key)
            _walk(old.get(key), new.get(key), child, found)
        return
    if isinstance(old.real, list) and isinstance(new.real, list) and len(old.real) == len(new.real):
        for index in range(len(old.real)):
            _walk(old.item(index), new.item(index), f"{path}[{index}]", found)
        return
    if old.real != new.real:
        found.append((path, None if old.real is _MISSING else old.shown, None if new.real is _MISSING else new.shown))


def _under(path: str, marks: list[Masked]) -> tuple[Masked, ...]:
    """What was masked at `path` or inside it, in old or new."""
    return tuple(merged(m for m in marks if m.path == path or m.path.startswith((f"{path}.", f"{path}["))))
