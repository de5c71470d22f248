"""The deploy tool's one error family; each error carries its exit code.

The CLI catches `DeployToolError` once, prints its message on one line (plus,
after the tool changed something, where things stand and the command that
finishes the job) and exits with `exit_code`. The codes are in docs/deploy-tool/index.md.

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
    NoRegionError, ParamValidationError, PartialCredentialsError,
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
# A value the user gave is echoed whole up to this length (AWS names and image
# references stay under it); of a longer one, an error shows the start and the length.
SHOWN_WHOLE = 256
SHOWN_START = 40
MAX_LINE = 2000  # an error line, whatever went into it


NO_REGION_FIX = "pass --region or set AWS_REGION (or AWS_DEFAULT_REGION, or a region in the profile)"
# Where an answer that is not the AWS API comes from, in the order to look.
FOREIGN_ANSWER_FIX = ("check AWS_ENDPOINT_URL (or the profile's endpoint_url), --region and any proxy "
                      "(HTTPS_PROXY) between here and AWS")

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


class ForeignAnswerError(BotoCoreError):
    """A 2xx answer that is not the AWS API speaking: a proxy's or captive portal's
    page, another server at AWS_ENDPOINT_URL, bytes cut off. Raised by the check
    the CLI registers on its clients (`cli.answers`); `aws_call` reports it."""

    fmt = "{endpoint} answered {operation} with {what}, not the AWS API"


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


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# a quoted value opens after a space, '(', '=', '[' or ',' (never after a letter: an apostrophe)
_LONG_QUOTED = re.compile(rf"(?<![^\s(=\[,])(?:'([^']{{{SHOWN_WHOLE + 1},}})'|\"([^\"]{{{SHOWN_WHOLE + 1},}})\")")
_LONG_WORD = re.compile(rf"[^\s'\"]{{{SHOWN_WHOLE + 1},}}")


def shown(value: object, *, quoted: bool = True) -> str:
    """A value the user gave, for an error line: quoted (control characters
    escaped, so the line stays one line) and, past SHOWN_WHOLE characters, cut to
    its start with its length: `'aaaa…' (102400 characters)`. Every message
    that echoes a user's value goes through here."""
    text = str(value)
    long = len(text) > SHOWN_WHOLE
    literal = repr(text[:SHOWN_START] if long else text)
    if not quoted:
        literal = literal[1:-1]
    if not long:
        return literal
    return (f"{literal[:-1]}…{literal[-1]}" if quoted else f"{literal}…") + f" ({len(text)} characters)"


def bounded(line: str) -> str:
    """Any error line made safe to print: control characters escaped, long quoted
    values and long words cut as `shown` cuts them, the whole at most MAX_LINE.
    For messages the tool did not word itself (argparse's) and as the last guard."""
    line = _CONTROL.sub(lambda m: repr(m.group())[1:-1], line)
    line = _LONG_QUOTED.sub(lambda m: shown(m.group(1) if m.group(1) is not None else m.group(2)), line)
    line = _LONG_WORD.sub(lambda m: shown(m.group(), quoted=False), line)
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


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


def aws_error(action: str, err: ClientError | BotoCoreError) -> DeployToolError:
    """The error family's word for one botocore failure of `action`."""
    if isinstance(err, ClientError):
        return _client_error(action, err)
    if isinstance(err, NoCredentialsError):
        return AwsError("no AWS credentials found: set AWS_PROFILE/--profile or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
                        action=action)
    if isinstance(err, PartialCredentialsError):
        return AwsError(f"{one_line(str(err))}: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or neither, "
                        "to use the profile)", action=action)
    if isinstance(err, NoRegionError):
        return BadInputError(f"no AWS region configured: {NO_REGION_FIX}")
    if isinstance(err, ParamValidationError):
        # botocore refused the request before sending it: a value nothing checked earlier (not
        # exit 2: a command may have registered a revision before this call)
        return AwsError(f"{action} was not sent: {one_line(str(err))}: check the values given on the command line",
                        action=action)
    if isinstance(err, ForeignAnswerError):
        # it may have reached AWS and been applied behind whatever answered
        return AwsError(f"{action} failed: {err}: {FOREIGN_ANSWER_FIX}", action=action, uncertain=True)
    if isinstance(err, (EndpointConnectionError, ConnectTimeoutError)):
        # never reached AWS: not applied
        return AwsError(f"{action} failed: {one_line(str(err))}", action=action, transient=True)
    if isinstance(err, HTTPClientError):
        # sent, and the reply was lost (read timeout, connection reset): maybe applied
        return AwsError(f"{action} failed: {one_line(str(err))}", action=action, transient=True, uncertain=True)
    return AwsError(f"{action} failed: {one_line(str(err))}", action=action)


@contextlib.contextmanager
def aws_call(action: str) -> Iterator[None]:
    """Turn botocore failures of one AWS API call into the error family.

    `action` is the IAM action name (e.g. "ecs:RegisterTaskDefinition") so an
    access-denied message can say which permission to grant. Callers that expect
    a specific error code (not found) catch ClientError inside this block first.
    """
    try:
        yield
    except (ClientError, BotoCoreError) as err:
        raise aws_error(action, err) from err
