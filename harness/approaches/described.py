"""Bring your own approach: a team's Terraform configuration and CD step,
described in a file, replayed by the same scenarios as the article's six.

The file is ``harness.toml`` (or the ``[tool.ecs-harness]`` table of a
``pyproject.toml``); ``docs/own-approach.md`` is its reference. In short::

    [approach]
    name = "article-script"            # id in node ids and the report
    title = "the article's aws CLI + jq script"
    container = "app"                  # the container CD puts the image in

    [terraform]
    config = "terraform"               # relative to this file
    variables = { name = "{name}" }    # {name}: a name unique to the run

    [terraform.outputs]                # where the names come from
    cluster = "cluster_name"
    service = "service_name"
    repository = "repository_name"
    template = "template_family"       # optional: {template} in commands

    [terraform.changes]                # optional: setting -> the variable an infrastructure change edits
    environment = "extra_environment"

    [cd]
    deploy = "./deploy.sh {image}"     # placeholders: {image} {tag} {cluster} {service} {template} ...
    rollback = "none"                  # or a command

    [expect]                           # optional: what the scenarios assert of it
    plan_clean_after_deploy = true

``load(path)`` checks everything it can before anything runs (keys, types,
placeholders, that the configuration declares the outputs and variables named)
and raises ``DescriptionError`` naming the file, the key and what to write.
``install(description)`` adds the approach's row after the table's and
registers its class: ``Described``, whose CD steps run the commands through
``harness.approaches.command`` on the emulator's virtual clock.
"""
from __future__ import annotations

import re
import shlex
import string
import tomllib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from ecs_template_deploy.views import Service

from harness.approaches import Approach, ApproachError, Claims, Entry, Facts, InfraChange, add
from harness.approaches.base import Context, Step, apply_through_terraform, container_image
from harness.approaches.command import REGION, CommandRunner, Ran
from harness.approaches.failures import MODES

if TYPE_CHECKING:  # the stubs are for mypy only
    from mypy_boto3_ecs.type_defs import ServiceTypeDef

PYPROJECT_TABLE = ("tool", "ecs-harness")
NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
# The {template} placeholder and [terraform.outputs] key: the file format's word for a
# template family (the name it shares with approach 5 is the pattern's, not a branch on it).
TEMPLATE = "template"
OUTPUTS = {"cluster": True, "service": True, "repository": True, TEMPLATE: False}  # key -> required
# Placeholders a command may use (filled in shell-quoted) and which exist only when deploying.
PLACEHOLDERS = ("image", "tag", "cluster", "service", TEMPLATE, "repository", "repository_url", "container", "region")
DEPLOY_ONLY = ("image", "tag")
# [expect] key -> (what it must be, the scenario that asserts it)
EXPECT = {
    "plan_clean_after_deploy": ("true or false", "drift after a deploy"),
    "version_readable": ("true or false", "explicit version"),
    "moving_tag": ("true or false", "auto scaling consistency"),
    "infra_change_reaches": ('"immediately", "next deploy" or "never"', "infrastructure change"),
    "terraform_owns": ('a list of settings among "cpu", "memory", "environment", "secrets"', "configuration in Terraform"),
    "rollback": ("a table: failure mode -> true (recovers without a person) or false", "rollback matrix"),
}
REACHES = ("immediately", "next deploy", "never")


class DescriptionError(ApproachError):
    """A description file cannot be used; the message names the file, the key and what to write."""


@dataclass(frozen=True)
class Description:
    """A team's approach, as its file describes it (paths resolved)."""

    source: Path  # the file
    name: str
    title: str
    container: str
    config: Path  # the Terraform configuration
    root: Path  # what is copied for a Terraform run (module sources are relative to it)
    variables: Mapping[str, Any]
    outputs: Mapping[str, str]  # our key (cluster, service, repository, template) -> Terraform output name
    changes: Mapping[str, str]  # InfraChange setting -> Terraform variable
    deploy: str
    rollback: str | None  # None: the CD has no rollback step
    speed: float  # virtual seconds per wall second while a command runs, beside its own sleeps
    timeout: float  # wall seconds a command may take
    environment: Mapping[str, str]
    manual_rollback: tuple[str, ...]
    expect: Mapping[str, Any] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        """The description's directory: the commands' working copy is made from it."""
        return self.source.parent


# --- reading the file ---------------------------------------------------------

class _Reader:
    """Reads one table of the file, each problem said with its key."""

    def __init__(self, source: Path, table: Mapping[str, Any], where: str) -> None:
        self.source, self.table, self.where = source, table, where

    def fail(self, key: str, problem: str, write: str) -> DescriptionError:
        return DescriptionError(f"{self.source}: [{self.where}] {key}: {problem}; write {write}")

    def string(self, key: str, write: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "missing", write)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"{value!r} is not a non-empty string", write)
        return value

    def number(self, key: str, default: float, write: str) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(key, f"{value!r} is not a number >= 0", write)
        return float(value)

    def mapping(self, key: str, write: str) -> Mapping[str, Any]:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"{value!r} is not a table", write)
        return value

    def unknown(self, known: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in known:
                raise self.fail(key, "unknown key", f"one of {', '.join(known)}")


def _document(path: Path) -> Mapping[str, Any]:
    try:
        parsed = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DescriptionError(f"{path}: no such file; pass the path of a harness.toml or pyproject.toml") from None
    except tomllib.TOMLDecodeError as err:
        raise DescriptionError(f"{path}: not valid TOML ({err}); fix the file") from None
    if path.name == "pyproject.toml":
        table: Any = parsed
        for key in PYPROJECT_TABLE:
            table = table.get(key) if isinstance(table, dict) else None
        if not isinstance(table, dict):
            raise DescriptionError(f"{path}: no [tool.ecs-harness] table; describe the approach there "
                                   "(the same tables as harness.toml, under tool.ecs-harness)")
        return table
    return parsed


def _declared(config: Path, kind: str) -> set[str]:
    """Names of the ``output``/``variable`` blocks in the configuration's own *.tf files."""
    pattern = re.compile(rf'^\s*{kind}\s+"([^"]+)"', re.MULTILINE)
    return {name for tf in config.glob("*.tf") for name in pattern.findall(tf.read_text(encoding="utf-8"))}


def _placeholders(reader: _Reader, key: str, command: str, allowed: tuple[str, ...]) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(command) if name is not None}
    except ValueError as err:
        raise reader.fail(key, f"cannot read its placeholders ({err})", "{name} placeholders and {{ for a literal {") from None
    for name in sorted(names):
        if name not in allowed:
            raise reader.fail(key, f"unknown placeholder {{{name}}}", f"one of {', '.join('{' + p + '}' for p in allowed)}")


def load(path: str | Path) -> Description:
    """The description in ``path``, checked; ``DescriptionError`` says what to fix."""
    source = Path(path).resolve()
    if source.is_dir():
        source = source / "harness.toml"
    document = _document(source)
    top = _Reader(source, document, "file")
    top.unknown(("approach", "terraform", "cd", "expect"))
    approach = _Reader(source, top.mapping("approach", "an [approach] table with name and title"), "approach")
    approach.unknown(("name", "title", "container"))
    name = approach.string("name", 'name = "my-service" (lowercase letters, digits and dashes)')
    if not NAME.match(name):
        raise approach.fail("name", f"{name!r} is not 3-40 lowercase letters, digits and dashes", 'name = "my-service"')
    from harness.approaches import TABLE

    if name in {row.name for row in TABLE}:
        raise approach.fail("name", f"{name!r} is a built-in approach's name", 'a name of your own, e.g. name = "our-cd"')
    title = approach.string("title", 'title = "what the approach is, in a few words"')
    container = approach.string("container", 'container = "app" (the container CD puts the image in)', default="app")

    tf = _Reader(source, top.mapping("terraform", 'a [terraform] table with config = "DIR"'), "terraform")
    tf.unknown(("config", "root", "variables", "outputs", "changes"))
    config = (source.parent / tf.string("config", 'config = "terraform" (the directory, relative to this file)')).resolve()
    if not config.is_dir() or not list(config.glob("*.tf")):
        raise tf.fail("config", f"{config} is not a directory holding *.tf files", "the configuration's directory")
    root = (source.parent / tf.string("root", "", default=str(config))).resolve()
    if root != config and root not in config.parents:
        raise tf.fail("root", f"{root} does not contain the configuration {config}",
                      "the directory its module sources are relative to (it must contain config)")
    variables = dict(tf.mapping("variables", 'variables = { name = "{name}" }'))
    declared_variables = _declared(config, "variable")
    for variable in variables:
        if variable not in declared_variables:
            raise tf.fail(f"variables.{variable}", f"the configuration declares no variable {variable!r}",
                          f"one of {', '.join(sorted(declared_variables)) or '(none declared)'}")
    outputs_table = _Reader(source, tf.mapping("outputs", "an [terraform.outputs] table"), "terraform.outputs")
    outputs_table.unknown(tuple(OUTPUTS))
    declared_outputs = _declared(config, "output")
    outputs: dict[str, str] = {}
    for key, required in OUTPUTS.items():
        if key not in outputs_table.table and not required:
            continue
        output = outputs_table.string(key, f'{key} = "OUTPUT" (the Terraform output that holds the {key} name)')
        if output not in declared_outputs:
            raise outputs_table.fail(key, f"the configuration has no output {output!r}",
                                     f"one of {', '.join(sorted(declared_outputs)) or '(none: add output blocks)'}")
        outputs[key] = output
    changes_table = _Reader(source, tf.mapping("changes", 'a [terraform.changes] table: environment = "VARIABLE"'),
                            "terraform.changes")
    changes_table.unknown(InfraChange.SETTINGS)
    changes = {}
    for setting in changes_table.table:
        variable = changes_table.string(setting, f'{setting} = "VARIABLE" (the variable that sets it)')
        if variable not in declared_variables:
            raise changes_table.fail(setting, f"the configuration declares no variable {variable!r}",
                                     f"one of {', '.join(sorted(declared_variables)) or '(none declared)'}")
        changes[setting] = variable

    cd = _Reader(source, top.mapping("cd", 'a [cd] table with deploy = "COMMAND"'), "cd")
    cd.unknown(("deploy", "rollback", "speed", "timeout", "environment", "manual_rollback"))
    allowed = tuple(p for p in PLACEHOLDERS if p != TEMPLATE or TEMPLATE in outputs)
    deploy = cd.string("deploy", 'deploy = "./deploy.sh {image}" (the command that deploys one image)')
    _placeholders(cd, "deploy", deploy, allowed)
    rollback_text = cd.string("rollback", 'rollback = "none" or the command that rolls back')
    rollback = None if rollback_text.strip().lower() == "none" else rollback_text
    if rollback is not None:
        _placeholders(cd, "rollback", rollback, tuple(p for p in allowed if p not in DEPLOY_ONLY))
    environment = cd.mapping("environment", 'environment = { NAME = "value" }')
    if not all(isinstance(v, str) for v in environment.values()):
        raise cd.fail("environment", "every value must be a string", 'environment = { POLL = "5" }')
    manual = cd.table.get("manual_rollback", [])
    if not isinstance(manual, list) or not all(isinstance(step, str) for step in manual):
        raise cd.fail("manual_rollback", f"{manual!r} is not a list of strings",
                      'manual_rollback = ["what a person does to get back to the last good version"]')
    if not manual:
        manual = [f"run `{rollback}`" if rollback else "deploy the last good version with the deploy step"]

    expect = _expectations(_Reader(source, top.mapping("expect", "an [expect] table"), "expect"))
    return Description(source=source, name=name, title=title, container=container, config=config, root=root,
                       variables=variables, outputs=outputs, changes=changes, deploy=deploy, rollback=rollback,
                       speed=cd.number("speed", 0.0, "speed = 0 (only the command's sleeps move time) or N"),
                       timeout=cd.number("timeout", 600.0, "timeout = 600 (wall seconds a command may take)") or 600.0,
                       environment=dict(environment), manual_rollback=tuple(manual), expect=expect)


def _expectations(reader: _Reader) -> dict[str, Any]:
    reader.unknown(tuple(EXPECT))
    out: dict[str, Any] = {}
    for key, value in reader.table.items():
        what = EXPECT[key][0]
        if key in ("plan_clean_after_deploy", "version_readable", "moving_tag"):
            ok = isinstance(value, bool)
        elif key == "infra_change_reaches":
            ok = value in REACHES
        elif key == "terraform_owns":
            ok = isinstance(value, list) and all(v in InfraChange.SETTINGS for v in value)
            value = {setting: setting in value for setting in InfraChange.SETTINGS} if ok else value
        else:  # rollback
            modes = {mode.key for mode in MODES}
            ok = isinstance(value, dict) and all(k in modes and isinstance(v, bool) for k, v in value.items())
            if isinstance(value, dict) and not ok:
                unknown = sorted(set(value) - modes)
                if unknown:
                    raise reader.fail(f"rollback.{unknown[0]}", "not a failure mode",
                                      f"one of {', '.join(mode.key for mode in MODES)}")
        if not ok:
            raise reader.fail(key, f"{value!r} is not {what}", what)
        out[key] = value
    return out


# --- the approach -------------------------------------------------------------

class CdState(Enum):
    """How a command's CD step ended, as the harness observed it."""

    SUCCEEDED = "succeeded"
    FAILED = "cd-failed"  # the command exited non-zero
    TIMED_OUT = "cd-timed-out"  # killed after its wall-clock limit
    RELEASE_NOT_RUNNING = "cd-exited-0-release-not-running"  # CD said success; the service runs something else
    NOT_STEADY = "cd-exited-0-not-steady"  # CD said success before the rollout had finished
    NO_ROLLBACK_STEP = "no-rollback-step"


@dataclass(frozen=True)
class CommandOutcome:
    """A command step's outcome, in the shape scenarios read from the watcher's."""

    state: CdState
    decided_at: float  # virtual time the command exited: its own polling decided when
    ran: Ran | None
    message: str

    @property
    def succeeded(self) -> bool:
        return self.state is CdState.SUCCEEDED


class Described(Approach):
    """An approach from a description file: Terraform from its configuration,
    CD from its commands. Subclassed per description by ``install``."""

    description: ClassVar[Description]

    @classmethod
    def terraform_config(cls) -> Path:
        """The description's ``[terraform] config``, resolved against the file's folder."""
        return cls.description.config

    @classmethod
    def terraform_root(cls) -> Path:
        """The description's ``[terraform] root`` (default: the config): what a run copies,
        so module sources relative to it resolve as in the team's own repository."""
        return cls.description.root

    @classmethod
    def terraform_variables(cls, name: str, **configuration: Any) -> dict[str, Any]:
        # no terraform_options: a team's configuration is not varied (configuration is empty)
        return {key: value.replace("{name}", name) if isinstance(value, str) else value
                for key, value in cls.description.variables.items()}

    @classmethod
    def named_outputs(cls, outputs: Mapping[str, Any]) -> dict[str, Any]:
        d = cls.description
        named = {f"{key}_name" if key != TEMPLATE else "template_family": outputs[output]
                 for key, output in d.outputs.items()}
        return {**outputs, **named, "container_name": d.container}

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        if context.endpoint_url is None:
            raise ApproachError(f"{self.name}: its CD commands run in another process and need the emulator's "
                                "endpoint: run it on harness serve (the scenarios do)")
        d = self.description
        self.ecs = context.client("ecs")
        self.runner = CommandRunner(d.directory, context.endpoint_url, speed=d.speed, wall_timeout=d.timeout,
                                    environment=d.environment)
        repository = str(context.output("repository_name"))
        self.names = {"cluster": context.cluster, "service": context.service, "repository": repository,
                      "repository_url": self._repository_url(context, repository), "container": context.container,
                      "region": REGION}
        if "template_family" in context.outputs:
            self.names[TEMPLATE] = str(context.outputs["template_family"])
        self.runs: list[Ran] = []

    @staticmethod
    def _repository_url(context: Context, repository: str) -> str:
        found = context.client("ecr").describe_repositories(repositoryNames=[repository])["repositories"]
        return found[0]["repositoryUri"]

    def supports(self, change: InfraChange) -> bool:
        return change.setting in self.description.changes

    def deploy(self, version: str) -> Step:
        values = {**self.names, "tag": version, "image": f"{self.names['repository_url']}:{version}"}
        return self._step(self._run(self.description.deploy, values), release=version)

    def rollback(self) -> Step:
        if self.description.rollback is None:
            now = self.runner.now()
            outcome = CommandOutcome(CdState.NO_ROLLBACK_STEP, now, None, "the approach's CD has no rollback step")
            running = self._service()["taskDefinition"]
            return Step(running, self._image(running), outcome)
        # The rollback step is told how the deploy step ended (HARNESS_DEPLOY_EXIT), as a
        # pipeline's step outputs would: a deploy tool that already rolled back itself
        # (ecs-template-deploy's exit 1) must not be rolled back a second time.
        last = self.runs[-1].exit_code if self.runs else None
        values = {**self.names, "deploy_exit": "" if last is None else str(last)}
        return self._step(self._run(self.description.rollback, values), release=None)

    def apply_infra_changes(self, changes: Sequence[InfraChange]) -> float:
        for change in changes:
            if change.setting not in self.description.changes:
                raise ApproachError(f"{self.name}: {self.description.source} maps no Terraform variable to "
                                    f"{change.setting}; add it under [terraform.changes]")
        return apply_through_terraform(self.context, changes, variables=self.description.changes)

    # --- running and judging a step ---
    def _run(self, command: str, values: Mapping[str, str]) -> Ran:
        filled = command.format_map({key: shlex.quote(value) for key, value in values.items()})
        ran = self.runner.run(filled, values)
        self.runs.append(ran)
        return ran

    def _service(self) -> ServiceTypeDef:
        c = self.context
        return self.ecs.describe_services(cluster=c.cluster, services=[c.service])["services"][0]

    def _image(self, task_definition: str) -> str:
        return container_image(self.ecs, task_definition, self.context.container)

    def _runs_release(self, image: str, release: str) -> bool:
        reference = image.rsplit("/", 1)[-1]
        if "@" in reference:
            digest = reference.split("@", 1)[1]
            found = self.context.client("ecr").describe_images(
                repositoryName=self.names["repository"], imageIds=[{"imageTag": release}])["imageDetails"]
            return bool(found) and found[0]["imageDigest"] == digest
        return reference.rsplit(":", 1)[-1] == release

    def _step(self, ran: Ran, release: str | None) -> Step:
        service = self._service()
        task_definition = service["taskDefinition"]
        image = self._image(task_definition)
        steady = Service(service).is_steady
        said = f"`{ran.command}`"
        if ran.exit_code is None:
            state, message = CdState.TIMED_OUT, f"{said} did not finish: {ran.last_line}"
        elif ran.exit_code != 0:
            state, message = CdState.FAILED, f"{said} exited {ran.exit_code}: {ran.last_line or '(no output)'}"
        elif release is not None and not self._runs_release(image, release):
            state = CdState.RELEASE_NOT_RUNNING
            message = f"{said} exited 0, yet the service runs {image.rsplit('/', 1)[-1]}, not {release}"
        elif not steady:
            state, message = CdState.NOT_STEADY, f"{said} exited 0 before the rollout had finished"
        else:
            state, message = CdState.SUCCEEDED, f"{said} exited 0"
        return Step(task_definition, image, CommandOutcome(state, ran.ended_at, ran, message))


def report_parameters(description: Description) -> dict[str, Any]:
    """What the report says about a described approach: where it came from, its
    commands, and that their own polling decided its times."""
    d = description
    try:
        source = str(d.source.relative_to(Path.cwd()))
    except ValueError:
        source = d.source.name
    clock = ("the command's sleeps advance the virtual clock (speed 0): its own polling decides its times, "
             "in simulated seconds" if not d.speed else
             f"virtual time also ran at {d.speed:g}x wall time while a command ran: its times depend on the machine's load")
    return {"file": source, "deploy": d.deploy, "rollback": d.rollback or "none", "clock": clock}


def facts(description: Description) -> Facts:
    d = description
    return Facts(
        cd_in_subprocess=True,
        rolls_back=f"its rollback step `{d.rollback}`" if d.rollback else "no rollback step of its own",
        manual_rollback=d.manual_rollback,
    )


def install(description: Description) -> Entry:
    """Add ``description``'s approach after the table's, its class registered."""
    # A class made at run time (its metaclass, ABCMeta, called as type() is): mypy types no such call as a subclass
    cls = type(Described)(f"Described_{description.name.replace('-', '_')}", (Described,),  # type: ignore[misc]
               {"description": description, "facts": facts(description),
                "claims": Claims.from_expect(description.expect),  # the team's own: measured, judged where it expects
                "can_roll_back": description.rollback is not None, "__module__": __name__})
    row = Entry(description.name, "own", description.title, __name__, stand_in=False, cost=-1, described=True)
    return add(row, cls)
