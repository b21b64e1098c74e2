"""Checks and lints of a loaded scenario that need more than its schema: `iadsim check`.

Loading a scenario (:func:`iadsim.scenario.load_scenario`) refuses what is wrong: every number
finite and in range, ids known, fields consistent. What is legal but probably not what was
meant is a warning (:class:`~iadsim.errors.DoubtfulScenarioWarning` and the others below),
one located sentence each:

* no raids (fine for coverage; ``iadsim run`` would simulate nothing);
* timeline vs duration: a raid whose threats launch, or arrive, after ``time.duration_s``
  (they would end unresolved);
* threat ranges: a raid flown beyond its threat's catalog class
  (:class:`~iadsim.errors.ThreatEnvelopeWarning`, as the simulation gives it), and a raid its
  threat cannot fly at all (an infeasible apogee) is the located error the simulation gives;
* sector headings vs raid axes: a sector radar whose sector holds no point of any raid's
  ground track (it faces away from the raids' approach);
* DEM extent vs raid: a DEM that does not cover a raid's ground track or a site
  (:class:`~iadsim.errors.DemCoverageWarning`), and DEM heights no ground on Earth has
  (:class:`~iadsim.errors.DemOutlierWarning`).

:func:`check_scenario` runs them all without simulating; :func:`warn_before_run` runs the
ones ``iadsim run`` gives before it simulates (its unresolved-threat and envelope warnings
come from the runs themselves).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from pyproj import Geod
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from iadsim import catalog
from iadsim.deployment import resolve_deployment
from iadsim.errors import DemCoverageWarning, DoubtfulScenarioWarning, InputError
from iadsim.geo.dem import Dem
from iadsim.scenario import Scenario
from iadsim.sim.kinematics import (
    flight_excess,
    raid_error,
    raid_flight,
    raid_threats,
    warn_excess,
)

_GEOD = Geod(ellps="WGS84")
#: points per raid ground track (bearings, DEM extent)
TRACK_POINTS = 64
#: fraction of a raid's ground track a DEM must hold (as coverage asks of a site's reach)
DEM_COVER_MIN = 0.99
#: time added to the latest arrival of the unresolved threats in the suggested duration (the
#: kill assessment and the last interceptors' fly-out end after it), then rounded up to a minute
RESOLVE_MARGIN_S = 60.0
#: degrees of margin either side of a sector when asking whether it faces a raid
SECTOR_MARGIN_DEG = 5.0


def _warn(cls: type[Warning], message: str) -> None:
    warnings.warn(cls(message), stacklevel=3)


def ground_track(raid) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of points along a raid's ground track: its route's legs, or the geodesic
    from launch to aim, :data:`TRACK_POINTS` points in all (ends included)."""
    legs = (
        [(p[0], p[1]) for p in raid.route]
        if raid.route is not None
        else [tuple(raid.launch), tuple(raid.aim)]
    )
    per_leg = max(TRACK_POINTS // max(len(legs) - 1, 1), 2)
    lats, lons = [legs[0][0]], [legs[0][1]]
    for (la0, lo0), (la1, lo1) in zip(legs[:-1], legs[1:], strict=True):
        mid = _GEOD.npts(lo0, la0, lo1, la1, per_leg - 2) if per_leg > 2 else []
        lons += [p[0] for p in mid] + [lo1]
        lats += [p[1] for p in mid] + [la1]
    return np.array(lats, float), np.array(lons, float)


def warn_no_raids(scn: Scenario) -> None:
    """A scenario without raids: coverage needs none, a raid simulation has nothing to do."""
    if not scn.raids:
        stated = ("raids",) in scn._lines  # `raids: []` (else the file has no raids key)
        where = scn.locate(("raids",)) if stated else str(scn.path or "scenario")
        _warn(
            DoubtfulScenarioWarning,
            f"{where}: no raids: fine for 'iadsim coverage', but "
            "'iadsim run' would simulate nothing; add raids to simulate",
        )


def check_flights(scn: Scenario) -> None:
    """Each raid's flight: a located error if its threat cannot fly it (e.g. an infeasible
    apogee), a warning if it lies beyond the threat's catalog class, and a warning if its
    threats launch or arrive after ``time.duration_s`` (flights over the ellipsoid: terrain
    moves a ballistic arrival by a second or so)."""
    duration = scn.time.duration_s
    for i, (raid, threat) in enumerate(zip(scn.raids, raid_threats(scn), strict=True)):
        try:
            flight, flight_s, _end = raid_flight(raid, threat)
        except InputError as exc:
            raise raid_error(scn, i, exc) from None
        warn_excess(scn, i, flight_excess(threat, flight))
        last_launch = raid.launch_time_s + raid.spacing_s * (raid.count - 1)
        last_arrival = last_launch + flight_s
        if raid.launch_time_s >= duration:
            _warn(
                DoubtfulScenarioWarning,
                f"{scn.locate(('raids', i, 'launch_time_s'))}: the raid launches at "
                f"{raid.launch_time_s:g} s, at or after time.duration_s {duration:g} s: none of "
                f"its threats would fly; launch it earlier or give duration_s >= "
                f"{_resolving_duration_s(last_arrival):g}",
            )
        elif last_arrival > duration:
            _warn(
                DoubtfulScenarioWarning,
                f"{scn.locate(('raids', i))}: its last threat arrives at {last_arrival:,.0f} s "
                f"(launch {last_launch:,.0f} s + {flight_s:,.0f} s of flight), after "
                f"time.duration_s {duration:g} s: it would end unresolved; give duration_s >= "
                f"{_resolving_duration_s(last_arrival):g}",
            )


def _resolving_duration_s(last_arrival_s: float) -> float:
    """The duration that lets a threat arriving at ``last_arrival_s`` resolve, as the
    simulation's unresolved-threat warning suggests it."""
    return math.ceil((last_arrival_s + RESOLVE_MARGIN_S) / 60.0) * 60.0


def check_sector_headings(scn: Scenario) -> None:
    """A sector radar whose sector (around its site's ``heading_deg``, plus
    :data:`SECTOR_MARGIN_DEG`) holds no point of any raid's ground track: it faces away from
    the raids' approach."""
    if not scn.raids:
        return
    tracks = [ground_track(r) for r in scn.raids]
    cat = scn.catalog
    for i, site in enumerate(scn.sites):
        if site.heading_deg is None:
            continue
        item = cat.get(site.system, kind=("system", "radar"))
        ids = item.radars if isinstance(item, catalog.System) else [item.id]
        for rid in ids:
            sector = float(cat.get(rid, kind="radar").azimuth_sector.si)
            if sector >= 360:
                continue
            half = sector / 2 + SECTOR_MARGIN_DEG
            bearings = []
            for lat, lon in tracks:
                far = (lat != site.lat) | (lon != site.lon)
                az, _, _ = _GEOD.inv(
                    np.full(far.sum(), site.lon), np.full(far.sum(), site.lat), lon[far], lat[far]
                )
                bearings.append(np.atleast_1d(az))
            az = np.concatenate(bearings) if bearings else np.empty(0)
            off = np.abs((az - site.heading_deg + 180.0) % 360.0 - 180.0)
            if az.size and off.min() > half:
                start = [_GEOD.inv(site.lon, site.lat, t[1][0], t[0][0])[0] % 360 for t in tracks]
                _warn(
                    DoubtfulScenarioWarning,
                    f"{scn.locate(('sites', i, 'heading_deg'))}: site {site.id!r}: radar "
                    f"{rid!r} ({sector:g} deg sector facing {site.heading_deg % 360:g} deg) "
                    "sees no point of any raid's track (raids start at bearings "
                    f"{', '.join(f'{b:.0f}' for b in start)} deg): it faces away from the "
                    "raids; check heading_deg",
                )
                break


def check_dem(scn: Scenario) -> None:
    """The DEM against the scenario: every site and raid ground track inside its extent
    (:data:`DEM_COVER_MIN` of each track), and no height outside what ground on Earth has
    in the area they span (a warning each)."""
    path = scn.dem_path()
    if path is None:
        return
    with Dem.open(path) as dem:
        for i, raid in enumerate(scn.raids):
            lat, lon = ground_track(raid)
            inside = float(np.mean(dem.contains(lat, lon)))
            if inside < DEM_COVER_MIN:
                _warn(
                    DemCoverageWarning,
                    f"{scn.locate(('raids', i))}: the DEM {path} covers {100 * inside:.0f}% of "
                    "the raid's ground track; beyond its edge the ground is taken as sea level "
                    "(0 m), so terrain masking and above-ground altitudes there are approximate: "
                    "use a DEM that covers it",
                )
        for i, site in enumerate(scn.sites):
            if not bool(dem.contains(site.lat, site.lon)):
                _warn(
                    DemCoverageWarning,
                    f"{scn.locate(('sites', i))}: site {site.id!r} lies outside the DEM {path}: "
                    "its ground is taken as sea level (0 m) unless ground_altitude_m is given",
                )
        lats = [s.lat for s in scn.sites]
        lons = [s.lon for s in scn.sites]
        for raid in scn.raids:
            lat, lon = ground_track(raid)
            lats += list(lat)
            lons += list(lon)
        if lats:
            dem.outlier_count(_window(dem, lats, lons))


def _window(dem: Dem, lats: list[float], lons: list[float]) -> Window:
    """The DEM window over the box spanning the points (a degree of margin)."""
    s, n = max(min(lats) - 1, -90), min(max(lats) + 1, 90)
    w, e = max(min(lons) - 1, -180), min(max(lons) + 1, 180)
    try:
        bounds = transform_bounds("EPSG:4326", dem.crs, w, s, e, n, densify_pts=21)
        win = from_bounds(*bounds, transform=dem.transform)
        return Window(
            math.floor(win.col_off), math.floor(win.row_off),
            math.ceil(win.width) + 1, math.ceil(win.height) + 1,
        )  # fmt: skip
    except Exception:  # a box the DEM's CRS cannot represent: the whole DEM
        return Window(0, 0, dem.shape[1], dem.shape[0])


def warn_before_run(scn: Scenario) -> None:
    """What ``iadsim run`` says before it simulates: no raids, the DEM against the raids."""
    warn_no_raids(scn)
    check_dem(scn)


def check_scenario(scn: Scenario) -> None:
    """Every check and lint of a loaded scenario, without simulating: warnings for what is
    doubtful, a located :class:`~iadsim.errors.ScenarioError` for a raid that cannot be
    flown. Heading errors of sector radars (raids present) already stop the loading."""
    resolve_deployment(scn)  # each site against the catalog, as every product does
    warn_no_raids(scn)
    check_flights(scn)
    check_sector_headings(scn)
    check_dem(scn)


__all__ = [
    "check_dem",
    "check_flights",
    "check_scenario",
    "check_sector_headings",
    "ground_track",
    "warn_before_run",
    "warn_no_raids",
]
