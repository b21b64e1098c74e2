"""Labels that do not overlap: a deterministic greedy placement for map labels.

Each label is tried at candidate spots around its anchor, nearest first: eight directions
(north-east, east, south-east, north-west, west, south-west, north, south) at growing
distances (:data:`OFFSETS_PT`). A spot is taken when the label's box (its text plus the
rounded box drawn behind it) lies inside the axes and overlaps no label placed before it, no
marker of the map (``avoid_xy``, each a disc of ``marker_radius_pt``) and no other box
(``obstacles``, e.g. a legend inside the axes). Labels are placed in the order given, so put
the most important first. When no spot is free the label takes the spot with the fewest
collisions (the first such, so the result is still deterministic); a label placed away from
its anchor gets a thin leader line.

The boxes are measured in display space, so place labels after the figure's layout is final
(after ``tight_layout``) and save the figure at the dpi it was made with. Why not adjustText:
it imports pyplot, and iadsim's drawings never touch pyplot (:mod:`iadsim.report.figure`);
its force-directed layout also depends on a time or iteration limit, where this one depends
on nothing but the geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.text import Text
from matplotlib.transforms import Bbox

#: distances of the candidate spots from the anchor (points), nearest first
OFFSETS_PT = (5.0, 12.0, 22.0, 34.0, 48.0, 64.0, 82.0, 104.0)
#: candidate directions (unit vectors, east and north positive), in the order tried
DIRECTIONS = ((1, 1), (1, 0), (1, -1), (-1, 1), (-1, 0), (-1, -1), (0, 1), (0, -1))
#: a label at least this far from its anchor gets a leader line (points)
LEADER_FROM_PT = 10.0


@dataclass
class Label:
    """One label: ``text`` for the point (``x``, ``y``) in data coordinates; ``style`` goes to
    :meth:`matplotlib.axes.Axes.annotate` (fontsize, colour, bbox, zorder, ...)."""

    x: float
    y: float
    text: str
    style: dict[str, Any] = field(default_factory=dict)


def _spots(w: float, h: float, ax_px: float, ay_px: float, scale: float):
    """Candidate (box, offset in points, ha, va), nearest first, for a w x h px label."""
    for r in OFFSETS_PT:
        for dx, dy in DIRECTIONS:
            norm = np.hypot(dx, dy)
            ox, oy = r * dx / norm, r * dy / norm
            px, py = ax_px + ox * scale, ay_px + oy * scale
            x0 = px if dx > 0 else px - w if dx < 0 else px - w / 2
            y0 = py if dy > 0 else py - h if dy < 0 else py - h / 2
            ha = "left" if dx > 0 else "right" if dx < 0 else "center"
            va = "bottom" if dy > 0 else "top" if dy < 0 else "center"
            yield Bbox.from_bounds(x0, y0, w, h), (ox, oy), ha, va


def _hits_disc(box: Bbox, cx: np.ndarray, cy: np.ndarray, radius: float) -> int:
    """How many discs (centres cx, cy; radius) the box touches."""
    nx = np.clip(cx, box.x0, box.x1)
    ny = np.clip(cy, box.y0, box.y1)
    return int(np.count_nonzero(np.hypot(cx - nx, cy - ny) < radius))


def place_labels(
    ax,
    labels: Sequence[Label],
    avoid_xy: Sequence[tuple[float, float]] = (),
    obstacles: Sequence[Bbox] = (),
    marker_radius_pt: float = 5.0,
    gid: str = "label",
) -> list:
    """Annotate ``ax`` with ``labels`` (see the module docstring for the rule); returns the
    annotations in the order given, each with ``gid`` set. ``avoid_xy``: markers in data
    coordinates (the labels' own anchors are always avoided)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    scale = fig.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    pts = [(lab.x, lab.y) for lab in labels] + [tuple(p) for p in avoid_xy]
    disc = np.asarray(ax.transData.transform(np.asarray(pts, float).reshape(-1, 2)))
    cx, cy = disc[:, 0], disc[:, 1]
    radius = marker_radius_pt * scale
    placed: list[Bbox] = list(obstacles)
    out = []
    for lab in labels:
        style = dict(lab.style)
        probe = ax.annotate(lab.text, (lab.x, lab.y), xytext=(0, 0), textcoords="offset points",
                            ha="left", va="bottom", **style)  # fmt: skip
        ext = probe.get_window_extent(renderer)
        full = label_boxes([probe], renderer)[0]  # the text and the box drawn behind it
        probe.remove()
        # the text sits centred in its box; a hair of clearance between neighbours
        pad_x = (full.width - ext.width) / 2 + 1.0
        pad_y = (full.height - ext.height) / 2 + 1.0
        w, h = ext.width + 2 * pad_x, ext.height + 2 * pad_y
        (ax_px, ay_px) = ax.transData.transform((lab.x, lab.y))
        best = None
        for box, off, ha, va in _spots(w, h, ax_px, ay_px, scale):
            inside = (
                frame.containsx(box.x0)
                and frame.containsx(box.x1)
                and (frame.containsy(box.y0) and frame.containsy(box.y1))
            )
            cost = (0 if inside else 1000) + 10 * sum(box.overlaps(b) for b in placed)
            cost += _hits_disc(box, cx, cy, radius)
            if best is None or cost < best[0]:
                best = (cost, box, off, ha, va)
            if cost == 0:
                break
        assert best is not None
        _, box, (ox, oy), ha, va = best
        # the text sits its padding inside the box: shift the text's anchor by it
        sx = pad_x / scale * (1 if ha == "left" else -1 if ha == "right" else 0)
        sy = pad_y / scale * (1 if va == "bottom" else -1 if va == "top" else 0)
        far = np.hypot(ox, oy) >= LEADER_FROM_PT
        arrow = {"arrowstyle": "-", "color": "0.35", "lw": 0.6, "shrinkA": 0, "shrinkB": 3}
        t = ax.annotate(lab.text, (lab.x, lab.y), xytext=(ox + sx, oy + sy),
                        textcoords="offset points", ha=ha, va=va,
                        arrowprops=arrow if far else None, **style)  # fmt: skip
        t.set_gid(gid)
        placed.append(box)
        out.append(t)
    return out


def label_boxes(texts, renderer) -> list[Bbox]:
    """The display boxes of ``texts`` as drawn: the text with the rounded box behind it when
    it has one; an annotation's leader line is not part of it (for tests and callers checking
    overlaps)."""
    boxes = []
    for t in texts:
        if hasattr(t, "update_positions"):  # an annotation: its text, not its leader line
            t.update_positions(renderer)
        ext = Text.get_window_extent(t, renderer)
        patch = t.get_bbox_patch()
        if patch is not None:
            t.update_bbox_position_size(renderer)
            ext = Bbox.union([ext, patch.get_window_extent(renderer)])
        boxes.append(ext)
    return boxes


def overlapping_pairs(boxes: Sequence[Bbox]) -> list[tuple[int, int]]:
    """Index pairs of boxes that overlap (sharing only an edge does not count)."""
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if boxes[i].overlaps(boxes[j])]  # fmt: skip
