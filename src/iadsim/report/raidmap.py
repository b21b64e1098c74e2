"""Map of one simulated raid: threat ground tracks, sites with their fire-control sectors, where
each threat was first detected, intercepts and leaks, over terrain shading when the scenario
has a DEM.

Plate carrée (longitude, latitude) with the aspect set for the map's mean latitude, so that
distances look right at that latitude; a scale bar gives kilometres. The threats' flights are
the engine's own (:func:`iadsim.sim.kinematics.sample_raids`, re-sampled every 5 s); events
come from one run of a Monte Carlo job (``events`` of :class:`iadsim.api.RunSet`, or the
``events`` table of ``results.duckdb``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, Patch, Rectangle, Wedge

from iadsim.deployment import Deployment, ResolvedSite, resolve_deployment
from iadsim.fileio import atomic_write
from iadsim.geo.countries import load_countries
from iadsim.report.figure import new_figure
from iadsim.sim.prepared import open_dem, scenario_trajectories

CLASS_COLORS = {"ballistic": "#7b2cbf", "cruise": "#d9480f", "aircraft": "#1971c2"}
NOTE = "Illustrative: open-source estimates, invented positions and raid. iadsim"


def _trajectories(scenario, step_s: float = 5.0):
    """The engine's own flights, re-sampled every ``step_s`` for drawing."""
    t = np.arange(0.0, scenario.time.duration_s + step_s, step_s)
    with open_dem(scenario) as dem:
        return scenario_trajectories(scenario, t, dem)


def _hillshade(ax, dem_path, lon0, lon1, lat0, lat1) -> None:
    """Grey hillshade and a faint height tint of the DEM under the map. Any CRS: GDAL warps
    the DEM onto a longitude/latitude grid about 1,200 cells across (outside it: sea level)."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import from_bounds
    from rasterio.warp import reproject

    ncols = 1200
    nrows = max(2, int(ncols * (lat1 - lat0) / (lon1 - lon0)))
    h = np.full((nrows, ncols), np.nan, dtype=np.float32)
    with rasterio.open(dem_path) as src:
        reproject(
            source=rasterio.band(src, 1), destination=h, dst_crs="EPSG:4326",
            dst_transform=from_bounds(lon0, lat0, lon1, lat1, ncols, nrows),
            dst_nodata=np.nan, resampling=Resampling.bilinear,
        )  # fmt: skip
    h = np.nan_to_num(h.astype(float), nan=0.0)
    if h.size < 4:
        return
    # slopes in metres per metre: cell sizes in metres at the map's latitude
    dy_m = (lat1 - lat0) / nrows * 111_320.0
    dx_m = (lon1 - lon0) / ncols * 111_320.0 * np.cos(np.radians((lat0 + lat1) / 2))
    gy, gx = np.gradient(h, dy_m, dx_m)
    az, alt = np.radians(315.0), np.radians(45.0)
    slope = np.pi / 2 - np.arctan(5.0 * np.hypot(gx, gy))  # x5 vertical exaggeration
    aspect = np.arctan2(-gx, gy)
    shade = np.sin(alt) * np.sin(slope) + np.cos(alt) * np.cos(slope) * np.cos(az - aspect)
    ax.imshow(shade, extent=(lon0, lon1, lat0, lat1), cmap="Greys_r", alpha=0.35,
              origin="upper", zorder=0, interpolation="bilinear")  # fmt: skip
    ax.imshow(
        np.ma.masked_less_equal(h, 0),
        extent=(lon0, lon1, lat0, lat1),
        cmap="terrain",
        vmin=-1300,
        vmax=4000,
        alpha=0.35,
        origin="upper",
        zorder=0,
    )  # 0 m: green


def _borders(ax, lon0, lon1, lat0, lat1) -> None:
    import shapely

    c = load_countries()
    for i in c.in_bbox(lon0 - 1, lat0 - 1, lon1 + 1, lat1 + 1):
        g = shapely.clip_by_rect(c.geometries[i], lon0 - 1, lat0 - 1, lon1 + 1, lat1 + 1)
        for poly in getattr(g, "geoms", [g]):
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            x, y = poly.exterior.xy
            ax.plot(x, y, color="0.25", lw=0.6, zorder=1)


def _sector(ax, site: ResolvedSite, kx: float) -> bool:
    """The fire-control (or only) radar's azimuth sector, 60 km deep, as a wedge (False when
    the radar looks all round and nothing is drawn)."""
    radar = site.fcr if site.fcr is not None else site.radars[0]
    sector = float(radar.azimuth_sector_deg)
    if sector >= 360 or radar.heading_deg is None:  # all round, or not fixed (no raids)
        return False
    r_deg = 60.0 / 111.32
    # matplotlib angles: counter-clockwise from east; azimuth: clockwise from north
    a0 = 90.0 - (radar.heading_deg + sector / 2)
    # the x axis is squeezed by cos(lat) through the aspect: draw in "equal" units, then scale
    w = Wedge((0, 0), r_deg, a0, a0 + sector, color="#2b8a3e", alpha=0.15, lw=0)
    from matplotlib.transforms import Affine2D

    w.set_transform(Affine2D().scale(1 / kx, 1.0).translate(site.lon, site.lat) + ax.transData)
    ax.add_patch(w)
    return True


def _bounds(lats, lons, pad_deg):
    return (float(np.min(lats)) - pad_deg, float(np.max(lats)) + pad_deg,
            float(np.min(lons)) - pad_deg, float(np.max(lons)) + pad_deg)  # fmt: skip


def _draw(ax, scenario, deployment: Deployment, traj, ev, bounds, labels: bool) -> dict:
    lat0, lat1, lon0, lon1 = bounds
    kx = np.cos(np.radians((lat0 + lat1) / 2))
    ax.set_facecolor("#eef3f7")
    if scenario.dem_path() is not None:
        _hillshade(ax, scenario.dem_path(), lon0, lon1, lat0, lat1)
    _borders(ax, lon0, lon1, lat0, lat1)
    classes = np.asarray(traj.target_class)
    for n in range(traj.n_threats):
        m = traj.active[n]
        if m.any():
            ax.plot(traj.lon_deg[n, m], traj.lat_deg[n, m], lw=0.9, alpha=0.8,
                    color=CLASS_COLORS.get(classes[n], "0.3"), zorder=3)  # fmt: skip
    for a in scenario.assets:
        r = a.radius_km / 111.32
        ax.add_patch(Ellipse((a.lon, a.lat), 2 * r / kx, 2 * r, fill=False,
                             ec="black", ls="--", lw=0.8, zorder=4))  # fmt: skip
        if labels:
            ax.annotate(a.id, (a.lon, a.lat), xytext=(6, -11), textcoords="offset points",
                        fontsize=7, color="0.15", zorder=6)  # fmt: skip
    counts = {"sectors": 0}
    for s in deployment.sites:
        counts["sectors"] += _sector(ax, s, kx)
        ax.plot(s.lon, s.lat, marker="^" if s.kind == "system" else "o", ms=9, color="black",
                mec="white", zorder=7)  # fmt: skip
        inside = lat0 <= s.lat <= lat1 and lon0 <= s.lon <= lon1
        if inside and (labels or s.kind != "system"):
            ax.annotate(f"{s.id}\n({s.system})", (s.lon, s.lat), xytext=(7, 5),
                        textcoords="offset points", fontsize=8, zorder=8,
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))  # fmt: skip
    first = ev[(ev.kind == "detection_start") & ev.lat.notna()].sort_values("time_s")
    first = first.drop_duplicates("threat")
    counts["first_detection"] = len(first)
    if len(first):
        ax.scatter(first.lon, first.lat, s=24, facecolors="none", edgecolors="#1864ab", lw=1.2,
                   zorder=9)  # fmt: skip
    for kind, style in (
        ("intercept", dict(marker="x", s=55, color="#2b8a3e", linewidths=2)),
        ("leak", dict(marker="*", s=150, color="#c92a2a", edgecolors="white", linewidths=0.5)),
    ):
        e = ev[(ev.kind == kind) & ev.lat.notna()]
        counts[kind] = len(e)
        if len(e):
            ax.scatter(e.lon, e.lat, zorder=9, **style)
    # scale bar at the map's mean latitude: a round length about a fifth of the width
    width_km = (lon1 - lon0) * 111.32 * kx
    bar_km = next(v for v in (500, 200, 100, 50, 20, 10, 5) if v <= width_km / 4)
    bar_deg = bar_km / (111.32 * kx)
    x0, y0 = lon1 - bar_deg - 0.04 * (lon1 - lon0), lat0 + 0.04 * (lat1 - lat0)
    ax.plot([x0, x0 + bar_deg], [y0, y0], color="black", lw=3, zorder=10)
    ax.text(x0 + bar_deg / 2, y0 + 0.015 * (lat1 - lat0), f"{bar_km} km", ha="center", fontsize=8)
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1 / kx)
    ax.set_xlabel("longitude (deg E)")
    ax.set_ylabel("latitude (deg N)")
    return counts


def plot_raid_map(scenario, events, path, run_id: int = 0, title: str | None = None) -> Path:
    """Draw run ``run_id`` of ``events`` (a DataFrame with the events table's columns) for
    ``scenario`` (a loaded Scenario) and write a PNG atomically: the whole raid on the left,
    the defended area (assets and fire units) enlarged on the right. Returns the path."""
    ev = events[events.run_id == run_id] if "run_id" in events else events
    traj = _trajectories(scenario)
    classes = set(np.asarray(traj.target_class))
    lats = [s.lat for s in scenario.sites] + [a.lat for a in scenario.assets]
    lons = [s.lon for s in scenario.sites] + [a.lon for a in scenario.assets]
    if traj.n_threats:
        lats += list(traj.lat_deg[traj.active])
        lons += list(traj.lon_deg[traj.active])
    overview = _bounds(lats, lons, 0.4)
    deployment = resolve_deployment(scenario)
    units = [s for s in deployment.sites if s.kind == "system"]
    core_lat = [s.lat for s in units] + [a.lat for a in scenario.assets]
    core_lon = [s.lon for s in units] + [a.lon for a in scenario.assets]
    zoom = _bounds(core_lat, core_lon, 0.45) if core_lat else overview

    def aspect(b):
        kx = np.cos(np.radians((b[0] + b[1]) / 2))
        return (b[1] - b[0]) / max((b[3] - b[2]) * kx, 1e-6)

    # panel height grows for tall raids; every panel at least 4 inches wide
    h_in = float(np.clip(6.5 * np.sqrt(max(aspect(overview), 1.0)), 6.5, 10.0))
    widths = [float(np.clip(h_in / aspect(b), 4.0, 14.0)) for b in (overview, zoom)]
    fig = new_figure(figsize=(sum(widths) + 1.2, h_in + 1.8))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": widths})
    counts = _draw(axes[0], scenario, deployment, traj, ev, overview, labels=False)
    _draw(axes[1], scenario, deployment, traj, ev, zoom, labels=True)
    axes[0].set_title("whole raid", fontsize=10)
    axes[1].set_title("defended area", fontsize=10)
    lat0, lat1, lon0, lon1 = zoom
    axes[0].add_patch(Rectangle((lon0, lat0), lon1 - lon0, lat1 - lat0,
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
