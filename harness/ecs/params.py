"""Timing parameters of the simulated ECS (and of Terraform in a CD step). The
defaults are the fast set the tests run with (profile ``fast``); the named,
calibrated sets and the source of every number are the timing profiles
(``harness.ecs.profiles``, docs/timing-profiles.md). Reports print the set they
ran with (`as_dict`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Params:
    image_pull_seconds: float = 10.0          # uncached pull; an image may override
    image_pull_mb_per_second: float | None = None  # an image that declares its size pulls in size / this
    container_start_seconds: float = 5.0      # pulled -> RUNNING
    fargate_provisioning_seconds: float = 5.0  # Fargate PROVISIONING (ENI), taken from the pull's time (unverified)
    # Target group settings for a target group moto does not hold; one it holds
    # (Terraform's, a world's) times its tasks by its own settings.
    tg_health_interval: float = 30.0          # ALB target group defaults
    tg_healthy_threshold: int = 5
    tg_unhealthy_threshold: int = 2
    container_health_interval: float = 30.0   # ECS container health check defaults
    container_health_retries: int = 3
    container_health_start_period: float = 0.0
    no_health_check_wait: float = 40.0        # RUNNING -> counts toward minimumHealthyPercent
    deregistration_delay: float = 300.0       # target group default
    stop_timeout: float = 30.0                # SIGTERM -> SIGKILL bound
    sigterm_exit_seconds: float = 2.0         # how long a well-behaved container takes to exit
    scheduler_interval: float = 5.0           # service scheduler pass (undocumented)
    stopped_task_retention: float = 3600.0    # STOPPED tasks stay visible this long
    max_events: int = 100                     # DescribeServices returns the newest 100
    alarm_bake_seconds: float = 300.0         # rolling + alarms: watched this long after scale-in (unverified)
    hook_callback_delay: float = 30.0         # a Lambda hook answering IN_PROGRESS is asked again after this
    throttle_after_failures: int = 3          # tasks failing to start in a row before ECS throttles starts (unverified)
    throttle_first_delay: float = 30.0        # first gap between start attempts, doubling ... (unverified curve)
    throttle_max_delay: float = 1620.0        # ... up to 27 minutes
    # Terraform as a CD step (approach 4): virtual seconds, not this machine's wall time
    terraform_startup_seconds: float = 4.0    # per `terraform apply`: start, provider, config, state
    terraform_seconds_per_call: float = 0.1   # per AWS API call the provider makes during it

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Params":
        refuse_unknown_fields(cls, values, "simulator parameter")
        return cls(**values)


def refuse_unknown_fields(cls: type, values: dict, what: str) -> None:
    """A ValueError naming the keys of ``values`` that are not fields of the dataclass ``cls``, and the known ones."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {what}(s) {unknown}; known: {sorted(known)}")
