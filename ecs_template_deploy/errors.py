"""The deploy tool's one error family; each error carries its exit code.

The CLI catches `DeployToolError` once, prints its message on one line (plus,
after the tool changed something, where things stand and the command that
finishes the job) and exits with `exit_code`. The codes are in the README.

`aws_call` turns botocore failures into `AwsError`s that say whether retrying
can help (`transient`) and whether AWS may have applied the call anyway
(`uncertain`: the reply was lost, or a 5xx came back after the work was done).
"""
from __future__ import annotations

import contextlib
import enum
import html
import re
from collections.abc import Iterator

from botocore.exceptions import (
    BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError, HTTPClientError, NoCredentialsError,
    NoRegionError,
)

EXIT_OK = 0
EXIT_ROLLED_BACK = 1  # deploy failed; the service is back, steady, on the known-good revision
EXIT_BAD_INPUT = 2  # nothing was changed in AWS
EXIT_AWS_ERROR = 3  # AWS refused or failed a call before the service was changed
EXIT_NOT_RECOVERED = 4  # the service is not known to be on the new or the known-good revision
EXIT_TIMED_OUT = 5  # waiting ran past --timeout
EXIT_TASK_FAILED = 6  # a one-off task (run, deploy --run-before) did not run to an exit of 0
EXIT_CHECK_FAILED = 7  # check found an error: deploys or rollbacks of the service cannot work as set

ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# Answers that say "not now": the call was not applied, asking again later can work.
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException",
})
# A session that ran out (CI credentials refreshed by their provider) or a clock a
# little off: the same request signed again works.
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "RequestTimeTooSkewed"})
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
                             "ServerException", "InternalError", "InternalFailure", "ServiceUnavailable"})
MAX_MESSAGE = 300


NO_REGION_FIX = "pass --region or set AWS_REGION (or AWS_DEFAULT_REGION, or a region in the profile)"

class Next(str, enum.Enum):
    """What finishes the job after a command ended short of it."""

    NOTHING = "nothing"  # nothing to do: the service is where it was asked to be, or safe again
    RERUN = "rerun"  # the same command again: safe, it picks up where this one stopped
    ROLLBACK = "rollback"  # `rollback`: follows a rollback in progress or starts one to known good
    STATUS = "status"  # someone else's deployment owns the service now: look before acting


class DeployToolError(Exception):
    """Base of every error the deploy tool raises on purpose."""

    exit_code = EXIT_BAD_INPUT
    next = Next.NOTHING  # what finishes the job; set where the error is raised or reported


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


class ImageNotPushedError(BadInputError):
    """The registry says the image to deploy does not exist."""


class FamilyClashError(BadInputError):
    """The target family is the template's own family."""


class AwsError(DeployToolError):
    """AWS refused or failed a call."""

    exit_code = EXIT_AWS_ERROR

    def __init__(self, message: str, *, action: str = "", code: str = "", transient: bool = False,
                 uncertain: bool = False) -> None:
        super().__init__(message)
        self.action = action
        self.code = code
        self.transient = transient  # asking again later can work
        self.uncertain = uncertain  # AWS may have applied the call although it failed


class AccessDeniedError(AwsError):
    pass


class NotRecoveredError(DeployToolError):
    """The service is not known to be on the new revision or on known good."""

    exit_code = EXIT_NOT_RECOVERED


class TimedOutError(DeployToolError):
    """Waiting for a rollout took longer than allowed."""

    exit_code = EXIT_TIMED_OUT


class TaskFailedError(DeployToolError):
    """A one-off task failed before a deploy (--run-before): the service was not changed."""

    exit_code = EXIT_TASK_FAILED


class DeployFailedError(DeployToolError):
    """A rollout failed and the service is back on the known-good revision."""

    exit_code = EXIT_ROLLED_BACK


def error_code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def one_line(text: str) -> str:
    """An AWS (or emulator) message fit for one line: no markup, no newlines, bounded."""
    if "<" in text and ">" in text:
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def error_message(err: ClientError) -> str:
    return one_line(err.response.get("Error", {}).get("Message", "") or str(err))


def _client_error(action: str, err: ClientError) -> AwsError:
    code = error_code(err)
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    if code in ACCESS_DENIED_CODES:
        return AccessDeniedError(
            f"access denied calling {action}: grant {action} to the deploying role ({error_message(err)})",
            action=action, code=code)
    server_side = status >= 500 or code in TRANSIENT_CODES
    transient = server_side or code in THROTTLING_CODES or code in EXPIRED_CODES
    return AwsError(f"{action} failed: {code or status}: {error_message(err)}", action=action, code=code,
                    transient=transient, uncertain=server_side)


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
        raise _client_error(action, err) from err
    except NoCredentialsError as err:
        raise AwsError("no AWS credentials found: set AWS_PROFILE/--profile or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
                       action=action) from err
    except NoRegionError as err:
        raise BadInputError(f"no AWS region configured: {NO_REGION_FIX}") from err
    except (EndpointConnectionError, ConnectTimeoutError) as err:
        # never reached AWS: not applied
        raise AwsError(f"{action} failed: {one_line(str(err))}", action=action, transient=True) from err
    except HTTPClientError as err:
        # sent, and the reply was lost (read timeout, connection reset): maybe applied
        raise AwsError(f"{action} failed: {one_line(str(err))}", action=action, transient=True, uncertain=True) from err
    except BotoCoreError as err:
        raise AwsError(f"{action} failed: {one_line(str(err))}", action=action) from err
