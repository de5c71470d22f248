"""A `harness serve` running in another process, seen like the embedded backend.

Clients go to its URL; `.clock` and `.sim` speak to its control endpoint
(`/_harness/`), so `ToolWorld.build(RemoteAws(url))` and a deploy tool in a
third process share one emulated AWS. `serve_process()` starts the server as
a child process and stops it again.

    with serve_process(speed=60) as url:
        aws = RemoteAws(url)
        aws.sim.declare_image("web:crash", crash_after=5)
        aws.clock.sleep(300)            # jump virtual time
"""
from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import urllib.request
from typing import Any, Iterator

import boto3

from harness.backends.embedded import TEST_CREDENTIALS
from harness.processes import stop

READY = re.compile(r"AWS endpoint (?P<url>http://\S+)")


class RemoteAws:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = boto3.Session(**TEST_CREDENTIALS)
        self.clock = _RemoteClock(self)
        self.sim = _RemoteSimulator(self)

    def client(self, name: str) -> Any:
        return self.session.client(name, endpoint_url=self.url)  # type: ignore[call-overload]  # any service by name: the stubs type each by its literal name

    def control(self, action: str, body: dict | None = None) -> dict:
        """GET (no body) or POST one control action; its JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_harness/{action}", data=data, method="GET" if body is None else "POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def reset(self, seed: int = 0) -> None:
        self.control("reset", {"seed": seed})


class _RemoteClock:
    def __init__(self, aws: RemoteAws) -> None:
        self.aws = aws

    def now(self) -> float:
        return float(self.aws.control("state")["now"])

    def sleep(self, seconds: float) -> None:
        self.aws.control("advance", {"seconds": seconds})


class _RemoteSimulator:
    def __init__(self, aws: RemoteAws) -> None:
        self.aws = aws

    def declare_image(self, image: str, **behaviour: Any) -> None:
        self.aws.control("images", {"image": image, "behaviour": behaviour})


@contextlib.contextmanager
def serve_process(*, speed: float = 60.0, seed: int = 0) -> Iterator[str]:
    """`harness serve` on a free port in a child process; yields its URL."""
    process = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--port", "0", "--speed", str(speed),
                                "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout
    assert output is not None  # stdout=PIPE
    try:
        line = output.readline()
        found = READY.search(line)
        if found is None:
            raise RuntimeError(f"harness serve did not start: {line}{output.read() if process.poll() is not None else ''}")
        yield found["url"]
    finally:
        stop(process)
