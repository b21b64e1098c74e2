"""What an export holds, independent of its file format: a :class:`Scene` of sites, radar
sectors, defended assets, coverage polygons, threat flights, interceptor fly-outs and events,
on one time axis (seconds of simulated time from :attr:`Scene.start_utc`).

:func:`scenario_scene` builds it from a scenario (coverage at the asked altitudes and the
raids' flights as planned, undefended); :mod:`iadsim.export.runs` from one run of a results
store. The writers (:mod:`iadsim.export.geojson`, ``kml``, ``czml``, ``acmi``) only format it.

**Time.** Scenarios have no calendar date, and the time-dynamic formats need one. Simulated
time 0 is placed at 12:00 local mean solar time on 1 January 2000 at the scenario's centre
(UTC 12:00 minus the centre's longitude / 15 h, to the minute), so that Tacview and Cesium
show the raid in daylight; ``start_utc`` sets another start.

**Positions.** Longitude/latitude on WGS84; altitudes in metres above the WGS84 ellipsoid,
which iadsim uses as height above mean sea level (the geoid, within about ±100 m, is
ignored), as every format here takes them (KML ``absolute``, CZML, Tacview ``T=``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from iadsim import catalog
from iadsim.coverage.analysis import (
    CoverageResult,
    compute_coverage_multi,
    resolve_threat,
    site_spec,
)
from iadsim.coverage.grid import central_point
from iadsim.coverage.products import NOTE
from iadsim.deployment import Deployment, resolve_deployment
from iadsim.errors import CatalogError, InputError
from iadsim.export import geometry
from iadsim.memory import check_memory
from iadsim.sim.prepared import open_dem, scenario_trajectories

#: the date simulated time 0 falls on (scenarios have none)
REFERENCE_DATE = dt.date(2000, 1, 1)
#: bytes per threat and time sample when the flights are sampled (lat, lon, alt, ECEF
#: position and velocity, flags; for the memory check)
BYTES_PER_SAMPLE = 112


@dataclass(frozen=True)
class RadarMark:
    """One radar of a site: its detection range on the export's threat, sector and heading."""

    id: str
    detection_range_m: float
    azimuth_sector_deg: float
    heading_deg: float | None


@dataclass(frozen=True)
class SiteMark:
    """A site: ``kind`` is ``fire_unit`` (a system with interceptors) or ``radar``."""

    id: str
    system: str
    kind: str
    lat: float
    lon: float
    ground_m: float
    radars: tuple[RadarMark, ...]
    interceptors: tuple[str, ...]
    #: farthest engagement range on the export's threat class (0: none)
    engagement_range_m: float
    network: str | None


@dataclass(frozen=True)
class SectorMark:
    """A sector radar's azimuth sector, out to its detection range on the export's threat."""

    site: str
    radar: str
    heading_deg: float
    sector_deg: float
    range_m: float
    geometry: Any  # lon/lat Polygon or MultiPolygon


@dataclass(frozen=True)
class AssetMark:
    """A defended asset: a geodesic circle of ``radius_km``."""

    id: str
    lat: float
    lon: float
    radius_km: float
    value: float
    geometry: Any
    ground_m: float = 0.0  #: the DEM's height at the centre (0 without a DEM)


@dataclass(frozen=True)
class CoverageLayer:
    """The detection or engagement coverage of one site (or ``union``) at one altitude, as a
    lon/lat (Multi)Polygon in RFC 7946 orientation, with the coverage's own area (cell count x
    cell area on the equal-area grid, as summary.json gives it)."""

    altitude_m: float
    agl: bool
    kind: str  # detection | engagement
    site: str  # a site id or "union"
    system: str
    area_km2: float
    threat: str
    resolution_km: float
    geometry: Any


@dataclass
class Track:
    """A moving object sampled over time: a threat or an interceptor salvo.

    ``time_s`` strictly increasing, the object exists from ``time_s[0]`` to ``time_s[-1]``.
    ``props`` holds what the writers show: for a threat ``threat_type``, ``target_class``,
    ``raid``, ``fate`` (killed, leaked, unresolved, or arrives for a planned flight),
    ``asset``; for an interceptor ``site``, ``interceptor``, ``rounds``, ``target``,
    ``outcome`` (kill, miss, none).
    """

    id: str
    kind: str  # threat | interceptor
    time_s: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    alt_m: np.ndarray
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def start_s(self) -> float:
        return float(self.time_s[0])

    @property
    def end_s(self) -> float:
        return float(self.time_s[-1])

    def position_at(self, t_s: float) -> tuple[float, float, float]:
        """Linear interpolation in lon/lat/alt (longitude continuous across ±180°)."""
        lon = np.degrees(np.unwrap(np.radians(self.lon)))
        x = float(np.interp(t_s, self.time_s, lon))
        return (
            (x + 180.0) % 360.0 - 180.0,
            float(np.interp(t_s, self.time_s, self.lat)),
            float(np.interp(t_s, self.time_s, self.alt_m)),
        )


@dataclass(frozen=True)
class EventMark:
    """A point event: first detection, track start, launch, intercept, miss, leak,
    unresolved. ``text`` is one sentence for the tools' event lists."""

    kind: str
    time_s: float
    lon: float
    lat: float
    alt_m: float
    site: str | None
    threat: str | None
    interceptor: str | None
    text: str


@dataclass
class Scene:
    """Everything an export writes (see the module docstring for time and positions)."""

    name: str
    description: str
    source: dict[str, Any]
    start_utc: dt.datetime
    duration_s: float
    sites: list[SiteMark] = field(default_factory=list)
    sectors: list[SectorMark] = field(default_factory=list)
    assets: list[AssetMark] = field(default_factory=list)
    coverage: list[CoverageLayer] = field(default_factory=list)
    threats: list[Track] = field(default_factory=list)
    interceptors: list[Track] = field(default_factory=list)
    events: list[EventMark] = field(default_factory=list)
    note: str = NOTE

    def utc(self, t_s: float) -> dt.datetime:
        """The UTC instant of simulated time ``t_s``."""
        return self.start_utc + dt.timedelta(seconds=float(t_s))

    @property
    def end_s(self) -> float:
        """The last instant the scene shows: the simulated duration, or a later object end."""
        ends = [t.end_s for t in (*self.threats, *self.interceptors)]
        ends += [e.time_s for e in self.events]
        return max([self.duration_s, *ends])

    def counts(self) -> dict[str, int]:
        return {
            "sites": len(self.sites),
            "sectors": len(self.sectors),
            "assets": len(self.assets),
            "coverage polygons": len(self.coverage),
            "threats": len(self.threats),
            "interceptor fly-outs": len(self.interceptors),
            "events": len(self.events),
        }


def iso_utc(t: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    t = t.astimezone(dt.UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_start_utc(text: str | dt.datetime | None) -> dt.datetime | None:
    """``start_utc`` as an aware UTC datetime: an ISO 8601 string (``Z`` or an offset; no
    offset means UTC) or a datetime; None stays None."""
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        t = text
    else:
        try:
            t = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(
                f"start_utc {text!r} is not an ISO 8601 time; give e.g. 2024-05-01T06:00:00Z",
                "start_utc",
            ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC)


def default_start_utc(lats_deg: Sequence[float], lons_deg: Sequence[float]) -> dt.datetime:
    """12:00 local mean solar time on :data:`REFERENCE_DATE` at the points' centre, in UTC to
    the minute."""
    lon = central_point(lats_deg, lons_deg)[1] if len(lats_deg) else 0.0
    noon = dt.datetime.combine(REFERENCE_DATE, dt.time(12), tzinfo=dt.UTC)
    return noon - dt.timedelta(minutes=round(lon / 15.0 * 60.0))


def scene_points(scenario) -> tuple[list[float], list[float]]:
    """Latitudes and longitudes that place a scenario: sites, assets, raid points."""
    lats = [s.lat for s in scenario.sites] + [a.lat for a in scenario.assets]
    lons = [s.lon for s in scenario.sites] + [a.lon for a in scenario.assets]
    for r in scenario.raids:
        for p in (r.route or []) + [q for q in (r.launch, r.aim) if q]:
            lats.append(p[0])
            lons.append(p[1])
    return lats, lons


def check_threat(scenario, threat: str) -> Any:
    """The catalog threat ``threat`` of the scenario's catalog (its RCS sets the sectors' and
    the coverage's detection ranges); one-line error naming ``threat`` otherwise."""
    try:
        return resolve_threat(threat, scenario)
    except CatalogError:  # said for the parameter, so the CLI names its option
        known = ", ".join(t.id for t in catalog.items("threat"))
        raise InputError(
            f"threat {threat!r} is not in the catalog's threats; known: {known}", "threat"
        ) from None


def site_marks(deployment: Deployment, threat) -> list[SiteMark]:
    """The sites with their radars' detection ranges and engagement range on ``threat``."""
    out = []
    for s in deployment.sites:
        spec = site_spec(s, threat)
        out.append(
            SiteMark(
                id=s.id,
                system=s.system,
                kind="fire_unit" if s.has_fire_unit else "radar",
                lat=s.lat,
                lon=s.lon,
                ground_m=float(s.ground_altitude_m),
                radars=tuple(
                    RadarMark(r.id, r.detection_range_m, r.azimuth_sector_deg, r.heading_deg)
                    for r in spec.radars
                ),
                interceptors=tuple(i.id for i in s.interceptors if i.rounds > 0),
                engagement_range_m=max([e.max_range_m for e in spec.envelopes] + [0.0]),
                network=s.network,
            )
        )
    return out


def sector_marks(sites: Sequence[SiteMark]) -> list[SectorMark]:
    """The azimuth sector of every sector radar with a heading, out to its detection range
    (radars that cannot see the threat's class, range 0, are left out)."""
    out = []
    for s in sites:
        for r in s.radars:
            if r.azimuth_sector_deg >= 360.0 or r.heading_deg is None:
                continue
            if r.detection_range_m <= 0:
                continue
            geom = geometry.wedge(
                s.lon, s.lat, r.heading_deg, r.azimuth_sector_deg, r.detection_range_m
            )
            out.append(
                SectorMark(
                    s.id, r.id, r.heading_deg, r.azimuth_sector_deg, r.detection_range_m, geom
                )  # fmt: skip
            )
    return out


def asset_marks(scenario, dem=None) -> list[AssetMark]:
    """The defended assets, on the DEM's ground at their centre (sea level without one)."""
    out = []
    for a in scenario.assets:
        ground = float(dem.height_at(a.lat, a.lon)) if dem is not None else 0.0
        out.append(AssetMark(a.id, a.lat, a.lon, a.radius_km, a.value,
                             geometry.circle(a.lon, a.lat, a.radius_km * 1000.0),
                             ground if np.isfinite(ground) else 0.0))  # fmt: skip
    return out


def coverage_layers(results: Sequence[CoverageResult], resolution_km: float) -> list[CoverageLayer]:
    """Every site's and the union's detection and engagement polygon at each altitude
    (empty ones left out), in lon/lat (:func:`iadsim.export.geometry.laea_to_lonlat`)."""
    out = []
    for res in results:
        systems = {s.id: s.system for s in res.sites}
        polys = res.polygons(wgs84=False)
        masks = res.masks()
        for kind in ("detection", "engagement"):
            for key, geom in polys[kind].items():
                if geom.is_empty:
                    continue
                out.append(
                    CoverageLayer(
                        altitude_m=float(res.altitude_m),
                        agl=bool(res.agl),
                        kind=kind,
                        site=key,
                        system=systems.get(key, "all"),
                        area_km2=round(res.area_km2(masks[kind][key]), 1),
                        threat=res.threat,
                        resolution_km=float(resolution_km),
                        geometry=geometry.laea_to_lonlat(geom, res.grid),
                    )
                )
    return out


def compute_layers(
    scenario,
    altitudes_m: Sequence[float],
    agl: bool,
    threat: str,
    resolution_km: float,
    dem,
    fixed_sectors: bool,
) -> list[CoverageLayer]:
    """Coverage of the scenario's sites at ``altitudes_m`` (:func:`compute_coverage_multi`)
    as export layers."""
    results = compute_coverage_multi(
        scenario,
        list(altitudes_m),
        agl=agl,
        threat=threat,
        resolution_km=resolution_km,
        dem=dem,
        sectors=fixed_sectors,
    )
    return coverage_layers(results, resolution_km)


def check_sample_s(sample_s: float | None, scenario) -> float:
    """The flights' sampling interval: ``sample_s``, else the scenario's time step."""
    step = float(scenario.time.step_s) if sample_s is None else float(sample_s)
    if not (np.isfinite(step) and 0.01 <= step <= 600.0):
        raise InputError(f"sample_s must be between 0.01 and 600 s, got {sample_s}", "sample_s")
    return step


def flight_times(scenario, sample_s: float, extra_s: Sequence[float] = ()) -> np.ndarray:
    """The times the flights are sampled at: every ``sample_s`` from 0 to the scenario's
    duration, plus ``extra_s`` (launches, impacts, kills), sorted and unique."""
    duration = float(scenario.time.duration_s)
    grid = np.arange(0.0, duration + 0.5 * sample_s, sample_s)
    grid = grid[grid <= duration + 1e-9]
    extra = np.asarray([t for t in extra_s if np.isfinite(t) and 0.0 <= t <= duration], float)
    t = np.unique(np.round(np.concatenate([grid, extra, [duration]]), 6))
    n = sum(r.count for r in scenario.raids)
    check_memory(
        n * t.size * BYTES_PER_SAMPLE,
        f"{n:,} threats x {t.size:,} time samples (every {sample_s:g} s)",
        "use a larger sample_s",
        "sample_s",
    )
    return t


def flight_windows(scenario, dem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each threat's launch and impact/arrival time and name (one cheap sampling at t = 0)."""
    traj = scenario_trajectories(scenario, np.zeros(1), dem)
    return traj.launch_time_s, traj.impact_time_s, np.asarray(traj.name)


def sample_flights(scenario, times_s: np.ndarray, dem):
    """Every threat of the scenario on ``times_s`` (the engine's own flights)."""
    return scenario_trajectories(scenario, times_s, dem)


def threat_track(traj, n: int, start_s: float, end_s: float, props: dict[str, Any],
                 end_point: tuple[float, float, float] | None = None) -> Track | None:  # fmt: skip
    """Threat ``n`` of ``traj`` from ``start_s`` to ``end_s`` (both sampled in ``traj``);
    ``end_point`` (lon, lat, alt) replaces the last sample (an event's recorded position).
    None when the window holds fewer than two samples."""
    t = traj.time_s
    m = (t >= start_s - 1e-6) & (t <= end_s + 1e-6)
    if m.sum() < 2:
        return None
    lon, lat, alt = (np.array(a[n, m], float) for a in (traj.lon_deg, traj.lat_deg, traj.alt_m))
    if end_point is not None and all(np.isfinite(end_point)):
        lon[-1], lat[-1], alt[-1] = end_point
    return Track(str(traj.name[n]), "threat", np.array(t[m], float), lon, lat, alt, props)


def base_scene(
    scenario,
    *,
    source: dict[str, Any],
    threat: str,
    start_utc: dt.datetime | None,
) -> Scene:
    """The static part of a scene: sites, sectors, assets (no coverage, no flights)."""
    threat_item = check_threat(scenario, threat)
    with open_dem(scenario) as dem:
        deployment = resolve_deployment(scenario, dem)
        assets = asset_marks(scenario, dem)
    sites = site_marks(deployment, threat_item)
    lats, lons = scene_points(scenario)
    scene = Scene(
        name=scenario.name,
        description=scenario.description,
        source=source,
        start_utc=start_utc or default_start_utc(lats, lons),
        duration_s=float(scenario.time.duration_s),
        sites=sites,
        sectors=sector_marks(sites),
        assets=assets,
    )
    return scene


def with_dem(scenario, dem):
    """``scenario`` with its DEM replaced by the GeoTIFF ``dem`` (a path; None: unchanged),
    for its sites' ground, terrain-following flights and coverage alike."""
    if dem is None:
        return scenario
    path = Path(dem)
    if not path.is_file():
        raise InputError(f"dem {str(path)!r}: file not found; give a GeoTIFF DEM", "dem")
    env = scenario.environment.model_copy(update={"dem": path.resolve()})
    new = scenario.model_copy(update={"environment": env})
    new._path, new._catalog, new._lines = scenario._path, scenario._catalog, scenario._lines
    return new


def scenario_scene(
    scenario,
    *,
    altitudes_m: Sequence[float] = (1000.0,),
    agl: bool = False,
    threat: str = "fighter-4gen",
    resolution_km: float = 2.0,
    fixed_sectors: bool = False,
    sample_s: float | None = None,
    start_utc: dt.datetime | None = None,
    source: dict[str, Any] | None = None,
) -> Scene:
    """A scenario's scene: sites, sectors and assets; coverage at each of ``altitudes_m``
    (none when empty) against ``threat``; the raids' flights as planned, each from launch to
    impact or arrival (cut at the scenario's duration), with no defence acting."""
    step = check_sample_s(sample_s, scenario)
    scene = base_scene(
        scenario, source=source or {"input": "scenario"}, threat=threat, start_utc=start_utc
    )
    if altitudes_m:
        scene.coverage = compute_layers(
            scenario, altitudes_m, agl, threat, resolution_km, None, fixed_sectors
        )
    with open_dem(scenario) as dem:
        launch, impact, _ = flight_windows(scenario, dem)
        times = flight_times(scenario, step, [*launch, *impact])
        traj = sample_flights(scenario, times, dem)
    duration = scene.duration_s
    for n in range(traj.n_threats):
        start, end = float(launch[n]), float(min(impact[n], duration))
        fate = "arrives" if impact[n] <= duration else "unresolved"
        track = threat_track(traj, n, start, end, threat_props(scenario, traj, n, fate))
        if track is not None:
            scene.threats.append(track)
    return scene


def threat_props(scenario, traj, n: int, fate: str, asset: str | None = None) -> dict:
    """The writers' properties of threat ``n`` of ``traj`` (see :class:`Track`)."""
    raid = scenario.raids[int(traj.raid_index[n])]
    return {
        "threat_type": str(traj.threat_id[n]),
        "target_class": str(traj.target_class[n]),
        "raid": raid.id or f"raid{int(traj.raid_index[n])}",
        "fate": fate,
        "asset": asset,
    }
