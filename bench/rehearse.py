"""`check` and `rehearse` on the rollback benchmark's service, against what the benchmark measures.

    python3 dev.py bench rehearse [--workers N] [--out DIR]

Builds the service of bench/rollback.py (4 tasks behind a target group at AWS's
defaults, breaker off, the tool deploying with --alarm HighErrors --bake 900),
prints `ecs-template-deploy check`'s findings on it, rehearses it from the
settings check read (every replayed deploy, every lever that applies), and
measures the benchmark's own crash rollback for the tool on ROLLING, to print
prediction and measurement side by side with their difference.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rollback as bench  # noqa: E402  (the benchmark next to this file)

from ecs_template_deploy.check import findings  # noqa: E402
from ecs_template_deploy.settings import read_settings  # noqa: E402
from harness.commands import rehearse  # noqa: E402
from harness.report.charts import png  # noqa: E402
from harness.worlds import CLUSTER, SERVICE  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", help="write rehearsal.png here")
    args = parser.parse_args(argv)

    world = bench.Bench(bench.MODES["crash"], "ROLLING")
    try:
        aws = world.aws
        settings = read_settings(aws.client("ecs"), CLUSTER, SERVICE, elbv2=aws.client("elbv2"),
                                 ecr_for=lambda region: aws.client("ecr"))
    finally:
        world.close()
    print("ecs-template-deploy check on the benchmark's service:")
    for finding in findings(settings):
        print(f"  {finding.severity:<7} {finding.code}: {finding.problem}")
    print()

    service = rehearse.Service.from_settings(settings, cd_alarms=(bench.ALARM,), cd_bake=bench.TOOL_BAKE)
    started = time.perf_counter()
    result = rehearse.rehearse(service, workers=args.workers)
    took = time.perf_counter() - started
    print("\n".join(rehearse.report_lines(result)))
    print(f"\n({len(result.outcomes)} replays in {took:.0f} s wall on {args.workers} worker(s))\n")

    measured = bench.tool(bench.MODES["crash"], "ROLLING", 5.0)
    predicted = result.cell("crash", "current")
    difference = None if predicted.seconds is None or measured.steady is None else predicted.seconds - measured.steady
    print(f"crash, tool on ROLLING: rehearsal predicts {rehearse._cell(predicted)}; bench/rollback.py measures "
          f"{measured.steady:g} s to steady on known good; difference "
          + ("-" if difference is None else f"{difference:+g} s (one scheduler pass is 5 s)"))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "rehearsal.png").write_bytes(png(rehearse.chart(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
