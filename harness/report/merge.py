"""The report of a sharded run: every shard's results joined into the report one
run would have written.

Each shard (``harness compare --shard K/N --out DIR``) leaves ``DIR/shard.json``
(``harness.plugin.sharding``) and ``DIR/results/*.jsonl``. ``merge`` checks the
shards are the parts of one run before it writes anything:

- same code, package versions, Python and options (``run`` in shard.json);
- the same N, every shard 1..N given once;
- their tests disjoint and, together, the whole collection (its digest);

then loads every results file into one ``Results`` (``load_results`` gives the
same ``Results`` whatever file measured what, so report.json is byte-identical
to an unsharded run's) and writes the reports and the not-measured list.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

from harness.metrics.collect import SUFFIX, load_results
from harness.metrics.results import ResultsError
from harness.report import ReportPaths, write_reports
from harness.report.not_measured import NOT_MEASURED_FILE, write_not_measured
from harness.report.shards import MANIFEST, MANIFEST_VERSION, Shard, ShardError, collection_digest


# pytest exits after which a shard's results are whole: all passed, or some failed (a failed
# scenario is a measurement missing, listed in the report like the other not-measured ones).
COMPLETE = (0, 1)


class MergeError(Exception):
    """Shards that are not the parts of one run, or unreadable; the message says what to do."""


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise MergeError(f"{directory} has no {MANIFEST}: give the --out directories of "
                         "`harness compare --shard K/N` runs")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("manifest") != MANIFEST_VERSION:
            raise MergeError(f"{path}: manifest version {manifest.get('manifest')!r}, this harness reads "
                             f"{MANIFEST_VERSION}: rerun the shards with this harness")
        manifest["shard"] = Shard.parse(manifest["shard"])
        manifest["run"], manifest["tests"] = dict(manifest["run"]), list(manifest["tests"])
        manifest["ran"], manifest["exitstatus"] = list(manifest["ran"]), int(manifest["exitstatus"])
        str(manifest["run"]["collected"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError, ShardError) as err:
        raise MergeError(f"{path} is not a shard manifest ({err}): rerun that shard") from None
    return manifest


def _first_difference(a: Any, b: Any, where: str = "run") -> tuple[str, Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{where}.{key}")
    return where, a, b


def check(manifests: dict[Path, dict[str, Any]]) -> int:
    """Raise MergeError unless the manifests are the N parts of one run, each run to its end; return N."""
    for directory, manifest in manifests.items():
        if manifest["exitstatus"] not in COMPLETE:
            raise MergeError(f"shard {manifest['shard']} in {directory} ended with pytest exit {manifest['exitstatus']} "
                             "(interrupted, or it could not run): rerun it")
        if sorted(manifest["ran"]) != sorted(manifest["tests"]):
            raise MergeError(f"shard {manifest['shard']} in {directory} ran {len(manifest['ran'])} of its "
                             f"{len(manifest['tests'])} tests to the end (stopped early: -x, a crashed worker?): rerun it")
    (first_dir, first), *others = manifests.items()
    for directory, manifest in others:
        if manifest["run"] != first["run"]:
            key, mine, theirs = _first_difference(first["run"], manifest["run"])
            raise MergeError(f"{first_dir} and {directory} are not shards of one run: {key} is {mine!r} in one "
                             f"and {theirs!r} in the other; rerun every shard from the same commit with the same options")
    totals = {manifest["shard"].total for manifest in manifests.values()}
    if len(totals) > 1:
        raise MergeError(f"shards of different splits (N = {', '.join(map(str, sorted(totals)))}): "
                         "merge the shards of one --shard K/N run")
    total = totals.pop()
    where: dict[int, Path] = {}
    for directory, manifest in manifests.items():
        number = manifest["shard"].number
        if number in where:
            raise MergeError(f"shard {number}/{total} given twice ({where[number]} and {directory}): give each once")
        where[number] = directory
    missing = [f"{n}/{total}" for n in range(1, total + 1) if n not in where]
    if missing:
        raise MergeError(f"shard {', '.join(missing)} missing: pass the directories of all {total} shards")
    tests = [test for manifest in manifests.values() for test in manifest["tests"]]
    if len(tests) != len(set(tests)):
        raise MergeError("a test ran in two shards: the shards split differently; rerun them from one commit")
    if collection_digest(tests) != first["run"]["collected"]:
        raise MergeError("the shards' tests together are not the whole collection: rerun every shard")
    return total


# What a shard's directory holds besides files its scenarios wrote there (the CD
# policies, for instance), which the merged report directory gets too.
SHARD_OWN = {"results", MANIFEST, "report.md", "report.json", "report.html", "rollback-timelines.png"}


def _extra_files(manifests: dict[Path, dict[str, Any]]) -> dict[str, Path]:
    """Files the scenarios wrote beside the results (name -> a shard's copy); two
    shards writing one name with different contents is an error."""
    found: dict[str, Path] = {}
    for directory in manifests:
        for path in sorted(directory.iterdir()):
            if path.name in SHARD_OWN or path.name == NOT_MEASURED_FILE or not path.is_file():
                continue
            if path.name in found and found[path.name].read_bytes() != path.read_bytes():
                raise MergeError(f"{path.name} differs between {found[path.name].parent} and {directory}: "
                                 "rerun the shards from one commit")
            found.setdefault(path.name, path)
    return found


def merge(directories: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str]) -> ReportPaths:
    """Check the shards, then write the merged results and reports into ``out``."""
    dirs = [Path(d).resolve() for d in directories]
    out_dir = Path(out).resolve()
    if not dirs:
        raise MergeError("no shard directories given: harness report merge DIR... --out REPORT")
    if out_dir in dirs:
        raise MergeError(f"--out {out_dir} is one of the shards: write the merged report elsewhere")
    if out_dir.exists() and not out_dir.is_dir():
        raise MergeError(f"--out {out_dir} is a file: give a directory")
    manifests = {directory: read_manifest(directory) for directory in dirs}
    check(manifests)
    reasons: dict[str, str] = {}
    for directory in dirs:
        try:
            reasons.update(json.loads((directory / NOT_MEASURED_FILE).read_text(encoding="utf-8")))
        except FileNotFoundError:
            pass  # a shard run by pytest directly, not `harness compare`
        except json.JSONDecodeError as err:
            raise MergeError(f"{directory / NOT_MEASURED_FILE}: not JSON ({err.msg}); rerun that shard") from None

    extras = _extra_files(manifests)
    # Everything is written beside --out first and moved in at the end: a failure leaves --out as it was.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-merging-", dir=out_dir.parent))
    try:
        (staging / "results").mkdir()
        for directory, manifest in manifests.items():
            for path in sorted((directory / "results").glob(f"*{SUFFIX}")):
                shutil.copyfile(path, staging / "results" / f"shard{manifest['shard'].number}-{path.name}")
        try:
            results = load_results(staging / "results")
        except ResultsError as err:
            raise MergeError(f"the shards' results do not merge: {err}") from None
        for name, source in extras.items():
            shutil.copyfile(source, staging / name)
        paths = write_reports(results, staging)
        write_not_measured(staging, reasons)
        out_dir.mkdir(exist_ok=True)
        # an earlier run's in --out, which this merge may not write again (no chart without timelines)
        shutil.rmtree(out_dir / "results", ignore_errors=True)
        (out_dir / "rollback-timelines.png").unlink(missing_ok=True)
        for entry in staging.iterdir():
            entry.replace(out_dir / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    paths = ReportPaths(out_dir / paths.markdown.name, out_dir / paths.json.name, out_dir / paths.html.name,
                        out_dir / paths.png.name if paths.png is not None else None, paths.table)
    return paths
