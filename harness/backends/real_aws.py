"""Real AWS as a backend, behind a guard checked before anything is created.

``--backend aws`` creates real resources in a real account, and they cost
money. It runs only with ``--allow-real-aws`` and an allowlist of account ids
in ``HARNESS_AWS_ACCOUNTS``. The caller's identity is read with STS
GetCallerIdentity (which needs no permission and changes nothing) and refused
unless its account is on the list. All of this happens when pytest starts,
before any test runs.

A scenario marked ``real_aws(budget=SECONDS)`` then runs there (``RealAws``):
in a run of its own (``harness.backends.aws_run.Run``: every name prefixed
with the run's id, every resource tagged, all torn down when the scenario
ends, however it ends), on the wall clock with that many seconds to finish
(``OverBudget`` past them), its images really built and pushed
(``harness.backends.images.BuiltImages``). A scenario marked
``simulator_only(reason)`` says why it cannot run there; an unmarked one
says it has not been brought to real AWS.

A licensed LocalStack runs tasks as real containers too, so ``--backend
localstack`` takes the same path with ``where="LocalStack"`` (no guard: it costs
nothing; see ``harness.backends.localstack``).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

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


REAL_AWS = "real AWS"  # where: the words each message says it in


def not_brought(where: str = REAL_AWS) -> str:
    """Why a scenario that reads the simulator does not run on ``where``."""
    return (f"not measured on {where}: this scenario reads the ECS simulator (declared behaviours, virtual time) "
            "and has not been brought to the wall clock (a scenario that has is marked real_aws(budget=SECONDS), "
            "as scenarios/ shows); use --backend moto or server")


NOT_MEASURED = not_brought()
DEFAULT_BUDGET = 1800.0  # seconds a real_aws scenario gets unless its marker says


class OverBudget(BaseException):
    """A scenario on real AWS ran past its budget. A BaseException, as Ctrl-C is:
    nothing in the deploy tool catches it, and the run's teardown still runs."""


class BudgetClock:
    """The wall clock (or any ``now``/``sleep`` clock), for one scenario with a budget:
    a sleep that would end past it raises ``OverBudget`` instead of sleeping."""

    def __init__(self, clock: Any, budget: float, scenario: str, where: str = REAL_AWS) -> None:
        self.clock, self.budget, self.scenario, self.where = clock, budget, scenario, where
        self.started = clock.now()

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        spent = self.clock.now() - self.started
        if spent + seconds > self.budget:
            raise OverBudget(f"{self.scenario}: {spent:.0f} s spent, and waiting {seconds:g} s more would pass its "
                             f"budget of {self.budget:g} s on {self.where} (raise it in its real_aws(budget=...) marker, "
                             "or --aws-budget-scale, if it is just slow today)")
        self.clock.sleep(seconds)


class RealAws:
    """A backend whose tasks really run: `client(name)` on `session`, the run's
    `prefix` and `tags`, `clock` (a `BudgetClock` over the wall clock), and
    `push_images` (built and pushed: `images` is a `BuiltImages`, or a stand-in
    for the container runtime where an endpoint poses as AWS)."""

    simulated = False
    sim = None  # nothing to declare to: behaviours are in the images

    def __init__(self, session: Any, run: Any, clock: Any, images: Any, where: str = REAL_AWS) -> None:
        self.session, self.run, self.clock, self.images, self.where = session, run, clock, images, where
        self.region = session.region_name
        if not self.region:
            raise RealAwsRefused(f"no AWS region: set AWS_REGION (or a profile's region) for {where}")
        self._clients: dict[str, Any] = {}
        self._account: str | None = None
        self._partition = "aws"

    def client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self.session.client(name)
        return self._clients[name]

    @property
    def account(self) -> str:
        return self._identity()[0]

    @property
    def partition(self) -> str:
        """aws, aws-cn or aws-us-gov: what AWS-owned ARNs (managed policies) start with here."""
        return self._identity()[1]

    def _identity(self) -> tuple[str, str]:
        if self._account is None:
            answer = self.client("sts").get_caller_identity()
            self._account, self._partition = answer["Account"], answer["Arn"].split(":")[1]
        return self._account, self._partition

    @property
    def prefix(self) -> str:
        return f"{self.run.id}-"

    @property
    def tags(self) -> list[dict[str, str]]:
        return self.run.tags

    @property
    def ecs_tags(self) -> list[dict[str, str]]:
        return self.run.ecs_tags

    def push_images(self, ecr: Any, repository_uri: str, images: Mapping[str, Any],
                    commands: Mapping[str, Any] | None = None) -> dict[str, str]:
        return self.images.push(ecr, repository_uri, images, commands=commands)


@dataclass(frozen=True)
class Parts:
    """What a real run is made of besides AWS itself: the clock it waits on, what
    builds its images, whether teardown waits for AWS to let things go. Real AWS:
    the wall clock, Docker, waiting. `harness.plugin.state.real_aws_parts_key`
    holds another maker where an endpoint poses as AWS."""

    clock: Any
    images: Any
    wait: bool = True


def real_parts() -> Parts:
    """The wall clock and this machine's Docker engine (`NoDockerEngine` if there is none)."""
    from ecs_template_deploy.clock import WALL
    from harness.backends.docker_engine import engine
    from harness.backends.images import BuiltImages

    return Parts(clock=WALL, images=BuiltImages(engine()))


def scenario_reason(marks: Callable[[str], Any], where: str = REAL_AWS) -> str | None:
    """Why a scenario does not run on ``where`` (``marks(name)``: its closest marker of that name), or None."""
    only = marks("simulator_only")
    if only is not None:
        return f"not measured on {where}: {only.args[0] if only.args else only.kwargs['reason']}"
    if marks("real_aws") is None:
        return not_brought(where)
    return None


@contextlib.contextmanager
def real_aws(parts: Parts, scenario: str, budget: float, session: Any = None,
             out: Callable[[str], None] | None = None, where: str = REAL_AWS,
             cleanup: str = "harness aws cleanup") -> Iterator[RealAws]:
    """One scenario's run on real AWS (or ``where`` the session's clients go): resources
    named and tagged with a new run id, torn down when the block ends (after a
    failure, Ctrl-C and SIGTERM too); ``cleanup`` is the command the run names for
    what a killed run leaves."""
    import boto3

    from harness.backends.aws_run import Run

    session = session or boto3.Session()
    write = out or (lambda line: print(line, file=sys.__stderr__, flush=True))
    clients: dict[str, Any] = {}

    def client(name: str) -> Any:
        return clients.setdefault(name, session.client(name))

    with Run(client, out=write, wait=parts.wait, cleanup=cleanup) as run:
        yield RealAws(session, run, BudgetClock(parts.clock, budget, scenario, where), parts.images, where)
