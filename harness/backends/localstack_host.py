"""LocalStack without Docker: the ``localstack-core`` runtime in host mode, as a
child process on a free port (what the tests use to check the LocalStack backend
against the real thing).

It needs a Python that has ``localstack-core[runtime]`` installed: in 2026.3.0
that is Python 3.13 only, with ``cbor2<6``, ``pyopenssl==25.3.0``,
``cryptography==46.0.7`` and ``service-identity`` pinned beside it
(``localstack-requirements.txt``; ``.ci/run`` makes one and names it in
``HARNESS_LOCALSTACK_PYTHON``). It serves IAM, EC2, STS, Secrets Manager, CloudWatch Logs and more
without a token, and answers ECS, ECR, Application Auto Scaling and ELBv2 with
HTTP 501. ``GATEWAY_SERVER=hypercorn``: the default server ignores a 127.0.0.1
listen address.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from harness.processes import DIES_WITH_PARENT, stop

PYTHON_ENV = "HARNESS_LOCALSTACK_PYTHON"
REQUIREMENTS = Path(__file__).with_name("localstack-requirements.txt")  # the pins, said once (.ci/run reads it too)
INSTALL = f"python3.13 -m venv VENV && VENV/bin/pip install -r {REQUIREMENTS}"


class HostLocalStackError(Exception):
    """No Python with localstack-core, or LocalStack did not come up; the message says what to do."""


def localstack_python() -> str:
    """The Python that runs localstack-core: ``$HARNESS_LOCALSTACK_PYTHON``, checked."""
    python = os.environ.get(PYTHON_ENV, "").strip()
    if not python:
        raise HostLocalStackError(f"{PYTHON_ENV} is not set: point it at a Python 3.13 with localstack-core "
                                  f"installed ({INSTALL}; .ci/run makes one)")
    found = shutil.which(python) or (python if Path(python).is_file() else None)
    if found is None:
        raise HostLocalStackError(f"{PYTHON_ENV}={python}: no such program")
    check = subprocess.run([found, "-c", "import localstack.runtime.main, rolo"], capture_output=True, text=True)
    if check.returncode != 0:
        raise HostLocalStackError(f"{PYTHON_ENV}={python} cannot import localstack-core's runtime "
                                  f"({(check.stderr.strip().splitlines() or ['?'])[-1]}): {INSTALL}")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HostLocalStack:
    """``with HostLocalStack() as url:`` LocalStack on 127.0.0.1, stopped (and its
    files removed) on exit; ``log`` holds its output."""

    def __init__(self, python: str | None = None, port: int | None = None, startup_timeout: float = 90.0) -> None:
        self.python = python or localstack_python()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self._home = Path(tempfile.mkdtemp(prefix="harness-localstack-"))
        self.log = self._home / "localstack.log"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        try:
            return self._start()
        except BaseException:  # Ctrl-C or a timeout while it starts: never leave it running
            self.close()
            raise

    def _start(self) -> str:
        listen = f"127.0.0.1:{self.port}"
        env = {**os.environ, "GATEWAY_LISTEN": listen, "LOCALSTACK_HOST": listen, "GATEWAY_SERVER": "hypercorn",
               "DNS_ADDRESS": "0", "SKIP_SSL_CERT_DOWNLOAD": "1", "DISABLE_EVENTS": "1",
               "FILESYSTEM_ROOT": str(self._home / "fs"), "TMPDIR": str(self._home)}
        for name in ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE"):  # this process's settings, not LocalStack's
            env.pop(name, None)
        with open(self.log, "wb") as log:
            # its own process group, so that close() stops whatever it starts too
            self._process = subprocess.Popen([self.python, "-m", "localstack.runtime.main"], cwd=self._home,
                                             env=env, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True, preexec_fn=DIES_WITH_PARENT)  # noqa: PLW1509
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise HostLocalStackError(f"localstack-core exited with {self._process.returncode} while starting: "
                                          f"{self._tail()}")
            try:
                with urllib.request.urlopen(self.url + "/_localstack/health", timeout=2):
                    return self.url
            except OSError:
                time.sleep(0.2)  # wall time: a real process is starting (no simulator here)
        raise HostLocalStackError(f"localstack-core did not answer on {self.url} within {self.startup_timeout:.0f} s: "
                                  f"{self._tail()}")

    def _tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no output"
        return " | ".join(lines[-3:]) or "no output"

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop(process, timeout=15, group=True)  # its group, start_new_session's: LocalStack and its children
        shutil.rmtree(self._home, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self.close()
