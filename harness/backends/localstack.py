"""LocalStack as a backend: where it is, what it serves, and what the scenarios
still need from it, said in one line.

Where: localstack-client's rules, the ones every LocalStack tool follows:
``AWS_ENDPOINT_URL`` if set, else ``LOCALSTACK_HOST`` (``host:port``), else
``localhost:4566``. What: ``/_localstack/health`` and ``/_localstack/info`` for
the version, edition and licence, then one cheap read per service the scenarios
use, because LocalStack lists only what it emulates in its health and answers
the rest with HTTP 501 ("not included in your current license plan"). Since
March 2026 ECS, ECR, Application Auto Scaling and ELBv2 are in its paid plans
only, and its ECS runs tasks as real Docker containers.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

# Each service the scenarios call, and the cheapest read that shows it is served.
PROBES: dict[str, tuple[str, dict[str, Any]]] = {
    "ecs": ("list_clusters", {}),
    "ecr": ("describe_repositories", {}),
    "application-autoscaling": ("describe_scalable_targets", {"ServiceNamespace": "ecs"}),
    "elbv2": ("describe_load_balancers", {}),
    "ec2": ("describe_vpcs", {}),
    "iam": ("list_roles", {}),
    "sts": ("get_caller_identity", {}),
    "logs": ("describe_log_groups", {}),
    "secretsmanager": ("list_secrets", {}),
    "cloudwatch": ("describe_alarms", {}),
}
SCENARIO_SERVICES = tuple(PROBES)
# What the base Terraform configuration's IAM, VPC, secret and log group need
# (the part of it that LocalStack without a licence serves).
BASE_SERVICES = ("ec2", "iam", "sts", "logs", "secretsmanager")


class LocalStackUnavailable(Exception):
    """No LocalStack answers at the endpoint; the message says how to get one."""


def endpoint_url() -> str:
    """LocalStack's endpoint by localstack-client's rules."""
    from localstack_client.config import get_service_endpoint

    return str(get_service_endpoint("sts")).rstrip("/")


@dataclass(frozen=True)
class Status:
    url: str
    version: str
    edition: str
    licensed: bool
    missing: Mapping[str, str] = field(default_factory=dict)  # service -> why it is not usable

    def problem(self, needed: tuple[str, ...] = SCENARIO_SERVICES) -> str | None:
        """One line naming the services ``needed`` that this LocalStack lacks and how
        to get them; None when it serves them all."""
        lacking = [name for name in needed if name in self.missing]
        if not lacking:
            return None
        reasons = sorted({self.missing[name] for name in lacking})
        licence = "licensed" if self.licensed else "no licence"
        return (f"LocalStack {self.version} ({self.edition} edition, {licence}) at {self.url} lacks "
                f"{', '.join(lacking)} ({'; '.join(reasons)}): they are in LocalStack's paid plans; set "
                "LOCALSTACK_AUTH_TOKEN to a token of a plan with them and run the localstack/localstack image "
                "with the Docker socket mounted (ECS runs tasks as containers): harness localstack up")


class LocalStack:
    """A LocalStack at ``url`` (default: ``endpoint_url()``)."""

    def __init__(self, url: str | None = None, timeout: float = 5.0,
                 client: Callable[[str], Any] | None = None) -> None:
        self.url = (url or endpoint_url()).rstrip("/")
        self.timeout = timeout
        self._client = client or self._boto3_client

    def _get(self, path: str) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=self.timeout) as answer:
                return json.loads(answer.read().decode())
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise LocalStackUnavailable(
                f"no LocalStack answers at {self.url}{path} ({getattr(err, 'reason', err)}): start one "
                "(harness localstack up, or docker compose -f docker-compose.localstack.yml up -d), or point "
                "AWS_ENDPOINT_URL or LOCALSTACK_HOST at yours") from None

    def health(self) -> dict[str, str]:
        """Service -> state ("available", "running", ...) as LocalStack lists them."""
        return dict(self._get("/_localstack/health").get("services", {}))

    def info(self) -> dict[str, Any]:
        return self._get("/_localstack/info")

    def client(self, service: str) -> Any:
        return self._client(service)

    def _boto3_client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        # LocalStack takes any credentials; fixed ones keep a developer's real profile out of it
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 1}, connect_timeout=self.timeout,
                                          read_timeout=30))

    def probe(self, service: str) -> str | None:
        """Why ``service`` is not usable here, or None when a read of it works."""
        from botocore.exceptions import BotoCoreError, ClientError

        operation, arguments = PROBES[service]
        try:
            getattr(self.client(service), operation)(**arguments)
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = err.response.get("Error", {}).get("Message", str(err))
            if status == 501 or "license plan" in message:
                return "HTTP 501, not in this LocalStack's plan"
            return f"{operation}: {message}"
        except BotoCoreError as err:
            return f"{operation}: {err}"
        return None

    def status(self, services: tuple[str, ...] = SCENARIO_SERVICES) -> Status:
        """Version, edition, licence and which of ``services`` are missing
        (raises LocalStackUnavailable when nothing answers)."""
        info = self.info()
        missing = {name: why for name in services if (why := self.probe(name)) is not None}
        return Status(url=self.url, version=str(info.get("version", "unknown")),
                      edition=str(info.get("edition", "unknown")),
                      licensed=bool(info.get("is_license_activated", False)), missing=missing)


_reasons: dict[str, str] = {}


def not_measured_reason(url: str | None = None) -> str:
    """Why the scenarios do not run on the LocalStack at ``url`` (asked once per process):
    what it lacks and how to get it, or, where it serves everything, what the harness
    does not do there yet."""
    url = (url or endpoint_url()).rstrip("/")
    if url not in _reasons:
        try:
            status = LocalStack(url).status()
        except LocalStackUnavailable as err:
            _reasons[url] = f"not measured: {err}"
        else:
            problem = status.problem()
            _reasons[url] = "not measured: " + (problem or (
                f"LocalStack {status.version} at {status.url} serves every service the scenarios use, but on its "
                "ECS tasks are real containers on the wall clock: the scenarios' images can be built and pushed "
                "(harness.backends.images), but the scenarios still wait on the simulator's virtual clock and "
                "declare image behaviours to it, and running them on wall time is not built yet; "
                "use --backend moto or server"))
    return _reasons[url]
