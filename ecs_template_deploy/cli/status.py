"""Show the service's deployments, revisions, image per container, known-good revision and rollout progress.

Read-only: DescribeServices, DescribeTaskDefinition per revision in use, the
known-good lookup and, where allowed, ECS's service deployments (the 2024-25
API: ListServiceDeployments, DescribeServiceDeployments, and
DescribeServiceRevisions for the image digests each revision runs).
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .. import knowngood
from ..clock import epoch, iso
from ..errors import EXIT_OK, AccessDeniedError, AwsError, BadInputError, aws_call, shown
from ..release import FAILED, PASSED, RETURNED, RETURNING, Record, services_of
from ..resources import fetch_service
from ..views import ServiceDeployment, family_of, revision_name, revision_of, same_revision, tags_of
from .common import Context, add_service_arguments, at_least_zero, service_or_release

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient

RECENT_EVENTS = 5
RECENT_DEPLOYMENTS = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_service_arguments(parser, or_release="show")
    parser.add_argument("--events", type=at_least_zero, default=RECENT_EVENTS, metavar="N",
                        help=f"how many recent service events to show (default {RECENT_EVENTS})")


def _time(value: Any) -> str:
    at = epoch(value)
    return iso(at) if at is not None else "-"


def service_deployments(ecs: ECSClient, cluster: str, service: str, limit: int = RECENT_DEPLOYMENTS) -> dict[str, Any]:
    """ECS's newest service deployments, with the image digests of their target
    revisions; `{"unavailable": reason}` where the API is denied or absent."""
    try:
        with aws_call("ecs:ListServiceDeployments"):
            listed = ecs.list_service_deployments(cluster=cluster, service=service, maxResults=limit)
        arns = [d["serviceDeploymentArn"] for d in listed.get("serviceDeployments", [])][:limit]
        records = []
        if arns:
            with aws_call("ecs:DescribeServiceDeployments"):
                records = [ServiceDeployment(r) for r in
                           ecs.describe_service_deployments(serviceDeploymentArns=arns).get("serviceDeployments", [])]
        revisions = sorted({r.raw.get("targetServiceRevision", {}).get("arn", "") for r in records} - {""})
        digests: dict[str, dict[str, str]] = {}
        if revisions:
            with aws_call("ecs:DescribeServiceRevisions"):
                described = ecs.describe_service_revisions(serviceRevisionArns=revisions[:20])
            for revision in described.get("serviceRevisions", []):
                digests[revision["serviceRevisionArn"]] = {
                    c.get("containerName", ""): c.get("imageDigest", "") for c in revision.get("containerImages", [])}
    except AccessDeniedError as err:
        return {"unavailable": f"not allowed ({err.action}): grant it to see ECS's service deployments"}
    except AwsError as err:
        return {"unavailable": str(err)}
    order = {arn: i for i, arn in enumerate(arns)}
    out = []
    for r in sorted(records, key=lambda r: order.get(r.arn, 0)):
        target = r.raw.get("targetServiceRevision", {}).get("arn", "")
        out.append({"arn": r.arn, "status": r.status, "lifecycleStage": r.lifecycle_stage or None,
                    "productionShare": r.production_share, "reason": r.rollback_reason or r.status_reason,
                    "startedAt": _time(r.raw.get("startedAt")), "finishedAt": _time(r.raw.get("finishedAt")),
                    "strategy": (r.raw.get("deploymentConfiguration") or {}).get("strategy", "ROLLING"),
                    "digests": digests.get(target, {}),
                    # PAUSE hooks holding it until someone answers (`continue`), with their expiry
                    "pausedBy": [{"hook": h.hook_id, "expiresAt": iso(h.expires_at) if h.expires_at is not None else None,
                                  "timeoutAction": h.timeout_action} for h in r.paused_hooks]})
    return {"deployments": out}


def gather(ecs: ECSClient, cluster: str, service: str, events: int = RECENT_EVENTS) -> dict[str, Any]:
    """Everything `status` shows, as data."""
    snapshot = fetch_service(ecs, cluster, service)
    known = None
    if snapshot.task_definition:
        known = knowngood.find(ecs, family_of(snapshot.task_definition), service_tags=snapshot.tags,
                               service_arn=snapshot.arn)
    revisions: dict[str, dict[str, Any]] = {}
    for arn in [snapshot.task_definition] + [d.task_definition for d in snapshot.deployments]:
        if not arn or arn in revisions:
            continue
        with aws_call("ecs:DescribeTaskDefinition"):
            answer = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        tags = tags_of(answer.get("tags"))
        definition = answer["taskDefinition"]
        revisions[arn] = {
            "revision": revision_name(arn),
            "status": definition.get("status", "ACTIVE"),
            "images": {c["name"]: c.get("image", "") for c in definition.get("containerDefinitions", [])},
            "knownGoodSince": tags.get(knowngood.TAG),
        }
    return {
        "service": snapshot.name,
        "cluster": cluster,
        "taskDefinition": snapshot.task_definition,
        "desiredCount": snapshot.desired_count,
        "runningCount": snapshot.running_count,
        "pendingCount": snapshot.pending_count,
        "stable": snapshot.is_stable,
        # ECS gave up on the deployment the service runs (rolloutState FAILED, no
        # rollback of its own to follow): not "rolling out", whatever the counts say
        "failed": _failed(snapshot),
        "knownGood": {"taskDefinition": known.task_definition, "revision": known.revision,
                      "since": known.marked_at} if known else None,
        "deployments": [
            {**d.progress(), "taskDefinition": d.task_definition, "reason": d.rollout_state_reason,
             "createdAt": _time(d.created_at)}
            for d in snapshot.deployments
        ],
        "revisions": revisions,
        "serviceDeployments": service_deployments(ecs, cluster, service),
        "events": [{"at": _time(e.get("createdAt")), "message": e.get("message", "")}
                   for e in snapshot.raw.get("events", [])[:events]],
    }


def _failed(snapshot: Any) -> str | None:
    """Why ECS failed the PRIMARY deployment, if it did and nothing newer is on its way."""
    primary = snapshot.primary
    if primary is None or not primary.has_failed:
        return None
    return primary.rollout_state_reason or "ECS marked it FAILED"


def render(status: dict[str, Any]) -> list[str]:
    known = status["knownGood"]
    lines = [
        f"service {status['service']} in {status['cluster']}: {revision_name(status['taskDefinition'])}, "
        f"{status['runningCount']}/{status['desiredCount']} running"
        + (f", {status['pendingCount']} pending" if status["pendingCount"] else "")
        + (" (stable)" if status["stable"] else f" (its deployment FAILED: {status['failed']})" if status.get("failed")
           else " (rolling out)"),
        f"known good: {known['revision']} (since {known['since']})" if known else "known good: none recorded",
        "deployments:",
    ]
    for d in status["deployments"]:
        lines.append(
            f"  {d['status']:<8} {d['revision']:<16} {(d['rollout'] or '-').lower():<12} "
            f"{d['running']}/{d['desired']} running, {d['pending']} pending, {d['failed']} failed  "
            f"created {d['createdAt']}  {d['id']}"
        )
    lines.append("revisions:")
    for info in status["revisions"].values():
        images = ", ".join(f"{name}={image}" for name, image in info["images"].items())
        mark = f"known good since {info['knownGoodSince']}" if info["knownGoodSince"] else "not known good"
        inactive = " INACTIVE" if info["status"] != "ACTIVE" else ""
        lines.append(f"  {info['revision']:<16} {images}  [{mark}]{inactive}")
    history = status["serviceDeployments"]
    if "unavailable" in history:
        lines.append(f"service deployments: unavailable: {history['unavailable']}")
    elif history["deployments"]:
        lines.append("service deployments (ECS's record, newest first):")
        for d in history["deployments"]:
            stage = f" {d['lifecycleStage']}" if d["lifecycleStage"] else ""
            share = f" {d['productionShare']:g}% production" if d["productionShare"] is not None else ""
            digests = ", ".join(f"{name}@{digest[:19]}" for name, digest in d["digests"].items() if digest)
            reason = f"  ({d['reason']})" if d["reason"] else ""
            lines.append(f"  {d['status']:<20} {d['strategy']:<10}{stage}{share}  started {d['startedAt']}"
                         + (f"  {digests}" if digests else "") + reason)
            for pause in d.get("pausedBy") or []:
                lines.append(f"    paused by PAUSE hook {pause['hook']} until {pause['expiresAt'] or '?'} (then "
                             f"{pause['timeoutAction'] or 'its timeout action'}): answer with `ecs-template-deploy "
                             f"continue --cluster {status['cluster']} --service {status['service']}` [--rollback]")
    if status["events"]:
        lines.append("recent events:")
        lines.extend(f"  {e['at']} {e['message']}" for e in status["events"])
    return lines


def release_status(ecs: ECSClient, cluster: str, release: str) -> dict[str, Any]:
    """Where each service a release changed stands, from the records it wrote on them.
    The release is known good only when every one of them passed its bake and runs,
    steady, the revision it deployed, still marked known good."""
    services = services_of(ecs, cluster, release)
    if not services:
        raise BadInputError(f"no service of cluster {shown(cluster)} records release {shown(release)}: check the id "
                            "(the release's output names it) and --cluster")
    rows: list[dict[str, Any]] = []  # one JSON object per service
    for service in services:
        record = Record.read(service.tags)
        running = service.steady_on
        known = knowngood.find(ecs, family_of(service.task_definition), service_tags=service.tags,
                               service_arn=service.arn) if service.task_definition else None
        on_release = bool(running) and record is not None and revision_name(running) == record.to
        rows.append({"service": service.name, "wave": record.wave if record else None,
                     "state": record.state if record else None, "revision": record.to if record else None,
                     "from": (record.came_from or None) if record else None,
                     "running": revision_name(service.task_definition), "steady": bool(running),
                     "knownGood": known.revision if known else None,
                     "onRelease": on_release,
                     "releaseKnownGood": on_release and record is not None and record.state == PASSED
                     and known is not None and same_revision(known.task_definition, running)})
    rows.sort(key=lambda row: (row["wave"] or 0, row["service"]))
    for row in rows:
        later = revision_of(row["running"]) or 0
        if row["revision"] and family_of(row["running"]) == family_of(row["revision"]) and \
                later > (revision_of(row["revision"]) or 0):
            row["state"] = "superseded"  # a deploy after the release put a newer revision on it
    expected = max((record.of for record in map(Record.read, (s.tags for s in services)) if record), default=0)
    complete = len(rows) >= expected
    good = complete and all(row["releaseKnownGood"] for row in rows)
    states = {row["state"] for row in rows}
    state = ("known good" if good else "superseded" if "superseded" in states else
             "rolled back" if states <= {RETURNED} else "failed" if states & {FAILED, RETURNED, RETURNING} else
             "in progress" if complete else f"in progress ({len(rows)} of its {expected} services started)")
    return {"release": release, "cluster": cluster, "state": state, "knownGood": good, "services": rows,
            "servicesInRelease": expected or None}


def render_release(status: dict[str, Any]) -> list[str]:
    lines = [f"release {status['release']} in {status['cluster']}: {status['state']}"]
    for row in status["services"]:
        steady = "steady" if row["steady"] else "not steady"
        lines.append(f"  wave {row['wave']}  {row['service']:<20} {row['state'] or '-':<10} deployed "
                     f"{row['revision'] or '-'} (from {row['from'] or '?'}); runs {row['running']} ({steady}); known "
                     f"good: {row['knownGood'] or 'none recorded'}")
    return lines


def run(args: argparse.Namespace, context: Context) -> int:
    service_or_release(args)
    if args.release is not None:
        status, lines = release_status(context.ecs, args.cluster, args.release), render_release
    else:
        status, lines = gather(context.ecs, args.cluster, args.service, args.events), render
    if context.json:
        context.print_json(status)
    else:
        for line in lines(status):
            context.print(line)
    return EXIT_OK
