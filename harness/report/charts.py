"""Timeline charts of a failing deploy and its rollback, drawn with matplotlib:
running tasks per image as stacked steps, the healthy count as a line, the
desired count dashed, and vertical lines at the marked moments.

SVG for report.html (inline, text as paths so no font is needed to view it) and
PNG for the README. The Agg backend is forced: no display, same output on CI.
SVG output is deterministic (fixed hash salt, no date).
"""
from __future__ import annotations

import io
import textwrap
from typing import Any, Iterable

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.typing import RcKeyType  # noqa: E402

from harness.metrics.results import Timeline  # noqa: E402

MARKER_COLOURS = {"deploy": "#1f77b4", "failure": "#d62728", "decision": "#ff7f0e", "recovery": "#2ca02c"}
# Known-good first: green-ish, then the failing image red-ish, then others.
IMAGE_COLOURS = ("#8fd19e", "#f4a3a3", "#a6c8ff", "#ffd58a", "#d0b3ff", "#b3e6e6")

_RC: dict[RcKeyType, Any] = {"svg.hashsalt": "harness-report", "svg.fonttype": "path", "font.size": 9}


def _draw(ax, timeline: Timeline, title: str, compact: bool = False, until: float | None = None) -> Any:
    """Draws into ``ax``; returns the traffic axis when there is one. ``until``: hold the
    last state to there (panels sharing a time axis: a timeline that ends early would
    look as if the service vanished)."""
    images = timeline.all_images()
    times = [s.t for s in timeline.samples]
    share = None
    if times:
        # Hold the last state a little so a final change is visible.
        end = max(times[-1] + max(5.0, 0.05 * (times[-1] - times[0])), until or 0.0)
        xs = times + [end]
        bottom = [0] * len(xs)
        for index, image in enumerate(images):
            counts = [s.tasks.get(image, 0) for s in timeline.samples]
            counts.append(counts[-1])
            top = [b + c for b, c in zip(bottom, counts, strict=True)]
            ax.fill_between(xs, bottom, top, step="post", color=IMAGE_COLOURS[index % len(IMAGE_COLOURS)],
                            label=f"running {image}", linewidth=0)
            bottom = top
        healthy = [s.healthy for s in timeline.samples] + [timeline.samples[-1].healthy]
        ax.step(xs, healthy, where="post", color="black", linewidth=1.4, label="healthy")
        if timeline.desired is not None:
            ax.axhline(timeline.desired, color="grey", linestyle="--", linewidth=0.8, label="desired")
        share = _traffic(ax, timeline, images, xs, compact)
    top_y = max([s.running for s in timeline.samples] + [timeline.desired or 0, 1])
    span = max([s.t for s in timeline.samples] + [m.t for m in timeline.markers] + [1.0])
    for marker in timeline.markers:
        colour = MARKER_COLOURS.get(marker.kind, "#7f7f7f")
        ax.axvline(marker.t, color=colour, linewidth=1.1, linestyle=":", label=marker.kind if compact else "_nolegend_")
    if not compact:  # small panels: the figure's legend names the moments, labels would cover the title
        # Moments at one instant (failure and decision in one scheduler pass) share one label,
        # side-by-side labels of moments close together.
        placed: list[float] = []
        for moment, kinds in _moments(timeline, 0.01 * span):
            crowd = sum(1 for t in placed if abs(t - moment) < 0.03 * span)
            placed.append(moment)
            ax.annotate(f"{' + '.join(kinds)} {moment:.0f}s", (moment, top_y * 1.02), xytext=(-1 + 9 * crowd, 0),
                        textcoords="offset points", rotation=90, fontsize=7,
                        color=MARKER_COLOURS.get(kinds[0], "#7f7f7f"), ha="right", va="bottom", annotation_clip=False)
    # headroom above the tasks for the moments' labels; small panels have none
    ax.set_ylim(0, top_y * (1.12 if compact else 1.45))
    ax.set_title(title, fontsize=8 if compact else 10, loc="left")
    if compact:  # small multiples: one legend and axis labels for the whole figure
        return share
    ax.set_xlabel("seconds since the failing deploy")  # simulated, or on the wall clock: the report says which
    ax.set_ylabel("tasks")
    ax.legend(loc="upper right", fontsize=7, ncol=2, frameon=False)
    return share


def _moments(timeline: Timeline, within: float) -> list[tuple[float, list[str]]]:
    """The marked moments, those ``within`` seconds of the one before merged: (t, kinds)."""
    merged: list[tuple[float, list[str]]] = []
    for marker in sorted(timeline.markers, key=lambda m: m.t):
        if merged and marker.t - merged[-1][0] <= within:
            merged[-1][1].append(marker.kind)
        else:
            merged.append((marker.t, [marker.kind]))
    return merged


TRAFFIC_COLOURS = ("#2f7d43", "#b22222", "#2a5db0", "#b8860b", "#6a3d9a", "#1f7a7a")


def _share(sample: Any, image: str) -> float:
    """Production traffic % to an image. Outside a traffic shift the load balancer
    spreads requests over every running task, so the share follows the task count."""
    if sample.traffic:
        return sample.traffic.get(image, 0.0)
    running = sum(sample.tasks.values())
    return 100.0 * sample.tasks.get(image, 0) / running if running else 0.0


def _traffic(ax, timeline: Timeline, images: list[str], xs: list[float], compact: bool = False) -> Any:
    """Blue/green family: the share of production traffic per image, on its own axis."""
    if not any(s.traffic for s in timeline.samples):
        return None
    share = ax.twinx()
    for index, image in enumerate(images):
        values = [_share(s, image) for s in timeline.samples]
        if not any(values):
            continue
        share.step(xs, values + values[-1:], where="post", color=TRAFFIC_COLOURS[index % len(TRAFFIC_COLOURS)],
                   linewidth=1.2, linestyle="-.", label=f"production traffic to {image}")
    share.set_ylim(0, 145)  # the same headroom as the task axis, for the labels
    if compact:
        share.set_yticks([0, 50, 100])
        return share
    share.set_ylabel("production traffic %")
    share.legend(loc="upper left", fontsize=7, frameon=False)
    previous = ""
    for sample in timeline.samples:  # where each lifecycle stage begins, along the bottom
        if sample.stage and sample.stage != previous:
            share.annotate(sample.stage.lower().replace("_", " "), (sample.t, 2), rotation=90, fontsize=5,
                           color="#555555", ha="left", va="bottom")
        previous = sample.stage
    return share


def timeline_figure(timeline: Timeline, title: str) -> Figure:
    with plt.rc_context(_RC):
        fig = Figure(figsize=(7.5, 3.2))
        _draw(fig.subplots(), timeline, title)
        fig.tight_layout()
    return fig


def timelines_figure(timelines: Iterable[tuple[str, Timeline]]) -> Figure:
    """Small multiples, one panel per distinct timeline, for the README: approaches whose
    rollbacks went alike, moment for moment, share one panel that names them all (six
    identical panels would only say so six times)."""
    groups: list[tuple[list[str], Timeline]] = []
    for title, timeline in timelines:
        same = next((names for names, drawn in groups if drawn == timeline), None)
        if same is not None:
            same.append(title)
        else:
            groups.append(([title], timeline))
    if not groups:
        raise ValueError("no timelines to draw: no approach measured a rollback")
    with plt.rc_context(_RC):
        fig = Figure(figsize=(7.5, 2.6 * len(groups)))
        axes = fig.subplots(len(groups), 1, squeeze=False, sharex=True)
        for ax, (names, timeline) in zip(axes[:, 0], groups, strict=True):
            title = names[0] if len(names) == 1 else textwrap.fill(
                f"{', '.join(names)}: the same timeline", 95)
            _draw(ax, timeline, title)
        fig.tight_layout()
    return fig


def mode_figure(panels: list[list[tuple[str, Timeline | None]]], columns: list[str]) -> Figure:
    """Small multiples for one failure mode: a row per approach, a column per
    strategy, every panel on the same time axis, so a glance compares how long
    each approach took and how low its healthy count fell. A panel without a
    timeline (not measured) says so."""
    if not panels or not columns:
        raise ValueError("no panels to draw")
    with plt.rc_context(_RC):
        fig = Figure(figsize=(3.9 * len(columns) + 0.4, 1.55 * len(panels) + 0.9))
        axes = fig.subplots(len(panels), len(columns), squeeze=False, sharex=True, sharey=True)
        handles: dict[str, Any] = {}
        # every panel holds its last state to the shared axis's end: a rollout the harness
        # stopped watching early (nothing recovered it) must not look as if the service vanished
        until = max((s.t for row in panels for _, tl in row if tl is not None for s in tl.samples), default=0.0)
        for r, row in enumerate(panels):
            for c, (title, timeline) in enumerate(row):
                ax = axes[r][c]
                if timeline is None or not timeline.samples:
                    ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes, color="#999999")
                    ax.set_title(title, fontsize=8, loc="left")
                    continue
                share = _draw(ax, timeline, title, compact=True, until=until)
                for axis in (ax, share) if share is not None else (ax,):
                    for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
                        handles.setdefault(label.replace("running ", "tasks of "), handle)
        for c, name in enumerate(columns):
            axes[-1][c].set_xlabel(f"{name}: seconds since the failing deploy", fontsize=8)
        fig.legend(list(handles.values()), list(handles), loc="upper center", ncol=min(6, max(1, len(handles))),
                   fontsize=7, frameon=False)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


def svg(fig: Figure) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog, no date)."""
    out = io.StringIO()
    with plt.rc_context(_RC):
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    return text[text.index("<svg"):]


def png(fig: Figure, dpi: int = 110) -> bytes:
    out = io.BytesIO()
    with plt.rc_context(_RC):
        fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()
