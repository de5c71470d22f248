"""Field-level difference between the running task definition and the rendered one.

Paths name things the way people do: containers and environment entries by
name (`containerDefinitions[web].environment[LOG_LEVEL]`), tags by key. Values
of environment entries that look secret, by name or by value (`secrets.py`),
are masked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .plan import DeployRequest, Plan, prepare
from .render import is_provenance_tag
from .secrets import MASK, looks_secret

_MISSING = object()


@dataclass(frozen=True)
class Change:
    path: str
    old: Any  # None when added
    new: Any  # None when removed

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.plan.request.cluster,
            "service": self.plan.service.name,
            "current": self.plan.current.arn,
            "family": self.plan.family,
            "template": self.plan.template.arn,
            "wouldRegister": not self.plan.unchanged,
            "changes": [c.to_dict() for c in self.changes],
        }


def diff(ecs: Any, request: DeployRequest) -> DiffResult:
    plan = prepare(ecs, request)
    return DiffResult(plan, diff_definitions(plan.current_definition, plan.definition))


def diff_definitions(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Changes from `old` to `new`, provenance tags left out, secret-looking env values masked."""
    changes: list[Change] = []
    _walk(_comparable(old), _comparable(new), "", changes)
    return changes


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


def _walk(old: Any, new: Any, path: str, changes: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        keyed = path.endswith(("containerDefinitions", "environment", "tags"))
        for key in list(old) + [k for k in new if k not in old]:
            child = f"{path}[{key}]" if keyed else (f"{path}.{key}" if path else key)
            _walk(old.get(key, _MISSING), new.get(key, _MISSING), child, changes)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new)):
            _walk(a, b, f"{path}[{index}]", changes)
        return
    if old != new:
        old_value = None if old is _MISSING else _masked(old, path)
        new_value = None if new is _MISSING else _masked(new, path)
        env = _ENV_ENTRY.search(path)
        if env and (looks_secret(env.group(1), old_value) or looks_secret(env.group(1), new_value)):
            old_value = None if old_value is None else MASK
            new_value = None if new_value is None else MASK
        changes.append(Change(path, old_value, new_value))


_ENV_ENTRY = re.compile(r"\.environment\[([^\]]*)\]$")


def _masked(value: Any, path: str) -> Any:
    """A whole container or environment added or removed: mask the secret-looking entries inside."""
    if isinstance(value, dict) and path.endswith(".environment"):
        return {name: MASK if looks_secret(name, v) else v for name, v in value.items()}
    if isinstance(value, dict):
        return {key: _masked(v, f"{path}.{key}") for key, v in value.items()}
    return value
