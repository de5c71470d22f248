"""Which Terraform binary, which provider source, which plugin cache: read from
the environment once, so the runner and the pytest plugin agree.

    HARNESS_TERRAFORM           binary name or path (default: terraform, else tofu)
    HARNESS_TF_PROVIDER_MIRROR  a filesystem mirror root (holds registry.terraform.io/...); unset,
                                as Terraform itself would: a CLI configuration's own
                                provider_installation is left to Terraform, else the first of
                                the implied local mirrors and the plugin caches holding
                                hashicorp/aws (``find_provider``), else the registry
    HARNESS_TF_PLUGIN_CACHE     shared plugin cache (default: the user's TF_PLUGIN_CACHE_DIR,
                                else <user cache>/ecs-template-deploy/terraform-plugins)
    TF_CLI_CONFIG_FILE          the user's own CLI config, used when no mirror is set
    HARNESS_TF_COMMAND_LOG      append one JSON line per Terraform command run (command,
                                configuration, wall and CPU seconds): bench/compare.py reads it
    HARNESS_TF_REATTACH         1 (default with terraform): commands attach to one long-lived AWS
                                provider process (harness.terraform.reattach); 0: each command
                                starts its own, as plain Terraform does. Default 0 with tofu (untested)
"""
from __future__ import annotations

import os
import platform
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENABLE_HINT = (
    "install terraform (or tofu) on PATH or set HARNESS_TERRAFORM to its path; "
    "offline, also set HARNESS_TF_PROVIDER_MIRROR to a provider mirror directory"
)


def default_plugin_cache(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ecs-template-deploy" / "terraform-plugins"


def provider_platform() -> str:
    """This machine as Terraform names it in a mirror: linux_amd64, darwin_arm64, ..."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def holds_aws_provider(root: Path, where: str | None = None) -> bool:
    """Does ``root``, laid out as a filesystem mirror (or a plugin cache: the same unpacked
    layout), hold hashicorp/aws for this platform, unpacked or as a release zip?"""
    where = where or provider_platform()
    return any(root.glob(f"*/hashicorp/aws/*/{where}/terraform-provider-aws*")) or \
        any(root.glob(f"*/hashicorp/aws/terraform-provider-aws_*_{where}.zip"))


_CACHE_DIR = re.compile(r"^\s*plugin_cache_dir\s*=\s*\"([^\"]+)\"", re.M)


def _cli_config(environ: Mapping[str, str]) -> tuple[Path, str]:
    """The CLI configuration Terraform reads (``TF_CLI_CONFIG_FILE``, else ``~/.terraformrc``) and its text."""
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    named = environ.get("TF_CLI_CONFIG_FILE")
    config = Path(named).expanduser() if named else home / ".terraformrc"
    return config, config.read_text(errors="replace") if config.is_file() else ""


def provider_places(environ: Mapping[str, str]) -> list[tuple[str, Path]]:
    """Where Terraform would find the AWS provider without the network, in its order, each
    with how it was found: the implied local mirror directories (Terraform's CLI configuration
    docs, "Implied Local Mirror Directories"), then the plugin caches, whose layout is a mirror's."""
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    places: list[tuple[str, Path]] = []
    config, text = _cli_config(environ)  # (its own provider_installation, if any, is left to Terraform: from_env)
    data_home = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    data_dirs = [Path(d) for d in (environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":") if d]
    places += [("an implied local mirror", d) for d in
               (home / ".terraform.d" / "plugins", data_home / "terraform" / "plugins",
                *(d / "terraform" / "plugins" for d in data_dirs))]
    caches = [("TF_PLUGIN_CACHE_DIR", environ.get("TF_PLUGIN_CACHE_DIR"))]
    caches += [(f"the plugin_cache_dir of {config}", c) for c in _CACHE_DIR.findall(text)]
    caches += [("HARNESS_TF_PLUGIN_CACHE", environ.get("HARNESS_TF_PLUGIN_CACHE")),
               ("the harness's plugin cache", str(default_plugin_cache(environ)))]
    places += [(how, Path(c).expanduser()) for how, c in caches if c]
    return places


def find_provider(environ: Mapping[str, str]) -> tuple[Path | None, str]:
    """The first place of ``provider_places`` that holds the AWS provider for this platform,
    and a line saying what was looked at (for the messages when nothing was found)."""
    tried = []
    for how, path in provider_places(environ):
        if holds_aws_provider(path):
            # A plugin cache filled from a mirror holds links into it: use the mirror they
            # name, never the cache itself (Terraform would install the cache's entry onto itself).
            for entry in path.glob(f"*/hashicorp/aws/*/{provider_platform()}"):
                if entry.is_symlink() and holds_aws_provider(entry.resolve().parents[4]):
                    mirror = entry.resolve().parents[4]
                    return mirror, f"{mirror} (linked from {how} {path})"
            return path, f"{path} ({how})"
        tried.append(f"{path} ({how})")
    return None, "looked in " + "; ".join(dict.fromkeys(tried))


@dataclass(frozen=True)
class TerraformSettings:
    binary: str | None  # absolute path, or None when nothing was found
    requested: str  # what the user asked for (for error messages)
    mirror: Path | None
    plugin_cache: Path
    user_cli_config: Path | None  # the user's TF_CLI_CONFIG_FILE, if it exists
    command_log: Path | None = None  # JSON lines, one per command run
    reattach: str = ""  # HARNESS_TF_REATTACH as given: "1", "0" or "" (the default for the binary)
    # Where the AWS provider comes from, in words: HARNESS_TF_PROVIDER_MIRROR, the place
    # find_provider found it, or what it looked at before leaving it to the registry.
    provider_source: str = ""
    looked_in: str = ""  # the places discovery looked at, in words, when none held the provider

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, discover: bool | None = None) -> TerraformSettings:
        """``discover``: look for the provider where Terraform would when no mirror is named
        (default: only when reading this process's own environment, so tests stay hermetic)."""
        env = os.environ if environ is None else environ
        discover = environ is None if discover is None else discover
        requested = env.get("HARNESS_TERRAFORM", "")
        if requested:
            binary = shutil.which(requested, path=env.get("PATH"))
        else:
            binary = shutil.which("terraform", path=env.get("PATH")) or shutil.which("tofu", path=env.get("PATH"))
        mirror = Path(env["HARNESS_TF_PROVIDER_MIRROR"]).expanduser() if env.get("HARNESS_TF_PROVIDER_MIRROR") else None
        source = f"HARNESS_TF_PROVIDER_MIRROR={mirror}" if mirror is not None else "the registry"
        cache = env.get("HARNESS_TF_PLUGIN_CACHE") or env.get("TF_PLUGIN_CACHE_DIR")
        plugin_cache = Path(cache).expanduser() if cache else default_plugin_cache(env)
        looked_in = ""
        config, text = _cli_config(env)
        if mirror is None and discover and re.search(r"^\s*provider_installation\s*\{", text, re.M):
            # Your own installation methods: Terraform then looks nowhere else (no implied mirrors), nor do we
            source = f"the provider_installation of {config}"
        elif mirror is None and discover:
            mirror, said = find_provider(env)
            looked_in = "" if mirror is not None else said
            source = said if mirror is not None else f"the registry (no local provider: {said})"
            if mirror is not None and mirror.resolve() == plugin_cache.resolve():
                plugin_cache = plugin_cache.with_name(plugin_cache.name + "-installed")  # never install onto itself
        user_config = Path(env["TF_CLI_CONFIG_FILE"]).expanduser() if env.get("TF_CLI_CONFIG_FILE") else None
        return cls(
            binary=binary,
            requested=requested or "terraform or tofu",
            mirror=mirror,
            plugin_cache=plugin_cache,
            user_cli_config=user_config if user_config and user_config.is_file() else None,
            command_log=Path(env["HARNESS_TF_COMMAND_LOG"]).expanduser() if env.get("HARNESS_TF_COMMAND_LOG") else None,
            reattach=env.get("HARNESS_TF_REATTACH", "").strip(),
            provider_source=source,
            looked_in=looked_in,
        )

    def reattach_problem(self) -> str | None:
        """Why commands start their own provider instead of attaching to a long-lived one, or None."""
        if self.reattach == "0":
            return "HARNESS_TF_REATTACH=0"
        if self.reattach == "" and self.binary is not None and Path(self.binary).name.startswith("tofu"):
            return "OpenTofu: not tried by default, HARNESS_TF_REATTACH=1 tries it"
        return None

    def problem(self) -> str | None:
        """Why Terraform cannot run here (one line that says how to fix it), or None."""
        if self.binary is None:
            return f"no Terraform binary ({self.requested} not found on PATH): {ENABLE_HINT}"
        if self.mirror is not None and not any(self.mirror.glob("*/hashicorp/aws")):
            return (
                f"HARNESS_TF_PROVIDER_MIRROR={self.mirror} holds no hashicorp/aws provider: point it at the "
                "directory that holds registry.terraform.io/ (or registry.opentofu.org/ for tofu)"
            )
        return None
