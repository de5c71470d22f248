"""One long-lived AWS provider process that Terraform commands attach to.

Every Terraform command starts the AWS provider two or three times, and each
start builds the provider's whole schema. The provider has a debug mode
(``terraform-provider-aws -debug``) that starts it once and prints a
``TF_REATTACH_PROVIDERS`` value; Terraform given that value talks to the
running process instead of starting its own (and, the process being marked
``Test``, leaves it running). `bench/terraform.py` measures what it saves.

    server = ProviderServer(binary, "registry.terraform.io/hashicorp/aws", env, log=home / "provider.log")
    env["TF_REATTACH_PROVIDERS"] = server.reattach_value()   # starts it on first use
    ...
    server.close()

Commands through one process run one at a time (``lock``): the provider keeps
one configuration, which each command's ConfigureProvider replaces.

Environment the process gets: the runner's (no ``AWS_*``: an ``AWS_CA_BUNDLE``
there breaks the second command through one process, "unable to add custom
RootCAs HTTPClient"), with the provider's own logging turned down to warnings:
in debug mode it logs at trace level, megabytes a command and measurable CPU.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

from harness.processes import DIES_WITH_PARENT, stop

START_TIMEOUT = 60.0  # wall seconds for the provider to print its reattach line
QUIET = {"TF_LOG": "WARN", "TF_LOG_PROVIDER": "WARN", "TF_LOG_PROVIDER_AWS": "WARN", "TF_LOG_SDK": "WARN"}
_REATTACH_LINE = re.compile(r"TF_REATTACH_PROVIDERS='(\{.*\})'")


class ReattachError(Exception):
    """The provider could not be started in debug mode; the message says why (the caller falls back)."""


def installed_aws_provider(directory: Path) -> tuple[str, Path] | None:
    """The AWS provider `terraform init` installed for the working directory
    ``directory``: its source address (``registry.terraform.io/hashicorp/aws``, or
    registry.opentofu.org/... for tofu) and its binary, symlinks resolved. None if none."""
    # .terraform/providers/<host>/hashicorp/aws/<version>/<os_arch>/terraform-provider-aws_v..., the
    # <os_arch> directory a symlink into the plugin cache (a non-recursive glob follows it, rglob does not)
    found = sorted((Path(directory) / ".terraform" / "providers").glob("*/hashicorp/aws/*/*/terraform-provider-aws*"))
    if not found:
        return None
    binary = found[-1]
    host = binary.parents[4].name
    return f"{host}/hashicorp/aws", binary.resolve()


class ProviderServer:
    """One provider process in debug mode, started on first use, restarted if it died."""

    def __init__(self, binary: Path, address: str, env: Mapping[str, str], log: Path,
                 start_timeout: float = START_TIMEOUT) -> None:
        self.binary = Path(binary)
        self.address = address
        self.env = {**env, **QUIET}
        self.log = Path(log)
        self.start_timeout = start_timeout
        self.lock = threading.Lock()
        self.starts = 0  # how many times it was started (more than 1: it died and came back)
        self._process: subprocess.Popen[str] | None = None
        self._value: str | None = None

    def reattach_value(self) -> str:
        """``TF_REATTACH_PROVIDERS`` for a running process (started or restarted here)."""
        if self._process is None or self._process.poll() is not None:
            self._start()
        assert self._value is not None
        return self._value

    def _start(self) -> None:
        self.close()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "a", encoding="utf-8")
        try:
            process = subprocess.Popen(
                [str(self.binary), "-debug"], stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                env=self.env, text=True, preexec_fn=DIES_WITH_PARENT,  # noqa: PLW1509  (the provider stops when this worker dies)
            )
        finally:
            log.close()
        value = self._read_reattach_line(process)
        if value is None:
            try:  # its output ended: it exited, or is about to
                exited: int | None = process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                exited = None
                process.kill()
                process.wait()
            when = f"and exited {exited}" if exited is not None else f"within {self.start_timeout:.0f} s"
            raise ReattachError(f"{self.binary.name} -debug printed no TF_REATTACH_PROVIDERS line {when} (see {self.log})")
        # The line names the process under the provider's own host; Terraform looks it up by the
        # address it installed it under (OpenTofu: registry.opentofu.org/...).
        config = next(iter(json.loads(value).values()))
        self._value = json.dumps({self.address: config})
        self._process = process
        self.starts += 1
        # Keep reading what it prints, so a full pipe never blocks it.
        threading.Thread(target=_drain, args=(process,), daemon=True, name="provider-stdout").start()

    def _read_reattach_line(self, process: subprocess.Popen[str]) -> str | None:
        assert process.stdout is not None
        found: list[str] = []

        def read() -> None:
            for line in process.stdout:  # type: ignore[union-attr]
                match = _REATTACH_LINE.search(line)
                if match:
                    found.append(match.group(1))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        return found[0] if found else None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the running process so far (0 where /proc cannot tell)."""
        return _proc_stat(self.pid)[0]

    def rss_bytes(self) -> int:
        """Resident memory of the running process (0 where /proc cannot tell)."""
        return _proc_stat(self.pid)[1]

    def close(self) -> None:
        process, self._process, self._value = self._process, None, None
        if process is not None:
            stop(process)


def _drain(process: subprocess.Popen[str]) -> None:
    for _ in process.stdout:  # type: ignore[union-attr]
        pass


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _proc_stat(pid: int | None) -> tuple[float, int]:
    if pid is None:
        return 0.0, 0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0
    # after the command name: state is field 3, utime 14, stime 15, rss 24 (1-based, proc(5))
    return (int(fields[11]) + int(fields[12])) / _TICKS, int(fields[21]) * _PAGE

