"""Recording API calls on the server side, for CD that does not call AWS through
botocore: approach 4 runs Terraform, whose Go SDK the client-side hooks of
``harness.metrics.iam`` never see.

``RecordingMiddleware`` wraps the WSGI app of an emulated endpoint (``harness
serve``, moto's server) and records each request into an ``ApiCallRecorder``:

- the IAM service prefix from the SigV4 credential scope of the
  ``Authorization`` header (``Credential=KEY/DATE/REGION/ecs/aws4_request``);
- the operation from ``X-Amz-Target`` (JSON protocols: ECS, ECR, Logs, Secrets
  Manager, Application Auto Scaling) or the ``Action`` parameter (query
  protocols: EC2, IAM, STS, ELBv2);
- the parameters from the JSON body or the form, so resource scoping and
  implied actions work as for client-side records.

REST protocols (S3, Lambda...) name the operation by method and path; those
requests are listed in ``unrecognised`` rather than guessed. Recording is
switched on per CD step (``recording()``), so setup traffic is not counted.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import threading
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qs

from harness.metrics.iam import IAM_PREFIX_BY_SIGNING_NAME, ApiCallRecorder

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


def identify(environ: dict[str, Any], body: bytes) -> tuple[str, str, str | None, dict[str, Any]] | None:
    """(IAM prefix, operation, region, params) of one WSGI request, or None when
    the request does not say its operation in a header or parameter."""
    scope = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope is None:
        return None
    service = IAM_PREFIX_BY_SIGNING_NAME.get(scope["service"], scope["service"])
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return service, target.rsplit(".", 1)[-1], scope["region"], params if isinstance(params, dict) else {}
    form = parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form.update(parse_qs(body.decode("utf-8", "replace")))
    if "Action" in form:
        params = {k: v[0] if len(v) == 1 else v for k, v in form.items() if k not in ("Action", "Version")}
        return service, form["Action"][0], scope["region"], params
    return None


# environ key set by the server on a request Terraform's provider sent again, word for word, within one
# command (harness.server.TerraformTime.counts): how often it repeats depends on timing, so it is not recorded
REPEATED = "harness.repeated"


class RecordingMiddleware:
    """WSGI middleware: records the API calls passing through while recording is on (not a ``REPEATED`` one)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], recorder: ApiCallRecorder | None = None) -> None:
        self.app = app
        self.recorder = recorder or ApiCallRecorder()
        self.unrecognised: list[str] = []
        self._on = False
        self._access_key: str | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def recording(self, recorder: ApiCallRecorder | None = None,
                  access_key: str | None = None) -> Iterator[ApiCallRecorder]:
        """Record the calls made inside the block (into ``recorder`` or a fresh one);
        with ``access_key``, only those signed with it (a CD command's, not the
        harness's own looking at the same time)."""
        with self._lock:
            self.recorder = recorder or ApiCallRecorder(self.recorder.account_id)
            self.unrecognised = []
            self._access_key = access_key
            self._on = True
        try:
            yield self.recorder
        finally:
            with self._lock:
                self._on = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._on and not environ.get(REPEATED) and (self._access_key is None
                         or f"Credential={self._access_key}/" in environ.get("HTTP_AUTHORIZATION", "")):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)  # the app reads it again
            found = identify(environ, body)
            if found is None:
                self.unrecognised.append(f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}")
            else:
                self.recorder.record(*found)
        return self.app(environ, start_response)
