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

Each sector radar (the fire-control radar of a fire unit, the radar of a radar-only site) is
drawn as wedges of geodesic azimuths around its heading, one per threat type of the raid, out
to the farthest ground distance at which it detects that threat at a height the threat flies
(:func:`sector_reaches`): its catalog detection range for the threat's RCS
(:meth:`iadsim.coverage.analysis.RadarSpec.reach_at_m`: the slant range as a ground distance
at that height), cut at the radio horizon between the antenna and the threat over level
ground when that is shorter (a cruise missile 30 m above the ground is seen from about 30 km,
whatever the radar's range). Labels are placed so that they do not overlap
(:mod:`iadsim.report.labels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from pyproj import CRS, Geod

from iadsim.coverage.analysis import resolve_threat, site_spec
from iadsim.coverage.grid import GEOD, Grid, central_point
from iadsim.deployment import Deployment, ResolvedSite, resolve_deployment
from iadsim.fileio import atomic_write
from iadsim.geo.countries import borders_in
from iadsim.geo.earth import horizon_range_m
from iadsim.report.figure import new_figure, with_fonts
from iadsim.report.labels import Label, place_labels
from iadsim.sim.prepared import open_dem, scenario_trajectories

CLASS_COLORS = {"ballistic": "#7b2cbf", "cruise": "#d9480f", "aircraft": "#1971c2"}
SECTOR_COLOUR = "#2b8a3e"
NOTE = "Illustrative: open-source estimates, invented positions and raid. iadsim"
LABEL_STYLE = {"fontsize": 8, "zorder": 12,
               "bbox": {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}}  # fmt: skip
ASSET_LABEL_STYLE = {"fontsize": 7, "color": "0.15", "zorder": 12,
                     "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.6}}  # fmt: skip


def _trajectories(scenario, step_s: float = 5.0):
    """The engine's own flights, re-sampled every ``step_s`` for drawing."""
    t = np.arange(0.0, scenario.time.duration_s + step_s, step_s)
    with open_dem(scenario) as dem:
        return scenario_trajectories(scenario, t, dem)


def heights_above_ground_m(scenario, traj) -> np.ndarray:
    """(N, T) height of every threat sample above the ground under it: the DEM's height
    (sea level outside it and without one) subtracted from the altitude; NaN where the
    threat is not flying."""
    alt = np.where(traj.active, traj.alt_m, np.nan)
    with open_dem(scenario) as dem:
        if dem is None or not traj.active.any():
            return alt
        ground = np.zeros(alt.shape)
        ground[traj.active] = np.nan_to_num(
            dem.height_at(traj.lat_deg[traj.active], traj.lon_deg[traj.active]), nan=0.0
        )
    return alt - ground


@dataclass(frozen=True)
class SectorReach:
    """How far one sector radar sees one threat type of the raid (a wedge of the map)."""

    site: str
    radar: str
    threat: str  #: catalog id of the threat
    target_class: str
    heading_deg: float
    sector_deg: float
    range_m: float  #: the wedge's radius: ground distance from the site
    height_m: float  #: the threat's height above ground at which the reach is farthest
    limited_by: str  #: "range" (catalog detection range) or "horizon" (radio horizon)


def sector_reaches(scenario, deployment: Deployment, traj, heights_m=None) -> list[SectorReach]:
    """For each site with a sector radar facing a heading (its fire-control radar, or the radar
    of a radar-only site) and each threat type of the raid: the farthest ground distance at
    which the radar detects the threat at any height above ground the threat flies (its
    samples in ``traj``; ``heights_m`` from :func:`heights_above_ground_m`, computed when not
    given). At one height h the reach is :meth:`iadsim.coverage.analysis.RadarSpec.reach_at_m`
    for a radar on level ground (antenna height above its ground, target h above it): the
    catalog detection range for the threat's RCS, as a ground distance at h, cut at the radio
    horizon (k from the scenario). Sites in scenario order, threats in order of appearance."""
    if heights_m is None:
        heights_m = heights_above_ground_m(scenario, traj)
    k = scenario.environment.k_factor
    ids = np.asarray(traj.threat_id)
    threat_ids = list(dict.fromkeys(ids.tolist()))
    out = []
    for site in deployment.sites:
        index = site.fcr_index if site.fcr_index is not None else 0
        radar = site.radars[index]
        if not radar.is_sector or radar.heading_deg is None:
            continue
        for tid in threat_ids:
            h = heights_m[ids == tid]
            h = np.maximum(h[np.isfinite(h)], 0.0)
            if not h.size:
                continue
            threat = resolve_threat(tid, scenario)
            spec = site_spec(site, threat).radars[index]
            reach = spec.reach_at_m(h, 0.0, k)
            i = int(np.argmax(reach))
            horizon = float(horizon_range_m(spec.antenna_height_m, h[i], k))
            out.append(SectorReach(site.id, radar.id, tid, threat.target_class,
                                   float(radar.heading_deg), float(radar.azimuth_sector_deg),
                                   float(reach[i]), float(h[i]),
                                   "horizon" if horizon <= reach[i] * (1 + 1e-9) else "range"))  # fmt: skip
    return out


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


def _wedge_xy(site: ResolvedSite, heading_deg, sector_deg, range_m, grid: Grid):
    """The wedge's outline (km): the site, the arc of geodesic azimuths, the site."""
    az = heading_deg + np.linspace(-sector_deg / 2, sector_deg / 2, max(8, int(sector_deg / 2)))
    lons, lats = _geodesic_ring(site.lon, site.lat, az, range_m)
    return np.column_stack(_km(grid, np.r_[site.lon, lons], np.r_[site.lat, lats]))


def _sector(ax, site: ResolvedSite, grid: Grid, reaches=()) -> bool:
    """The sector radar's wedge from the site, filled out to its farthest reach in
    ``reaches`` (:class:`SectorReach`), and a dotted arc in the threat's colour at its reach
    on each threat type; without ``reaches``, one wedge 60 km deep. False when the radar
    looks all round (or has no heading) and nothing is drawn."""
    radar = site.fcr if site.fcr is not None else site.radars[0]
    sector = float(radar.azimuth_sector_deg)
    if sector >= 360 or radar.heading_deg is None:  # all round, or not fixed (no raids)
        return False
    mine = [r for r in reaches if r.site == site.id and r.range_m > 0]
    far = max((r.range_m for r in mine), default=60e3)
    wedge = _wedge_xy(site, radar.heading_deg, sector, far, grid)
    ax.add_patch(Polygon(wedge, closed=True, fc=SECTOR_COLOUR, alpha=0.1, lw=0, zorder=1,
                         gid=f"sector:{site.id}"))  # fmt: skip
    ax.add_patch(Polygon(wedge, closed=True, fill=False, ec=SECTOR_COLOUR, alpha=0.7, lw=0.7,
                         zorder=2))  # fmt: skip
    for r in mine:
        arc = _wedge_xy(site, radar.heading_deg, sector, r.range_m, grid)[1:]
        ax.plot(arc[:, 0], arc[:, 1], color=CLASS_COLORS.get(r.target_class, "0.3"), lw=1.4,
                ls=(0, (1, 1.5)), zorder=2, gid=f"sector:{site.id}:{r.threat}")  # fmt: skip
    return True


def _bounds(x_km, y_km, pad_km):
    """(x0, x1, y0, y1) km around the points, ``pad_km`` beyond them."""
    return (float(np.min(x_km)) - pad_km, float(np.max(x_km)) + pad_km,
            float(np.min(y_km)) - pad_km, float(np.max(y_km)) + pad_km)  # fmt: skip


def _draw(ax, scenario, deployment: Deployment, traj, ev, grid: Grid, labels: bool,
          reaches=()) -> dict:  # fmt: skip
    """Draw one panel. Returns the counts of what was drawn, and the panel's labels
    (``labels``: :class:`~iadsim.report.labels.Label` list) and markers (``markers``: (x, y)
    km) for :func:`~iadsim.report.labels.place_labels` once the layout is final."""
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
    todo: list[Label] = []
    markers: list[tuple[float, float]] = []

    def inside(x, y) -> bool:
        return bool(x0 <= x <= x1 and y0 <= y <= y1)

    counts = {"sectors": 0}
    sites = []
    for s in deployment.sites:
        counts["sectors"] += _sector(ax, s, grid, reaches)
        sx, sy = (float(v) for v in _km(grid, s.lon, s.lat))
        ax.plot(sx, sy, marker="^" if s.kind == "system" else "o", ms=9, color="black",
                mec="white", zorder=7)  # fmt: skip
        markers.append((sx, sy))
        sites.append((s, sx, sy))
    for a in scenario.assets:
        lons, lats = _geodesic_ring(a.lon, a.lat, np.arange(0.0, 360.0, 5.0), a.radius_km * 1e3)
        ax.add_patch(Polygon(np.column_stack(_km(grid, lons, lats)), closed=True, fill=False,
                             ec="black", ls="--", lw=0.8, zorder=4))  # fmt: skip
    # labels: fire units and radar-only sites first, then assets (placed in this order)
    for s, sx, sy in sites:
        if inside(sx, sy) and (labels or s.kind != "system"):
            todo.append(Label(sx, sy, f"{s.id}\n({s.system})", LABEL_STYLE))
    if labels:
        for a in scenario.assets:
            ax_, ay_ = (float(v) for v in _km(grid, a.lon, a.lat))
            if inside(ax_, ay_):
                todo.append(Label(ax_, ay_, a.id, ASSET_LABEL_STYLE))
    first = ev[(ev.kind == "detection_start") & ev.lat.notna()].sort_values("time_s")
    first = first.drop_duplicates("threat")
    counts["first_detection"] = len(first)
    if len(first):
        fx, fy = _km(grid, first.lon.to_numpy(float), first.lat.to_numpy(float))
        ax.scatter(fx, fy, s=24, facecolors="none", edgecolors="#1864ab", lw=1.2, zorder=9)
        markers += list(zip(np.atleast_1d(fx).tolist(), np.atleast_1d(fy).tolist(), strict=True))
    for kind, style in (
        ("intercept", dict(marker="x", s=55, color="#2b8a3e", linewidths=2)),
        ("leak", dict(marker="*", s=150, color="#c92a2a", edgecolors="white", linewidths=0.5)),
    ):
        e = ev[(ev.kind == kind) & ev.lat.notna()]
        counts[kind] = len(e)
        if len(e):
            ex, ey = _km(grid, e.lon.to_numpy(float), e.lat.to_numpy(float))
            ax.scatter(ex, ey, zorder=9, **style)
            markers += list(zip(np.atleast_1d(ex).tolist(), np.atleast_1d(ey).tolist(),
                                strict=True))  # fmt: skip
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
    counts["labels"] = todo  # type: ignore[assignment]
    counts["markers"] = markers  # type: ignore[assignment]
    return counts


def _reach_lines(reaches: list[SectorReach]) -> list[str]:
    """One line per site: its sector radar, heading and the reach on each threat type."""
    lines = []
    for site in dict.fromkeys(r.site for r in reaches):
        mine = [r for r in reaches if r.site == site]
        parts = []
        for r in mine:
            why = f", horizon at {r.height_m:.0f} m" if r.limited_by == "horizon" else ""
            parts.append(f"{r.threat} {r.range_m / 1000:.0f} km{why}")
        head = mine[0]
        lines.append(f"{site} ({head.radar}, {head.heading_deg:.0f}° ± {head.sector_deg / 2:.0f}°): "
                     + "; ".join(parts))  # fmt: skip
    return lines


def worst_run(runs) -> int:
    """The run id with the most leakers (``runs``: a DataFrame with the ``runs`` table's
    ``run_id`` and ``leakers`` columns); ties go to the lowest run id, so the choice is the
    same for any worker count and after a resume. ``ValueError`` when there is no run."""
    if len(runs) == 0:
        raise ValueError("no runs to choose from")
    order = runs.sort_values(["leakers", "run_id"], ascending=[False, True], kind="stable")
    return int(order["run_id"].iloc[0])


def raid_map_figure(scenario, events, run_id: int = 0, title: str | None = None, *,
                    run_label: str | None = None):  # fmt: skip
    """The raid map of run ``run_id`` as a :class:`~matplotlib.figure.Figure` (see
    :func:`plot_raid_map`) and what it drew: ``(fig, info)`` with ``info["reaches"]`` (the
    :class:`SectorReach` of every wedge), ``info["labels"]`` (the label annotations of both
    panels), ``info["axes"]``, ``info["crs"]`` (the map's projection; axes in km) and the
    counts of the whole-raid panel. Save it at ``fig.dpi``: the labels were
    placed for it."""
    ev = events[events.run_id == run_id] if "run_id" in events else events
    traj = _trajectories(scenario)
    classes = set(np.asarray(traj.target_class))
    lats = [s.lat for s in scenario.sites] + [a.lat for a in scenario.assets]
    lons = [s.lon for s in scenario.sites] + [a.lon for a in scenario.assets]
    frame = map_grid(map_crs(lats, lons), (-1.0, 1.0, -1.0, 1.0))  # for projecting only
    deployment = resolve_deployment(scenario)
    reaches = sector_reaches(scenario, deployment, traj)
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
    reach_text = _reach_lines(reaches)
    foot_in = 0.16 * len(reach_text)
    fig = new_figure(figsize=(sum(widths) + 1.2, h_in + 1.8 + foot_in), dpi=110)
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": widths})
    grids = [map_grid(frame.crs, b) for b in (overview, zoom)]
    counts = _draw(axes[0], scenario, deployment, traj, ev, grids[0], labels=False,
                   reaches=reaches)  # fmt: skip
    zoomed = _draw(axes[1], scenario, deployment, traj, ev, grids[1], labels=True,
                   reaches=reaches)  # fmt: skip
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
        Line2D([], [], ls="none", marker="x", color="#2b8a3e", mew=2,
               label=f"intercept ({counts['intercept']})"),
        Line2D([], [], ls="none", marker="*", color="#c92a2a", ms=11,
               label=f"leak ({counts['leak']})"),
    ]  # fmt: skip
    if units:
        handles.append(Line2D([], [], ls="none", marker="^", color="black", label="fire unit"))
    if len(units) < len(scenario.sites):
        handles.append(Line2D([], [], ls="none", marker="o", color="black",
                              label="radar-only site"))  # fmt: skip
    if counts["sectors"]:
        handles.append(Patch(fc=SECTOR_COLOUR, alpha=0.3, ec=SECTOR_COLOUR,
                             label="radar sector, to the farthest reach below"))  # fmt: skip
        handles.append(Line2D([], [], color="0.3", lw=1.4, ls=(0, (1, 1.5)),
                              label="its reach on each threat (threat's colour)"))  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, 0.02 + foot_in / fig.get_figheight()))  # fmt: skip
    run_text = run_label or f"run {run_id}"
    fig.suptitle(title or f"{scenario.name}\n{run_text}: threat tracks, first detections, "
                 "intercepts and leaks", fontsize=11)  # fmt: skip
    if reach_text:
        fig.text(0.01, 0.022, "sector reach (farthest ground distance at which the radar "
                 "detects each threat at a height it flies):\n" + "\n".join(reach_text),
                 fontsize=7, color="0.2", va="bottom")  # fmt: skip
    fig.text(0.01, 0.005, NOTE, fontsize=7, color="0.35")
    bottom = (0.1 * (h_in + 1.8) + foot_in + 0.1) / fig.get_figheight()
    fig.tight_layout(rect=(0, bottom, 1, 1))
    placed = []
    for ax, drawn in zip(axes, (counts, zoomed), strict=True):
        placed += place_labels(ax, drawn["labels"], avoid_xy=drawn["markers"],
                               marker_radius_pt=6.0)  # fmt: skip
    counts = {k: v for k, v in counts.items() if k not in ("labels", "markers")}
    return fig, {"reaches": reaches, "labels": placed, "axes": list(axes), "crs": frame.crs,
                 **counts}  # fmt: skip


@with_fonts
def plot_raid_map(scenario, events, path, run_id: int = 0, title: str | None = None, *,
                  run_label: str | None = None) -> Path:  # fmt: skip
    """Draw run ``run_id`` of ``events`` (a DataFrame with the events table's columns) for
    ``scenario`` (a loaded Scenario) and write a PNG atomically: the whole raid on the left,
    the defended area (assets and fire units) enlarged on the right, each sector radar's
    wedges at its reach on each threat type (listed under the legend). ``run_label`` replaces
    "run N" in the default title (e.g. why this run was chosen). Returns the path."""
    fig, _ = raid_map_figure(scenario, events, run_id, title, run_label=run_label)
    return atomic_write(path, lambda p: fig.savefig(p, dpi=fig.dpi, format="png"))
