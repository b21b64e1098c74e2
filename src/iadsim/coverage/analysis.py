"""Coverage of a scenario's sites at one or more target altitudes, on the common LAEA grid.

For a target at altitude ``h_t`` (AMSL) at a cell at geodesic ground distance ``d`` from a
site whose radar antenna is at ``h_r`` (AMSL), the cell is **detected** by that radar iff

* line of sight: ``h_t >= h_min(d)``; on a smooth sphere of radius ``a = k R`` this is the
  tangent-ray form of :func:`iadsim.geo.earth.min_visible_height_m`; over terrain ``h_min`` is
  the minimum visible altitude from :mod:`iadsim.geo.los` (computed once per site and
  antenna height, so every altitude is a threshold on the same raster);
* range: the slant range (law of cosines over R_E, :func:`iadsim.geo.earth.slant_range_m`) is
  at most the radar's detection range for the threat's RCS, ``R_ref (sigma/sigma_ref)^(1/4)``
  capped at the instrumented range (:func:`iadsim.catalog.detection_range_m`);
* elevation: the refracted elevation angle (sphere of radius k R) is within the radar's limits.

A site's detection is the union over its radars. Its **engagement** coverage is the union over
its interceptors of their envelope for the threat's class (slant range from the launcher at
the site's ground between min and max range, target altitude AMSL between min and max
altitude) intersected with the view of the site's own fire-control radar: its line of sight
and its elevation limits (a radar cannot guide a missile onto a target it cannot point at; the
FCR's detection range is not required, since a cued missile may fly beyond it).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from iadsim import catalog
from iadsim.coverage.grid import GEOD, MAX_CELLS, Grid, GridTooLargeError, make_grid
from iadsim.coverage.products import mask_to_geometry, summarize
from iadsim.deployment import Deployment, ResolvedSite, ground_altitudes_m, resolve_deployment
from iadsim.errors import DemCoverageWarning, DemError, InputError, ScenarioError
from iadsim.geo import los
from iadsim.geo.dem import Dem
from iadsim.geo.earth import (
    K_STANDARD,
    R_EARTH_M,
    elevation_angle_rad,
    ground_range_for_slant_m,
    horizon_range_m,
    min_visible_height_m,
    slant_range_m,
)

DEM_COVER_WARN = 0.99  # warn when a DEM covers less than this share of a site's reach


@dataclass(frozen=True)
class RadarSpec:
    """One radar of a site against one threat (SI units, angles in degrees); from a scenario,
    built from its deployment by :func:`site_spec`."""

    id: str
    antenna_height_m: float
    detection_range_m: float
    min_elevation_deg: float = -90.0
    max_elevation_deg: float = 90.0
    azimuth_sector_deg: float = 360.0
    heading_deg: float | None = None  #: boresight (deg); needed with fixed sectors

    def reach_at_m(self, target_altitude_m, ground_m: float = 0.0, k_factor: float = K_STANDARD):
        """Farthest ground distance (m) at which this radar, on ground ``ground_m``, detects a
        target at ``target_altitude_m`` (same reference as the ground; arrays broadcast) over
        a smooth sphere: the detection range (a slant range) as a ground distance at that
        height, cut at the radio horizon between the antenna and the target (k from
        ``k_factor``). 0 where the target is beyond the detection range even overhead."""
        h_r = ground_m + self.antenna_height_m
        by_range = ground_range_for_slant_m(self.detection_range_m, h_r, target_altitude_m)
        horizon = horizon_range_m(h_r, target_altitude_m, k_factor)
        return np.minimum(np.nan_to_num(by_range, nan=0.0), horizon)


@dataclass(frozen=True)
class EnvelopeSpec:
    """One interceptor's engagement envelope for the threat's class."""

    interceptor: str
    min_range_m: float
    max_range_m: float
    min_altitude_m: float
    max_altitude_m: float


@dataclass(frozen=True)
class SiteSpec:
    """A site as coverage sees it against one threat; from a scenario, built from its
    deployment (:mod:`iadsim.deployment`) by :func:`site_spec`. ``fire_control`` indexes
    ``radars`` (None for radar-only sites, which have no engagement coverage);
    ``ground_altitude_m`` is the stated ground (None: the DEM's, else sea level)."""

    id: str
    system: str
    lat: float
    lon: float
    radars: tuple[RadarSpec, ...]
    fire_control: int | None = None
    envelopes: tuple[EnvelopeSpec, ...] = ()
    ground_altitude_m: float | None = None

    @property
    def reach_m(self) -> float:
        """Farthest ground distance any coverage of this site can reach (range limits only)."""
        r = [x.detection_range_m for x in self.radars] + [e.max_range_m for e in self.envelopes]
        return max(r + [1.0])

    def reach_at_m(self, max_altitude_m: float, ground_m: float, k_factor: float) -> float:
        """Farthest ground distance of any coverage for targets up to ``max_altitude_m`` AMSL:
        each range limit, cut at the smooth-sphere horizon (terrain only shortens it)."""

        def horizon(r: RadarSpec) -> float:
            return float(horizon_range_m(ground_m + r.antenna_height_m, max_altitude_m, k_factor))

        reach = [min(r.detection_range_m, horizon(r)) for r in self.radars]
        if self.fire_control is not None:
            fcr = horizon(self.radars[self.fire_control])
            reach += [min(e.max_range_m, fcr) for e in self.envelopes]
        return max(reach + [1.0]) * 1.01  # ground arc exceeds the chord by < 0.1 % here


def resolve_threat(threat_id: str, scenario=None) -> catalog.Threat:
    """The threat ``threat_id`` from the scenario's catalog view (its overrides applied), or
    from the base catalog without a scenario."""
    cat = getattr(scenario, "catalog", None)
    cat = cat if cat is not None else catalog.base()
    return cat.get(threat_id, kind="threat")


def site_spec(site: ResolvedSite, threat: catalog.Threat) -> SiteSpec:
    """The coverage view of a resolved site against one threat: each radar's detection range
    on the threat, and the envelopes for its class of the interceptor types with rounds.
    ``ground_altitude_m`` is the ground the scenario states (None when it comes from the DEM
    or is sea level: over terrain the site then stands on the DEM's ground, see
    :func:`terrain_pass`)."""
    radars = tuple(
        RadarSpec(
            id=r.id,
            antenna_height_m=r.antenna_height_m,
            detection_range_m=r.detection_range_m(threat),
            min_elevation_deg=r.min_elevation_deg,
            max_elevation_deg=r.max_elevation_deg,
            azimuth_sector_deg=r.azimuth_sector_deg,
            heading_deg=r.heading_deg,
        )
        for r in site.radars
    )
    envs = tuple(
        EnvelopeSpec(
            i.id, env.min_range.si, env.max_range.si, env.min_altitude.si, env.max_altitude.si
        )
        for i, env in site.envelopes(threat.target_class)
    )
    return SiteSpec(
        site.id,
        site.system,
        site.lat,
        site.lon,
        radars,
        site.fcr_index,
        envs,
        site.stated_ground_altitude_m,
    )


def resolve_sites(
    scenario, threat_id: str = "fighter-4gen", deployment: Deployment | None = None
) -> list[SiteSpec]:
    """A scenario's sites as coverage sees them against one threat, from its
    :class:`iadsim.deployment.Deployment` (resolved here unless given)."""
    threat = resolve_threat(threat_id, scenario)
    if deployment is None:
        deployment = resolve_deployment(scenario)
    return [site_spec(s, threat) for s in deployment.sites]


@dataclass
class _SitePass:
    """Altitude-independent work for one site on its grid window: geodesic ground ranges, the
    terrain height of each cell and each radar's minimum visible altitude (AMSL)."""

    rows: slice
    cols: slice
    ground_range_m: np.ndarray
    azimuth_deg: np.ndarray
    cell_ground_m: np.ndarray | float
    site_ground_m: float
    min_visible_m: list[np.ndarray] = field(default_factory=list)
    in_dem: np.ndarray | None = None  # window cells inside the DEM's extent (terrain only)


def _prepare_pass(
    site: SiteSpec, grid: Grid, k_factor: float, reach_m: float, terrain=None
) -> _SitePass:
    x, y = grid.project(site.lon, site.lat)
    rows, cols = grid.window(float(x), float(y), reach_m * 1.02 + 2 * grid.cell_m)
    lon, lat = grid.centres_lonlat(rows, cols)
    az, _, d = GEOD.inv(np.full(lon.shape, site.lon), np.full(lat.shape, site.lat), lon, lat)
    if terrain is None:
        ground = site.ground_altitude_m or 0.0
        minvis = [
            min_visible_height_m(d, ground + r.antenna_height_m, k_factor) for r in site.radars
        ]
        return _SitePass(rows, cols, d, az, 0.0, ground, minvis)
    cell_ground, site_ground, minvis = terrain_pass(
        site, lon, lat, terrain, k_factor, grid.cell_m, reach_m
    )
    in_dem = terrain.contains(lat, lon) if hasattr(terrain, "contains") else None
    return _SitePass(rows, cols, d, az, cell_ground, site_ground, minvis, in_dem)


def _dem_covered_fraction(site: SiteSpec, p: _SitePass, altitude_m, agl, k_factor) -> float:
    """Share of the site's smooth-Earth reach at this altitude (the target's altitude above
    the datum taken as ``altitude_m``, plus the site's ground if ``agl``) that lies inside the
    DEM's extent; 1.0 without a DEM."""
    if p.in_dem is None:
        return 1.0
    top = altitude_m + (max(p.site_ground_m, 0.0) if agl else 0.0)
    reach = min(site.reach_m, site.reach_at_m(top, p.site_ground_m, k_factor))
    disc = p.ground_range_m <= reach
    if not disc.any():
        return 1.0
    return float(np.mean(p.in_dem[disc]))


def _evaluate(
    site: SiteSpec,
    p: _SitePass,
    altitude_m: float,
    agl: bool,
    k_factor: float,
    sectors: bool = False,
):
    """Detection and engagement masks of one site on its window (``sectors``: sector radars
    see only within half their azimuth sector of the site's heading)."""
    h_t = p.cell_ground_m + altitude_m if agl else np.full(p.ground_range_m.shape, altitude_m)
    d = p.ground_range_m
    det = np.zeros(d.shape, bool)
    los = []
    for r, minvis in zip(site.radars, p.min_visible_m, strict=True):
        h_r = p.site_ground_m + r.antenna_height_m
        el = np.degrees(elevation_angle_rad(d, h_r, h_t, k_factor * R_EARTH_M))
        # NaN min-visible altitude (no terrain data / beyond the LOS radius) compares False
        in_view = (h_t >= minvis) & (el >= r.min_elevation_deg) & (el <= r.max_elevation_deg)
        if sectors and r.azimuth_sector_deg < 360.0:
            off_deg = (p.azimuth_deg - r.heading_deg + 180.0) % 360.0 - 180.0
            in_view &= np.abs(off_deg) <= r.azimuth_sector_deg / 2
        los.append(in_view)
        if r.detection_range_m > 0:
            det |= in_view & (slant_range_m(d, h_r, h_t) <= r.detection_range_m)
    eng = np.zeros(d.shape, bool)
    if site.fire_control is not None and site.envelopes:
        slant = slant_range_m(d, p.site_ground_m, h_t)
        # envelope altitudes are heights above the ground under the target, as in the
        # simulation (iadsim.sim.engagement); without terrain the ground is sea level
        h_above_ground = h_t - p.cell_ground_m
        for e in site.envelopes:
            eng |= (
                (slant >= e.min_range_m)
                & (slant <= e.max_range_m)
                & (h_above_ground >= e.min_altitude_m)
                & (h_above_ground <= e.max_altitude_m)
            )
        eng &= los[site.fire_control]
    return det, eng


@dataclass
class CoverageResult:
    """Coverage rasters of all sites at one altitude on one grid.

    ``detection`` and ``engagement`` are boolean arrays of shape (n_sites, nrows, ncols);
    the unions, overlap counts and areas derive from them (area = cells x cell area, exact on
    the equal-area grid).
    """

    grid: Grid
    altitude_m: float
    agl: bool
    threat: str
    k_factor: float
    terrain: bool
    sites: list[SiteSpec]
    detection: np.ndarray
    engagement: np.ndarray
    scenario_name: str = ""
    sectors: bool = False
    dem_covered_fraction: list[float] | None = None  # per site: share of its reach in the DEM

    @property
    def site_ids(self) -> list[str]:
        return [s.id for s in self.sites]

    @property
    def union_detection(self) -> np.ndarray:
        return self.detection.any(axis=0)

    @property
    def union_engagement(self) -> np.ndarray:
        return self.engagement.any(axis=0)

    @property
    def overlap_detection(self) -> np.ndarray:
        """Number of sites detecting each cell."""
        return self.detection.sum(axis=0, dtype=np.uint8)

    @property
    def overlap_engagement(self) -> np.ndarray:
        return self.engagement.sum(axis=0, dtype=np.uint8)

    def area_km2(self, mask: np.ndarray) -> float:
        return float(np.count_nonzero(mask)) * self.grid.cell_area_km2

    def masks(self) -> dict[str, dict[str, np.ndarray]]:
        """{kind: {site id | "union": 2-D mask}} for kind in detection, engagement."""
        out = {}
        for kind, stack in (("detection", self.detection), ("engagement", self.engagement)):
            out[kind] = {sid: stack[i] for i, sid in enumerate(self.site_ids)}
            out[kind]["union"] = stack.any(axis=0)
        return out

    def polygons(self, wgs84: bool = True):
        """{kind: {site id | "union": shapely geometry}}, in WGS84 lon/lat (or the grid's LAEA
        metres with ``wgs84=False``)."""
        return {
            kind: {k: mask_to_geometry(m, self.grid, wgs84) for k, m in d.items()}
            for kind, d in self.masks().items()
        }

    def summary(self, cities: bool = True, countries: bool = True) -> dict:
        """The content of summary.json (areas, cities and countries covered)."""
        return summarize(self, cities=cities, countries=countries)


def compute_coverage_multi(
    scenario,
    altitudes_m: Sequence[float],
    agl: bool = False,
    threat: str = "fighter-4gen",
    resolution_km: float = 2.0,
    dem=None,
    sites: Sequence[SiteSpec] | None = None,
    k_factor: float | None = None,
    progress=None,
    sectors: bool = False,
) -> list[CoverageResult]:
    """Coverage at several altitudes, reusing one line-of-sight pass per site.

    ``scenario`` is a loaded :class:`iadsim.scenario.Scenario` (or None when ``sites`` are
    given directly); ``dem`` a path or open DEM overriding ``environment.dem``;
    ``progress(advance_by)`` is called once per site as its pass completes. With
    ``sectors=True`` sector radars (catalog ``azimuth_sector`` < 360 deg) look only around
    the site's ``heading_deg``; by default they may be slewed to any azimuth.
    """
    if not (np.isfinite(resolution_km) and resolution_km > 0):
        raise InputError(f"resolution_km must be > 0, got {resolution_km}", "resolution_km")
    alts = [float(a) for a in altitudes_m]
    if not alts:
        raise InputError("altitudes_m is empty; give at least one altitude", "altitudes_m")
    if any(not np.isfinite(a) or a < -500 or a > 1_000_000 for a in alts):
        raise InputError(
            f"altitudes_m must be between -500 m and 1000 km, got {alts}", "altitudes_m"
        )
    if agl and min(alts) < 0:
        raise InputError(
            f"altitudes_m must be >= 0 above ground (agl), got {min(alts):g} m",
            ("altitudes_m", "agl"),
        )
    if sites is None and scenario is not None and not scenario.sites:
        # a raid-only scenario is valid for the simulation, not for coverage
        where = getattr(scenario, "_path", None) or "scenario"
        raise ScenarioError(
            f"{where}: field 'sites': no sites to compute coverage for; add at least one "
            "entry under 'sites'"
        )
    if sites is None:
        resolve_threat(threat, scenario)
    if sectors and sites is None and scenario is not None:
        scenario.require_headings("coverage with fixed sectors (--fixed-sectors, sectors=True)")
    if sectors and sites is not None:
        for site in sites:
            for r in site.radars:
                if r.azimuth_sector_deg < 360.0 and r.heading_deg is None:
                    raise InputError(
                        f"site {site.id!r}: sector radar {r.id!r} has no heading_deg and "
                        "sectors=True fixes it there; give RadarSpec(heading_deg=...) in sites",
                        "sites",
                    )
    k = (
        k_factor
        if k_factor is not None
        else (scenario.environment.k_factor if scenario is not None else K_STANDARD)
    )
    terrain = _open_terrain(scenario, dem)
    opened_here = terrain is not None and terrain is not dem
    try:
        if sites is not None:
            specs = list(sites)
        else:
            specs = resolve_sites(scenario, threat, resolve_deployment(scenario, terrain))
        grounds = _site_grounds(specs, terrain)
        reach = _reaches(specs, grounds, max(alts), agl, k, terrain)
        for alt in alts if specs else ():
            widest = max(_reaches(specs, grounds, alt, agl, k, terrain))
            if resolution_km * 1000.0 > widest:
                raise InputError(
                    f"resolution_km {resolution_km:g} is coarser than the widest site's reach "
                    f"at {alt:g} m ({widest / 1000:.3g} km): the coverage would be empty; use "
                    f"at most {widest / 5000:.2g} km",
                    "resolution_km",
                )
        try:
            grid = make_grid(
                [s.lat for s in specs], [s.lon for s in specs], reach, resolution_km * 1000.0
            )
        except GridTooLargeError as exc:  # said in terms of this function's parameter
            raise InputError(
                f"resolution_km {resolution_km:g} is too fine: the analysis grid would have "
                f"{exc.nrows}x{exc.ncols} cells (at most {MAX_CELLS:,}); use a coarser one",
                "resolution_km",
            ) from None
        det = np.zeros((len(alts), len(specs), *grid.shape), bool)
        eng = np.zeros_like(det)
        in_dem = np.ones((len(alts), len(specs)))
        for i, site in enumerate(specs):
            p = _prepare_pass(site, grid, k, reach[i], terrain)
            for j, alt in enumerate(alts):
                d, e = _evaluate(site, p, alt, agl, k, sectors)
                det[j, i, p.rows, p.cols] = d
                eng[j, i, p.rows, p.cols] = e
                in_dem[j, i] = _dem_covered_fraction(site, p, alt, agl, k)
            if in_dem[:, i].min() < DEM_COVER_WARN:
                j = int(np.argmin(in_dem[:, i]))
                warnings.warn(
                    DemCoverageWarning(
                        f"DEM {getattr(terrain, 'path', '')} covers only "
                        f"{100 * in_dem[j, i]:.0f}% of the reach of site {site.id!r} at "
                        f"{alts[j]:g} m {'AGL' if agl else 'AMSL'}; beyond its edge the ground "
                        "is taken as sea level (0 m), so coverage there is approximate: use a "
                        "DEM that covers it"
                    ),
                    stacklevel=2,
                )
            if progress is not None:
                progress(1)
    except DemError as exc:  # the scenario's own DEM: located on its field
        if dem is None and scenario is not None and hasattr(scenario, "locate"):
            raise ScenarioError(f"{scenario.locate(('environment', 'dem'))}: {exc}") from None
        raise
    finally:
        if opened_here and hasattr(terrain, "close"):
            terrain.close()
    name = getattr(scenario, "name", "") if scenario is not None else ""
    return [
        CoverageResult(
            grid,
            alt,
            agl,
            threat,
            k,
            terrain is not None,
            specs,
            det[j],
            eng[j],
            name,
            sectors,
            in_dem[j].tolist() if terrain is not None else None,
        )
        for j, alt in enumerate(alts)
    ]


def compute_coverage(
    scenario,
    altitude_m: float,
    agl: bool = False,
    threat: str = "fighter-4gen",
    resolution_km: float = 2.0,
    dem=None,
    **kwargs,
) -> CoverageResult:
    """Coverage of every site of ``scenario`` against ``threat`` at one altitude (AMSL, or
    above ground with ``agl=True``). See :func:`compute_coverage_multi`."""
    return compute_coverage_multi(
        scenario, [altitude_m], agl, threat, resolution_km, dem, **kwargs
    )[0]


def _site_grounds(specs, terrain) -> list[float]:
    """Each site's ground altitude (m), by the deployment's rule
    (:func:`iadsim.deployment.ground_altitudes_m`): ``ground_altitude_m`` if given, else the
    DEM height at the site (0 without a DEM or on nodata)."""
    ground, _ = ground_altitudes_m(
        [s.lat for s in specs],
        [s.lon for s in specs],
        [s.ground_altitude_m for s in specs],
        terrain,
    )
    return [float(g) for g in ground]


def _reaches(specs, grounds, max_alt_m: float, agl: bool, k_factor: float, terrain) -> list[float]:
    """Each site's farthest possible coverage (m). Over terrain the site stands on the DEM and
    above-ground targets may fly over mountains, so allow 9 km of relief for them."""
    top = max_alt_m + (9000.0 if agl and terrain is not None else 0.0)
    return [
        min(s.reach_m, s.reach_at_m(top, ground, k_factor))
        for s, ground in zip(specs, grounds, strict=True)
    ]


def _open_terrain(scenario, dem):
    """The DEM to use: the ``dem`` argument (path or open DEM) or the scenario's, else None."""
    if dem is None and scenario is not None:
        dem = scenario.dem_path()
    if dem is None:
        return None
    if hasattr(dem, "local_grid"):
        return dem
    return Dem.open(dem)


def terrain_pass(site: SiteSpec, lon, lat, dem, k_factor: float, cell_m: float, reach_m: float):
    """Terrain part of a site pass: the DEM height of each window cell, the site's ground
    altitude and, per radar, the minimum visible altitude (AMSL) resampled (nearest cell) from
    the LOS raster computed on the site's local azimuthal-equidistant grid.

    The LOS raster is computed once per distinct antenna height; the local cell is half the
    analysis cell (at most ~3000 cells across) so that masking ridges are resolved.
    """
    from pyproj import Transformer

    radius_m = reach_m * 1.02 + 2 * cell_m
    local_cell_m = max(cell_m / 2.0, 2 * radius_m / 3000.0)
    lg = dem.local_grid(site.lat, site.lon, radius_m, local_cell_m)
    if not np.isfinite(lg.heights_m).any():
        raise DemError(
            f"DEM {getattr(dem, 'path', '')} does not cover site {site.id!r} "
            f"({site.lat:.4f}, {site.lon:.4f}) or its surroundings; use a DEM of that area"
        )
    # nodata is sea in most DEMs (SRTM, Copernicus): treat it as the datum so that it neither
    # blocks nor hides targets over water
    heights = np.nan_to_num(np.asarray(lg.heights_m, dtype=np.float32), nan=0.0)
    r0, c0 = int(lg.centre_row), int(lg.centre_col)
    dem_at_site = float(heights[r0, c0])
    site_ground = site.ground_altitude_m if site.ground_altitude_m is not None else dem_at_site
    x, y = Transformer.from_crs("EPSG:4326", lg.crs, always_xy=True).transform(lon, lat)
    col_f, row_f = ~lg.transform @ (x, y)
    row, col = np.floor(row_f).astype(np.int64), np.floor(col_f).astype(np.int64)
    inside = (row >= 0) & (row < heights.shape[0]) & (col >= 0) & (col < heights.shape[1])
    row, col = np.where(inside, row, 0), np.where(inside, col, 0)

    def resample(a):
        return np.where(inside, a[row, col], np.nan).astype(float)

    cell_ground = np.nan_to_num(resample(heights), nan=0.0)
    cache: dict[float, np.ndarray] = {}
    minvis = []
    for r in site.radars:
        # the eye sits at site_ground + antenna even when the site's stated ground differs
        eye_above_cell = site_ground + r.antenna_height_m - dem_at_site
        if eye_above_cell not in cache:
            mv = los.min_visible_height(
                heights,
                lg.cell_size_m,
                r0,
                c0,
                eye_above_cell,
                k_factor=k_factor,
                max_range_m=radius_m,
            )
            cache[eye_above_cell] = resample(mv)
        minvis.append(cache[eye_above_cell])
    return cell_ground, site_ground, minvis
