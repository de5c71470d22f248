"""The approaches the harness compares, registered by name.

An approach is a pair: a Terraform configuration (real HCL, beside its module)
and a CD procedure written against boto3 (or Terraform, or the deploy tool).
Each lives in its own module that subclasses ``Approach`` and decorates the
class with ``@register``; ``get(name)`` builds one with the clients and clock a
scenario hands it. An unknown name is an error listing the known ones.

    from harness import approaches
    approach = approaches.get("template")(context)
    approach.deploy("v2")

The names, in the article's order (``ORDER``):

    persistent-tag        1   moving tag in ECR + force new deployment
    ignore-changes        2   Terraform ignores CD's task definition revisions
    app-repo              3   container definition stored in the app repo
    terraform-cd-central  4a  CD runs terraform apply on the central config
    terraform-cd-app      4b  CD runs terraform apply on a config in the app repo
    template              5   template task definition (the article's own)
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, TypeVar

ORDER: tuple[str, ...] = (
    "persistent-tag",
    "ignore-changes",
    "app-repo",
    "terraform-cd-central",
    "terraform-cd-app",
    "template",
)

# name -> (the article's section, a short title), for reports
TITLES: dict[str, tuple[str, str]] = {
    "persistent-tag": ("1", "persistent tag"),
    "ignore-changes": ("2", "ignore changes"),
    "app-repo": ("3", "container definition in app repo"),
    "terraform-cd-central": ("4a", "Terraform in CD, central config"),
    "terraform-cd-app": ("4b", "Terraform in CD, app repo config"),
    "template": ("5", "template task definition"),
}

# name -> module that registers it (imported on first get(), so importing this
# package stays cheap and approach modules may import boto3, Terraform runners...)
# Each approach is a package: its module and, beside it, terraform/ (its configuration).
MODULES: dict[str, str] = {
    "persistent-tag": "harness.approaches.persistent_tag",
    "ignore-changes": "harness.approaches.ignore_changes",
    "app-repo": "harness.approaches.app_repo",
    "terraform-cd-central": "harness.approaches.terraform_cd",
    "terraform-cd-app": "harness.approaches.terraform_cd",
    "template": "harness.approaches.template",
}


class ApproachError(Exception):
    """An approach cannot be found, registered or run; the message says what to do."""


@dataclass(frozen=True)
class InfraChange:
    """An infrastructure change applied through Terraform: one container setting.

    ``setting`` is one of ``SETTINGS``; ``value`` its new value (MiB for memory,
    ``{"NAME": "value"}`` for environment, ``{"NAME": "arn:..."}`` for secrets).
    """

    SETTINGS: ClassVar[tuple[str, ...]] = ("cpu", "memory", "environment", "secrets")

    setting: str
    value: Any

    def __post_init__(self) -> None:
        if self.setting not in self.SETTINGS:
            raise ApproachError(f"unknown infrastructure change {self.setting!r}; use one of {', '.join(self.SETTINGS)}")


@dataclass(frozen=True)
class Facts:
    """What an approach is, independent of any run: the article's static claims.

    ``terraform_owns`` maps each container setting (``InfraChange.SETTINGS``)
    plus ``"image"`` to whether the approach's Terraform configuration declares
    it. Scenarios check these against the configuration itself.
    """

    terraform_owns: Mapping[str, bool]
    cd_runs_terraform: bool = False
    cd_pushes_git: bool = False
    ignores: tuple[str, ...] = ()  # Terraform lifecycle ignore_changes the configuration uses
    notes: tuple[str, ...] = field(default=())


class Approach(ABC):
    """One approach: name, article section, Terraform configuration, CD procedure.

    Subclasses set the class attributes and implement the three CD steps. The
    constructor takes everything the procedure needs (clients, clock, Terraform
    runner, service names) in one context object built by the scenario; nothing
    is looked up globally.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    section: ClassVar[str]  # the article's numbering: "1", "2", "3", "4a", "4b", "5"
    facts: ClassVar[Facts]
    # Directory of the Terraform configuration, relative to harness/approaches/
    # (by convention "<package>/terraform", which the Terraform fixtures discover).
    terraform_dir: ClassVar[str]

    def __init__(self, context: Any) -> None:
        self.context = context

    @classmethod
    def terraform_config(cls) -> Path:
        """Absolute path of this approach's Terraform configuration."""
        return Path(__file__).resolve().parent / cls.terraform_dir

    @abstractmethod
    def deploy(self, version: str) -> Any:
        """Deploy application version ``version`` (an image tag in the app's
        repository) the way this approach's CD does; returns a ``base.Step``."""

    @abstractmethod
    def rollback(self) -> Any:
        """Roll back to the last known-good version the way this approach's CD
        does; returns a ``base.Step``."""

    @abstractmethod
    def apply_infra_change(self, change: InfraChange) -> float:
        """Apply an infrastructure change where this approach keeps it (through
        Terraform, as the infra team would); returns Terraform's wall seconds."""


A = TypeVar("A", bound=type[Approach])

_REGISTRY: dict[str, type[Approach]] = {}


def register(cls: A) -> A:
    """Class decorator: make an approach available by its ``name``."""
    name = getattr(cls, "name", None)
    if name not in ORDER:
        raise ApproachError(f"approach {cls.__name__} has name {name!r}; name it one of {', '.join(ORDER)}")
    for attr in ("title", "section", "facts", "terraform_dir"):
        if not hasattr(cls, attr):
            raise ApproachError(f"approach {name} lacks the class attribute {attr!r}")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ApproachError(f"approach {name!r} is registered twice: {existing.__module__} and {cls.__module__}")
    _REGISTRY[name] = cls
    return cls


def get(name: str) -> type[Approach]:
    """The approach class registered as ``name``; imports its module on first use."""
    if name not in _REGISTRY:
        if name not in ORDER:
            raise ApproachError(f"unknown approach {name!r}; known: {', '.join(ORDER)}")
        _import(name)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ApproachError(f"approach {name!r} is not implemented yet (module {MODULES[name]} does not register it)") from None


def all_approaches() -> list[type[Approach]]:
    """Every implemented approach, in the article's order."""
    out = []
    for name in ORDER:
        if name not in _REGISTRY:
            try:
                _import(name)
            except ApproachError:
                continue
        if name in _REGISTRY:
            out.append(_REGISTRY[name])
    return out


def _import(name: str) -> None:
    module = MODULES[name]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise  # the module exists but one of its imports is missing: a real error
        raise ApproachError(f"approach {name!r} is not implemented yet (no module {module})") from None


def _unregister(name: str) -> Callable[[], None]:
    """Remove ``name`` from the registry (for tests that register fakes)."""
    cls = _REGISTRY.pop(name, None)

    def restore() -> None:
        if cls is not None:
            _REGISTRY[name] = cls
        else:
            _REGISTRY.pop(name, None)

    return restore
