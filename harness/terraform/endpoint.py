"""An AWS endpoint for Terraform to talk to: `harness serve` (moto plus the ECS
simulator, with the moto compatibility patches) in this process, on a free port."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def serve(host: str = "127.0.0.1") -> Iterator[str]:
    """Start a server on a free port; yield its base URL; stop it."""
    from harness.server import HarnessServer

    with HarnessServer(host=host, port=0) as server:
        yield server.url.rstrip("/")
