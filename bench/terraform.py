"""Terraform against `harness serve`: how long each command takes, what a
working directory costs on disk, and how long the clean-baseline suite runs.

    python3 dev.py bench terraform [--plans 3] [--no-suite]

For the template approach's configuration (harness/approaches/template/
terraform): wall seconds of `init` (first and second working directory on one
shared plugin cache), `apply`, `plan` of the unchanged configuration (several
runs; the floor from the issue is under 10 s), `show -json` of that plan, and
`destroy`; an unchanged plan with Go's default GOGC against the runner's
GOGC=400; an unchanged plan attached to the long-lived provider against one
that starts its own (harness.terraform.reattach; where reattach is off, e.g.
with tofu, it says so instead), and that provider's resident memory. Then the bytes of real files under each working directory's
.terraform against the provider binary's size (the floor: no per-run provider
copy). Then the wall time of tests/terraform/test_clean_baseline.py with and
without pytest-xdist (`-n 2`). Numbers are printed, never asserted.

Uses the same settings as the tests: HARNESS_TERRAFORM, HARNESS_TF_PROVIDER_MIRROR,
HARNESS_TF_PLUGIN_CACHE (see the README's Terraform section).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.terraform import Terraform, TerraformError, TerraformSettings
from harness.terraform.endpoint import serve
from harness.terraform.fixtures import APPROACHES_DIR, unique_name
from harness.terraform.runner import GOGC

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = APPROACHES_DIR / "template" / "terraform"


def provider_binary_bytes(directory: Path) -> int:
    sizes = [
        Path(dirpath, name).stat().st_size
        for dirpath, _dirs, files in os.walk(directory / ".terraform" / "providers", followlinks=True)
        for name in files
        if name.startswith("terraform-provider-")
    ]
    return max(sizes, default=0)


def go_gc_effect(workspace, runs: int = 2) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) seconds of an unchanged plan with Go's default GOGC,
    then with the runner's: what GOGC=400 saves."""
    medians = []
    for value in ("100", GOGC):
        saved = os.environ.get("GOGC")
        os.environ["GOGC"] = value  # the runner keeps a GOGC the user set
        try:
            walls, cpus = [], []
            for _ in range(runs):
                workspace.plan()
                walls.append(workspace.timings.last("plan"))
                cpus.append(workspace.timings.last_cpu("plan"))
        finally:
            if saved is None:
                os.environ.pop("GOGC", None)
            else:
                os.environ["GOGC"] = saved
        medians.append((statistics.median(walls), statistics.median(cpus)))
    return medians[0], medians[1]


def reattach_effect(terraform: Terraform, workspace, runs: int) -> tuple[list[float], list[float]] | None:
    """Unchanged plans through the long-lived provider and with a provider start per command,
    alternated so that load hits both alike: (attached walls, plain walls), or None when reattach is off."""
    if terraform.reattach_problem is not None:
        return None
    attached, plain = [], []
    for _ in range(runs):
        workspace.plan()
        attached.append(workspace.timings.last("plan"))
        terraform.reattach_problem = "off for this measurement"
        try:
            workspace.plan()
        finally:
            terraform.reattach_problem = None
        plain.append(workspace.timings.last("plan"))
    return attached, plain


def commands(terraform: Terraform, plans: int) -> None:
    load = os.getloadavg()[0]
    with serve() as endpoint:
        first = terraform.workspace(TEMPLATE, endpoint, {"name": unique_name("b")}, root=APPROACHES_DIR)
        second = terraform.workspace(TEMPLATE, endpoint, {"name": unique_name("b")}, root=APPROACHES_DIR)
        first.init()
        second.init()
        first.apply()
        plan_seconds, plan_cpu = [], []
        for _ in range(plans):
            result = first.plan()
            plan_seconds.append(first.timings.last("plan"))
            plan_cpu.append(first.timings.last_cpu("plan"))
            if result.exit_code != 0:
                print(f"  warning: the unchanged configuration planned changes: {result.summary.by_action()}")
        result.summary  # noqa: B018 - `show -json` runs on first use: time it once
        show = first.timings.last("show")
        gogc = go_gc_effect(first)
        reattach = reattach_effect(terraform, first, plans)
        provider_rss = terraform.provider_rss_bytes()
        first.destroy()

        t = first.timings
        print(f"terraform {terraform.version()} against harness serve, config {TEMPLATE.relative_to(ROOT)}")
        print(f"  load average before the runs: {load:.1f} on {os.cpu_count()} CPUs (others' work slows every wall time)")
        print("  command                  wall      CPU (terraform + provider, user+sys)")
        print(f"  init (1st working dir)   {t.last('init'):7.2f} s  {t.last_cpu('init'):6.2f} s")
        print(f"  init (2nd working dir)   {second.timings.last('init'):7.2f} s  {second.timings.last_cpu('init'):6.2f} s")
        print(f"  apply                    {t.last('apply'):7.2f} s  {t.last_cpu('apply'):6.2f} s")
        print(f"  plan, unchanged          {statistics.median(plan_seconds):7.2f} s  {statistics.median(plan_cpu):6.2f} s"
              f"   median of {plans} (wall min {min(plan_seconds):.2f}, max {max(plan_seconds):.2f}; floor < 10 s)")
        print(f"  show -json of the plan   {show:7.2f} s  {t.last_cpu('show'):6.2f} s")
        print(f"  destroy                  {t.last('destroy'):7.2f} s  {t.last_cpu('destroy'):6.2f} s")
        (go_wall, go_cpu), (our_wall, our_cpu) = gogc
        print(f"  plan with Go's default GOGC=100: {go_wall:.2f} s wall, {go_cpu:.2f} s CPU; with the runner's "
              f"GOGC={GOGC}: {our_wall:.2f} s, {our_cpu:.2f} s (CPU ratio {our_cpu / go_cpu:.2f})")

        print(f"  AWS provider: {terraform.provider_mode()}")
        if reattach is not None:
            attached, plain = reattach
            ratio = statistics.median(attached) / statistics.median(plain)
            print(f"  plan, unchanged, attached to the long-lived provider: {statistics.median(attached):.2f} s; "
                  f"starting its own: {statistics.median(plain):.2f} s (ratio {ratio:.2f}, medians of {plans}, "
                  f"alternated; floor <= 0.8); the long-lived provider's resident memory: {provider_rss / 2**20:.0f} MiB")
        else:
            print("  (no long-lived provider: set HARNESS_TF_REATTACH=1 with terraform to compare)")

        provider = provider_binary_bytes(first.directory)
        for label, ws in (("1st", first), ("2nd", second)):
            own = ws.provider_bytes()
            print(f"  .terraform of the {label} working dir: {own} bytes of real files; "
                  f"provider binary reached through links: {provider / 2**20:.0f} MiB "
                  f"(ratio {own / provider:.5f})" if provider else f"  {label}: no provider found")


def suite(workers: int | None) -> float:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/terraform/test_clean_baseline.py"]
    if workers:
        cmd += ["-n", str(workers)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    last = (proc.stdout.strip().splitlines() or ["no output"])[-1]
    print(f"  {'-n ' + str(workers) if workers else 'serial':8s} {elapsed:7.1f} s   ({last})")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=3, help="how many unchanged plans to time (default 3)")
    parser.add_argument("--no-suite", action="store_true", help="skip timing the clean-baseline test suite")
    args = parser.parse_args(argv)

    settings = TerraformSettings.from_env()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-terraform-") as home:
            runner = Terraform(settings, home=Path(home))
            try:
                commands(runner, args.plans)
            finally:
                runner.close()
    except TerraformError as err:
        print(f"bench terraform: {err}", file=sys.stderr)
        return 2
    if not args.no_suite:
        print("clean-baseline suite (tests/terraform/test_clean_baseline.py), wall time:")
        serial = suite(None)
        parallel = suite(2)
        print(f"  speed-up with -n 2: {serial / parallel:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
