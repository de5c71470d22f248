"""Stopping a child process the harness started (a long-lived provider, a
`harness serve`, LocalStack): asked to stop first, forced when it does not; and,
on Linux, stopped by the kernel when the process that started it dies."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Callable


def _linux_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):  # pragma: no cover - no libc prctl
        return None


# Resolved here, not in the child: between fork and exec only this one call runs (no import, no
# dlopen lock), which is what makes a preexec_fn safe in a process that has threads (the servers').
_PRCTL = _linux_prctl() if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    assert _PRCTL is not None  # the preexec_fn only where prctl was found
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


# A Popen preexec_fn: the child gets SIGTERM when the process that started it dies (an xdist
# worker killed mid-run leaves no provider or LocalStack behind). None where there is no prctl.
DIES_WITH_PARENT: Callable[[], None] | None = _die_with_parent if _PRCTL is not None else None


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
