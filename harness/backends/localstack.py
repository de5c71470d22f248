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

Where it lacks any of them, every scenario is skipped with ``problem_here``'s
line. Where it serves them all, the scenarios marked ``real_aws`` run on it
by the wall-clock path real AWS takes (``harness.backends.real_aws``), with
every AWS client of the process pointed at it (``process_env``) and no
account guard; the rest say why they do not.
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
        # any service by name: the stubs type each by its literal name
        return boto3.client(service, endpoint_url=self.url,  # type: ignore[call-overload]
                            region_name="us-east-1", aws_access_key_id="test",
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


LOCALSTACK = "LocalStack"  # where, in the real-AWS path's messages (harness.backends.real_aws)
_problems: dict[str, str | None] = {}


def problem_here(url: str | None = None) -> str | None:
    """Why the LocalStack at ``url`` cannot run the scenarios, as a skip reason
    ("not measured: ..."), or None where it serves everything they use (asked
    once per process)."""
    url = (url or endpoint_url()).rstrip("/")
    if url not in _problems:
        try:
            problem = LocalStack(url).status().problem()
        except LocalStackUnavailable as err:
            problem = str(err)
        _problems[url] = None if problem is None else f"not measured: {problem}"
    return _problems[url]


def process_env(url: str, region: str | None = None) -> dict[str, str | None]:
    """The environment a scenario on LocalStack runs in: every AWS client of the
    process (the deploy tool's, as a CD job's pointed at LocalStack) reaches ``url``
    with LocalStack's test credentials, and no profile of the developer's is read."""
    from harness.backends.embedded import cd_process_env

    env: dict[str, str | None] = {**cd_process_env(url), "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None}
    if region:
        env.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
    return env


def cleanup_command(url: str) -> str:
    """What removes a killed run's leftovers from the LocalStack at ``url``."""
    return f"harness aws cleanup --endpoint-url {url}"


def is_localstack(url: str, timeout: float = 5.0) -> bool:
    """Whether a LocalStack answers at ``url`` (its ``/_localstack/info``)."""
    try:
        return "version" in LocalStack(url, timeout=timeout).info()
    except LocalStackUnavailable:
        return False
