"""Only the emulator's own user drives it, and its answers tell its time.

A web page in a browser can send requests to 127.0.0.1, and a DNS-rebinding page
can make them look same-origin: the control endpoint (`/_harness/`) and moto's
(`/moto-api/`) refuse anything whose Host is not the server's own address, and
cross-origin browser requests.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json
import subprocess
import sys

import boto3
import pytest

from harness.clock import DEFAULT_START
from harness.server import HarnessServer


@pytest.fixture
def server():
    with HarnessServer(speed=1.0) as srv:
        yield srv
        srv.check()


def request(server: HarnessServer, method: str, path: str, headers: dict | None = None, body: dict | None = None):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    payload = json.dumps(body or {}) if method == "POST" else None
    connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    return response.status, response.getheader("Date"), response.read()


def declared(server: HarnessServer) -> dict:
    return server.sim.images.declared()


@pytest.mark.parametrize("path", ["/_harness/reset", "/moto-api/reset"])
@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},                  # a page on another site, posting cross-origin
    {"Host": "evil.example:80"},                        # DNS rebinding: the page's own name points here
    {"Origin": "null"},                                 # a sandboxed page or file:// document
    {"Sec-Fetch-Site": "cross-site"},
])
def test_a_browser_page_or_a_rebound_name_cannot_reset_the_emulator(server, path, headers):
    server.sim.declare_image("app:crash", crash_after=5)
    status, _, body = request(server, "POST", path, headers)
    assert status == 403, body
    assert "app:crash" in declared(server)  # nothing was reset


def test_its_own_user_drives_it_as_before(server):
    server.sim.declare_image("app:crash", crash_after=5)
    assert request(server, "GET", "/_harness/state")[0] == 200
    assert request(server, "POST", "/_harness/reset", {"Origin": server.url})[0] == 200
    assert declared(server) == {}


def test_aws_answers_carry_the_virtual_clock_in_their_date_header(server):
    server.sim.clock.sleep(86400)  # one virtual day on
    ecs = boto3.client("ecs", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    header = ecs.list_clusters()["ResponseMetadata"]["HTTPHeaders"]["date"]
    served = email.utils.parsedate_to_datetime(header)
    start = dt.datetime.fromtimestamp(DEFAULT_START + 86400, dt.timezone.utc)
    assert start <= served < start + dt.timedelta(minutes=1)
    assert len(header.split(", ")) == 2  # one Date, not the wall's next to it
    control_date = email.utils.parsedate_to_datetime(request(server, "GET", "/_harness/state")[1])
    assert start <= control_date < start + dt.timedelta(minutes=1)


def test_listening_beyond_loopback_says_that_anyone_can_drive_it():
    process = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--host", "0.0.0.0", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "anyone who can reach port" in lines[1], lines
