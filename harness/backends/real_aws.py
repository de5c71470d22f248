"""Real AWS as a backend, behind a guard checked before anything is created.

``--backend aws`` creates real resources in a real account, and they cost
money. It runs only with ``--allow-real-aws`` and an allowlist of account ids
in ``HARNESS_AWS_ACCOUNTS``. The caller's identity is read with STS
GetCallerIdentity (which needs no permission and changes nothing) and refused
unless its account is on the list. All of this happens when pytest starts,
before any test runs.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

ALLOW_OPTION = "--allow-real-aws"
ACCOUNTS_ENV = "HARNESS_AWS_ACCOUNTS"
ACCOUNT = re.compile(r"^\d{12}$")


class RealAwsRefused(Exception):
    """--backend aws may not run as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


def allowed_accounts(value: str | None) -> tuple[str, ...]:
    """The account ids in ``HARNESS_AWS_ACCOUNTS`` (comma or space separated), checked."""
    accounts = tuple(part for part in re.split(r"[,\s]+", value or "") if part)
    if not accounts:
        raise RealAwsRefused(f"{ACCOUNTS_ENV} is not set: list the AWS account ids --backend aws may create "
                             f"resources in (e.g. {ACCOUNTS_ENV}=123456789012)")
    bad = [account for account in accounts if not ACCOUNT.match(account)]
    if bad:
        raise RealAwsRefused(f"{ACCOUNTS_ENV}: {', '.join(bad)} is not a 12-digit AWS account id")
    return accounts


def check(allow: bool, sts: Callable[[], Any], accounts: str | None = None) -> Identity:
    """Refuse unless ``allow`` and the caller's account is allowed; ``sts`` makes the
    STS client, called only once the flag and the list are in order."""
    if not allow:
        raise RealAwsRefused(f"--backend aws creates real resources in a real AWS account, and they cost money: "
                             f"add {ALLOW_OPTION}, with the account ids it may use in {ACCOUNTS_ENV}")
    listed = allowed_accounts(os.environ.get(ACCOUNTS_ENV) if accounts is None else accounts)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = sts().get_caller_identity()
    except (BotoCoreError, ClientError) as err:
        raise RealAwsRefused(f"cannot tell which AWS account these credentials are for (sts:GetCallerIdentity: "
                             f"{err}): set AWS_PROFILE or credentials for one of {', '.join(listed)}") from None
    identity = Identity(account=str(answer["Account"]), arn=str(answer["Arn"]))
    if identity.account not in listed:
        raise RealAwsRefused(f"these credentials are for account {identity.account} ({identity.arn}), which is "
                             f"not in {ACCOUNTS_ENV} ({', '.join(listed)}): use a profile of an allowed account, "
                             "or add this one if it is meant for the harness")
    return identity


def sts_client() -> Any:
    import boto3

    return boto3.client("sts")


NOT_MEASURED = ("not measured: on real AWS tasks are real containers on the wall clock: the scenarios' images can "
                "be built and pushed (harness.backends.images) and a run's resources are named, tagged and torn "
                "down (harness.backends.aws_run), but the scenarios still wait on the simulator's virtual clock, "
                "and running them on wall time is not built yet: use --backend moto or server")
