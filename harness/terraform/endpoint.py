"""An AWS endpoint for Terraform to talk to: `harness serve` (moto plus the ECS
simulator) when it is available, else moto's threaded server, both in this
process, on a free port, with the moto compatibility patches installed."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from harness import moto_compat


@contextlib.contextmanager
def serve(host: str = "127.0.0.1") -> Iterator[str]:
    """Start a server on a free port; yield its base URL; stop it."""
    moto_compat.install()
    try:
        from harness.server import HarnessServer
    except ImportError:
        HarnessServer = None  # the simulator's server has not landed: plain moto
    if HarnessServer is not None:
        with HarnessServer(host=host, port=0) as server:
            yield server.url.rstrip("/")
        return
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    try:
        address = server.get_host_and_port()
        yield f"http://{address[0]}:{address[1]}"
    finally:
        server.stop()
