"""Threat kinematics: every threat of every raid sampled on the simulation time grid at once.

* **Air-breathing threats** (aircraft, drones, cruise missiles) fly WGS84 geodesic legs between
  route waypoints (pyproj ``Geod``) at constant ground speed (the raid's ``speed_mps``, else the
  catalog speed); altitude is linear in distance between waypoints. ``altitude_reference: agl``
  adds the terrain height under the threat (``terrain(lat, lon) -> m``, e.g.
  ``iadsim.geo.dem.Dem.height_at``; no terrain means flat ground at 0 m). Arrival = end of route.
* **Ballistic missiles**: :mod:`iadsim.sim.ballistic` (Keplerian arc from launch to aim point,
  after the catalog boost time flown with the ``climb`` boost model unless told otherwise),
  from the terrain height of the launch point to that of the aim point (``terrain``; none, or
  a point outside the DEM: sea level), so the impact is on the ground, not under it.

A flight far outside the threat's catalog class (:func:`envelope_excess`) is flown as asked but
draws a :class:`~iadsim.errors.ThreatEnvelopeWarning`: once per raid in :func:`sample_raids`,
once in :func:`point_to_point`.

Output is a struct of arrays, :class:`TrajectorySet`: ``(N, T)`` arrays for N threats and T
time samples. Altitudes are heights above the WGS84 ellipsoid, used as height above mean sea
level (the geoid undulation, within about +-100 m, is ignored). Before launch a threat is held
at its launch point and after impact/arrival at its end point, with zero velocity and
``active`` False. Raids are expanded to threats (``count`` threats, ``spacing_s`` apart) and
sampled in chunks of threats with numpy, never one Python step per threat and time.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from iadsim import catalog
from iadsim.catalog import Threat
from iadsim.errors import InputError, ScenarioError, ThreatEnvelopeWarning
from iadsim.geo.frames import GeodesicPath, ecef_and_velocity
from iadsim.sim.ballistic import (
    DEFAULT_BOOST_MODEL,
    BallisticTrajectory,
    BoostModel,
    ballistic_trajectory,
    solve_ballistic,
)

if TYPE_CHECKING:
    from iadsim.scenario import Raid

__all__ = [
    "BallisticTrajectory",
    "RouteFlight",
    "TrajectorySet",
    "ballistic_trajectory",
    "envelope_excess",
    "point_to_point",
    "raid_flight",
    "sample_raids",
]

Terrain = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _terrain_m(terrain: Terrain | None, lat, lon) -> np.ndarray:
    """Terrain height at the points (m); 0 (sea level) without terrain, outside the DEM or on
    nodata."""
    if terrain is None:
        return np.zeros(np.shape(lat))
    h = np.asarray(terrain(lat, lon), float)
    return np.where(np.isfinite(h), h, 0.0)


# ------------------------------------------------------------------------ air threats --
class RouteFlight:
    """Constant-ground-speed flight along route waypoints ``[(lat, lon, alt_m), ...]``;
    altitude linear in distance between waypoints, optionally above terrain (AGL)."""

    def __init__(self, route, speed_mps: float, agl: bool = False, terrain: Terrain | None = None):
        pts = np.asarray(route, float)
        if pts.ndim != 2 or pts.shape[0] < 2 or pts.shape[1] != 3:
            raise InputError("route needs at least two [lat, lon, alt_m] waypoints", "route")
        if not speed_mps > 0:
            raise InputError(f"speed_mps must be > 0, got {speed_mps}", "speed_mps")
        self.path = GeodesicPath(pts[:, 0], pts[:, 1])
        self.waypoint_alt_m = pts[:, 2]
        self.speed_mps = float(speed_mps)
        self.agl = agl
        self.terrain = terrain
        self.duration_s = self.path.length_m / self.speed_mps
        legs = np.maximum(self.path.leg_length_m, 1e-9)
        self._climb_gradient = np.diff(self.waypoint_alt_m) / legs  # m per m of ground

    def _ground_m(self, lat, lon):
        if not self.agl or self.terrain is None:
            return 0.0
        return _terrain_m(self.terrain, lat, lon)  # outside the DEM: sea level

    def sample(self, t_rel_s):
        """(lat, lon, alt_m, ecef (...,3), vel (...,3)) at times after launch; held at the
        start before launch and at the end after arrival (velocity of the flight itself)."""
        t = np.clip(np.asarray(t_rel_s, float), 0.0, self.duration_s)
        s = t * self.speed_mps
        lat, lon, sin_az, cos_az = self.path.at(s)
        ground = self._ground_m(lat, lon)
        alt = np.interp(s, self.path.waypoint_s_m, self.waypoint_alt_m) + ground
        last_leg = len(self._climb_gradient) - 1
        leg = np.clip(np.searchsorted(self.path.waypoint_s_m, s, side="right") - 1, 0, last_leg)
        v_up = self._climb_gradient[leg] * self.speed_mps
        if self.agl and self.terrain is not None:
            # terrain-following climb rate: height change over the next second of flight
            ahead = np.minimum(s + self.speed_mps, self.path.length_m)
            lat2, lon2, _, _ = self.path.at(ahead)
            dt = np.maximum((ahead - s) / self.speed_mps, 1e-9)
            v_up = v_up + np.where(ahead > s, (self._ground_m(lat2, lon2) - ground) / dt, 0.0)
        v = self.speed_mps
        pos, vel = ecef_and_velocity(lat, lon, alt, v * sin_az, v * cos_az, v_up)
        return lat, lon, alt, pos, vel


# ------------------------------------------------------------------- class envelope --
#: relative margin beyond a threat's catalog ``max_range`` and (ballistic) burnout ``speed``
#: before a flight is called outside its class: those catalog figures are class values
#: (the range names the class, the speed is derived from it), not a missile's exact limits
ENVELOPE_MARGIN = 0.10


def envelope_excess(threat: Threat, range_m: float, apogee_m: float | None = None) -> str | None:
    """Why a flight of ``range_m`` (ballistic: with apogee ``apogee_m``, None = minimum energy)
    lies outside ``threat``'s catalog class, or None when it does not.

    * **Range**: more than ``1 + ENVELOPE_MARGIN`` times the catalog ``max_range`` (missiles and
      drones; an aircraft's ``max_range`` is a radius of action, so aircraft are not checked).
    * **Energy** (ballistic): the burnout speed the flight needs, as the impulsive speed at the
      surface of the same drag-free arc (the catalog ``speed`` of a ballistic threat is that
      speed for its minimum-energy trajectory at ``max_range``), more than
      ``1 + ENVELOPE_MARGIN`` times the catalog ``speed``: a lofted or depressed flight within
      range may still need more energy than the class has. The impulsive equivalent keeps the
      check independent of the boost model.
    """
    reasons = []
    limit = 1.0 + ENVELOPE_MARGIN
    pct = f"{ENVELOPE_MARGIN:.0%}"
    if threat.target_class != "aircraft" and threat.max_range is not None:
        max_m = threat.max_range.si
        if range_m > limit * max_m:
            reasons.append(
                f"beyond its catalog max_range of {max_m / 1e3:,.0f} km by more than {pct} "
                f"(limit {limit * max_m / 1e3:,.0f} km)"
            )
    if threat.target_class == "ballistic" and threat.speed is not None:
        try:
            need = solve_ballistic(range_m, apogee_m).burnout_speed_mps
        except InputError:  # no impulsive arc fits: nothing to compare
            need = None
        has = threat.speed.si
        if need is not None and need > limit * has:
            reasons.append(
                f"needs a burnout speed of {need / 1e3:.2f} km/s (impulsive equivalent), more "
                f"than {pct} above the class's catalog speed of {has / 1e3:.2f} km/s "
                f"(limit {limit * has / 1e3:.2f} km/s)"
            )
    if not reasons:
        return None
    lofted = "" if apogee_m is None else f" to a {apogee_m / 1e3:,.0f} km apogee"
    return (
        f"{threat.id} flown {range_m / 1e3:,.0f} km{lofted}: "
        + " and ".join(reasons)
        + "; the flight is computed as asked, but the catalog's other numbers (RCS, boost time, "
        "speeds) describe a different missile"
    )


# --------------------------------------------------------------------- trajectory set --
@dataclass(frozen=True)
class TrajectorySet:
    """Struct of arrays: N threats x T time samples (see the module docstring for frames)."""

    time_s: np.ndarray  # (T,)
    lat_deg: np.ndarray  # (N, T)
    lon_deg: np.ndarray  # (N, T)
    alt_m: np.ndarray  # (N, T) above the WGS84 ellipsoid (~ mean sea level)
    ecef_m: np.ndarray  # (N, T, 3)
    vel_ecef_mps: np.ndarray  # (N, T, 3), zero while inactive
    active: np.ndarray  # (N, T) bool: launch_time_s <= t < impact_time_s
    launch_time_s: np.ndarray  # (N,)
    impact_time_s: np.ndarray  # (N,) impact (ballistic) or arrival at the route's end
    impact_lat_deg: np.ndarray  # (N,)
    impact_lon_deg: np.ndarray  # (N,)
    threat_id: np.ndarray  # (N,) str
    raid_index: np.ndarray  # (N,) int
    target_class: np.ndarray  # (N,) str: aircraft | cruise | ballistic
    rcs_m2: np.ndarray  # (N,)
    name: np.ndarray  # (N,) str, e.g. "raid0-cruise-missile-3"

    @property
    def n_threats(self) -> int:
        return int(self.launch_time_s.size)

    @property
    def speed_mps(self) -> np.ndarray:
        return np.linalg.norm(self.vel_ecef_mps, axis=-1)


def _flight_excess(threat: Threat, flight: BallisticTrajectory | RouteFlight) -> str | None:
    if isinstance(flight, BallisticTrajectory):
        lofted = flight.shape != "minimum-energy"
        return envelope_excess(threat, flight.range_m, flight.apogee_m if lofted else None)
    return envelope_excess(threat, flight.path.length_m)


def raid_flight(
    raid: Raid,
    threat: Threat,
    terrain: Terrain | None = None,
    boost_model: BoostModel = DEFAULT_BOOST_MODEL,
) -> tuple[BallisticTrajectory | RouteFlight, float, tuple[float, float]]:
    """The flight model of one raid (shared by all its threats): a BallisticTrajectory or a
    RouteFlight, plus its duration and end point."""
    if threat.target_class == "ballistic":
        if raid.launch is None or raid.aim is None:
            raise InputError(f"raid of {threat.id!r}: a ballistic raid needs 'launch' and 'aim'")
        boost = threat.boost_time.si if threat.boost_time is not None else 0.0
        (lat0, lon0), (lat1, lon1) = raid.launch, raid.aim
        g0, g1 = _terrain_m(terrain, np.array([lat0, lat1]), np.array([lon0, lon1]))
        traj = ballistic_trajectory(
            lat0, lon0, lat1, lon1, raid.apogee_km, boost, boost_model, float(g0), float(g1)
        )
        return traj, traj.time_of_flight_s, (lat1, lon1)
    if raid.route is None:
        raise InputError(f"raid of {threat.id!r}: an air-breathing raid needs a 'route'")
    speed = raid.speed_mps if raid.speed_mps is not None else threat.speed.si
    flight = RouteFlight(raid.route, speed, raid.altitude_reference == "agl", terrain)
    return flight, flight.duration_s, raid.route[-1][:2]


def sample_raids(
    scenario,
    time_s,
    terrain: Terrain | None = None,
    boost_model: BoostModel = DEFAULT_BOOST_MODEL,
    chunk_threats: int = 128,
) -> TrajectorySet:
    """Expand the scenario's raids into threats and sample them all on ``time_s``.

    Threat k of a raid launches at ``launch_time_s + k * spacing_s``; a raid's threats share
    one flight model, sampled in chunks of ``chunk_threats`` threats with numpy. Threats come
    from the scenario's catalog view (``scenario.catalog``: its overrides applied).
    """
    time_s = np.asarray(time_s, float).ravel()
    raids = list(scenario.raids)
    cat = getattr(scenario, "catalog", None)
    cat = cat if cat is not None else catalog.base()
    flights, counts = [], []
    for i, raid in enumerate(raids):
        threat = cast(Threat, cat.get(raid.threat, kind="threat"))
        try:
            flight = raid_flight(raid, threat, terrain, boost_model)
        except InputError as exc:  # name the scenario field, like the loader does
            where = scenario.path if getattr(scenario, "path", None) else "scenario"
            raise ScenarioError(f"{where}: field 'raids[{i}]': {exc}") from None
        flights.append((threat, *flight))
        counts.append(raid.count)
        excess = _flight_excess(threat, flight[0])
        if excess:
            locate = getattr(scenario, "locate", None)
            where = locate(("raids", i)) if locate else f"scenario: field 'raids[{i}]'"
            warnings.warn(ThreatEnvelopeWarning(f"{where}: {excess}"), stacklevel=2)
    n, nt = int(sum(counts)), time_s.size
    lat, lon, alt = (np.zeros((n, nt)) for _ in range(3))
    ecef, vel = np.zeros((n, nt, 3)), np.zeros((n, nt, 3))
    launch = np.concatenate(
        [r.launch_time_s + r.spacing_s * np.arange(r.count) for r in raids] or [np.zeros(0)]
    )
    impact, end_lat, end_lon = np.zeros(n), np.zeros(n), np.zeros(n)
    first = 0
    for (_, flight, duration, end), count in zip(flights, counts, strict=True):
        impact[first : first + count] = launch[first : first + count] + duration
        end_lat[first : first + count], end_lon[first : first + count] = end[0], end[1]
        for a in range(first, first + count, chunk_threats):
            b = min(a + chunk_threats, first + count)
            t_rel = time_s[None, :] - launch[a:b, None]
            lat[a:b], lon[a:b], alt[a:b], ecef[a:b], vel[a:b] = flight.sample(t_rel)
        first += count
    active = (time_s[None, :] >= launch[:, None]) & (time_s[None, :] < impact[:, None])
    vel *= active[..., None]  # at rest outside the flight window
    threat_ids = [r.threat for r, c in zip(raids, counts, strict=True) for _ in range(c)]
    tclass = [f[0].target_class for f, c in zip(flights, counts, strict=True) for _ in range(c)]
    rcs = [f[0].rcs.si for f, c in zip(flights, counts, strict=True) for _ in range(c)]
    names = [
        f"{r.id or f'raid{i}'}-{r.threat}-{k}" for i, r in enumerate(raids) for k in range(r.count)
    ]
    return TrajectorySet(
        time_s=time_s,
        lat_deg=lat,
        lon_deg=lon,
        alt_m=alt,
        ecef_m=ecef,
        vel_ecef_mps=vel,
        active=active,
        launch_time_s=launch,
        impact_time_s=impact,
        impact_lat_deg=end_lat,
        impact_lon_deg=end_lon,
        threat_id=np.array(threat_ids, dtype=str),
        raid_index=np.repeat(np.arange(len(raids), dtype=int), counts),
        target_class=np.array(tclass, dtype=str),
        rcs_m2=np.array(rcs, dtype=float),
        name=np.array(names, dtype=str),
    )


def point_to_point(
    threat_id: str,
    launch: tuple[float, float],
    aim: tuple[float, float],
    apogee_km: float | None = None,
    step_s: float = 1.0,
    boost_model: BoostModel = DEFAULT_BOOST_MODEL,
) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """One threat from ``launch`` to ``aim`` ([lat, lon] degrees): columns ``time_s, lat, lon,
    alt_m, speed_mps`` every ``step_s`` (plus the impact instant) and a summary dict.

    Ballistic threats fly :func:`ballistic_trajectory` (catalog boost time) from and to sea
    level (no terrain here: the simulation starts and ends them on its DEM); air threats a
    straight geodesic at their catalog cruise altitude (AMSL) and speed.
    """
    threat = cast(Threat, catalog.get(threat_id, kind="threat"))
    if not (np.isfinite(step_s) and step_s > 0):
        raise InputError(f"step_s must be > 0 s, got {step_s}", "step_s")
    summary: dict[str, object] = {"threat": threat.id, "name": threat.name}
    if threat.target_class == "ballistic":
        boost = threat.boost_time.si if threat.boost_time is not None else 0.0
        bt = ballistic_trajectory(
            launch[0], launch[1], aim[0], aim[1], apogee_km, boost, boost_model
        )
        flight: BallisticTrajectory | RouteFlight = bt
        duration = bt.time_of_flight_s
        sol = bt.solution
        summary |= {
            "range_km": bt.range_m / 1e3,
            "apogee_km": bt.apogee_m / 1e3,
            "time_of_flight_s": duration,
            "shape": bt.shape,
            "boost_time_s": sol.effective_boost_s,
            "boost_model": boost_model,
            "burnout_altitude_km": sol.burnout_altitude_m / 1e3,
            "burnout_speed_mps": bt.burnout_speed_mps,
            "flight_path_angle_deg": bt.flight_path_angle_deg,
            "impact_speed_mps": bt.impact_speed_mps,
        }
    else:
        if apogee_km is not None:
            raise InputError(
                f"apogee_km applies to ballistic threats; {threat.id!r} is not one", "apogee_km"
            )
        alt = threat.cruise_altitude.si
        rf = RouteFlight([(*launch, alt), (*aim, alt)], threat.speed.si)
        if rf.path.length_m < 1.0:
            raise InputError(
                "launch and aim are the same point; give two different points", ("launch", "aim")
            )
        flight, duration = rf, rf.duration_s
        summary |= {
            "range_km": rf.path.length_m / 1e3,
            "cruise_altitude_m": alt,
            "speed_mps": rf.speed_mps,
            "time_of_flight_s": duration,
        }
    excess = _flight_excess(threat, flight)
    if excess:
        warnings.warn(ThreatEnvelopeWarning(excess), stacklevel=2)
    n = int(np.floor(duration / step_s + 1e-9)) + 1
    t = np.arange(n) * step_s
    if t[-1] < duration - 1e-9:
        t = np.append(t, duration)
    lat, lon, alt_m, _, vel = flight.sample(t)
    cols = {
        "time_s": t,
        "lat": lat,
        "lon": lon,
        "alt_m": alt_m,
        "speed_mps": np.linalg.norm(vel, axis=-1),
    }
    return cols, summary
