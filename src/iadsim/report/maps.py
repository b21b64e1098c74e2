"""Coverage map (PNG) with matplotlib, drawn in the analysis grid's equal-area projection:
country borders (Natural Earth), filled detection and engagement coverage, site markers and
labels, a scale bar, and a title naming altitude and threat."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from iadsim.geo.countries import borders_in
from iadsim.report.figure import new_figure, with_fonts

DETECTION_COLOUR = "#4a90d9"
ENGAGEMENT_COLOUR = "#d9534f"


def _nice_length_km(width_km: float) -> float:
    """A round scale-bar length near a fifth of the map width."""
    target = width_km / 5
    mag = 10 ** np.floor(np.log10(target))
    return float(max(m for m in (1, 2, 5, 10) if m * mag <= target) * mag)


def _draw_borders(ax, grid) -> None:
    import shapely

    land, lines = borders_in(grid)
    for g in land:
        for poly in getattr(g, "geoms", [g]):
            if isinstance(poly, shapely.Polygon) and not poly.is_empty:
                x, y = np.asarray(poly.exterior.coords).T
                ax.fill(x / 1000, y / 1000, color="#f4f1e8", lw=0, zorder=0)
    for line in lines:
        x, y = np.asarray(line.coords).T
        ax.plot(x / 1000, y / 1000, color="0.35", lw=0.6, zorder=3)


def _scale_bar(ax, grid) -> None:
    x0, y0, x1, y1 = (b / 1000 for b in grid.bounds)
    length = _nice_length_km(x1 - x0)
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="k", lw=3, zorder=6, solid_capstyle="butt")
    ax.text(
        bx + length / 2,
        by + 0.015 * (y1 - y0),
        f"{length:g} km",
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=6,
    )


@with_fonts
def plot_coverage_map(result, path: str | Path, title: str | None = None) -> Path:
    """Draw the coverage map of a :class:`~iadsim.coverage.CoverageResult` to ``path``."""
    grid = result.grid
    x0, y0, x1, y1 = (b / 1000 for b in grid.bounds)
    extent = (x0, x1, y0, y1)
    aspect = (y1 - y0) / max(x1 - x0, 1e-9)
    fig = new_figure(figsize=(9, max(4.0, min(12.0, 9 * aspect)) + 0.8), dpi=120)
    ax = fig.subplots()
    ax.set_facecolor("#eef3f7")
    for mask, colour, alpha, zorder in (
        (result.union_detection, DETECTION_COLOUR, 0.35, 1),
        (result.union_engagement, ENGAGEMENT_COLOUR, 0.3, 2),
    ):
        ax.imshow(
            np.where(mask, 1.0, np.nan),
            extent=extent,
            origin="upper",
            cmap=ListedColormap([colour]),
            alpha=alpha,
            interpolation="nearest",
            zorder=zorder,
        )
    # outlines keep both layers legible where engagement fills most of detection
    for mask, colour in (
        (result.union_detection, DETECTION_COLOUR),
        (result.union_engagement, ENGAGEMENT_COLOUR),
    ):
        if mask.any():
            ax.contour(
                mask.astype(float),
                levels=[0.5],
                extent=extent,
                origin="upper",
                colors=[colour],
                linewidths=1.2,
                zorder=4,
            )
    overlap = result.overlap_detection >= 2
    if overlap.any():
        ax.contour(
            np.where(overlap, 1.0, 0.0),
            levels=[0.5],
            extent=extent,
            origin="upper",
            colors=[DETECTION_COLOUR],
            linewidths=0.8,
            linestyles="--",
            zorder=2,
        )
    _draw_borders(ax, grid)
    sx, sy = grid.project([s.lon for s in result.sites], [s.lat for s in result.sites])
    for s, x, y in zip(result.sites, np.atleast_1d(sx), np.atleast_1d(sy), strict=True):
        marker = "^" if s.fire_control is not None else "o"
        ax.plot(x / 1000, y / 1000, marker, color="k", ms=7, mec="w", zorder=7)
        ax.annotate(
            f"{s.id}\n({s.system})",
            (x / 1000, y / 1000),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=8,
            zorder=8,
            bbox={"boxstyle": "round,pad=0.2", "fc": "w", "alpha": 0.7, "lw": 0},
        )
    _scale_bar(ax, grid)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("east of grid centre (km, Lambert azimuthal equal-area)")
    ax.set_ylabel("north of grid centre (km)")
    ref = "above ground" if result.agl else "AMSL"
    terrain = "terrain" if result.terrain else "smooth Earth"
    if result.sectors:
        terrain += ", fixed radar sectors"
    ax.set_title(
        title
        or (
            f"{result.scenario_name or 'Coverage'}\n"
            f"target at {result.altitude_m:g} m {ref}, threat {result.threat}, "
            f"k = {result.k_factor:.3g}, {terrain}"
        ),
        fontsize=10,
    )
    a = result.area_km2
    handles = [
        Patch(
            color=DETECTION_COLOUR,
            alpha=0.5,
            label=f"detection ({a(result.union_detection):,.0f} km²)",
        ),
        Patch(
            color=ENGAGEMENT_COLOUR,
            alpha=0.6,
            label=f"engagement ({a(result.union_engagement):,.0f} km²)",
        ),
        Line2D([], [], color=DETECTION_COLOUR, ls="--", label="detected by ≥2 sites"),
        Line2D([], [], marker="^", color="k", ls="", label="fire unit"),
        Line2D([], [], marker="o", color="k", ls="", label="radar-only site"),
        Line2D([], [], color="0.35", lw=0.6, label="borders (Natural Earth)"),
    ]
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85)
    fig.text(
        0.01,
        0.005,
        "Illustrative: open-source estimates, not any real deployment. iadsim",
        fontsize=7,
        color="0.3",
    )
    fig.tight_layout()
    fig.savefig(path, format="png")
    return Path(path)
