"""The real-AWS guard: `--backend aws` refuses, before anything is created,
without --allow-real-aws, without an account allowlist, or with credentials of
an account not on it. `harness serve` poses as the AWS endpoint (its STS answers
for account 123456789012)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from harness.backends.real_aws import RealAwsRefused, allowed_accounts, check
from harness.commands.compare import CompareError, add_arguments, pytest_args

ROOT = Path(__file__).resolve().parents[2]
SERVE_ACCOUNT = "123456789012"  # moto's default account


def never_called():
    raise AssertionError("STS must not be asked before the flag and the allowlist are in order")


def test_without_the_flag_nothing_is_asked() -> None:
    with pytest.raises(RealAwsRefused, match="cost money: add --allow-real-aws"):
        check(False, never_called, accounts=SERVE_ACCOUNT)


@pytest.mark.parametrize("value, message", [(None, "HARNESS_AWS_ACCOUNTS is not set"), ("", "is not set"),
                                            ("12345, 123456789012", "12345 is not a 12-digit AWS account id")])
def test_the_allowlist_is_required_and_checked(value, message) -> None:
    with pytest.raises(RealAwsRefused, match=message):
        check(True, never_called, accounts=value if value is not None else "")
    assert allowed_accounts("111111111111, 222222222222 333333333333") == (
        "111111111111", "222222222222", "333333333333")


@pytest.fixture
def served_endpoint(harness_server, monkeypatch) -> str:
    harness_server.reset()
    for name, value in {"AWS_ENDPOINT_URL": harness_server.url, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return harness_server.url


def test_an_account_not_on_the_list_is_refused_with_the_account_shown(served_endpoint) -> None:
    with pytest.raises(RealAwsRefused) as caught:
        check(True, lambda: boto3.client("sts"), accounts="111111111111")
    message = str(caught.value)
    assert f"account {SERVE_ACCOUNT}" in message and "not in HARNESS_AWS_ACCOUNTS (111111111111)" in message
    assert check(True, lambda: boto3.client("sts"), accounts=f"111111111111,{SERVE_ACCOUNT}").account == SERVE_ACCOUNT


def run_pytest(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "scenarios", "-n", "0", "-p", "no:cacheprovider", "-q",
                           "-rs", "-k", "test_cd_permissions", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_pytest_refuses_before_any_test_and_runs_only_when_allowed(served_endpoint, harness_server) -> None:
    env = {**os.environ, "HARNESS_AWS_ACCOUNTS": "111111111111"}
    refused = run_pytest("--backend", "aws", env=env)
    assert refused.returncode == 4, refused.stdout[-1500:] + refused.stderr[-1500:]  # a usage error: nothing ran
    # exit 4 is pytest's usage error, raised at configure: no test was collected, let alone run
    assert "--allow-real-aws" in refused.stderr and "collected" not in refused.stdout
    wrong_account = run_pytest("--backend", "aws", "--allow-real-aws", env=env)
    assert wrong_account.returncode == 4 and f"account {SERVE_ACCOUNT}" in wrong_account.stderr
    allowed = run_pytest("--backend", "aws", "--allow-real-aws", env={**env, "HARNESS_AWS_ACCOUNTS": SERVE_ACCOUNT})
    assert allowed.returncode == 0, allowed.stdout[-1500:] + allowed.stderr[-1500:]
    assert "not measured on real AWS: CD's calls are read from what harness serve recorded" in allowed.stdout
    assert "passed" not in allowed.stdout.strip().splitlines()[-1]


def test_compare_refuses_in_one_line_before_pytest(monkeypatch) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    monkeypatch.setenv("HARNESS_AWS_ACCOUNTS", SERVE_ACCOUNT)
    with pytest.raises(CompareError, match="add --allow-real-aws"):
        pytest_args(parser.parse_args(["--backend", "aws"]))
