"""Map of one simulated raid: threat ground tracks, sites with their fire-control sectors, where
each threat was first detected, intercepts and leaks, over terrain shading when the scenario
has a DEM.

Drawn in an azimuthal equidistant projection centred on the scenario (its sites and assets):
distances and directions from the centre are true, scale errors stay below 1 % within 1,000 km
of it, and the map has no edge at a pole or at the 180th meridian, so a raid near a pole or
across ±180° is drawn as it flies. Axes are kilometres east and north of the centre. The threats' flights are
the engine's own (:func:`iadsim.sim.kinematics.sample_raids`, re-sampled every 5 s); events
come from one run of a Monte Carlo job (``events`` of :class:`iadsim.api.RunSet`, or the
``events`` table of ``results.duckdb``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from pyproj import CRS, Geod

from iadsim.coverage.grid import GEOD, Grid, central_point
from iadsim.deployment import Deployment, ResolvedSite, resolve_deployment
from iadsim.fileio import atomic_write
from iadsim.geo.countries import borders_in
from iadsim.report.figure import new_figure, with_fonts
from iadsim.sim.prepared import open_dem, scenario_trajectories

CLASS_COLORS = {"ballistic": "#7b2cbf", "cruise": "#d9480f", "aircraft": "#1971c2"}
NOTE = "Illustrative: open-source estimates, invented positions and raid. iadsim"


def _trajectories(scenario, step_s: float = 5.0):
    """The engine's own flights, re-sampled every ``step_s`` for drawing."""
    t = np.arange(0.0, scenario.time.duration_s + step_s, step_s)
    with open_dem(scenario) as dem:
        return scenario_trajectories(scenario, t, dem)


def map_crs(lats_deg, lons_deg) -> CRS:
    """The azimuthal equidistant projection (WGS84, metres) centred on the points."""
    lat0, lon0 = central_point(lats_deg, lons_deg)
    return CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m +no_defs"
    )


def map_grid(crs: CRS, extent_km, cells: int = 1200) -> Grid:
    """A :class:`~iadsim.coverage.grid.Grid` of ``crs`` spanning ``extent_km`` = (x0, x1, y0,
    y1) km with about ``cells`` square cells along its longer side: the frame of one panel
    (its terrain shading and borders)."""
    x0, x1, y0, y1 = extent_km
    cell_m = max(x1 - x0, y1 - y0) * 1000.0 / cells
    return Grid(crs=crs, x_min=x0 * 1000.0, y_max=y1 * 1000.0, cell_m=cell_m,
                nrows=max(2, int(np.ceil((y1 - y0) * 1000.0 / cell_m))),
                ncols=max(2, int(np.ceil((x1 - x0) * 1000.0 / cell_m))))  # fmt: skip


def _km(grid: Grid, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x, y = grid.project(lon, lat)
    return np.asarray(x) / 1000.0, np.asarray(y) / 1000.0


def _hillshade(ax, dem_path, grid: Grid) -> None:
    """Grey hillshade and a faint height tint of the DEM under the map. Any CRS: GDAL warps
    the DEM onto the map's grid (outside the DEM: sea level)."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    h = np.full(grid.shape, np.nan, dtype=np.float32)
    with rasterio.open(dem_path) as src:
        reproject(
            source=rasterio.band(src, 1), destination=h, dst_crs=grid.crs,
            dst_transform=grid.transform, dst_nodata=np.nan, resampling=Resampling.bilinear,
        )  # fmt: skip
    h = np.nan_to_num(h.astype(float), nan=0.0)
    if h.size < 4:
        return
    gy, gx = np.gradient(h, grid.cell_m, grid.cell_m)  # metres per metre: square cells in m
    gy = -gy  # rows run southwards
    az, alt = np.radians(315.0), np.radians(45.0)
    slope = np.pi / 2 - np.arctan(5.0 * np.hypot(gx, gy))  # x5 vertical exaggeration
    aspect = np.arctan2(-gx, -gy)
    shade = np.sin(alt) * np.sin(slope) + np.cos(alt) * np.cos(slope) * np.cos(az - aspect)
    x0, y0, x1, y1 = (b / 1000.0 for b in grid.bounds)
    extent = (x0, x1, y0, y1)
    ax.imshow(shade, extent=extent, cmap="Greys_r", alpha=0.35,
              origin="upper", zorder=0, interpolation="bilinear")  # fmt: skip
    ax.imshow(np.ma.masked_less_equal(h, 0), extent=extent, cmap="terrain", vmin=-1300,
              vmax=4000, alpha=0.35, origin="upper", zorder=0)  # fmt: skip  # 0 m: green


def _borders(ax, grid: Grid) -> None:
    """Borders and coasts (Natural Earth), without the edges that only close a shape in
    longitude/latitude (the 180th meridian, the poles)."""
    for line in borders_in(grid)[1]:
        x, y = np.asarray(line.coords).T / 1000.0
        ax.plot(x, y, color="0.25", lw=0.6, zorder=1)


def _geodesic_ring(lon: float, lat: float, azimuths_deg, dist_m: float, geod: Geod = GEOD):
    """Points ``dist_m`` from (lon, lat) along the geodesic azimuths (degrees from north)."""
    az = np.asarray(azimuths_deg, float)
    lons, lats, _ = geod.fwd(np.full(az.shape, lon), np.full(az.shape, lat), az,
                             np.full(az.shape, dist_m))  # fmt: skip
    return lons, lats


def _sector(ax, site: ResolvedSite, grid: Grid) -> bool:
    """The fire-control (or only) radar's azimuth sector, 60 km deep, as a wedge of geodesic
    azimuths from the site (False when the radar looks all round and nothing is drawn)."""
    radar = site.fcr if site.fcr is not None else site.radars[0]
    sector = float(radar.azimuth_sector_deg)
    if sector >= 360 or radar.heading_deg is None:  # all round, or not fixed (no raids)
        return False
    az = radar.heading_deg + np.linspace(-sector / 2, sector / 2, max(8, int(sector / 2)))
    lons, lats = _geodesic_ring(site.lon, site.lat, az, 60e3)
    x, y = _km(grid, np.r_[site.lon, lons], np.r_[site.lat, lats])
    ax.add_patch(Polygon(np.column_stack([x, y]), closed=True, color="#2b8a3e", alpha=0.15,
                         lw=0))  # fmt: skip
    return True


def _bounds(x_km, y_km, pad_km):
    """(x0, x1, y0, y1) km around the points, ``pad_km`` beyond them."""
    return (float(np.min(x_km)) - pad_km, float(np.max(x_km)) + pad_km,
            float(np.min(y_km)) - pad_km, float(np.max(y_km)) + pad_km)  # fmt: skip


def _draw(ax, scenario, deployment: Deployment, traj, ev, grid: Grid, labels: bool) -> dict:
    x0, y0, x1, y1 = (b / 1000.0 for b in grid.bounds)
    ax.set_facecolor("#eef3f7")
    if scenario.dem_path() is not None:
        _hillshade(ax, scenario.dem_path(), grid)
    _borders(ax, grid)
    classes = np.asarray(traj.target_class)
    for n in range(traj.n_threats):
        m = traj.active[n]
        if m.any():
            tx, ty = _km(grid, traj.lon_deg[n, m], traj.lat_deg[n, m])
            ax.plot(tx, ty, lw=0.9, alpha=0.8, color=CLASS_COLORS.get(classes[n], "0.3"),
                    zorder=3)  # fmt: skip
    for a in scenario.assets:
        lons, lats = _geodesic_ring(a.lon, a.lat, np.arange(0.0, 360.0, 5.0), a.radius_km * 1e3)
        ax.add_patch(Polygon(np.column_stack(_km(grid, lons, lats)), closed=True, fill=False,
                             ec="black", ls="--", lw=0.8, zorder=4))  # fmt: skip
        if labels:
            ax.annotate(a.id, _km(grid, a.lon, a.lat), xytext=(6, -11),
                        textcoords="offset points", fontsize=7, color="0.15", zorder=6)  # fmt: skip
    counts = {"sectors": 0}
    for s in deployment.sites:
        counts["sectors"] += _sector(ax, s, grid)
        sx, sy = _km(grid, s.lon, s.lat)
        ax.plot(sx, sy, marker="^" if s.kind == "system" else "o", ms=9, color="black",
                mec="white", zorder=7)  # fmt: skip
        inside = x0 <= sx <= x1 and y0 <= sy <= y1
        if inside and (labels or s.kind != "system"):
            ax.annotate(f"{s.id}\n({s.system})", (sx, sy), xytext=(7, 5),
                        textcoords="offset points", fontsize=8, zorder=8,
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))  # fmt: skip
    first = ev[(ev.kind == "detection_start") & ev.lat.notna()].sort_values("time_s")
    first = first.drop_duplicates("threat")
    counts["first_detection"] = len(first)
    if len(first):
        ax.scatter(*_km(grid, first.lon.to_numpy(float), first.lat.to_numpy(float)), s=24,
                   facecolors="none", edgecolors="#1864ab", lw=1.2, zorder=9)  # fmt: skip
    for kind, style in (
        ("intercept", dict(marker="x", s=55, color="#2b8a3e", linewidths=2)),
        ("leak", dict(marker="*", s=150, color="#c92a2a", edgecolors="white", linewidths=0.5)),
    ):
        e = ev[(ev.kind == kind) & ev.lat.notna()]
        counts[kind] = len(e)
        if len(e):
            ax.scatter(*_km(grid, e.lon.to_numpy(float), e.lat.to_numpy(float)), zorder=9,
                       **style)  # fmt: skip
    # scale bar: a round length about a fifth of the width
    width_km = x1 - x0
    bar_km = next((v for v in (1000, 500, 200, 100, 50, 20, 10, 5, 2, 1) if v <= width_km / 4), 1)
    bx, by = x1 - bar_km - 0.04 * width_km, y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + bar_km], [by, by], color="black", lw=3, zorder=10)
    ax.text(bx + bar_km / 2, by + 0.015 * (y1 - y0), f"{bar_km} km", ha="center", fontsize=8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("km east of the map centre (azimuthal equidistant)")
    ax.set_ylabel("km north of the map centre")
    return counts


@with_fonts
def plot_raid_map(scenario, events, path, run_id: int = 0, title: str | None = None) -> Path:
    """Draw run ``run_id`` of ``events`` (a DataFrame with the events table's columns) for
    ``scenario`` (a loaded Scenario) and write a PNG atomically: the whole raid on the left,
    the defended area (assets and fire units) enlarged on the right. Returns the path."""
    ev = events[events.run_id == run_id] if "run_id" in events else events
    traj = _trajectories(scenario)
    classes = set(np.asarray(traj.target_class))
    lats = [s.lat for s in scenario.sites] + [a.lat for a in scenario.assets]
    lons = [s.lon for s in scenario.sites] + [a.lon for a in scenario.assets]
    frame = map_grid(map_crs(lats, lons), (-1.0, 1.0, -1.0, 1.0))  # for projecting only
    deployment = resolve_deployment(scenario)
    units = [s for s in deployment.sites if s.kind == "system"]
    core_lat = [s.lat for s in units] + [a.lat for a in scenario.assets]
    core_lon = [s.lon for s in units] + [a.lon for a in scenario.assets]
    if traj.n_threats:
        lats += list(traj.lat_deg[traj.active])
        lons += list(traj.lon_deg[traj.active])
    overview = _bounds(*_km(frame, lons, lats), 45.0)
    zoom = _bounds(*_km(frame, core_lon, core_lat), 50.0) if core_lat else overview

    def aspect(b):
        return (b[3] - b[2]) / max(b[1] - b[0], 1e-6)

    # panel height grows for tall raids; every panel at least 4 inches wide
    h_in = float(np.clip(6.5 * np.sqrt(max(aspect(overview), 1.0)), 6.5, 10.0))
    widths = [float(np.clip(h_in / aspect(b), 4.0, 14.0)) for b in (overview, zoom)]
    fig = new_figure(figsize=(sum(widths) + 1.2, h_in + 1.8))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": widths})
    grids = [map_grid(frame.crs, b) for b in (overview, zoom)]
    counts = _draw(axes[0], scenario, deployment, traj, ev, grids[0], labels=False)
    _draw(axes[1], scenario, deployment, traj, ev, grids[1], labels=True)
    axes[0].set_title("whole raid", fontsize=10)
    axes[1].set_title("defended area", fontsize=10)
    zx0, zx1, zy0, zy1 = zoom
    axes[0].add_patch(Rectangle((zx0, zy0), zx1 - zx0, zy1 - zy0,
                                fill=False, ec="black", lw=1.0, zorder=11))  # fmt: skip
    handles = [Line2D([], [], color=c, lw=1.5, label=f"{k} threat track")
               for k, c in CLASS_COLORS.items() if k in classes]  # fmt: skip
    if counts["first_detection"]:
        handles.append(Line2D([], [], ls="none", marker="o", mfc="none", mec="#1864ab",
                              label=f"first detection ({counts['first_detection']})"))  # fmt: skip
    handles += [
        Line2D(
            [],
            [],
            ls="none",
            marker="x",
            color="#2b8a3e",
            mew=2,
            label=f"intercept ({counts['intercept']})",
        ),  # fmt: skip
        Line2D(
            [], [], ls="none", marker="*", color="#c92a2a", ms=11, label=f"leak ({counts['leak']})"
        ),  # fmt: skip
    ]
    if units:
        handles.append(Line2D([], [], ls="none", marker="^", color="black", label="fire unit"))
    if len(units) < len(scenario.sites):
        handles.append(Line2D([], [], ls="none", marker="o", color="black",
                              label="radar-only site"))  # fmt: skip
    if counts["sectors"]:
        handles.append(Patch(color="#2b8a3e", alpha=0.15,
                             label="radar sector (60 km shown)"))  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, 0.02))  # fmt: skip
    fig.suptitle(title or f"{scenario.name}\nrun {run_id}: threat tracks, first detections, "
                 "intercepts and leaks", fontsize=11)  # fmt: skip
    fig.text(0.01, 0.005, NOTE, fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
