"""Stopping a child process the harness started (a long-lived provider, a
`harness serve`, LocalStack): asked to stop first, forced when it does not."""
from __future__ import annotations

import os
import signal
import subprocess


def stop(process: subprocess.Popen, timeout: float = 10.0, group: bool = False) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; with ``group``, to the whole process
    group (a process started with ``start_new_session=True`` and whatever it started)."""
    if process.poll() is not None:
        return
    _signal(process, forced=False, group=group)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal(process, forced=True, group=group)
        process.wait()


def _signal(process: subprocess.Popen, forced: bool, group: bool) -> None:
    if group and hasattr(os, "killpg"):
        try:
            os.killpg(process.pid, signal.SIGKILL if forced else signal.SIGTERM)
            return
        except (ProcessLookupError, PermissionError):  # gone already, or not its own group
            pass
    process.kill() if forced else process.terminate()
