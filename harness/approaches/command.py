"""A CD step that is a team's own command: run as a subprocess against the
emulator, on the emulator's virtual clock.

CD scripts wait on the wall clock (`sleep 5`, `aws ecs wait services-stable`,
which sleeps 15 s between polls, a deploy tool's poll interval). Against a
server whose virtual time moves only when someone sleeps (speed 0, as in the
scenarios), waiting on the wall would never see a rollout move; at a high
speed the result would depend on how loaded the machine is. So the command's
waits *are* the clock: in its environment,

- ``sleep`` on ``PATH`` is a shim that advances the emulator's virtual clock by
  its argument (``POST /_harness/advance``) and returns at once;
- Python programs (the AWS CLI v1, ``ecs-template-deploy``, boto3 scripts)
  load a ``sitecustomize`` that makes ``time.sleep`` do the same and
  ``time.time`` read the virtual clock.

A command's times are then decided by its own polling, in simulated seconds,
the same on every machine. A waiter neither shim can see (a compiled binary's
own sleep, ``/bin/sleep`` by its full path) would wait forever at speed 0: the
description's ``speed`` lets virtual time also run at that many seconds per
wall second while the command runs, and the report says so.

The command runs in a copy of the description's directory (the team's files
are never written to), with ``AWS_ENDPOINT_URL``, dummy credentials of its own
(so the server can tell the CD's calls from the harness's looking) and the
region in its environment, nothing of the caller's ``AWS_*``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

# The access key the CD's calls are signed with: the server records only these
# as the CD's (the harness's own looking uses other credentials).
CD_ACCESS_KEY = "HARNESSCDSTEP"
REGION = "us-east-1"
OUTPUT_LINES = 20  # lines of the command's output kept for messages and the report

_SITECUSTOMIZE = '''"""Installed by the ECS harness into a CD command's environment: this process's
clock is the emulator's virtual clock (time.sleep advances it, time.time reads it)."""
import json as _json
import os as _os
import time as _time
import urllib.request as _request

_URL = _os.environ.get("HARNESS_CONTROL_URL")
if _URL:
    _wall = _time.monotonic
    _speed = float(_os.environ.get("HARNESS_CD_SPEED") or 0)

    def _call(path, body=None):
        data = None if body is None else _json.dumps(body).encode()
        req = _request.Request(_URL + path, data=data, method="GET" if body is None else "POST",
                               headers={"Content-Type": "application/json"})
        with _request.urlopen(req, timeout=3600) as answer:
            return float(_json.load(answer)["now"])

    _state = {"now": _call("/state"), "wall": _wall()}

    def _now():
        return _state["now"] + (_wall() - _state["wall"]) * _speed

    def _sleep(seconds):
        seconds = float(seconds)
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        if seconds > 0:
            _state["now"], _state["wall"] = _call("/advance", {"seconds": seconds}), _wall()

    _time.sleep = _sleep
    _time.time = _now
'''

_SLEEP = '''import json, os, sys, urllib.request

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(arg):
    unit = arg[-1] if arg and arg[-1] in UNITS else "s"
    return float(arg[:-1] if arg and arg[-1] in UNITS else arg) * UNITS[unit]


try:
    total = sum(seconds(arg) for arg in sys.argv[1:])
except ValueError:
    sys.exit(f"sleep: invalid time interval {' '.join(sys.argv[1:])!r}")
if not sys.argv[1:]:
    sys.exit("sleep: missing operand")
req = urllib.request.Request(os.environ["HARNESS_CONTROL_URL"] + "/advance", method="POST",
                             data=json.dumps({"seconds": total}).encode(), headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=3600).read()
'''


@dataclass(frozen=True)
class Ran:
    """One run of a CD command."""

    command: str
    exit_code: int | None  # None: killed after the wall-clock limit
    output: str  # the last OUTPUT_LINES lines of stdout and stderr together
    started_at: float  # virtual time
    ended_at: float
    wall_seconds: float

    @property
    def last_line(self) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""


class CommandRunner:
    """Runs a description's commands in a working copy of its directory, on the
    virtual clock of the server at ``endpoint_url``."""

    def __init__(self, source: Path, endpoint_url: str, *, speed: float = 0.0, wall_timeout: float = 600.0,
                 environment: Mapping[str, str] | None = None) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.control_url = f"{self.endpoint_url}/_harness"
        self.speed = speed
        self.wall_timeout = wall_timeout
        self.extra_environment = dict(environment or {})
        self.home = Path(tempfile.mkdtemp(prefix="harness-cd-"))
        self.workdir = self.home / "work"
        shutil.copytree(source, self.workdir, ignore=shutil.ignore_patterns(
            ".terraform", "*.tfstate", "*.tfstate.*", ".git", "__pycache__"))
        self._shims()

    def _shims(self) -> None:
        bin_dir, python_dir = self.home / "bin", self.home / "python"
        bin_dir.mkdir()
        python_dir.mkdir()
        (python_dir / "sitecustomize.py").write_text(_SITECUSTOMIZE)
        sleep = bin_dir / "sleep"
        sleep.write_text(f"#!{sys.executable}\n{_SLEEP}")
        sleep.chmod(0o755)

    def environment(self, values: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
        empty = self.home / "aws-config"
        empty.touch()
        # Programs installed beside this interpreter (ecs-template-deploy, aws) are found first.
        path = [str(self.home / "bin"), str(Path(sys.executable).parent), env.get("PATH", os.defpath)]
        env.update({
            "AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": CD_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": "harness", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "", "AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty),
            "HARNESS_CONTROL_URL": self.control_url, "HARNESS_CD_SPEED": str(self.speed),
            "PYTHONPATH": str(self.home / "python"), "PATH": os.pathsep.join(path),
        })
        env.update(self.extra_environment)
        env.update({f"HARNESS_{k.upper()}": v for k, v in values.items()})
        return env

    def now(self) -> float:
        return self._control("GET", "state")["now"]

    def run(self, command: str, values: Mapping[str, str]) -> Ran:
        """Run ``command`` (placeholders already filled in) with ``values`` also in its
        environment as ``HARNESS_<NAME>``; the server's speed is ``speed`` while it runs."""
        started, wall = self.now(), time.perf_counter()
        if self.speed:
            self._control("POST", "speed", {"speed": self.speed})
        try:
            done = subprocess.run(["/bin/sh", "-c", command], cwd=self.workdir, env=self.environment(values),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=self.wall_timeout)
            code, output = done.returncode, done.stdout
        except subprocess.TimeoutExpired as err:
            code = None
            output = (err.stdout or b"").decode("utf-8", "replace") if isinstance(err.stdout, bytes) else (err.stdout or "")
            output += (f"\n[harness] killed after {self.wall_timeout:g} wall seconds: if the command waits in a way "
                       "the harness's sleep shims cannot see, set [cd] speed")
        finally:
            if self.speed:
                self._control("POST", "speed", {"speed": 0})
        tail = "\n".join(output.splitlines()[-OUTPUT_LINES:])
        return Ran(command, code, tail, started, self.now(), time.perf_counter() - wall)

    def _control(self, method: str, action: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.control_url}/{action}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=3600) as answer:
            return json.load(answer)

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
