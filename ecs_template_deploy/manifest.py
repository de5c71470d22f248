"""A release manifest: several services deployed as one release, in waves.

A team keeps it next to its pipeline (TOML; YAML too where PyYAML is
installed). Everything here is read and checked without AWS: a manifest that is
wrong in itself (an unknown key, a service twice, `after` naming a service the
manifest does not hold, a cycle) is refused in one line before any call.

    id = "build-1234"        # optional: default, a digest of what the manifest says
    cluster = "prod"         # default for every service
    bake = 120               # defaults for every service's watch
    alarms = ["prod-5xx"]

    [[service]]
    name = "worker"
    template = "worker-template"
    tag = "${BUILD_TAG}"     # ${VAR}: from the environment; unset is an error

    [[service]]
    name = "web"
    template = "web-template"
    images = { app = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2" }
    after = ["worker"]       # a later wave: starts once worker has passed its bake

Waves come from `after`: a service with none is in wave 1, any other one wave
after the latest it names.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, overload

from .errors import BadInputError, shown
from .render import ImageSelection

# What a release id may be: it goes into tag values and command lines as is.
RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ON_PAUSE = ("wait", "continue", "rollback", "fail")
# Keys a service entry takes, and the top-level defaults every entry inherits.
WATCH_KEYS = ("bake", "alarms", "timeout", "failure_threshold", "on_pause")
SERVICE_KEYS = ("name", "cluster", "template", "family", "images", "tag", "repository", "keep_images", "after",
                "run_before", *WATCH_KEYS)
TOP_KEYS = ("id", "cluster", "service", *WATCH_KEYS)
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Watch:
    """How one service's rollout is watched (the deploy command's options)."""

    bake: float = 0.0
    alarms: tuple[str, ...] = ()
    timeout: float = 1800.0
    failure_threshold: int = 1
    on_pause: str = "wait"


@dataclass(frozen=True)
class Entry:
    """One service of a release."""

    name: str
    cluster: str
    template: str
    images: ImageSelection
    family: str | None
    after: tuple[str, ...]
    watch: Watch
    run_before: str | None = None
    wave: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cluster": self.cluster, "template": self.template, "family": self.family,
                "images": dict(self.images.images), "tag": self.images.tag, "repository": self.images.repository,
                "keepImages": sorted(self.images.keep), "after": list(self.after), "wave": self.wave,
                "runBefore": self.run_before, "bake": self.watch.bake, "alarms": list(self.watch.alarms),
                "timeout": self.watch.timeout, "failureThreshold": self.watch.failure_threshold,
                "onPause": self.watch.on_pause}


@dataclass(frozen=True)
class Manifest:
    id: str
    digest: str  # of what the manifest says, variables expanded: a re-run of the same release has the same
    entries: tuple[Entry, ...]
    source: str = ""

    @property
    def waves(self) -> list[list[Entry]]:
        """The entries by wave, in order; within a wave, in the manifest's order."""
        last = max((e.wave for e in self.entries), default=0)
        return [[e for e in self.entries if e.wave == wave] for wave in range(1, last + 1)]

    @property
    def clusters(self) -> list[str]:
        return list(dict.fromkeys(e.cluster for e in self.entries))

    def entry(self, name: str) -> Entry:
        return next(e for e in self.entries if e.name == name)


def load(path: str, *, release_id: str | None = None, environ: Mapping[str, str] | None = None) -> Manifest:
    """Read and check the manifest at `path` (TOML, or YAML by its .yaml/.yml suffix)."""
    file = Path(path)
    where = f"manifest {shown(path)}"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{where} not found: pass the path of the release manifest (TOML or YAML)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"{where} cannot be read ({type(err).__name__}): pass a readable UTF-8 file") from None
    return parse(text, where=where, yaml=file.suffix.lower() in (".yaml", ".yml"), release_id=release_id,
                 environ=os.environ if environ is None else environ, source=path)


def parse(text: str, *, where: str = "manifest", yaml: bool = False, release_id: str | None = None,
          environ: Mapping[str, str] | None = None, source: str = "") -> Manifest:
    data = _yaml(text, where) if yaml else _toml(text, where)
    if not isinstance(data, dict):
        raise BadInputError(f"{where} is not a table of keys: start it with `[[service]]` entries (see the docs)")
    data = _expand(data, environ if environ is not None else os.environ, where)
    _known_keys(data, TOP_KEYS, where, "at its top level")
    services = data.get("service")
    if not isinstance(services, list) or not services or not all(isinstance(s, dict) for s in services):
        raise BadInputError(f"{where} names no services: add one `[[service]]` table per service (name, template, "
                            "and an image or tag)")
    defaults = {key: data[key] for key in ("cluster", *WATCH_KEYS) if key in data}
    raw = [{**defaults, **service} for service in services]
    entries = [_entry(service, index, where) for index, service in enumerate(raw, start=1)]
    _unique(entries, where)
    entries = _with_waves(entries, where)
    digest = hashlib.sha256(json.dumps([e.to_dict() for e in entries], sort_keys=True).encode()).hexdigest()[:12]
    chosen = release_id if release_id is not None else data.get("id")
    if chosen is None:
        chosen = f"r-{digest}"
    if not isinstance(chosen, str) or not RELEASE_ID.fullmatch(chosen):
        raise BadInputError(f"release id {shown(str(chosen))} cannot be recorded: give 1 to 64 letters, digits, '.', "
                            "'_' or '-', starting with a letter or digit")
    return Manifest(chosen, digest, tuple(entries), source)


def _toml(text: str, where: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BadInputError(f"{where} is not valid TOML: {err}: fix it there (TOML's rules: toml.io)") from None


def _yaml(text: str, where: str) -> Any:
    try:
        import yaml  # optional: the tool itself needs only boto3
    except ImportError:
        raise BadInputError(f"{where} is YAML, which needs PyYAML: pip install 'ecs-template-deploy[yaml]', or "
                            "write the manifest in TOML") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BadInputError(f"{where} is not valid YAML: {' '.join(str(err).split())}: fix it there") from None


def _expand(value: Any, environ: Mapping[str, str], where: str) -> Any:
    """`${VAR}` in strings, from the environment; an unset one is refused (never left as text)."""
    if isinstance(value, dict):
        return {key: _expand(item, environ, where) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, environ, where) for item in value]
    if not isinstance(value, str):
        return value

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise BadInputError(f"{where}: ${{{shown(name, quoted=False)}}} is not a variable name: write ${{NAME}}")
        if name not in environ:
            raise BadInputError(f"{where}: ${{{name}}} is not set: export it in the pipeline, or write the value")
        return environ[name]

    return _VARIABLE.sub(variable, value)


def _known_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str, what: str) -> None:
    for key in table:
        if key not in allowed:
            raise BadInputError(f"{where}: unknown key {shown(str(key))}{' ' + what if what else ''}: use one of "
                                f"{', '.join(allowed)}")


@overload
def _text(service: dict[str, Any], key: str, where: str, *, required: Literal[True]) -> str: ...
@overload
def _text(service: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None: ...
def _text(service: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    """The string at `key`; None if absent, unless `required` (then absent is bad input)."""
    value = service.get(key)
    if value is None:
        if required:
            raise BadInputError(f"{where} has no {key}: give it `{key} = \"...\"`")
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(f"{where}: {key} is {shown(str(value))}: give it as a non-empty string, like {key} = \"...\"")
    return value


def _names(service: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = service.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadInputError(f"{where}: {key} is not a list of names: write it like {key} = [\"worker\"]")
    return tuple(value)


def _number(service: dict[str, Any], key: str, default: float, where: str, *, whole: bool = False,
            minimum: float = 0.0) -> Any:
    value = service.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)) \
            or value != value or value < minimum or value > 10 * 365 * 86400:
        kind = "a whole number" if whole else "a number of seconds"
        raise BadInputError(f"{where}: {key} is {shown(str(value))}: give {kind}, {minimum:g} or more")
    return value


def _entry(service: dict[str, Any], index: int, where: str) -> Entry:
    name = service.get("name")
    label = f"{where}, service {name}" if isinstance(name, str) and name else f"{where}, service {index}"
    _known_keys(service, SERVICE_KEYS, label, "")
    name = _text(service, "name", label, required=True)
    cluster = _text(service, "cluster", label)
    if cluster is None:
        raise BadInputError(f"{label} has no cluster: give `cluster = \"...\"` on it or at the top of the manifest")
    images = service.get("images", {})
    if not isinstance(images, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in images.items()):
        raise BadInputError(f"{label}: images is not a table of container = \"image\": write it like images = "
                            "{ app = \"repo:1.2\" }")
    tag, repository = _text(service, "tag", label), _text(service, "repository", label)
    keep = _names(service, "keep_images", label)
    try:
        selection = ImageSelection.from_options([f"{k}={v}" for k, v in images.items()], tag, repository, keep)
    except BadInputError as err:
        said = str(err).replace("--image", "images").replace("--tag", "tag").replace("--repository", "repository")
        raise BadInputError(f"{label}: {said}") from None
    on_pause = service.get("on_pause", "wait")
    if on_pause not in ON_PAUSE:
        raise BadInputError(f"{label}: on_pause {shown(str(on_pause))} is not an answer to a pause: use one of "
                            f"{', '.join(ON_PAUSE)}")
    alarms = _names(service, "alarms", label)
    watch = Watch(bake=float(_number(service, "bake", 0.0, label)), alarms=alarms,
                  timeout=float(_number(service, "timeout", 1800.0, label, minimum=1.0)),
                  failure_threshold=int(_number(service, "failure_threshold", 1, label, whole=True, minimum=1)),
                  on_pause=on_pause)
    return Entry(name=name, cluster=cluster, template=_text(service, "template", label, required=True) or "",
                 images=selection, family=_text(service, "family", label), after=_names(service, "after", label),
                 watch=watch, run_before=_text(service, "run_before", label))


def _unique(entries: list[Entry], where: str) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.name in seen:
            other = seen[entry.name]
            place = "" if other.cluster != entry.cluster else f" in cluster {entry.cluster}"
            raise BadInputError(f"{where}: service {entry.name} appears twice{place}: a release deploys a service once; "
                                "remove one of the entries (names must be unique in a manifest)")
        seen[entry.name] = entry


def _with_waves(entries: list[Entry], where: str) -> list[Entry]:
    """Each entry with its wave (1 + the latest wave it comes after); cycles refused."""
    names = {e.name: e for e in entries}
    for entry in entries:
        for other in entry.after:
            if other not in names:
                raise BadInputError(f"{where}, service {entry.name}: after names {shown(other)}, which is not a "
                                    f"service of this manifest: name one of {', '.join(names)}")
            if other == entry.name:
                raise BadInputError(f"{where}, service {entry.name}: after names the service itself: remove it")
    # Kahn's algorithm: a wave is placed once every service it waits for is; what is never placed waits in a cycle
    waves: dict[str, int] = {}
    waiting = {e.name: set(e.after) for e in entries}
    while len(waves) < len(entries):
        ready = [name for name, after in waiting.items() if name not in waves and after <= waves.keys()]
        if not ready:
            raise BadInputError(f"{where}: the services wait for each other in a cycle ({_cycle(waiting, waves)}): no "
                                "wave can start; remove one of those `after` entries")
        for name in ready:
            waves[name] = 1 + max((waves[o] for o in waiting[name]), default=0)
    return [Entry(**{**e.__dict__, "wave": waves[e.name]}) for e in entries]


def _cycle(waiting: dict[str, set[str]], placed: dict[str, int]) -> str:
    """One cycle among the services not placed, as `a -> b -> a` (first of them, in manifest order)."""
    name = next(n for n in waiting if n not in placed)
    path: list[str] = []
    while name not in path:
        path.append(name)
        name = sorted(o for o in waiting[name] if o not in placed)[0]
    return " -> ".join((*path[path.index(name):], name))
