"""``-p tests.backends.posing_localstack``: ``--backend localstack`` against
harness serve posing as a LocalStack that serves ECS (a licensed one), in the
pytest process it is loaded into.

A licensed LocalStack and a Docker engine are not on this machine; what the
harness does with one is checked here whole except for those two: its own
endpoints (``/_localstack/info``, ``/_localstack/health``) answer as a licensed
LocalStack's do, every service probe goes to the server for real, and, as in
``--aws-dry-run`` (``harness.backends.posing``), the clock is the server's and
the images are declared to its simulator instead of built."""
from __future__ import annotations

import io
import json
import os
from typing import Any, Callable

from werkzeug.wrappers import Response

from harness.backends.localstack import SCENARIO_SERVICES
from harness.backends.posing import PosingAws
from harness.server import HarnessServer

IMAGES_ENV = "POSING_LOCALSTACK_IMAGES"
REFUSE_ENV = "POSING_LOCALSTACK_REFUSE"  # an IAM or EC2 action (DeleteRole) to answer as AWS refusing it
INFO = {"version": "2026.3.0", "edition": "pro", "is_license_activated": True}


class LicensedLocalStack(HarnessServer):
    """The server, answering LocalStack's own endpoints as a licensed LocalStack does."""

    def _app(self, environ: dict, start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        refused = os.environ.get(REFUSE_ENV)
        if refused and environ.get("REQUEST_METHOD") == "POST":  # a query-protocol call (IAM, EC2) AWS refuses
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            if f"Action={refused}&".encode() in body + b"&":
                error = (f"<ErrorResponse><Error><Type>Sender</Type><Code>DeleteConflict</Code><Message>posing: "
                         f"{refused} refused</Message></Error><RequestId>1</RequestId></ErrorResponse>")
                return Response(error, 409, content_type="text/xml")(environ, start_response)
        if path == "/_localstack/info":
            body: dict[str, Any] = INFO
        elif path == "/_localstack/health":
            body = {"services": {name: "available" for name in SCENARIO_SERVICES}}
        else:
            return super()._app(environ, start_response)
        return Response(json.dumps(body), 200, content_type="application/json")(environ, start_response)


def pytest_configure(config: Any) -> None:
    from harness.plugin.state import aws_dry_run_key, real_aws_parts_key  # here: the plugin is registered by now

    posing = PosingAws(LicensedLocalStack(speed=0.0)).start()  # AWS_ENDPOINT_URL: where localstack-client looks first
    config.stash[aws_dry_run_key] = posing  # each scenario then says what it created and what its teardown left
    if os.environ.get(IMAGES_ENV) != "docker":  # docker: build them as a real run does (DOCKER_HOST's engine)
        config.stash[real_aws_parts_key] = posing.parts
    config.add_cleanup(posing.stop)
