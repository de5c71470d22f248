"""A second, stricter SDK against `harness serve`: the AWS SDK for JavaScript v3
(tests/js/conformance.test.mjs) drives the emulator's main flows over HTTP.

Its deserializers are stricter than botocore's (a timestamp sent as an ISO string
where the JSON protocol wants epoch seconds fails there, botocore takes it), so a
shape the Python tests let through fails here, with the call and the field.

Needs `node` (20+) and the SDK: `npm ci --prefix tests/js`. Without them the test
skips with that reason; with HARNESS_REQUIRE_JS_SDK=1 (.ci/run installs them and
sets it) it fails instead.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.server import HarnessServer

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "conformance.test.mjs"
INSTALL = "npm ci --prefix tests/js"
PACKAGES = ("@aws-sdk/client-ecs", "@aws-sdk/client-elastic-load-balancing-v2", "@aws-sdk/client-cloudwatch",
            "@aws-sdk/client-ec2", "@aws-sdk/client-codedeploy", "@smithy/core")  # what package.json names and the script imports
MIN_NODE = 20  # the SDK's own engines field


def _not_runnable() -> str:
    """Why the suite cannot run here ("" when it can), with how to fix it."""
    node = shutil.which("node")
    if node is None:
        return f"no `node` on PATH: install Node.js {MIN_NODE}+ and run `{INSTALL}` to run the JS SDK conformance suite"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < MIN_NODE:
        return f"node {version or '(no version)'} is older than the SDK's {MIN_NODE}: install Node.js {MIN_NODE}+"
    absent = [name for name in PACKAGES if not (HERE / "node_modules" / name / "package.json").is_file()]
    if absent:
        return f"tests/js/node_modules lacks {', '.join(absent)}: run `{INSTALL}` to install the pinned SDK"
    return ""


@pytest.fixture
def js_sdk() -> str:
    """The node binary, once the suite can run; a skip (or, in CI, a failure) with the reason otherwise."""
    reason = _not_runnable()
    if reason:
        if os.environ.get("HARNESS_REQUIRE_JS_SDK") == "1":  # .ci/run installed it, so it must run
            pytest.fail(f"HARNESS_REQUIRE_JS_SDK=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return shutil.which("node")


@pytest.fixture
def server():
    # speed 1: wall time barely moves the virtual clock; the script advances it (POST /_harness/advance)
    with HarnessServer(speed=1.0) as srv:
        yield srv
        srv.check()


def _shown(output: str) -> str:
    """node's output without the test runner's own stack frames (node:internal/...): the
    checks name the call and the field, the frames only the runner."""
    return "\n".join(line for line in output.splitlines() if not re.match(r"\s+at .*\(?node:internal/", line))


def test_the_javascript_sdk_parses_every_answer_of_the_main_flows(js_sdk, server, tmp_path):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_ENDPOINT_URL": server.url,  # http://127.0.0.1:PORT: the server's own loopback Host, no Origin
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),  # none: nothing of this machine's AWS setup is read
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",  # node 20 is supported by the pinned SDK
        "NO_COLOR": "1",
    }
    done = subprocess.run([js_sdk, "--test-reporter=spec", str(SCRIPT)], cwd=HERE, env=env,
                          capture_output=True, text=True, timeout=600)
    output = _shown(done.stdout + ("\n" + done.stderr if done.stderr.strip() else ""))
    counts = {key: int(value) for key, value in re.findall(r"^ℹ (tests|pass|fail|skipped|cancelled|todo) (\d+)$",
                                                           done.stdout, re.MULTILINE)}
    # the script's own summary (every failed check: call, field, got, want, on the wire) first, then all of node's output
    summary = re.search(r"^js-sdk conformance: .*?(?=^[✔✖﹣ℹ▶]|\Z)", done.stdout, re.MULTILINE | re.DOTALL)
    shown = f"{summary.group(0).strip()}\n\n--- node's output ---\n{output}" if summary else output
    if done.returncode != 0:
        pytest.fail(f"the JS SDK conformance suite failed (node exited {done.returncode}; tests {counts}):\n{shown}",
                    pytrace=False)
    if not counts.get("tests") or counts.get("pass") != counts["tests"]:
        pytest.fail(f"the JS SDK conformance suite did not run every test ({counts}):\n{shown}", pytrace=False)
