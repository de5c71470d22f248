"""Timing profiles: named sets of the simulator's parameters (``Params``), each
number with where it comes from.

The bundled profiles are the TOML files beside this module:

- ``fargate``: calibrated to published measurements of Fargate and to AWS's
  documented defaults. ``harness compare`` runs it unless told otherwise.
- ``ec2-cached``: ECS on instances that already hold the image.
- ``fast``: the uncalibrated quick values the tests run with (``Params()``).

A profile file is a ``summary`` and one table per parameter, with its ``value``
and its ``source``. A team's own file may name a ``base`` profile and set only
what differs. ``--profile NAME|FILE`` on ``compare``, the scenarios and
``rehearse`` reads one, through ``load``.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from harness.ecs.params import Params

HERE = Path(__file__).parent
BUNDLED = ("fargate", "ec2-cached", "fast")  # the order reports list them in
DEFAULT = "fargate"  # what `compare` replays: the numbers a team plans with
TESTS = "fast"  # what the test suite and a plain `pytest` replay


class ProfileError(ValueError):
    """A profile that cannot be read; the message names the file and what to fix."""


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    params: Params
    sources: Mapping[str, str]  # parameter -> where its value comes from
    path: Path | None = None  # the file it was read from

    def describe(self) -> dict[str, Any]:
        """What a report records of it: its name and every value it ran with."""
        return {"name": self.name, "values": self.params.as_dict()}


def names() -> tuple[str, ...]:
    return BUNDLED


def load(name_or_file: str | Path) -> Profile:
    """A bundled profile by name, or a profile file by path."""
    text = str(name_or_file)
    if text in BUNDLED:
        return _read(HERE / f"{text}.toml", text)
    path = Path(text)
    if not path.suffix == ".toml" or not path.is_file():
        raise ProfileError(f"no timing profile {text!r}: give one of {', '.join(BUNDLED)} or the path of a .toml "
                           "profile file (docs/timing-profiles.md shows the format)")
    return _read(path, path.stem)


def _read(path: Path, name: str, seen: tuple[Path, ...] = ()) -> Profile:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ProfileError(f"timing profile {path}: cannot read it ({err}); fix the file or pick a bundled profile") from None
    known = {f.name: f for f in fields(Params)}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    base = data.pop("base", None)
    if base is not None:
        if not isinstance(base, str) or base not in BUNDLED or path.resolve() in seen:
            raise ProfileError(f"timing profile {path}: base must name a bundled profile ({', '.join(BUNDLED)}), "
                               f"got {base!r}")
        inherited = _read(HERE / f"{base}.toml", base, (*seen, path.resolve()))
        values, sources = inherited.params.as_dict(), dict(inherited.sources)
        sources = {key: f"{source} (from {base})" for key, source in sources.items()}
    summary = data.pop("summary", "")
    if not isinstance(summary, str) or not summary.strip():
        raise ProfileError(f"timing profile {path}: give it a summary = \"...\" line saying what it models")
    for key, table in data.items():
        if key not in known:
            raise ProfileError(f"timing profile {path}: unknown parameter [{key}]; known: {', '.join(sorted(known))}")
        if not isinstance(table, dict) or not isinstance(table.get("source"), str) or not table["source"].strip():
            raise ProfileError(f"timing profile {path}: [{key}] needs source = \"...\" (where its value comes from)")
        unknown = set(table) - {"value", "source"}
        if unknown:
            raise ProfileError(f"timing profile {path}: [{key}] has {sorted(unknown)}; a parameter has value and source only")
        value = table.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value < 0):  # nan, inf: timers that never fire
            raise ProfileError(f"timing profile {path}: [{key}] value must be a number of 0 or more, got {value!r}")
        if value is None and known[key].default is not None:
            raise ProfileError(f"timing profile {path}: [{key}] needs a value (only an optional rate may be left out)")
        values[key] = _typed(known[key].type, value)
        sources[key] = table["source"].strip()
    missing = sorted(set(known) - set(sources))
    if missing:
        raise ProfileError(f"timing profile {path}: no value for {', '.join(missing)}; set each, or name a "
                           "base = \"fargate\" profile to start from")
    return Profile(name, summary.strip(), Params.from_dict(values), sources, path)


def _typed(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    return int(value) if annotation in (int, "int") else float(value)


def markdown(profiles: tuple[Profile, ...] | None = None) -> str:
    """The profiles side by side, then every value's source: the tables of
    docs/timing-profiles.md (``python3 -m harness profiles --markdown``)."""
    chosen = profiles or tuple(load(name) for name in BUNDLED)
    head = "| parameter | " + " | ".join(f"`{p.name}`" for p in chosen) + " |"
    lines = [head, "|---|" + "---|" * len(chosen)]
    for f in fields(Params):
        cells = [_shown(getattr(p.params, f.name)) for p in chosen]
        lines.append(f"| `{f.name}` | " + " | ".join(cells) + " |")
    for profile in chosen:
        lines += ["", f"### `{profile.name}`", "", profile.summary, "", "| parameter | value | source |", "|---|---|---|"]
        for f in fields(Params):
            source = profile.sources[f.name].replace("|", "\\|")
            lines.append(f"| `{f.name}` | {_shown(getattr(profile.params, f.name))} | {source} |")
    return "\n".join(lines) + "\n"


def _shown(value: Any) -> str:
    return "none" if value is None else f"{value:g}"
