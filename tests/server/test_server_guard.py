"""Only the emulator's own user drives it, and its answers tell its time.

A web page in a browser can send requests to 127.0.0.1, and a DNS-rebinding page
can make them look same-origin: every route (the AWS API, whose state holds the
task definitions' environment secrets, the control endpoint `/_harness/` and
moto's `/moto-api/`) refuses anything whose Host is not the server's own
address, cross-origin browser requests and absolute-form request targets;
control values are finite and bounded, and bodies have a size limit.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json
import math
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


def request(server: HarnessServer, method: str, path: str, headers: dict | None = None, body: dict | str | None = None):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    payload = (body if isinstance(body, str) else json.dumps(body or {})) if method == "POST" else None
    connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    return response.status, response.getheader("Date"), response.read()


def aws_api(server: HarnessServer, target: str, headers: dict | None = None, method: str = "POST", path: str = "/"):
    """One ECS JSON-protocol call as a page's fetch() would send it."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.request(method, path, body="{}" if method == "POST" else None, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AmazonEC2ContainerServiceV20141113.{target}",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host, "
                         "Signature=0", **(headers or {})})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


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


BROWSER_OR_REBOUND = [
    {"Origin": "http://evil.example"},
    {"Host": "attacker.example:80"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("headers", BROWSER_OR_REBOUND)
@pytest.mark.parametrize("target", ["ListClusters", "CreateCluster"])
def test_the_aws_api_refuses_a_browser_page_or_a_rebound_name_too(server, headers, target):
    ecs = boto3.client("ecs", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    before = ecs.list_clusters()["clusterArns"]
    status, answer_headers, body = aws_api(server, target, headers)
    assert status == 403, body
    assert not any(k.lower().startswith("access-control-") for k in answer_headers), answer_headers
    assert ecs.list_clusters()["clusterArns"] == before  # nothing was created, and its own user is still answered


def test_a_cors_preflight_from_another_origin_is_refused_and_allows_nothing(server):
    status, headers, _ = aws_api(server, "UpdateService", {
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target,content-type"}, method="OPTIONS")
    assert status == 403
    assert not any(k.lower().startswith("access-control-") for k in headers), headers


@pytest.mark.parametrize("path", ["/_harness/reset", "/"])
def test_an_absolute_form_target_cannot_borrow_the_servers_name_over_a_rebound_host(server, path):
    server.sim.declare_image("app:crash", crash_after=5)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.putrequest("POST", f"http://127.0.0.1:{server.port}{path}", skip_host=True)
    connection.putheader("Host", "attacker.example")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", "2")
    connection.endheaders(b"{}")
    response = connection.getresponse()
    assert response.status in (400, 403), response.read()
    assert "app:crash" in declared(server)


@pytest.mark.parametrize("action, body, fragment", [
    ("speed", {"speed": math.inf}, "speed must be a finite number from 0 to 10000, got Infinity"),
    ("speed", {"speed": 1e9}, "speed must be a finite number from 0 to 10000, got 1000000000.0"),
    ("speed", {"speed": math.nan}, "speed must be a finite number"),
    ("speed", {"speed": "fast"}, 'speed must be a finite number from 0 to 10000, got "fast"'),
    ("advance", {"seconds": 1e9}, "seconds must be a finite number from 0 to 604800, got 1000000000.0"),
    ("advance", {"seconds": math.inf}, "seconds must be a finite number"),
    ("advance", {"seconds": math.nan}, "seconds must be a finite number"),
    ("desired", {"service": "web", "count": 1e12}, "count must be a finite number from 0 to 10000"),
    ("desired", {"service": "web", "count": 2.5}, "count must be a whole number, got 2.5"),
    ("load", {"service": "web", "percent": math.nan}, "percent must be a finite number"),
    ("reset", {"seed": "x"}, 'seed must be a whole number, got "x"'),
    ("images", {"image": "app:x", "behaviour": {"crash_after": math.nan}}, "crash_after must be a number of seconds"),
    ("images", {"image": "app:x", "behaviour": {"crash_after": "soon"}}, "crash_after must be a number of seconds"),
    ("images", {"image": "app:x", "behaviour": {"start_seconds": math.inf}}, "start_seconds must be a number"),
    ("images", {"image": "app:x", "behaviour": {"pull_seconds": -100}}, "pull_seconds must be a number"),
    ("images", {"image": "app:x", "behaviour": {"exit_code": 0, "exit_after": 1e308}}, "exit_after must be a number"),
    ("images", {"image": "app:x", "behaviour": {"alarm": "a", "alarm_after": math.nan}}, "alarm_after must be a number"),
    ("images", {"image": "app:x", "behaviour": {"exit_code": 300, "exit_after": 1}}, "exit_code must be a whole number"),
    ("images", {"image": ["list"]}, "image must be an image reference"),
    ("images", {"image": "app:x", "behaviour": ["crash"]}, "an image behaviour is an object of fields"),
    ("hooks", {"hook": "arn:aws:lambda:us-east-1:123456789012:function:h", "answers": {"POST_SCALE_UP": math.nan}},
     "the answer at POST_SCALE_UP is nan"),
])
def test_a_bad_control_value_or_declared_behaviour_is_a_clear_400_that_changes_nothing(server, action, body, fragment):
    # values that would wedge the clock or a declared image; json.dumps sends math.nan/inf as bare NaN/Infinity
    before = server.sim.clock.now()
    status, _, answer = request(server, "POST", f"/_harness/{action}", body=body)
    assert status == 400, answer
    assert fragment in json.loads(answer)["error"]
    assert request(server, "GET", "/_harness/state")[0] == 200  # still answering at once
    assert server.sim.clock.now() - before < 60
    assert "app:x" not in declared(server)
    assert not server.errors


def test_a_body_over_the_limit_gets_413_before_it_is_read(server):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.putrequest("POST", "/")
    connection.putheader("Content-Type", "application/x-amz-json-1.1")
    connection.putheader("Content-Length", str(64 * 1024 * 1024))
    connection.endheaders()  # no body sent: the answer must not wait for 64 MiB
    response = connection.getresponse()
    assert response.status == 413, response.read()
    assert request(server, "POST", "/_harness/advance", body="{" + " " * (65 * 1024) + "}")[0] == 413


def _chunked(server: HarnessServer, path: str, size: int, fill: bytes = b" ") -> tuple[int, bytes]:
    """POST a body of `size` bytes with Transfer-Encoding: chunked (no Content-Length)."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    body = b"{" + fill * max(0, size - 2) + b"}"
    for start in range(0, len(body), 65536):
        chunk = body[start:start + 65536]
        try:
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):  # refused before the rest was read
            break
    else:
        connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    return response.status, response.read()


def test_a_chunked_body_over_the_limit_gets_413_and_one_within_it_is_read(server):
    status, _ = _chunked(server, "/_harness/advance", 1024 * 1024)
    assert status == 413
    status, _ = _chunked(server, "/", 20 * 1024 * 1024)
    assert status == 413
    status, answer = _chunked(server, "/_harness/advance", 16, fill=b" ")
    assert status == 400 and b"advance needs" in answer   # read (within the limit) and answered as a body
    assert request(server, "GET", "/_harness/state")[0] == 200


def test_a_negative_content_length_is_refused(server):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.putrequest("POST", "/_harness/advance")
    connection.putheader("Content-Length", "-1")
    connection.endheaders()
    assert connection.getresponse().status == 400
