"""Difference map of two deployments' coverage at one altitude: the cells only the reference
deployment covers, those only the other covers, and those both cover, for detection and for
engagement side by side, with the areas in the legend.

Both :class:`~iadsim.coverage.CoverageResult` objects must lie on the same analysis grid
(``iadsim compare`` computes every deployment's sites in one pass on one grid), so a cell is
the same piece of the ellipsoid in both and an area is a count of cells times the cell area
(the grid is equal-area). Drawn in the grid's equal-area projection with the coverage maps'
latitude/longitude graticule (:mod:`iadsim.report.graticule`), a scale bar, country borders
(Natural Earth) and each deployment's sites.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from iadsim.coverage.grid import Grid
from iadsim.errors import InputError
from iadsim.fileio import atomic_write
from iadsim.report.figure import new_figure, with_fonts
from iadsim.report.graticule import draw_graticule
from iadsim.report.maps import draw_borders

#: colours of the three classes (Okabe-Ito: told apart with every common colour-vision
#: deficiency): reference only, other only, both
REFERENCE_ONLY_COLOUR = "#E69F00"
OTHER_ONLY_COLOUR = "#0072B2"
BOTH_COLOUR = "#009E73"
KINDS = ("detection", "engagement")
NOTE = "Illustrative: open-source estimates, not any real deployment. iadsim"


def same_grid(a, b) -> bool:
    """True when two coverage results lie on one grid (same CRS, origin, cell and shape)."""
    ga, gb = a.grid, b.grid
    return (
        ga.shape == gb.shape
        and ga.cell_m == gb.cell_m
        and ga.x_min == gb.x_min
        and ga.y_max == gb.y_max
        and ga.crs == gb.crs
    )


def _union(result, kind: str) -> np.ndarray:
    return result.union_detection if kind == "detection" else result.union_engagement


def difference_classes(reference, other, kind: str) -> np.ndarray:
    """Per cell: 0 covered by neither, 1 by the reference only, 2 by the other only, 3 by
    both (``kind`` detection or engagement; union of each deployment's sites)."""
    if not same_grid(reference, other):
        raise InputError("the two coverage results lie on different grids; compute them together")
    a, b = _union(reference, kind), _union(other, kind)
    return (a & ~b) * 1 + (b & ~a) * 2 + (a & b) * 3


def difference_areas(reference, other) -> dict[str, dict[str, float]]:
    """``{kind: {reference_only_km2, other_only_km2, both_km2}}`` for detection and
    engagement, rounded to 0.1 km² like the coverage summaries."""
    cell = reference.grid.cell_area_km2
    out = {}
    for kind in KINDS:
        c = difference_classes(reference, other, kind)
        counts = np.bincount(c.ravel(), minlength=4)
        out[kind] = {
            "reference_only_km2": round(float(counts[1]) * cell, 1),
            "other_only_km2": round(float(counts[2]) * cell, 1),
            "both_km2": round(float(counts[3]) * cell, 1),
        }
    return out


def _scale_bar(ax, view_km: tuple[float, float, float, float]) -> None:
    """A bar of a round length near a fifth of the map's width, bottom left."""
    x0, y0, x1, y1 = view_km
    target = (x1 - x0) / 5
    mag = 10 ** np.floor(np.log10(target))
    length = float(max(m for m in (1, 2, 5, 10) if m * mag <= target) * mag)
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.06 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="k", lw=3, zorder=6, solid_capstyle="butt")
    ax.text(bx + length / 2, by + 0.015 * (y1 - y0), f"{length:g} km", ha="center",
            va="bottom", fontsize=7.5, zorder=6)  # fmt: skip


def _sites(ax, result, grid: Grid, colour: str) -> None:
    if not result.sites:
        return
    sx, sy = grid.project([s.lon for s in result.sites], [s.lat for s in result.sites])
    for s, x, y in zip(result.sites, np.atleast_1d(sx), np.atleast_1d(sy), strict=True):
        marker = "^" if s.fire_control is not None else "o"
        ax.plot(x / 1000, y / 1000, marker, color=colour, ms=7, mec="k", mew=0.8, zorder=7)


def _view(classes: list[np.ndarray], result_sites: list, grid: Grid) -> tuple[float, ...]:
    """The part of the grid the map shows (x0, y0, x1, y1 in metres): every covered cell and
    every site, with a margin of a tenth of the span (at least three cells); the whole grid
    when nothing is covered."""
    covered = np.zeros(grid.shape, bool)
    for c in classes:
        covered |= c > 0
    gx0, gy0, gx1, gy1 = grid.bounds
    if not covered.any():
        return gx0, gy0, gx1, gy1
    rows, cols = np.nonzero(covered)
    xs = [gx0 + cols.min() * grid.cell_m, gx0 + (cols.max() + 1) * grid.cell_m]
    ys = [gy1 - (rows.max() + 1) * grid.cell_m, gy1 - rows.min() * grid.cell_m]
    if result_sites:
        sx, sy = grid.project([s.lon for s in result_sites], [s.lat for s in result_sites])
        xs += list(np.atleast_1d(sx))
        ys += list(np.atleast_1d(sy))
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = max(0.1 * max(x1 - x0, y1 - y0), 3 * grid.cell_m)
    return (max(gx0, x0 - pad), max(gy0, y0 - pad), min(gx1, x1 + pad), min(gy1, y1 + pad))


def _frame(result) -> str:
    ref = "above ground" if result.agl else "AMSL"
    ground = "terrain" if result.terrain else "smooth Earth"
    if result.sectors:
        ground += ", fixed radar sectors"
    return f"target at {result.altitude_m:g} m {ref}, threat {result.threat}, {ground}"


@with_fonts
def plot_difference_map(
    reference, other, labels: tuple[str, str], path: str | Path, title: str | None = None
) -> Path:
    """Draw the difference map of ``reference`` and ``other`` (coverage results of two
    deployments at one altitude on one grid; ``labels`` their names) to ``path`` (PNG,
    written atomically): detection on the left, engagement on the right; each cell coloured
    by who covers it. Returns the path."""
    grid = reference.grid
    areas = difference_areas(reference, other)
    classes = {kind: difference_classes(reference, other, kind) for kind in KINDS}
    gx0, gy0, gx1, gy1 = (b / 1000 for b in grid.bounds)
    extent = (gx0, gx1, gy0, gy1)
    view = _view(list(classes.values()), [*reference.sites, *other.sites], grid)
    x0, y0, x1, y1 = (v / 1000 for v in view)
    aspect = (y1 - y0) / max(x1 - x0, 1e-9)
    panel_w = 6.2
    fig = new_figure(figsize=(2 * panel_w, max(2.2, min(9.0, panel_w * aspect)) + 1.6), dpi=110)
    axes = fig.subplots(1, 2)
    cmap = ListedColormap([REFERENCE_ONLY_COLOUR, OTHER_ONLY_COLOUR, BOTH_COLOUR])
    for ax, kind in zip(axes, KINDS, strict=True):
        ax.set_facecolor("#eef3f7")
        c = classes[kind].astype(float)
        c[c == 0] = np.nan
        ax.imshow(c, extent=extent, origin="upper", cmap=cmap, vmin=0.5, vmax=3.5, alpha=0.75,
                  interpolation="nearest", zorder=1)  # fmt: skip
        draw_borders(ax, grid)
        draw_graticule(ax, grid.to_wgs84, grid.from_wgs84, (x0, x1, y0, y1), fontsize=7)
        _scale_bar(ax, (x0, y0, x1, y1))
        _sites(ax, other, grid, OTHER_ONLY_COLOUR)
        _sites(ax, reference, grid, REFERENCE_ONLY_COLOUR)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        a = areas[kind]
        ax.set_title(f"{kind}", fontsize=10)
        ax.legend(
            handles=[
                Patch(
                    color=REFERENCE_ONLY_COLOUR,
                    alpha=0.75,
                    label=f"{labels[0]} only ({a['reference_only_km2']:,.0f} km²)",
                ),
                Patch(
                    color=OTHER_ONLY_COLOUR,
                    alpha=0.75,
                    label=f"{labels[1]} only ({a['other_only_km2']:,.0f} km²)",
                ),
                Patch(color=BOTH_COLOUR, alpha=0.75, label=f"both ({a['both_km2']:,.0f} km²)"),
            ],  # fmt: skip
            loc="upper right",
            fontsize=7.5,
            framealpha=0.9,
        )
    handles = [
        Line2D([], [], marker="^", ls="", color=REFERENCE_ONLY_COLOUR, mec="k",
               label=f"{labels[0]} fire unit"),
        Line2D([], [], marker="^", ls="", color=OTHER_ONLY_COLOUR, mec="k",
               label=f"{labels[1]} fire unit"),
        Line2D([], [], marker="o", ls="", color="0.6", mec="k", label="radar-only site"),
        Line2D([], [], color="0.35", lw=0.6, label="borders (Natural Earth)"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.035))  # fmt: skip
    fig.suptitle(
        title
        or f"Coverage of {labels[0]} and {labels[1]}: who covers each cell\n{_frame(reference)}",
        fontsize=10.5,
    )
    fig.text(0.01, 0.008, NOTE, fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return atomic_write(path, lambda p: fig.savefig(p, format="png"))
