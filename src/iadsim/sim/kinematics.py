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
from iadsim.memory import check_memory
from iadsim.scenario import MAX_APOGEE_KM
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
    "RaidSamples",
    "RouteFlight",
    "TrajectorySet",
    "ballistic_trajectory",
    "envelope_excess",
    "flight_key",
    "point_to_point",
    "raid_flight",
    "sample_raid",
    "sample_raids",
    "trajectory_set",
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
#: bytes :func:`point_to_point` holds per sample (time, lat, lon, alt, ECEF position and
#: velocity, speed, and the CSV writer's stacked copy), with margin for the writer's text
BYTES_PER_SAMPLE = 192


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


def flight_excess(threat: Threat, flight: BallisticTrajectory | RouteFlight) -> str | None:
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


@dataclass(frozen=True)
class RaidSamples:
    """One raid's threats sampled on the time grid: ``(n, T)`` positions and ``(n, T, 3)``
    ECEF positions and velocities (the raid's flight model at each threat's launch time),
    launch and impact/arrival times ``(n,)``, the shared end point, and ``excess``: how far the
    flight lies outside its threat's catalog class (:func:`envelope_excess`; None inside)."""

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    ecef_m: np.ndarray
    vel_ecef_mps: np.ndarray
    launch_time_s: np.ndarray
    impact_time_s: np.ndarray
    end_lat_deg: float
    end_lon_deg: float
    excess: str | None = None


def flight_key(raid: Raid, threat: Threat) -> tuple:
    """The catalog numbers a raid's flight depends on (besides the scenario's raid fields):
    the boost time for a ballistic threat, the catalog speed for a route flown without
    ``speed_mps``. Equal keys give equal :func:`sample_raid` output for the same raid."""
    if threat.target_class == "ballistic":
        return ("ballistic", threat.boost_time.si if threat.boost_time is not None else 0.0)
    return ("route", raid.speed_mps if raid.speed_mps is not None else threat.speed.si)


def sample_raid(
    raid: Raid,
    threat: Threat,
    time_s,
    terrain: Terrain | None = None,
    boost_model: BoostModel = DEFAULT_BOOST_MODEL,
    chunk_threats: int = 128,
) -> RaidSamples:
    """Expand one raid into its threats and sample them on ``time_s``: threat k launches at
    ``launch_time_s + k * spacing_s``; the raid's threats share one flight model, sampled in
    chunks of ``chunk_threats`` threats with numpy. Raises :class:`InputError` for a raid its
    threat cannot fly."""
    time_s = np.asarray(time_s, float).ravel()
    flight, duration, end = raid_flight(raid, threat, terrain, boost_model)
    excess = flight_excess(threat, flight)
    n, nt = raid.count, time_s.size
    lat, lon, alt = (np.zeros((n, nt)) for _ in range(3))
    ecef, vel = np.zeros((n, nt, 3)), np.zeros((n, nt, 3))
    launch = raid.launch_time_s + raid.spacing_s * np.arange(n)
    for a in range(0, n, chunk_threats):
        b = min(a + chunk_threats, n)
        t_rel = time_s[None, :] - launch[a:b, None]
        lat[a:b], lon[a:b], alt[a:b], ecef[a:b], vel[a:b] = flight.sample(t_rel)
    return RaidSamples(lat, lon, alt, ecef, vel, launch, launch + duration, end[0], end[1], excess)


def raid_error(scenario, index: int, exc: InputError) -> ScenarioError:
    """An error of raid ``index``'s flight, located on the scenario field like the loader's."""
    where = scenario.path if getattr(scenario, "path", None) else "scenario"
    return ScenarioError(f"{where}: field 'raids[{index}]': {exc}")


def warn_excess(scenario, index: int, excess: str | None) -> None:
    """The :class:`~iadsim.errors.ThreatEnvelopeWarning` of raid ``index`` whose flight lies
    outside its threat's class (``excess``, from :class:`RaidSamples`), located on the raid."""
    if excess:
        locate = getattr(scenario, "locate", None)
        where = locate(("raids", index)) if locate else f"scenario: field 'raids[{index}]'"
        warnings.warn(ThreatEnvelopeWarning(f"{where}: {excess}"), stacklevel=3)


def raid_threats(scenario) -> list[Threat]:
    """The catalog threat of each raid, from the scenario's catalog view (``scenario.catalog``:
    its overrides applied)."""
    cat = getattr(scenario, "catalog", None)
    cat = cat if cat is not None else catalog.base()
    return [cast(Threat, cat.get(r.threat, kind="threat")) for r in scenario.raids]


def trajectory_set(
    raids: list[Raid], threats: list[Threat], samples: list[RaidSamples], time_s
) -> TrajectorySet:
    """The :class:`TrajectorySet` of raids sampled by :func:`sample_raid` (RCS and target class
    from ``threats``, one per raid)."""
    time_s = np.asarray(time_s, float).ravel()
    counts = [r.count for r in raids]
    nt = time_s.size

    def cat(name, shape):
        parts = [getattr(s, name) for s in samples]
        return np.concatenate(parts) if parts else np.zeros(shape)

    launch, impact = cat("launch_time_s", (0,)), cat("impact_time_s", (0,))
    vel = cat("vel_ecef_mps", (0, nt, 3))
    active = (time_s[None, :] >= launch[:, None]) & (time_s[None, :] < impact[:, None])
    vel = vel * active[..., None]  # at rest outside the flight window
    return TrajectorySet(
        time_s=time_s,
        lat_deg=cat("lat_deg", (0, nt)),
        lon_deg=cat("lon_deg", (0, nt)),
        alt_m=cat("alt_m", (0, nt)),
        ecef_m=cat("ecef_m", (0, nt, 3)),
        vel_ecef_mps=vel,
        active=active,
        launch_time_s=launch,
        impact_time_s=impact,
        impact_lat_deg=np.repeat([s.end_lat_deg for s in samples], counts).astype(float),
        impact_lon_deg=np.repeat([s.end_lon_deg for s in samples], counts).astype(float),
        threat_id=np.array([r.threat for r in raids for _ in range(r.count)], dtype=str),
        raid_index=np.repeat(np.arange(len(raids), dtype=int), counts),
        target_class=np.repeat(np.array([t.target_class for t in threats], dtype=str), counts),
        rcs_m2=np.repeat(np.array([t.rcs.si for t in threats], dtype=float), counts),
        name=np.array(
            [
                f"{r.id or f'raid{i}'}-{r.threat}-{k}"
                for i, r in enumerate(raids)
                for k in range(r.count)
            ],
            dtype=str,
        ),  # fmt: skip
    )


def sample_raids(
    scenario,
    time_s,
    terrain: Terrain | None = None,
    boost_model: BoostModel = DEFAULT_BOOST_MODEL,
    chunk_threats: int = 128,
) -> TrajectorySet:
    """Expand the scenario's raids into threats and sample them all on ``time_s``
    (:func:`sample_raid` per raid, :func:`trajectory_set`). Threats come from the scenario's
    catalog view (``scenario.catalog``: its overrides applied)."""
    raids, threats = list(scenario.raids), raid_threats(scenario)
    samples = []
    for i, (raid, threat) in enumerate(zip(raids, threats, strict=True)):
        try:
            s = sample_raid(raid, threat, time_s, terrain, boost_model, chunk_threats)
        except InputError as exc:  # name the scenario field, like the loader does
            raise raid_error(scenario, i, exc) from None
        warn_excess(scenario, i, s.excess)
        samples.append(s)
    return trajectory_set(raids, threats, samples, time_s)


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
    if apogee_km is not None and not 0 < apogee_km <= MAX_APOGEE_KM:
        raise InputError(
            f"apogee_km must lie in (0, {MAX_APOGEE_KM:g}] km (a scenario raid's range), "
            f"got {apogee_km:g}",
            "apogee_km",
        )
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
    excess = flight_excess(threat, flight)
    if excess:
        warnings.warn(ThreatEnvelopeWarning(excess), stacklevel=2)
    n = int(np.floor(duration / step_s + 1e-9)) + 1
    check_memory(
        (n + 1) * BYTES_PER_SAMPLE,
        f"{n + 1:,} trajectory samples ({duration:,.0f} s of flight every {step_s:g} s)",
        f"use a larger step_s (e.g. {max(duration / 100_000, step_s):.3g} s for 100,000 samples)",
        "step_s",
    )
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
