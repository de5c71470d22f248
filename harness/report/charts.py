"""Timeline charts of a failing deploy and its rollback, drawn with matplotlib:
running tasks per image as stacked steps, the healthy count as a line, the
desired count dashed, and vertical lines at the marked moments.

SVG for report.html (inline, text as paths so no font is needed to view it) and
PNG for the README. The Agg backend is forced: no display, same output on CI.
SVG output is deterministic (fixed hash salt, no date).
"""
from __future__ import annotations

import io
from typing import Iterable

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402

from harness.metrics.results import Timeline  # noqa: E402

MARKER_COLOURS = {"deploy": "#1f77b4", "failure": "#d62728", "decision": "#ff7f0e", "recovery": "#2ca02c"}
# Known-good first: green-ish, then the failing image red-ish, then others.
IMAGE_COLOURS = ("#8fd19e", "#f4a3a3", "#a6c8ff", "#ffd58a", "#d0b3ff", "#b3e6e6")

_RC = {"svg.hashsalt": "harness-report", "svg.fonttype": "path", "font.size": 9}


def _draw(ax, timeline: Timeline, title: str) -> None:
    images = timeline.all_images()
    times = [s.t for s in timeline.samples]
    if times:
        # Hold the last state a little so a final change is visible.
        end = times[-1] + max(5.0, 0.05 * (times[-1] - times[0]))
        xs = times + [end]
        bottom = [0] * len(xs)
        for index, image in enumerate(images):
            counts = [s.tasks.get(image, 0) for s in timeline.samples]
            counts.append(counts[-1])
            top = [b + c for b, c in zip(bottom, counts)]
            ax.fill_between(xs, bottom, top, step="post", color=IMAGE_COLOURS[index % len(IMAGE_COLOURS)],
                            label=f"running {image}", linewidth=0)
            bottom = top
        healthy = [s.healthy for s in timeline.samples] + [timeline.samples[-1].healthy]
        ax.step(xs, healthy, where="post", color="black", linewidth=1.4, label="healthy")
        if timeline.desired is not None:
            ax.axhline(timeline.desired, color="grey", linestyle="--", linewidth=0.8, label="desired")
        _traffic(ax, timeline, images, xs)
    top_y = max([s.running for s in timeline.samples] + [timeline.desired or 0, 1])
    span = max([s.t for s in timeline.samples] + [m.t for m in timeline.markers] + [1.0])
    placed: list[float] = []
    for marker in timeline.markers:
        colour = MARKER_COLOURS.get(marker.kind, "#7f7f7f")
        ax.axvline(marker.t, color=colour, linewidth=1.1, linestyle=":")
        # Moments close together (failure and decision in one scheduler pass) get side-by-side labels.
        crowd = sum(1 for t in placed if abs(t - marker.t) < 0.03 * span)
        placed.append(marker.t)
        ax.annotate(f"{marker.kind} {marker.t:.0f}s", (marker.t, top_y * 1.02), xytext=(-1 + 9 * crowd, 0),
                    textcoords="offset points", rotation=90, fontsize=7, color=colour, ha="right", va="bottom",
                    annotation_clip=False)
    ax.set_ylim(0, top_y * 1.45)
    ax.set_xlabel("seconds since the failing deploy (simulated)")
    ax.set_ylabel("tasks")
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(loc="upper right", fontsize=7, ncol=2, frameon=False)


TRAFFIC_COLOURS = ("#2f7d43", "#b22222", "#2a5db0", "#b8860b", "#6a3d9a", "#1f7a7a")


def _traffic(ax, timeline: Timeline, images: list[str], xs: list[float]) -> None:
    """Blue/green family: the share of production traffic per image, on its own axis."""
    if not any(s.traffic for s in timeline.samples):
        return
    share = ax.twinx()
    for index, image in enumerate(images):
        values = [s.traffic.get(image, 0.0) for s in timeline.samples]
        if not any(values):
            continue
        share.step(xs, values + values[-1:], where="post", color=TRAFFIC_COLOURS[index % len(TRAFFIC_COLOURS)],
                   linewidth=1.2, linestyle="-.", label=f"production traffic to {image}")
    share.set_ylim(0, 145)  # the same headroom as the task axis, for the labels
    share.set_ylabel("production traffic %")
    share.legend(loc="upper left", fontsize=7, frameon=False)
    previous = ""
    for sample in timeline.samples:  # where each lifecycle stage begins, along the bottom
        if sample.stage and sample.stage != previous:
            share.annotate(sample.stage.lower().replace("_", " "), (sample.t, 2), rotation=90, fontsize=5,
                           color="#555555", ha="left", va="bottom")
        previous = sample.stage


def timeline_figure(timeline: Timeline, title: str) -> Figure:
    with plt.rc_context(_RC):
        fig = Figure(figsize=(7.5, 3.2))
        _draw(fig.subplots(), timeline, title)
        fig.tight_layout()
    return fig


def timelines_figure(timelines: Iterable[tuple[str, Timeline]]) -> Figure:
    """Small multiples, one panel per approach, for the README."""
    items = list(timelines)
    if not items:
        raise ValueError("no timelines to draw: no approach measured a rollback")
    with plt.rc_context(_RC):
        fig = Figure(figsize=(7.5, 2.6 * len(items)))
        axes = fig.subplots(len(items), 1, squeeze=False, sharex=True)
        for ax, (title, timeline) in zip(axes[:, 0], items):
            _draw(ax, timeline, title)
        fig.tight_layout()
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
