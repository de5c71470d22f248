"""The deploy tool's one error family; each error carries its exit code.

The CLI catches `DeployToolError` once, prints its message on one line and
exits with `exit_code`. The codes are documented in the README and CONTRIBUTING.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

EXIT_OK = 0
EXIT_ROLLED_BACK = 1  # deploy failed; the service is back on the known-good revision
EXIT_BAD_INPUT = 2
EXIT_AWS_ERROR = 3
EXIT_NOT_RECOVERED = 4  # deploy failed; the service is not back on a known-good revision
EXIT_TIMED_OUT = 5

ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


class DeployToolError(Exception):
    """Base of every error the deploy tool raises on purpose."""

    exit_code = EXIT_BAD_INPUT


class BadInputError(DeployToolError):
    """Arguments or referenced resources are wrong; nothing was changed in AWS."""

    exit_code = EXIT_BAD_INPUT


class TemplateNotFoundError(BadInputError):
    pass


class ClusterNotFoundError(BadInputError):
    pass


class ServiceNotFoundError(BadInputError):
    pass


class UnknownContainerError(BadInputError):
    pass


class MissingImageError(BadInputError):
    """A container would be deployed without an image chosen for it."""


class InvalidImageError(BadInputError):
    pass


class FamilyClashError(BadInputError):
    """The target family is the template's own family."""


class AwsError(DeployToolError):
    """AWS refused or failed a call."""

    exit_code = EXIT_AWS_ERROR


class AccessDeniedError(AwsError):
    pass


class DeployFailedError(DeployToolError):
    """A rollout failed and the service is back on the known-good revision."""

    exit_code = EXIT_ROLLED_BACK


class NotRecoveredError(DeployToolError):
    """A rollout failed and the service is not back on a known-good revision."""

    exit_code = EXIT_NOT_RECOVERED


class TimedOutError(DeployToolError):
    """Waiting for a rollout took longer than allowed."""

    exit_code = EXIT_TIMED_OUT


def error_code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def error_message(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Message", "") or str(err)


@contextlib.contextmanager
def aws_call(action: str) -> Iterator[None]:
    """Turn botocore failures of one AWS API call into the error family.

    `action` is the IAM action name (e.g. "ecs:RegisterTaskDefinition") so an
    access-denied message can say which permission to grant. Callers that expect
    a specific error code (not found) catch ClientError inside this block first.
    """
    try:
        yield
    except ClientError as err:
        code = error_code(err)
        if code in ACCESS_DENIED_CODES:
            raise AccessDeniedError(
                f"access denied calling {action}: grant {action} to the deploying role ({error_message(err)})"
            ) from err
        raise AwsError(f"{action} failed: {code}: {error_message(err)}") from err
    except NoCredentialsError as err:
        raise AwsError("no AWS credentials found: set AWS_PROFILE/--profile or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") from err
    except NoRegionError as err:
        raise BadInputError("no AWS region configured: pass --region or set AWS_REGION") from err
    except BotoCoreError as err:
        raise AwsError(f"{action} failed: {err}") from err
