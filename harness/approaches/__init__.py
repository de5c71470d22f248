"""The approaches the harness compares, registered by name.

An approach is one package plus one row of ``TABLE``: its Terraform
configuration (real HCL, beside its module), its CD procedure written against
boto3 (or Terraform, or the deploy tool), its claims (``Claims``: what the
article says of it, which the scenarios assert and the report judges) and, where
boto3 can build what its Terraform builds, its stand-in (``stand_in_definition``).
The package subclasses ``Approach`` and decorates the class with ``@register``;
``get(name)`` builds one with the clients and clock a scenario hands it. An
unknown name is an error listing the known ones. Nothing outside the package and
the table names an approach: what differs is a field of its facts or claims.

    from harness import approaches
    approach = approaches.get("template")(context)
    approach.deploy("v2")

The names, in the article's order (``TABLE``, the one table of approaches):

    persistent-tag        1   moving tag in ECR + force new deployment
    ignore-changes        2   Terraform ignores CD's task definition revisions
    app-repo              3   container definition stored in the app repo
    terraform-cd-central  4a  CD runs terraform apply on the central config
    terraform-cd-app      4b  CD runs terraform apply on a config in the app repo
    template              5   template task definition (the article's own)
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Sequence, TypeVar

from harness.approaches.claims import Claims, Said  # noqa: F401  (what approach packages import with Facts)

# The CD a matrix cell runs: the one the article sketches for the approach, or the most capable
# one the approach allows (``harness.approaches.capable``); results, report and scenarios name them so.
ARTICLE, CAPABLE = "article", "capable"
CDS = (ARTICLE, CAPABLE)

@dataclass(frozen=True)
class Entry:
    """One row of the table of approaches: everything the harness knows about an
    approach without running it. Scenario ids, xdist grouping, the report's
    labels and order all read it from here."""

    name: str  # the id in pytest node ids, results and the report
    section: str  # the article's numbering: "1", "2", "3", "4a", "4b", "5"
    title: str  # a short title for reports
    module: str  # the module that registers it (imported on first use: approach modules may import boto3, Terraform...)
    stand_in: bool  # whether boto3 can build what its Terraform builds (4a/4b: CD runs Terraform, so no)
    cost: int  # Terraform work of its scenarios, 0 heaviest: the order xdist hands the groups out in
    # A team's own approach, described in a file (``harness.approaches.described``),
    # not one of the article's: scenarios measure it against the team's own
    # expectations rather than the article's claims.
    described: bool = False
    # Added at run time (``add``), not one of ``TABLE``'s: a described approach, or
    # one from a package outside harness (a team's, a test's throwaway).
    added: bool = False

    @property
    def label(self) -> str:
        """``"5 template task definition"``."""
        return f"{self.section} {self.title}"

    @property
    def short_label(self) -> str:
        """``"5 template"``."""
        return f"{self.section} {self.name}"

    def cls(self) -> type["Approach"]:
        """The registered class (imports its module on first use)."""
        return get(self.name)

    @property
    def claims(self) -> Claims:
        """What is claimed of it (``harness.approaches.claims``): the article's, or a described approach's [expect]."""
        return self.cls().claims

    def __str__(self) -> str:
        return self.name


# The article's order. Approach 4's CD is `terraform apply` (nine applies per
# configuration in the scenarios), so its groups cost most.
TABLE: tuple[Entry, ...] = (
    Entry("persistent-tag", "1", "persistent tag", "harness.approaches.persistent_tag", stand_in=True, cost=2),
    Entry("ignore-changes", "2", "ignore changes", "harness.approaches.ignore_changes", stand_in=True, cost=3),
    Entry("app-repo", "3", "container definition in app repo", "harness.approaches.app_repo", stand_in=True, cost=5),
    Entry("terraform-cd-central", "4a", "Terraform in CD, central config", "harness.approaches.terraform_cd",
          stand_in=False, cost=0),
    Entry("terraform-cd-app", "4b", "Terraform in CD, app repo config", "harness.approaches.terraform_cd",
          stand_in=False, cost=1),
    Entry("template", "5", "template task definition", "harness.approaches.template", stand_in=True, cost=4),
)
# Every approach by name: the table's, then any described ones added (``add``).
BY_NAME: dict[str, Entry] = {entry.name: entry for entry in TABLE}


def rows() -> tuple[Entry, ...]:
    """The table, then the approaches added from description files, in the order added."""
    return tuple(BY_NAME.values())


def add(row: Entry, cls: type["Approach"] | None = None) -> Entry:
    """Add an approach that is not in ``TABLE``: its row after the table's, and its
    class registered (``cls``), or, without one, registered by ``@register`` when
    ``row.module`` is first imported (a package outside harness: a team's, a test's).
    Adding the same name again replaces it (xdist workers and the controller each load the files)."""
    if row.name in {entry.name for entry in TABLE}:
        raise ApproachError(f"approach name {row.name!r} is one of the built-in approaches; pick another")
    if not row.added:
        row = dataclasses.replace(row, added=True)
    BY_NAME[row.name] = row
    if cls is None:
        registered = _REGISTRY.get(row.name)
        if registered is not None and registered.__module__ != row.module:
            del _REGISTRY[row.name]  # another module's class of that name: the row's module registers its own
        elif registered is not None:
            registered.entry = row
        return row
    cls.name = row.name
    cls.entry = row
    _REGISTRY[row.name] = cls
    return row


def entry(name: str) -> Entry:
    """The table's row for ``name``; an unknown name is an error listing the known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ApproachError(f"unknown approach {name!r}; known: {', '.join(BY_NAME)}") from None


def rank(name: str) -> int:
    """Position in the article's order (unknown names after every known one)."""
    return list(BY_NAME).index(name) if name in BY_NAME else len(BY_NAME)


class ApproachError(Exception):
    """An approach cannot be found, registered or run; the message says what to do."""


class NoStandIn(ApproachError):
    """Boto3 cannot build this approach's infrastructure: its CD runs Terraform."""


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


def owned(*, image: bool, settings: bool) -> dict[str, bool]:
    """A ``Claims.terraform_owns`` of a configuration that declares the image or not,
    and the container's infrastructure settings all or none."""
    return {"image": image, **{setting: settings for setting in InfraChange.SETTINGS}}


@dataclass(frozen=True)
class Facts:
    """How an approach's CD works, independent of any run (what is *claimed* of it,
    measured by the scenarios, is its ``Claims``)."""

    cd_runs_terraform: bool = False
    cd_pushes_git: bool = False
    cd_in_subprocess: bool = False  # CD is a command in another process (a described approach)
    ignores: tuple[str, ...] = ()  # Terraform lifecycle ignore_changes the configuration uses
    notes: tuple[str, ...] = field(default=())
    # How its CD returns to known good, in a few words (the rollback matrix's explanations).
    rolls_back: str = ""
    # What a person must do to return to known good when CD did not (a failure CD
    # did not see): the steps in order, as the team's runbook would name them.
    manual_rollback: tuple[str, ...] = ()
    # CD is the deploy tool (ecs-template-deploy): it bakes (--bake, --alarm), reports
    # who rolled back (``last_report``) and releases several services as one (`release`).
    cd_is_deploy_tool: bool = False

    @property
    def cd_calls_server_side(self) -> bool:
        """Are CD's calls seen only by the server (Terraform's Go SDK, another process),
        not by the botocore hooks of the harness's own clients?"""
        return self.cd_runs_terraform or self.cd_in_subprocess


@dataclass(frozen=True)
class StandInDefinition:
    """What an approach's Terraform registers for the service, as its stand-in builds it:
    the family, the app container, further RegisterTaskDefinition fields, and the
    outputs that configuration adds to the shared ones (given the registered ARN)."""

    family: str
    container: dict[str, Any]
    extra: Mapping[str, Any] = field(default_factory=dict)
    outputs: Callable[[str], Mapping[str, Any]] = lambda arn: {}


class Approach(ABC):
    """One approach's Terraform configuration and CD procedure.

    Subclasses set ``name`` (a row of ``TABLE``: ``register`` attaches it as
    ``entry``), ``facts`` and ``claims``, and implement the three CD steps; one whose
    row says boto3 can stand in for its Terraform implements ``stand_in_definition``.
    The constructor takes everything the procedure needs (clients, clock, Terraform
    runner, service names) in one context object built by the scenario; nothing
    is looked up globally.
    """

    name: ClassVar[str]
    entry: ClassVar[Entry]  # set by register: section, title, stand-in...
    facts: ClassVar[Facts]
    claims: ClassVar[Claims]  # what the article (or a description's [expect]) says of it
    # Directory of the Terraform configuration, relative to the approach's package:
    # "terraform" by convention; an approach with two configurations names the other.
    terraform_dir: ClassVar[str] = "terraform"
    # The stand-in options (``harness.worlds.stand_in``: circuit_breaker,
    # load_balanced, strategy...) its configuration takes as Terraform variables of
    # the same name, for the approaches that run on Terraform in every scenario;
    # and, for options it cannot take, why (the rollback matrix's cells say it).
    terraform_options: ClassVar[tuple[str, ...]] = ()
    terraform_cannot: ClassVar[dict[str, str]] = {}

    def __init__(self, context: Any) -> None:
        self.context = context

    @classmethod
    def terraform_config(cls) -> Path:
        """Absolute path of this approach's Terraform configuration."""
        return Path(inspect.getfile(cls)).resolve().parent / cls.terraform_dir

    @classmethod
    def terraform_root(cls) -> Path:
        """The directory copied for a Terraform run, which module sources are relative
        to: the approaches' package (their configurations share ``terraform/base``)."""
        return Path(__file__).resolve().parent

    @classmethod
    def terraform_variables(cls, name: str, **configuration: Any) -> dict[str, Any]:
        """The variables its configuration is applied with, under the world's unique
        ``name``, varied by ``configuration`` (``terraform_options``; see ``variation_problem``)."""
        return {"name": name, **configuration}

    @classmethod
    def variation_problem(cls, configuration: Mapping[str, Any]) -> str | None:
        """Why its configuration cannot be applied with ``configuration``, or None."""
        for option, value in sorted(configuration.items()):
            if option in cls.terraform_cannot:
                return f"{option}={value}: {cls.terraform_cannot[option]}"
            if option not in cls.terraform_options:
                return (f"{option}={value}: its Terraform configuration has no such variable "
                        f"(it varies {', '.join(cls.terraform_options) or 'nothing'})")
        return None

    @classmethod
    def named_outputs(cls, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """Its Terraform outputs under the names the harness reads (``cluster_name``,
        ``service_name``, ``repository_name``, ``container_name``, ``template_family``):
        the approaches' own configurations use those names already."""
        return dict(outputs)

    # --- the boto3 stand-in for its Terraform (harness.worlds.stand_in) ---
    @classmethod
    def stand_in_definition(cls, shared: Any) -> StandInDefinition:
        """The task definition its Terraform registers and the outputs it adds, built
        on ``shared`` (``harness.worlds.stand_in.Shared``: what every configuration's
        shared part created). Only for an approach whose row has ``stand_in``."""
        raise NoStandIn(f"no stand-in for {cls.name!r} (its CD runs Terraform)")

    def supports(self, change: "InfraChange") -> bool:
        """Can this approach make ``change`` through its Terraform? (A described
        approach only where its file maps the setting to a variable.)"""
        return True

    # Whether its CD has a rollback step (a described approach may say "none").
    can_roll_back: ClassVar[bool] = True

    @abstractmethod
    def deploy(self, version: str) -> Any:
        """Deploy application version ``version`` (an image tag in the app's
        repository) the way this approach's CD does; returns a ``base.Step``."""

    @abstractmethod
    def rollback(self) -> Any:
        """Roll back to the last known-good version the way this approach's CD
        does; returns a ``base.Step``."""

    @abstractmethod
    def apply_infra_changes(self, changes: Sequence[InfraChange]) -> float:
        """Apply infrastructure changes where this approach keeps them (through
        Terraform, as the infra team would: changes made together are one commit
        and one `terraform apply`); returns Terraform's wall seconds."""

    def apply_infra_change(self, change: InfraChange) -> float:
        """One infrastructure change (``apply_infra_changes`` of one)."""
        return self.apply_infra_changes([change])


A = TypeVar("A", bound=type[Approach])

_REGISTRY: dict[str, type[Approach]] = {}


def register(cls: A) -> A:
    """Class decorator: make an approach available by its ``name``."""
    name = getattr(cls, "name", None)
    if name not in BY_NAME or BY_NAME[name].described:
        raise ApproachError(f"approach {cls.__name__} has name {name!r}; name it one of {', '.join(BY_NAME)}, "
                            "or give it a row: in TABLE, or approaches.add(Entry(...)) for a package outside harness")
    for attribute in ("facts", "claims"):
        if not hasattr(cls, attribute):
            raise ApproachError(f"approach {name} lacks the class attribute {attribute!r}")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ApproachError(f"approach {name!r} is registered twice: {existing.__module__} and {cls.__module__}")
    cls.entry = BY_NAME[name]
    _REGISTRY[name] = cls
    return cls


def get(name: str) -> type[Approach]:
    """The approach class registered as ``name``; imports its module on first use."""
    row = entry(name)
    if name not in _REGISTRY:
        importlib.import_module(row.module)
    if name not in _REGISTRY:  # a module that does not register its approach: a bug of ours, said plainly
        raise ApproachError(f"module {row.module} does not register approach {name!r}: decorate its class with @register")
    return _REGISTRY[name]


def _unregister(name: str) -> Callable[[], None]:
    """Remove ``name`` from the registry (for tests that register fakes)."""
    cls = _REGISTRY.pop(name, None)
    row = BY_NAME.get(name)
    if row is not None and row.added:
        del BY_NAME[name]

    def restore() -> None:
        if row is not None and row.added:
            BY_NAME[name] = row
        if cls is not None:
            _REGISTRY[name] = cls
        else:
            _REGISTRY.pop(name, None)

    return restore
