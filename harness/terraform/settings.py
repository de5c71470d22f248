"""Which Terraform binary, which provider source, which plugin cache: read from
the environment once, so the runner and the pytest plugin agree.

    HARNESS_TERRAFORM           binary name or path (default: terraform, else tofu)
    HARNESS_TF_PROVIDER_MIRROR  a filesystem mirror root (holds registry.terraform.io/...)
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


@dataclass(frozen=True)
class TerraformSettings:
    binary: str | None  # absolute path, or None when nothing was found
    requested: str  # what the user asked for (for error messages)
    mirror: Path | None
    plugin_cache: Path
    user_cli_config: Path | None  # the user's TF_CLI_CONFIG_FILE, if it exists
    command_log: Path | None = None  # JSON lines, one per command run
    reattach: str = ""  # HARNESS_TF_REATTACH as given: "1", "0" or "" (the default for the binary)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TerraformSettings:
        env = os.environ if environ is None else environ
        requested = env.get("HARNESS_TERRAFORM", "")
        if requested:
            binary = shutil.which(requested, path=env.get("PATH"))
        else:
            binary = shutil.which("terraform", path=env.get("PATH")) or shutil.which("tofu", path=env.get("PATH"))
        mirror = Path(env["HARNESS_TF_PROVIDER_MIRROR"]).expanduser() if env.get("HARNESS_TF_PROVIDER_MIRROR") else None
        cache = env.get("HARNESS_TF_PLUGIN_CACHE") or env.get("TF_PLUGIN_CACHE_DIR")
        user_config = Path(env["TF_CLI_CONFIG_FILE"]).expanduser() if env.get("TF_CLI_CONFIG_FILE") else None
        return cls(
            binary=binary,
            requested=requested or "terraform or tofu",
            mirror=mirror,
            plugin_cache=Path(cache).expanduser() if cache else default_plugin_cache(env),
            user_cli_config=user_config if user_config and user_config.is_file() else None,
            command_log=Path(env["HARNESS_TF_COMMAND_LOG"]).expanduser() if env.get("HARNESS_TF_COMMAND_LOG") else None,
            reattach=env.get("HARNESS_TF_REATTACH", "").strip(),
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
