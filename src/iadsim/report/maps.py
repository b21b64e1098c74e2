"""Coverage map (PNG) with matplotlib, drawn in the analysis grid's equal-area projection:
country borders (Natural Earth), detection coverage (light, hatched) under engagement coverage
(solid), site markers and the largest covered cities with labels that do not overlap
(:mod:`iadsim.report.labels`), a latitude/longitude graticule labelled on the frame
(:mod:`iadsim.report.graticule`; readable in the grid's projection centred near a pole or on
the 180th meridian), a scale bar, and a title naming altitude and threat."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.colors
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from iadsim.geo.cities import cities_on_grid, load_cities
from iadsim.geo.countries import borders_in
from iadsim.report.figure import new_figure, with_fonts
from iadsim.report.graticule import draw_graticule, lat_text, lon_text
from iadsim.report.labels import Label, place_labels

DETECTION_COLOUR = "#4a90d9"
ENGAGEMENT_COLOUR = "#d9534f"
SITE_LABEL = {"fontsize": 8, "zorder": 9,
              "bbox": {"boxstyle": "round,pad=0.2", "fc": "w", "alpha": 0.8, "lw": 0}}  # fmt: skip
CITY_LABEL = {"fontsize": 7, "color": "0.15", "zorder": 8, "style": "italic",
              "bbox": {"boxstyle": "round,pad=0.15", "fc": "w", "alpha": 0.6, "lw": 0}}  # fmt: skip


def _nice_length_km(width_km: float) -> float:
    """A round scale-bar length near a fifth of the map width."""
    target = width_km / 5
    mag = 10 ** np.floor(np.log10(target))
    return float(max(m for m in (1, 2, 5, 10) if m * mag <= target) * mag)


def draw_borders(ax, grid) -> None:
    """Land (Natural Earth) filled and country borders drawn on a km-projected grid's axes."""
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


def _covered_cities(result, n: int):
    """The ``n`` most populous covered places that are not part of a larger place
    (:mod:`iadsim.geo.cities`): (name, lon, lat, engaged) rows, most populous first."""
    if n <= 0:
        return []
    idx, row, col = cities_on_grid(result.grid)
    det = result.union_detection[row, col]
    eng = result.union_engagement[row, col]
    c = load_cities()
    keep = (det | eng) & (c.parent[idx] < 0)
    idx, eng = idx[keep], eng[keep]
    order = np.argsort(-c.population[idx], kind="stable")[:n]
    return [(str(c.name[idx[i]]), float(c.lon[idx[i]]), float(c.lat[idx[i]]), bool(eng[i]))
            for i in order]  # fmt: skip


def _fill(ax, mask, colour, extent, alpha, zorder, hatch_mask=None, hatch="////") -> None:
    """A mask drawn as a fill (``alpha``) and outlined; ``hatch_mask`` (where the fill shows,
    not under another one) is hatched in its colour."""
    if not mask.any():
        return
    ax.imshow(np.where(mask, 1.0, np.nan), extent=extent, origin="upper",
              cmap=ListedColormap([colour]), alpha=alpha, interpolation="nearest",
              zorder=zorder)  # fmt: skip
    if hatch_mask is not None and hatch_mask.any():
        with matplotlib.rc_context({"hatch.color": colour, "hatch.linewidth": 0.7}):
            ax.contourf(hatch_mask.astype(float), levels=[0.5, 1.5], colors="none",
                        hatches=[hatch], extent=extent, origin="upper", zorder=zorder)  # fmt: skip
    ax.contour(mask.astype(float), levels=[0.5], extent=extent, origin="upper",
               colors=[colour], linewidths=1.2, zorder=4)  # fmt: skip


def coverage_map_figure(result, title: str | None = None, *, cities: int = 8):
    """The coverage map of a :class:`~iadsim.coverage.CoverageResult` as a
    :class:`~matplotlib.figure.Figure`, and what it drew: ``(fig, info)`` with
    ``info["labels"]`` (site and city label annotations), ``info["graticule"]`` (the
    :class:`~iadsim.report.graticule.Graticule`) and ``info["ax"]``. ``cities``: how many of
    the most populous covered places to mark and name. Save it at ``fig.dpi``."""
    grid = result.grid
    x0, y0, x1, y1 = (b / 1000 for b in grid.bounds)
    extent = (x0, x1, y0, y1)
    aspect = (y1 - y0) / max(x1 - x0, 1e-9)
    fig = new_figure(figsize=(9, max(4.0, min(12.0, 9 * aspect)) + 1.2), dpi=120)
    ax = fig.subplots()
    ax.set_facecolor("#eef3f7")
    # detection: light, hatched; engagement: solid on top of it
    _fill(ax, result.union_detection, DETECTION_COLOUR, extent, 0.18, 1,
          hatch_mask=result.union_detection & ~result.union_engagement)  # fmt: skip
    _fill(ax, result.union_engagement, ENGAGEMENT_COLOUR, extent, 0.55, 2)
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
    draw_borders(ax, grid)
    g = draw_graticule(ax, grid.to_wgs84, grid.from_wgs84, extent)
    labels: list[Label] = []
    markers: list[tuple[float, float]] = []
    sx, sy = grid.project([s.lon for s in result.sites], [s.lat for s in result.sites])
    for s, x, y in zip(result.sites, np.atleast_1d(sx), np.atleast_1d(sy), strict=True):
        marker = "^" if s.fire_control is not None else "o"
        ax.plot(x / 1000, y / 1000, marker, color="k", ms=7, mec="w", zorder=7)
        markers.append((float(x) / 1000, float(y) / 1000))
        labels.append(Label(float(x) / 1000, float(y) / 1000, f"{s.id}\n({s.system})", SITE_LABEL))
    town = _covered_cities(result, cities)
    for name, lon, lat, _ in town:
        cx, cy = (float(v) / 1000 for v in grid.project(lon, lat))
        ax.plot(cx, cy, "s", color="0.15", ms=3.5, mec="w", mew=0.6, zorder=6)
        markers.append((cx, cy))
        labels.append(Label(cx, cy, name, CITY_LABEL))
    _scale_bar(ax, grid)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ref = "above ground" if result.agl else "AMSL"
    terrain = "terrain" if result.terrain else "smooth Earth"
    if result.sectors:
        terrain += ", fixed radar sectors"
    fig.suptitle(
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
        Patch(fc=matplotlib.colors.to_rgba(DETECTION_COLOUR, 0.18), ec=DETECTION_COLOUR,
              hatch="////", label=f"detection: a radar sees the target "
              f"({a(result.union_detection):,.0f} km²)"),
        Patch(fc=matplotlib.colors.to_rgba(ENGAGEMENT_COLOUR, 0.55), ec=ENGAGEMENT_COLOUR,
              label="engagement: inside an interceptor's envelope, in its FCR's view "
              f"({a(result.union_engagement):,.0f} km²)"),
        Line2D([], [], color=DETECTION_COLOUR, ls="--", label="detected by ≥2 sites"),
    ]  # fmt: skip
    kinds = {s.fire_control is not None for s in result.sites}
    if True in kinds:
        handles.append(Line2D([], [], marker="^", color="k", ls="", label="fire unit"))
    if False in kinds:
        handles.append(Line2D([], [], marker="o", color="k", ls="", label="radar-only site"))
    if town:
        handles.append(Line2D([], [], marker="s", color="0.15", ms=4, ls="",
                              label=f"largest covered cities (GeoNames; {len(town)} shown)"))  # fmt: skip
    handles.append(Line2D([], [], color="0.35", lw=0.6, label="borders (Natural Earth)"))
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.045))  # fmt: skip
    centre_lon, centre_lat = (float(v) for v in grid.to_wgs84.transform(
        (grid.bounds[0] + grid.bounds[2]) / 2, (grid.bounds[1] + grid.bounds[3]) / 2))  # fmt: skip
    fig.text(
        0.01,
        0.005,
        "Illustrative: open-source estimates, not any real deployment. iadsim\nLambert "
        f"azimuthal equal-area projection centred at {lat_text(round(centre_lat, 2))} "
        f"{lon_text(round(centre_lon, 2))}; graticule every {g.lat_step_deg:g}° of latitude, "
        f"{g.lon_step_deg:g}° of longitude",
        fontsize=7,
        color="0.3",
    )
    legend_in = 0.2 * ((len(handles) + 1) // 2) + 0.45
    fig.tight_layout(rect=(0, legend_in / fig.get_figheight(), 1, 1))
    placed = place_labels(ax, labels, avoid_xy=markers, obstacles=(), marker_radius_pt=5.0)
    return fig, {"labels": placed, "graticule": g, "ax": ax}


@with_fonts
def plot_coverage_map(result, path: str | Path, title: str | None = None, *,
                      cities: int = 8) -> Path:  # fmt: skip
    """Draw the coverage map of a :class:`~iadsim.coverage.CoverageResult` to ``path``:
    detection (light, hatched) and engagement (solid) unions, sites and the ``cities`` most
    populous covered places with labels that do not overlap, and a labelled
    latitude/longitude graticule (:mod:`iadsim.report.graticule`)."""
    fig, _ = coverage_map_figure(result, title, cities=cities)
    fig.savefig(path, format="png", dpi=fig.dpi)
    return Path(path)
