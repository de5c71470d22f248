"""Run real Terraform (or OpenTofu) against an emulated AWS endpoint.

    tf = Terraform(TerraformSettings.from_env(), home=tmp_path / "tf")
    ws = tf.workspace(APPROACHES / "template" / "terraform", endpoint=server.url,
                      variables={"name": "run1"}, root=APPROACHES)
    ws.init(); ws.apply()
    result = ws.plan()            # PlanResult: exit_code (0/2) and .summary
    assert result.summary.is_empty
    ws.destroy()

A workspace is a copy of the configuration (and of `root`, so relative module
sources resolve) in a directory of its own; the repository is never written
to. The provider is linked from the shared plugin cache, never copied.
`init` runs once per configuration per runner: a later workspace of the same
configuration gets a copy of what that init wrote (see ``Workspace.init``).
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, overload

from .plan import PlanSummary
from .provider import cli_config, write_override
from .reattach import ProviderServer, ReattachError, installed_aws_provider
from .settings import TerraformSettings

# A configuration that reads another one's state declares it in this file:
# {"config": "<path relative to it>", "state_variable": "<its variable for the state file's path>"}
REQUIRES_FILE = "harness-requires.json"


@dataclass(frozen=True)
class Requirement:
    config: Path  # the configuration to apply first
    state_variable: str  # the variable that takes that configuration's state file path


def requirement(config: Path) -> Requirement | None:
    """What ``config`` needs applied before it (its ``harness-requires.json``), or None."""
    path = Path(config) / REQUIRES_FILE
    if not path.is_file():
        return None
    declared = json.loads(path.read_text())
    return Requirement((Path(config) / declared["config"]).resolve(), str(declared["state_variable"]))


try:  # POSIX: serialise `init` across processes sharing one plugin cache; CPU times
    import fcntl
    import resource
except ImportError:  # pragma: no cover - Windows: no cross-process lock
    fcntl = None  # type: ignore[assignment]
    resource = None  # type: ignore[assignment]


class TerraformError(Exception):
    """A Terraform command failed; the message is one line, `output` the rest."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class PlanResult:
    """A plan's exit code (`-detailed-exitcode`: 0 no changes, 2 changes) and
    file. ``summary``, the plan as data, is read with `terraform show -json`
    on first use: that is one more provider start (~2 s), which a caller that
    only needs the exit code does not pay."""

    def __init__(self, exit_code: int, summary: PlanSummary | Callable[[], PlanSummary], plan_file: Path) -> None:
        self.exit_code = exit_code
        self.plan_file = plan_file
        self._summary = summary

    @functools.cached_property
    def summary(self) -> PlanSummary:
        return self._summary if isinstance(self._summary, PlanSummary) else self._summary()

    @property
    def has_changes(self) -> bool:
        return self.exit_code == 2


@dataclass
class Timings:
    """Wall seconds per Terraform command, in the order they ran, and the CPU
    seconds (user + system) of Terraform and its provider processes: on a
    loaded machine the wall time grows, the CPU time much less. (CPU is read
    from this process's finished children: exact when no other child process
    of this process ends at the same time.)"""

    runs: list[tuple[str, float]] = field(default_factory=list)
    cpu: list[tuple[str, float]] = field(default_factory=list)

    def last(self, command: str) -> float:
        return next(seconds for name, seconds in reversed(self.runs) if name == command)

    def last_cpu(self, command: str) -> float:
        return next(seconds for name, seconds in reversed(self.cpu) if name == command)


def _children_cpu() -> float:
    if resource is None:  # pragma: no cover - Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


GOGC = "400"  # unless the user set GOGC

_IGNORED_WHEN_COPYING = shutil.ignore_patterns(
    ".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", "*.tfplan", "__pycache__", "*_override.tf*"
)


class Terraform:
    """One Terraform installation and its settings; makes workspaces."""

    def __init__(self, settings: TerraformSettings, home: Path, timeout: float = 600.0) -> None:
        problem = settings.problem()
        if problem:
            raise TerraformError(problem)
        self.settings = settings
        self.home = Path(home)
        self.timeout = timeout
        self.home.mkdir(parents=True, exist_ok=True)
        settings.plugin_cache.mkdir(parents=True, exist_ok=True)
        self._cli_config = self._write_cli_config()
        self._counter = 0
        # One long-lived provider process per provider binary, which every command attaches to
        # (harness.terraform.reattach); None with the reason when commands start their own.
        self.reattach_problem: str | None = settings.reattach_problem()
        self._providers: dict[Path, ProviderServer] = {}
        self._version: str | None = None
        # (configuration, root), resolved -> the working directory of its first successful
        # `init`, whose result later workspaces of that configuration copy (Workspace.init)
        self._initialised: dict[tuple[Path, Path], Path] = {}

    def provider_mode(self) -> str:
        """How commands get their AWS provider, in one line for reports and benchmarks."""
        if self.reattach_problem is None:
            return "one long-lived provider process per worker, attached to with TF_REATTACH_PROVIDERS"
        return f"a provider start per command ({self.reattach_problem})"

    def provider_server(self, directory: Path) -> ProviderServer | None:
        """The long-lived provider for the working directory ``directory`` (initialised),
        started on first use; None when commands start their own: reattach is off, `init`
        installed no AWS provider there, or it could not be started (then off for good, with the reason)."""
        if self.reattach_problem is not None:
            return None
        installed = installed_aws_provider(directory)
        if installed is None:
            return None
        address, binary = installed
        server = self._providers.get(binary)
        if server is None:
            server = self._providers[binary] = ProviderServer(binary, address, self.env(),
                                                              log=self.home / f"provider-{len(self._providers)}.log")
        try:
            server.reattach_value()
        except (ReattachError, OSError) as err:
            self.reattach_problem = f"reattach failed, so off: {err}"
            warnings.warn(f"harness.terraform: {self.reattach_problem}; each command starts its own provider", stacklevel=2)
            return None
        return server

    def provider_rss_bytes(self) -> int:
        """Resident memory of the long-lived provider processes now (0 without any)."""
        return sum(server.rss_bytes() for server in self._providers.values())

    def close(self) -> None:
        """Stop the long-lived provider processes (the runner can still be used: they start again)."""
        for server in self._providers.values():
            server.close()

    def _write_cli_config(self) -> Path | None:
        text = cli_config(self.settings)
        if text is None:
            return None
        path = self.home / "terraform.tfrc"
        path.write_text(text)
        return path

    @property
    def binary(self) -> str:
        assert self.settings.binary is not None
        return self.settings.binary

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_VAR_", "TF_CLI_ARGS"))}
        env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1", AWS_EC2_METADATA_DISABLED="true")
        if self._cli_config is not None:
            env["TF_CLI_CONFIG_FILE"] = str(self._cli_config)
        elif self.settings.user_cli_config is not None:
            env["TF_CLI_CONFIG_FILE"] = str(self.settings.user_cli_config)
        else:
            env.pop("TF_CLI_CONFIG_FILE", None)  # named but absent: Terraform would only warn
        env["TF_PLUGIN_CACHE_DIR"] = str(self.settings.plugin_cache)  # one cache for every working directory
        # Without this, each `init` of a working directory with no lock file re-installs the provider
        # into the shared cache (removes and recreates its entry), and a command that another xdist
        # worker runs at that moment fails: "Required plugins are not installed". The cache is filled
        # from the same mirror or registry, so using it as it is breaks nothing here.
        env["TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE"] = "true"
        # Every command starts the AWS provider two or three times, and each start builds its whole schema:
        # garbage collection is a quarter of that CPU. Collecting at 4x the live heap instead of 2x costs a
        # few hundred MB per short-lived process and saves ~25% of Terraform's CPU (bench/terraform.py).
        env.setdefault("GOGC", GOGC)
        return env

    def version(self) -> str:
        if self._version is None:  # asked once per scenario world: run `terraform version` once
            out = subprocess.run([self.binary, "version", "-json"], capture_output=True, text=True, env=self.env(), timeout=60)
            try:
                self._version = str(json.loads(out.stdout)["terraform_version"])
            except (ValueError, KeyError):
                self._version = out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"
        return self._version

    def workspaces_for(self, config: Path, endpoint: str | None, variables: Mapping[str, object],
                       root: Path | None = None, name: str = "app", tags: Mapping[str, str] | None = None,
                       shared: Mapping[str, object] | None = None) -> list["Workspace"]:
        """Initialised workspaces for ``config``: if it reads another configuration's
        state (its ``harness-requires.json``: 4b's service reads the central
        infrastructure), that one first, applied under the same ``name`` (with the
        ``shared`` variables: region, network), its state file passed in;
        ``config``'s own workspace last, not applied. ``endpoint`` and ``tags``: as
        ``workspace`` takes them, for both."""
        values = dict(variables)
        out = []
        needed = requirement(config)
        if needed is not None:
            infra = self.workspace(needed.config, endpoint, {"name": name, **(shared or {})}, root=root,
                                   name=f"{name}-infra", tags=tags)
            infra.init()
            infra.apply()
            values.setdefault(needed.state_variable, str(infra.directory / "terraform.tfstate"))
            out.append(infra)
        workspace = self.workspace(config, endpoint, values, root=root, name=name, tags=tags)
        workspace.init()
        return [*out, workspace]

    def workspace(
        self,
        config: Path,
        endpoint: str | None,
        variables: Mapping[str, object] | None = None,
        root: Path | None = None,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Workspace:
        """Copy `root` (default: `config` itself) into a fresh directory and
        point the copy of `config` at `endpoint` (None: real AWS, with the
        credentials of this process's environment); `tags` go on every resource
        (the provider's default_tags)."""
        config = Path(config).resolve()
        root = Path(root).resolve() if root is not None else config
        if not config.is_dir():
            raise TerraformError(f"no Terraform configuration at {config}: pass a directory holding *.tf files")
        if root != config and root not in config.parents:
            raise TerraformError(f"{config} is not inside {root}: pass the directory its module sources are relative to")
        self._counter += 1
        base = self.home / (name or f"ws{self._counter}")
        if base.exists():
            raise TerraformError(f"workspace {base} exists already: pick another name")
        shutil.copytree(root, base, ignore=_IGNORED_WHEN_COPYING)
        directory = base / config.relative_to(root)
        write_override(directory, endpoint, tags)
        return Workspace(self, directory, dict(variables or {}),
                         config_name=str(config.relative_to(root)) if config != root else config.name,
                         real_aws=endpoint is None, source=(config, root))


class Workspace:
    """One working directory: its own state, sharing the plugin cache."""

    def __init__(self, terraform: Terraform, directory: Path, variables: dict[str, object],
                 config_name: str | None = None, real_aws: bool = False,
                 source: tuple[Path, Path] | None = None) -> None:
        self.terraform = terraform
        # (configuration, root) it was copied from: workspaces of the same pair can share one init's result
        self.source = source
        # Real AWS: the provider finds credentials as anywhere (AWS_PROFILE, keys, SSO), so the
        # commands keep this process's AWS_* variables, which the runner strips for emulators.
        self.real_aws = real_aws
        self.directory = directory
        self.variables = variables
        self.timings = Timings()
        self.applied = False
        self.config_name = config_name or directory.name
        self._plans = 0
        # `-target` addresses for apply, plan and destroy: only part of the configuration (a backend
        # that serves some of its services, e.g. LocalStack without a licence); empty: all of it
        self.targets: tuple[str, ...] = ()
        # Called with "apply", "plan" or "destroy" as such a command starts (the commands that
        # talk to AWS): a simulated world passes Terraform's start-up on its virtual clock
        self.before_command: Callable[[str], None] | None = None


    # -- commands ---------------------------------------------------------

    def init(self, reuse: bool = True) -> None:
        """`terraform init`, once per configuration: with ``reuse``, a workspace of a configuration
        (and root) this runner has initialised before gets a copy of what that init wrote instead
        (see ``_copy_init``); ``reuse=False`` always runs it."""
        if reuse and self._copy_init():
            return
        # Without the long-lived provider: `init` must install the provider (and write the
        # lock file) as it would anywhere, so the directory also works without it.
        with self._cache_lock():
            self._run("init", ["init", "-input=false", "-no-color"], attach=False)
        if self.source is not None and _init_wrote_only_what_copies(self.directory):
            self.terraform._initialised.setdefault(self.source, self.directory)

    def _copy_init(self) -> bool:
        """What `init` would write here again, copied from this configuration's first initialised
        workspace: the lock file and ``.terraform`` (the provider's link into the shared cache, and
        modules.json, whose module paths are relative to the working directory, which every copy of
        the same root shares). Init reads only the configuration, which is the same copy, and the
        mirror and cache, which do not change during a run; each copy saves a Terraform start
        (~1 s, most of it waiting for the cache lock other workers hold). False: nothing to copy."""
        done = self.terraform._initialised.get(self.source) if self.source is not None else None
        if done is None or done == self.directory or not _init_wrote_only_what_copies(done):
            return False
        started = time.perf_counter()
        shutil.copy2(done / LOCK_FILE, self.directory / LOCK_FILE)
        shutil.copytree(done / ".terraform", self.directory / ".terraform", symlinks=True)
        wall = time.perf_counter() - started
        self.timings.runs.append(("init", wall))
        self.timings.cpu.append(("init", 0.0))  # no Terraform process ran
        self._log("init (copied)", wall, 0.0)
        return True

    def apply(self, **variables: object) -> None:
        self._run("apply", ["apply", "-auto-approve", "-input=false", "-no-color", *self._target_args(),
                            *self._var_args(variables)])
        self.applied = True

    def plan(self, **variables: object) -> PlanResult:
        self._plans += 1  # a file per plan: a result read later must not show a newer plan
        plan_file = self.directory / f"harness-{self._plans}.tfplan"
        code = self._run(
            "plan",
            ["plan", "-detailed-exitcode", "-input=false", "-no-color", f"-out={plan_file.name}", *self._target_args(),
             *self._var_args(variables)],
            ok=(0, 2),
        )
        return PlanResult(code, functools.partial(self.show, plan_file), plan_file)

    def show(self, plan_file: Path) -> PlanSummary:
        out = self._run("show", ["show", "-json", "-no-color", str(plan_file)], capture=True)
        return PlanSummary.from_json(json.loads(out))

    def destroy(self, **variables: object) -> None:
        self._run("destroy", ["destroy", "-auto-approve", "-input=false", "-no-color", *self._target_args(),
                              *self._var_args(variables)])
        self.applied = False

    def outputs(self) -> dict[str, object]:
        out = self._run("output", ["output", "-json", "-no-color"], capture=True)
        return {name: value["value"] for name, value in json.loads(out).items()}

    def state(self) -> dict:
        """`terraform show -json` of the current state."""
        return json.loads(self._run("show", ["show", "-json", "-no-color"], capture=True))

    # -- facts ------------------------------------------------------------

    def provider_bytes(self) -> int:
        """Bytes of real files under .terraform (symlinks not followed): what
        this working directory costs on disk beyond the shared cache."""
        total = 0
        for dirpath, _dirs, files in os.walk(self.directory / ".terraform"):
            for name in files:
                path = Path(dirpath, name)
                if not path.is_symlink():
                    total += path.stat().st_size
        return total

    # -- plumbing ---------------------------------------------------------

    def _target_args(self) -> list[str]:
        return [f"-target={address}" for address in self.targets]

    def _var_args(self, extra: Mapping[str, object]) -> list[str]:
        merged = {**self.variables, **extra}
        return [f"-var={key}={_var_value(value)}" for key, value in merged.items()]

    @contextlib.contextmanager
    def _cache_lock(self) -> Iterator[None]:
        # Terraform's plugin cache is not safe for concurrent installs (pytest-xdist).
        if fcntl is None:
            yield
            return
        lock_path = self.terraform.settings.plugin_cache / ".harness.lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _log(self, label: str, wall: float, cpu: float) -> None:
        path = self.terraform.settings.command_log
        if path is None:
            return
        record = {"command": label, "config": self.config_name, "wall": round(wall, 3), "cpu": round(cpu, 3),
                  "during": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]}  # which test, under pytest
        try:  # a measurement aid: never the reason a Terraform command fails
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:  # one short write per line: safe across xdist workers
                out.write(json.dumps(record) + "\n")
        except OSError as err:
            warnings.warn(f"HARNESS_TF_COMMAND_LOG={path}: cannot write ({err}); the command ran", stacklevel=2)

    @overload
    def _run(self, label: str, args: list[str], ok: tuple[int, ...] = ..., *, capture: Literal[True],
             attach: bool = ...) -> str: ...
    @overload
    def _run(self, label: str, args: list[str], ok: tuple[int, ...] = ..., capture: Literal[False] = ...,
             attach: bool = ...) -> int: ...
    def _run(self, label: str, args: list[str], ok: tuple[int, ...] = (0,), capture: bool = False,
             attach: bool = True) -> str | int:
        """Its output if `capture`, else its exit code."""
        if self.before_command is not None and label in ("apply", "plan", "destroy"):
            self.before_command(label)
        env = self.terraform.env()
        if self.real_aws:
            env.pop("AWS_EC2_METADATA_DISABLED", None)  # an instance profile is credentials too (unless you said no)
            env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
            attach = False  # the long-lived provider was started without them: each command starts its own
        provider = self.terraform.provider_server(self.directory) if attach else None
        with provider.lock if provider is not None else contextlib.nullcontext():
            if provider is not None:
                env["TF_REATTACH_PROVIDERS"] = provider.reattach_value()
            return self._run_command(label, args, env, ok, capture, provider)

    def _run_command(self, label: str, args: list[str], env: dict[str, str], ok: tuple[int, ...], capture: bool,
                     provider: ProviderServer | None) -> str | int:
        # CPU: Terraform's own (this process's finished children) and, attached, what the provider spent meanwhile
        provider_cpu = provider.cpu_seconds() if provider is not None else 0.0
        started, cpu_started = time.perf_counter(), _children_cpu()
        try:
            proc = subprocess.run(
                [self.terraform.binary, *args],
                cwd=self.directory,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.terraform.timeout,
            )
        except subprocess.TimeoutExpired as err:
            raise TerraformError(
                f"terraform {label} in {self.directory} took over {self.terraform.timeout:.0f}s: "
                "an emulator gap the provider keeps retrying? see the output",
                str(err.stdout or "") + str(err.stderr or ""),
            ) from err
        finally:
            wall, cpu = time.perf_counter() - started, _children_cpu() - cpu_started
            if provider is not None:
                cpu += max(0.0, provider.cpu_seconds() - provider_cpu)
            self.timings.runs.append((label, wall))
            self.timings.cpu.append((label, cpu))
            self._log(label, wall, cpu)
        if proc.returncode not in ok:
            raise TerraformError(
                f"terraform {label} failed (exit {proc.returncode}) in {self.directory}: {_first_error(proc.stderr or proc.stdout)}",
                proc.stdout + proc.stderr,
            )
        return proc.stdout if capture else proc.returncode


LOCK_FILE = ".terraform.lock.hcl"
# What `init` writes under .terraform for a configuration with local state: the providers it
# installed (links into the plugin cache) and the modules it found (their list, and any it
# downloaded). Anything else (a backend's state, a workspace name) is not copied: such a
# configuration always runs init.
_COPYABLE_INIT = frozenset({"providers", "modules"})


def _init_wrote_only_what_copies(directory: Path) -> bool:
    dot = directory / ".terraform"
    return (directory / LOCK_FILE).is_file() and dot.is_dir() and {p.name for p in dot.iterdir()} <= _COPYABLE_INIT


def _var_value(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers, bools, lists and maps in HCL-compatible JSON


def errors_by_resource(output: str) -> list[str]:
    """Each ``Error:`` of Terraform's output with the resource it names
    (``aws_lb.app: Error: creating ELBv2 ...``), for reports per resource."""
    lines = [line.strip(" │╷╵") for line in output.splitlines()]
    lines = [line for line in lines if line]
    found = []
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            resource = next((following.removeprefix("with ").rstrip(",") for following in lines[index + 1:index + 6]
                             if following.startswith("with ")), "")
            found.append(f"{resource}: {line}" if resource else line)
    return found


def _first_error(output: str) -> str:
    lines = [line.strip(" │╷╵") for line in output.splitlines()]
    lines = [line for line in lines if line]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            detail = lines[index + 1] if index + 1 < len(lines) and not lines[index + 1].startswith("with ") else ""
            return f"{line} {detail}".strip()
    return lines[-1] if lines else "no output"
