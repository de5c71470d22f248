"""What the harness starts (a long-lived provider, LocalStack) does not outlive the
process that started it: an xdist worker killed mid-run leaves nothing running."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys

import pytest

from harness.processes import DIES_WITH_PARENT

# The starter hands the write end of the test's pipe to its child alone and waits for a
# signal; the child waits for one too. The pipe reads EOF exactly when the child is gone.
STARTER = """
import os, signal, subprocess, sys
from harness.processes import DIES_WITH_PARENT
fd = int(sys.argv[1])
child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"], start_new_session=True,
                         preexec_fn=DIES_WITH_PARENT, pass_fds=(fd,))
os.close(fd)
print(child.pid, flush=True)
signal.pause()
"""


def _gone(read_end: int, within: float) -> bool:
    """Did every holder of the pipe's write end (the child) exit within ``within`` seconds?"""
    ready, _, _ = select.select([read_end], [], [], within)
    return bool(ready) and os.read(read_end, 1) == b""


@pytest.mark.skipif(DIES_WITH_PARENT is None, reason="no prctl(PR_SET_PDEATHSIG) here (Linux only)")
def test_a_child_started_in_its_own_session_stops_when_its_starter_is_killed() -> None:
    read_end, write_end = os.pipe()
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(write_end)], stdout=subprocess.PIPE, text=True,
                               pass_fds=(write_end,))
    os.close(write_end)
    child = 0
    try:
        child = int(starter.stdout.readline())
        assert not _gone(read_end, 0), "the child exited before its starter was killed"
        starter.send_signal(signal.SIGKILL)  # no handler, no cleanup: only the kernel can tell the child
        starter.wait()
        assert _gone(read_end, 10), f"pid {child} outlived the process that started it"
    finally:
        os.close(read_end)
        starter.kill()
        starter.wait()
        if child:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
