"""What the harness starts (a long-lived provider, LocalStack) does not outlive the
process that started it: an xdist worker killed mid-run leaves nothing running."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from harness.processes import DIES_WITH_PARENT

STARTER = """
import subprocess, sys, time
from harness.processes import DIES_WITH_PARENT
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True,
                         preexec_fn=DIES_WITH_PARENT)
print(child.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie is gone, waiting for init to reap it
    except FileNotFoundError:
        return False


@pytest.mark.skipif(DIES_WITH_PARENT is None, reason="no prctl(PR_SET_PDEATHSIG) here (Linux only)")
def test_a_child_started_in_its_own_session_stops_when_its_starter_is_killed() -> None:
    starter = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True)
    child = 0
    try:
        child = int(starter.stdout.readline())
        assert _alive(child)
        starter.send_signal(signal.SIGKILL)  # no handler, no cleanup: only the kernel can tell the child
        starter.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)  # the kernel's signal, not the simulator: nothing virtual to advance
        assert not _alive(child), f"pid {child} outlived the process that started it"
    finally:
        starter.kill()
        starter.wait()
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
