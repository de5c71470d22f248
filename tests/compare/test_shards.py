"""The matrix over several machines: `--shard K/N` splits the scenarios (an
approach's scenarios together), `harness report merge` joins the shards' results
into the report one run writes, and refuses shards that are not parts of one run."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import commands
from harness.commands.compare import CompareError, add_arguments, pytest_args
from harness.plugin.scheduling import approach_in_node_id
from harness.plugin.sharding import assign
from harness.report.shards import MANIFEST, Shard, ShardError, collection_digest
from harness.report.merge import MergeError, check, merge

ROOT = Path(__file__).resolve().parents[2]
ENV = {k: v for k, v in os.environ.items() if k != "HARNESS_REQUIRE_TERRAFORM"}


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize("text, shard", [("1/2", Shard(1, 2)), ("2/2", Shard(2, 2)), (" 3 / 5 ", Shard(3, 5)),
                                         ("1/1", Shard(1, 1))])
def test_a_shard_is_k_of_n(text, shard) -> None:
    assert Shard.parse(text) == shard and str(shard) == f"{shard.number}/{shard.total}"


@pytest.mark.parametrize("text, message", [("2", "is not K/N"), ("0/2", "between 1 and N"), ("3/2", "between 1 and N"),
                                           ("1/0", "between 1 and N"), ("a/b", "is not K/N")])
def test_a_bad_shard_is_refused_with_an_example(text, message) -> None:
    with pytest.raises(ShardError, match=message):
        Shard.parse(text)
    with pytest.raises(CompareError, match=message):
        pytest_args(parse("--shard", text))


def test_compare_passes_the_shard_to_pytest_and_report_is_a_command() -> None:
    argv = pytest_args(parse("--shard", "2/3"))
    assert argv[argv.index("--shard") + 1] == "2/3"
    assert commands.COMMANDS["report"] == "harness.commands.report"


def test_units_go_heaviest_first_to_the_lightest_shard() -> None:
    weights = {"approach-4a": 120, "approach-4b": 120, "approach-1": 60, "approach-2": 60, "approach-5": 60,
               "t1": 1, "t2": 1}
    placed = assign(weights, 2)
    loads = {n: sum(w for unit, w in weights.items() if placed[unit] == n) for n in (1, 2)}
    assert placed["approach-4a"] != placed["approach-4b"]  # the two heaviest apart
    assert abs(loads[1] - loads[2]) <= 60  # no worse than the largest unit beyond the first two
    assert assign(dict(reversed(list(weights.items()))), 2) == placed  # the same whatever the order given
    assert set(assign(weights, 9).values()) <= set(range(1, 10))


def collect(*argv: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "scenarios", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-n", "0", *argv], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_shards_split_the_real_collection_keeping_each_approach_together() -> None:
    everything = collect()
    shards = [collect("--shard", f"{k}/3") for k in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(everything)  # each test in exactly one shard
    assert all(shards)  # none empty
    homes: dict[str, set[int]] = {}
    for number, tests in enumerate(shards, start=1):
        for test in tests:
            approach = approach_in_node_id(test)
            if approach is not None:
                homes.setdefault(approach.name, set()).add(number)
    assert len(homes) >= 6 and all(len(where) == 1 for where in homes.values()), homes


def compare(out: Path, *argv: str, workers: str = "0") -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--no-terraform", "-n", workers, "--out", str(out),
         "-k", "(crash-at-once-rolling or test_explicit_version or test_cd_needs) and (app-repo or template)", *argv],
        cwd=out.parent, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_two_shards_merged_are_the_report_of_one_run(tmp_path) -> None:
    compare(tmp_path / "whole")
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "report.json").write_text("{}")  # an earlier whole run's, in the same --out
    compare(tmp_path / "s1", "--shard", "1/2")
    compare(tmp_path / "s2", "--shard", "2/2", workers="2")  # under xdist: the workers send the collection back
    assert not (tmp_path / "s1" / "report.json").exists()  # a part writes no report that reads like a whole
    manifests = [json.loads((tmp_path / s / MANIFEST).read_text()) for s in ("s1", "s2")]
    assert all(m["tests"] and sorted(m["ran"]) == m["tests"] and m["exitstatus"] == 0 for m in manifests), manifests
    assert commands.main(["report", "merge", str(tmp_path / "s2"), str(tmp_path / "s1"), "--out", str(tmp_path / "merged")]) == 0
    for name in ("report.json", "report.md", "report.html", "not-measured.json", "cd-policy-template.json",
                 "cd-policy-app-repo.json"):
        assert (tmp_path / "merged" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def manifest(number: int, total: int, tests: list[str], everything: list[str], **options) -> dict:
    digest = collection_digest(everything)
    return {"manifest": 2, "shard": Shard(number, total), "tests": tests, "ran": list(tests), "exitstatus": 0,
            "run": {"code": "c0de", "collected": digest, "options": {"backend": "moto", **options}}}


def test_merge_refuses_what_is_not_one_run() -> None:
    a, b = Path("/shards/a"), Path("/shards/b")
    every = ["t1", "t2", "t3"]
    assert check({a: manifest(1, 2, ["t1"], every), b: manifest(2, 2, ["t2", "t3"], every)}) == 2
    cases = [
        ({a: manifest(1, 2, ["t1"], every), b: manifest(2, 2, ["t2", "t3"], every, backend="server")},
         r"run\.options\.backend is 'moto' in one and 'server' in the other"),
        ({a: manifest(1, 2, ["t1"], every), b: manifest(2, 3, ["t2", "t3"], every)}, "different splits"),
        ({a: manifest(1, 2, ["t1"], every), b: manifest(1, 2, ["t2", "t3"], every)}, "shard 1/2 given twice"),
        ({a: manifest(1, 3, ["t1"], every), b: manifest(3, 3, ["t2", "t3"], every)}, "shard 2/3 missing"),
        ({a: manifest(1, 2, ["t1", "t2"], every), b: manifest(2, 2, ["t2", "t3"], every)}, "a test ran in two shards"),
        ({a: manifest(1, 2, ["t1"], every), b: manifest(2, 2, ["t2"], every)}, "not the whole collection"),
    ]
    cut_short = manifest(2, 2, ["t2", "t3"], every)
    cut_short["ran"] = ["t2"]
    interrupted = {**manifest(2, 2, ["t2", "t3"], every), "exitstatus": 2}
    cases += [({a: manifest(1, 2, ["t1"], every), b: cut_short}, "ran 1 of its 2 tests to the end"),
              ({a: manifest(1, 2, ["t1"], every), b: interrupted}, "ended with pytest exit 2")]
    for manifests, message in cases:
        with pytest.raises(MergeError, match=message):
            check(manifests)


def test_merge_of_a_directory_that_is_no_shard_writes_nothing(tmp_path, capsys) -> None:
    (tmp_path / "plain").mkdir()
    out = tmp_path / "merged"
    assert commands.main(["report", "merge", str(tmp_path / "plain"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"has no {MANIFEST}" in err
    assert not out.exists()
    with pytest.raises(MergeError, match="is one of the shards"):
        merge([tmp_path / "plain"], tmp_path / "plain")
    (tmp_path / "plain" / MANIFEST).write_text("[]")  # not an object: one line, no traceback
    assert commands.main(["report", "merge", str(tmp_path / "plain"), "--out", str(out)]) == 2
    assert "is not a shard manifest" in capsys.readouterr().err and not out.exists()
