"""The whole comparison matrix, once, and where its time goes.

    python3 dev.py bench compare [-n 2] [--no-terraform-only] [--shards 2]

Runs `harness compare` twice on this machine: with Terraform (the full matrix)
and with ``--no-terraform`` (the moto-only columns), and prints

- the wall time of each run (the goals: under 5 minutes with Terraform on 2
  workers, under 60 s without);
- per approach, summed over its scenarios: wall seconds, of which Terraform
  (every init/apply/plan/show the scenarios and CD ran), the simulator
  (virtual time advancing: scheduler passes, task lifecycles) and the rest,
  harness overhead (boto3 over HTTP, moto, building stand-ins, measuring).

- the peak resident memory of each worker and of its long-lived AWS provider;
- with ``--shards N`` (default 2): the same run as N shards one after the
  other plus ``harness report merge``: their summed time against the unsharded
  run (the goal: within 1.15x), the longest shard, and whether the merged
  report.json is byte-identical to the unsharded one;
- per Terraform configuration and command (init, apply, plan, show,
  output): how many ran, their wall and CPU seconds (from the runner's
  ``HARNESS_TF_COMMAND_LOG``): which commands to cut to go faster.

Per-approach sums add the workers' time, so they exceed the wall time of a
parallel run. Numbers come from the scenarios' own timing records
(timing lines in ``<out>/results/*.jsonl``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from harness.approaches import rank
from harness.metrics.collect import load_timings

COMMAND_LOG = "terraform-commands.jsonl"


def command_log(out: Path) -> Path:
    """Beside the run's --out, not in it: a shard's directory holds only what the merge reads."""
    return out.parent / f"{out.name}-{COMMAND_LOG}"


def run_compare(out: Path, workers: str, no_terraform: bool, shard: str | None = None) -> tuple[float, int]:
    argv = [sys.executable, "-m", "harness", "compare", "--out", str(out), "-n", workers]
    if no_terraform:
        argv.append("--no-terraform")
    if shard is not None:
        argv += ["--shard", shard]
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HARNESS_TF_COMMAND_LOG": str(command_log(out))}
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started, done.returncode


def print_commands(out: Path) -> None:
    path = command_log(out)
    if not path.exists():
        return
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for line in path.read_text().splitlines():
        record = json.loads(line)
        row = totals[(record["config"], record["command"])]
        row[0] += 1
        row[1] += record["wall"]
        row[2] += record["cpu"]
    print(f"\n{'Terraform configuration':<34}{'command':<9}{'runs':>6}{'wall s':>9}{'avg s':>8}{'CPU s':>8}")
    for (config, command), (runs, wall, cpu) in sorted(totals.items(), key=lambda item: -item[1][1]):
        print(f"{config:<34}{command:<9}{int(runs):>6}{wall:>9.1f}{wall / runs:>8.1f}{cpu:>8.1f}")
    runs = sum(int(v[0]) for v in totals.values())
    wall = sum(v[1] for v in totals.values())
    cpu = sum(v[2] for v in totals.values())
    print(f"{'total':<43}{runs:>6}{wall:>9.1f}{'':>8}{cpu:>8.1f}")


def print_memory(out: Path) -> None:
    """Per worker: its own peak RSS and its long-lived providers' (from the timing records)."""
    rows = []
    for path in sorted((out / "results").glob("*.jsonl")):
        timings = [json.loads(line)["timing"] for line in path.read_text().splitlines() if '"timing"' in line]
        if timings:
            rows.append((path.stem, max(t.get("rss", 0) for t in timings), max(t.get("provider_rss", 0) for t in timings)))
    if not rows:
        return
    mib = 1024 * 1024
    print(f"\n{'worker':<10}{'peak RSS MiB':>14}{'provider RSS MiB':>18}{'together MiB':>14}")
    for worker, rss, provider in rows:
        print(f"{worker:<10}{rss / mib:>14.0f}{provider / mib:>18.0f}{(rss + provider) / mib:>14.0f}")


def run_shards(tmp: Path, title: str, workers: str, no_terraform: bool, total: int, whole: tuple[Path, float]) -> None:
    """Shards 1..total one after the other, then `harness report merge`: their summed
    time against the unsharded run's, and whether the merged report.json is the same."""
    walls = []
    dirs = []
    for number in range(1, total + 1):
        out = tmp / f"{'moto' if no_terraform else 'full'}-shard{number}"
        wall, code = run_compare(out, workers, no_terraform, f"{number}/{total}")
        walls.append(wall)
        dirs.append(out)
        print(f"{title}, shard {number}/{total}: {wall:.1f} s wall (exit {code})")
    merged = tmp / f"{'moto' if no_terraform else 'full'}-merged"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness", "report", "merge", *map(str, dirs), "--out", str(merged)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    merge_wall = time.perf_counter() - started
    out, wall = whole
    same = (done.returncode == 0 and (merged / "report.json").read_bytes() == (out / "report.json").read_bytes())
    differences = [] if same or done.returncode else json_differences(
        json.loads((out / "report.json").read_text()), json.loads((merged / "report.json").read_text()))
    print(f"{title}: {total} shards {sum(walls):.1f} s + merge {merge_wall:.1f} s = "
          f"{(sum(walls) + merge_wall) / wall:.2f}x the unsharded {wall:.1f} s; longest shard {max(walls):.1f} s "
          f"({max(walls) / wall:.2f}x); merged report.json "
          + ("byte-identical" if same else f"DIFFERS (merge exit {done.returncode}: {done.stderr.strip()[-300:]})"))
    for path, whole, parts in differences[:8]:
        print(f"  {path}: {whole!r} unsharded, {parts!r} merged")
    if len(differences) > 8:
        print(f"  ... {len(differences) - 8} more")


def json_differences(a: object, b: object, path: str = "$") -> list[tuple[str, object, object]]:
    """Where two JSON documents differ (for a run with Terraform: its measured wall seconds)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b)) for d in json_differences(a.get(key), b.get(key), f"{path}.{key}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in json_differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


def breakdown(out: Path) -> dict[str, dict[str, float]]:
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for record in load_timings(out / "results"):
        row = totals[record["approach"]]
        row["scenarios"] += 1
        for key in ("wall", "terraform", "simulation"):
            row[key] += record[key]
    return totals


def print_breakdown(title: str, wall: float, code: int, totals: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}: {wall:.1f} s wall (exit {code})")
    print(f"{'approach':<22}{'scenarios':>10}{'wall s':>10}{'terraform s':>13}{'simulator s':>13}{'overhead s':>12}")
    names = sorted(totals, key=lambda name: (rank(name), name))
    grand: dict[str, float] = defaultdict(float)
    for name in names:
        row = totals[name]
        overhead = row["wall"] - row["terraform"] - row["simulation"]
        print(f"{name:<22}{int(row['scenarios']):>10}{row['wall']:>10.1f}{row['terraform']:>13.1f}"
              f"{row['simulation']:>13.2f}{overhead:>12.1f}")
        for key in ("scenarios", "wall", "terraform", "simulation"):
            grand[key] += row[key]
    overhead = grand["wall"] - grand["terraform"] - grand["simulation"]
    print(f"{'total':<22}{int(grand['scenarios']):>10}{grand['wall']:>10.1f}{grand['terraform']:>13.1f}"
          f"{grand['simulation']:>13.2f}{overhead:>12.1f}")
    if grand["wall"]:
        print(f"shares of scenario time: Terraform {grand['terraform'] / grand['wall']:.0%}, simulator "
              f"{grand['simulation'] / grand['wall']:.1%}, harness overhead {overhead / grand['wall']:.0%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--workers", default="2", help="pytest-xdist workers (default 2)")
    parser.add_argument("--no-terraform-only", action="store_true", help="skip the run with Terraform")
    parser.add_argument("--shards", type=int, default=2, metavar="N",
                        help="after each run, run it again as N shards one after the other plus the merge (0: not)")
    args = parser.parse_args(argv)
    try:
        load = os.getloadavg()[0]
        print(f"load average before the runs: {load:.1f} on {os.cpu_count()} CPUs")
    except OSError:
        pass
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        runs = [("moto-only (--no-terraform)", True)]
        if not args.no_terraform_only:
            runs.insert(0, ("full matrix, Terraform really running", False))
        walls = {}
        for title, no_terraform in runs:
            out = Path(tmp) / ("moto" if no_terraform else "full")
            wall, code = run_compare(out, args.workers, no_terraform)
            walls[title] = wall
            print_breakdown(title, wall, code, breakdown(out))
            print_commands(out)
            print_memory(out)
            if args.shards > 0:
                run_shards(Path(tmp), title, args.workers, no_terraform, args.shards, (out, wall))
    print()
    for title, wall in walls.items():
        print(f"{title}: {wall:.1f} s wall with -n {args.workers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
