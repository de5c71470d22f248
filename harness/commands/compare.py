"""Run the scenarios over every approach and write the comparison report.

`harness compare` is `pytest scenarios/ --report-dir OUT` with pytest-xdist
(one approach's Terraform work per worker: ``--dist loadgroup``), a progress
bar, and afterwards the table in the terminal plus report.md, report.json,
report.html, rollback-timelines.png and the least-privilege policies in OUT.
With ``--shard K/N`` it runs one part of that (an approach's scenarios stay
together) and writes only its results; ``harness report merge`` joins the
parts. A scenario that could not run here (no Terraform, ``--no-terraform``, an
approach not implemented) leaves its cells *not measured*; report.md lists
each with its reason.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from harness.plugin import BACKENDS  # noqa: E402  (the backends the scenarios run on)
from harness.plugin.measurements import NotMeasured
from harness.report.not_measured import write_measured_where, write_not_measured

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"  # beside the harness package, in a clone


class CompareError(Exception):
    """Bad arguments or a missing scenarios directory; the message says what to do."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="report", metavar="DIR",
                        help="directory for report.md/json/html and the charts (default: report/)")
    parser.add_argument("--no-terraform", action="store_true",
                        help="measure only what needs no Terraform (seconds, not minutes); "
                        "the Terraform-backed cells read 'not measured'")
    parser.add_argument("--profile", default=None, metavar="NAME|FILE",
                        help="the simulator's timing profile: fargate (the default: calibrated to published Fargate "
                        "measurements), ec2-cached, fast, or a profile file (docs/timing-profiles.md)")
    parser.add_argument("--sensitivity", choices=("quick", "full", "off"), default="quick",
                        help="replay the rollback matrix under every other bundled timing profile for the report's "
                        "sensitivity section: quick (the default; approaches on their own Terraform world, 4a/4b and "
                        "the examples, only in the crash column: each of their cells costs seconds of wall time), full (every cell: minutes more), off")
    parser.add_argument("-n", "--workers", default="2", metavar="N",
                        help="pytest-xdist workers: a number, 'auto', or 0 for none (default 2)")
    parser.add_argument("--backend", choices=BACKENDS, default="moto",
                        help="AWS backend passed to the scenarios (default moto: embedded, plus harness serve)")
    parser.add_argument("--allow-real-aws", action="store_true",
                        help="with --backend aws: let it create real resources (costing money) in an account "
                        "listed in HARNESS_AWS_ACCOUNTS (checked with STS before anything runs)")
    parser.add_argument("--aws-dry-run", action="store_true",
                        help="with --backend aws: run the real path against harness serve posing as AWS and say, "
                        "per scenario, what it would create; needs no credentials, touches nothing")
    parser.add_argument("-k", dest="keyword", default=None, metavar="EXPR",
                        help="only scenarios matching this pytest -k expression (e.g. 'template or app-repo')")
    parser.add_argument("--approach", action="append", default=[], metavar="FILE", dest="approaches",
                        help="also compare your own approach, described in FILE (harness.toml, or pyproject.toml "
                        "with [tool.ecs-harness]); repeatable; see docs/own-approach.md")
    parser.add_argument("--only-approaches", action="store_true",
                        help="compare only the approaches given with --approach, not the built-in six")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="run shard K of N (on N machines: 1/N ... N/N) and write only its results into --out; "
                        "then `harness report merge` their --out directories into the report")
    parser.add_argument("--scenarios", default=str(SCENARIOS), metavar="DIR", help=argparse.SUPPRESS)


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest command line `compare` runs; raises CompareError on bad input."""
    scenarios = Path(args.scenarios)
    if not scenarios.is_dir():
        raise CompareError(f"no scenarios directory at {scenarios}: run harness compare from a clone of the repository")
    workers = str(args.workers)
    if workers != "auto" and not (workers.isdigit()):
        raise CompareError(f"--workers {workers!r} is not a number or 'auto': give e.g. -n 2, -n auto or -n 0")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CompareError(f"--out {out} is a file: give a directory")
    argv = [str(scenarios), "--report-dir", str(out), "--backend", args.backend, "-q", "--no-header",
            "-p", "no:cacheprovider", "-o", "console_output_style=classic", "-rs"]
    argv += ["-n", workers] + (["--dist", "loadgroup"] if workers != "0" else [])
    if args.no_terraform:
        argv.append("--no-terraform")
    from harness.ecs import profiles

    profile = getattr(args, "profile", None) or profiles.DEFAULT
    try:
        profiles.load(profile)  # a bad file is said now, in one line, before pytest starts
    except profiles.ProfileError as err:
        raise CompareError(str(err)) from None
    argv += ["--profile", profile if profile in profiles.BUNDLED else str(Path(profile).resolve())]
    argv += ["--sensitivity", getattr(args, "sensitivity", "off")]
    if getattr(args, "allow_real_aws", False):
        argv.append("--allow-real-aws")
    if getattr(args, "aws_dry_run", False):
        if args.backend != "aws":
            raise CompareError("--aws-dry-run is what --backend aws would do: add --backend aws")
        argv.append("--aws-dry-run")
    elif args.backend == "aws":  # refused here, in one line, before pytest starts anything
        from harness.backends.real_aws import RealAwsRefused, check, sts_client

        try:
            check(getattr(args, "allow_real_aws", False), sts_client)
        except RealAwsRefused as err:
            raise CompareError(str(err)) from None
    if args.keyword:
        argv += ["-k", args.keyword]
    if getattr(args, "shard", None) is not None:
        from harness.report.shards import Shard, ShardError

        try:
            argv += ["--shard", str(Shard.parse(args.shard))]
        except ShardError as err:
            raise CompareError(str(err)) from None
    if args.only_approaches and not args.approaches:
        raise CompareError("--only-approaches needs at least one --approach FILE")
    if args.approaches:
        from harness.approaches.described import DescriptionError, load

        for path in args.approaches:
            try:
                load(path)  # every problem of the file said now, before pytest starts
            except DescriptionError as err:
                raise CompareError(str(err)) from None
            argv += ["--approach", str(Path(path).resolve())]
    if args.only_approaches:
        argv.append("--only-approaches")
    return argv


def where_it_ran(args: argparse.Namespace) -> str | None:
    """Where tasks really ran in this comparison, in words; None on the simulator."""
    if args.backend == "aws":
        return ("harness serve posing as real AWS (--aws-dry-run: the real path, on the simulator's clock)"
                if getattr(args, "aws_dry_run", False) else "real AWS")
    if args.backend == "localstack":
        from harness.backends.localstack import endpoint_url

        return f"LocalStack at {endpoint_url()}"
    return None


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    import pytest

    from harness.report.progress import ScenarioProgress

    console = console or Console(stderr=True)
    try:
        argv = pytest_args(args)
    except CompareError as err:
        print(f"harness compare: error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.no_terraform:
        console.print("Terraform: not run (--no-terraform): every cell that needs it will read 'not measured'")
    else:
        from harness.terraform.fixtures import terraform_cannot_run

        problem = terraform_cannot_run()
        if problem is not None:
            print(f"harness compare: error: Terraform cannot run here, so half the comparison would be "
                  f"'not measured': {problem}; or pass --no-terraform for the cells that need none",
                  file=sys.stderr)
            return 2
    skipped = NotMeasured()
    progress = ScenarioProgress(console)
    env_before = os.environ.get("HARNESS_REQUIRE_TERRAFORM")
    if args.no_terraform:
        os.environ.pop("HARNESS_REQUIRE_TERRAFORM", None)  # a moto-only report is asked for: skipping is the point
    try:
        code = int(pytest.main(argv, plugins=[progress, skipped]))
    finally:
        if env_before is not None:
            os.environ["HARNESS_REQUIRE_TERRAFORM"] = env_before
    write_measured_where(out, where_it_ran(args), skipped.passed)
    write_not_measured(out, skipped.reasons)
    if getattr(args, "shard", None) is not None:
        from harness.report.shards import MANIFEST

        if not (out / MANIFEST).exists():
            print(f"harness compare: error: shard {args.shard} wrote no {MANIFEST} (pytest exit {code}): "
                  "see the output above", file=sys.stderr)
            return code or 1
        console.print(f"shard {args.shard}: results in {out}; when every shard is done: "
                      "harness report merge SHARD_DIR... --out REPORT")
        return code
    if not (out / "report.md").exists():
        print(f"harness compare: error: no report was written (pytest exit {code}): see the output above", file=sys.stderr)
        return code or 1
    console.print(f"report: {out / 'report.md'}, {out / 'report.json'}, {out / 'report.html'}"
                  + (f", {out / 'rollback-timelines.png'}" if (out / "rollback-timelines.png").exists() else ""))
    if skipped.reasons:
        console.print(f"{len(skipped.reasons)} scenarios not measured here; reasons at the end of {out / 'report.md'}")
    without = [why for why in skipped.reasons.values() if "needs Terraform" in why]
    if without and not args.no_terraform:  # Terraform was there when asked, then failed some scenarios
        print(f"harness compare: error: {len(without)} scenarios could not run Terraform ({without[0]}); the report "
              "lists them as not measured: fix Terraform, or ask for --no-terraform", file=sys.stderr)
        return code or 1
    return code
