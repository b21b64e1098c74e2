"""Ballistic missiles: a simple boost phase, then a drag-free Keplerian arc to the aim point.

Model (spherical, non-rotating Earth R = 6371 km, mu = 3.986004418e14 m^3/s^2; Bate, Mueller &
White, *Fundamentals of Astrodynamics*, ch. 6):

* **Ground track**: the WGS84 geodesic from launch to aim point (pyproj). The arc's downrange angle
  phi maps to the geodesic distance ``phi * R``, so the impact is exactly the aim point; the radial
  height ``r - R`` is the altitude above the ellipsoid.
* **Ends on the ground**: the flight starts at radius ``R + g_launch`` and ends at
  ``R + g_aim``, the terrain heights of the launch and aim points (0 without terrain), so the
  missile never flies under the ground it is aimed at: the time of flight is the arrival at the
  aim point's ground, and the requested apogee stays a height above R.
* **Boost** (``boost_time_s`` > 0), ``boost_model="climb"`` (the default,
  :data:`DEFAULT_BOOST_MODEL`): a constant-acceleration climb from rest along a straight line
  leaving the launch point at the burnout flight-path angle gamma_b (gravity-free). After t_b the
  missile has covered L = v_bo t_b / 2 and reaches the burnout state (altitude and downrange offset
  of tens of km, as real missiles). ``boost_time_s = 0`` is the textbook impulsive burnout at the
  surface. ``boost_model="arc"`` instead flies the impulsive arc's own path and timetable from
  rest (a time warp over the first t_b): the textbook apogee and time of flight exactly, at the
  price of a kinematic, not physical, boost. ``climb`` is the default because it is the closer
  to published flight times: over nine publicly reported lofted flights (range, apogee and
  flight time all public) it is closer than ``arc`` in eight (with the 90 s catalog boost of
  the ``mrbm-1000`` class), mean absolute error 4.5 % against 5.6 % (docs/kinematics.md has
  the table, its sources and the test).
* **Free flight**: the Keplerian conic from the burnout point through the aim point whose apogee is
  the requested one. For two points and an apogee radius the conic is unique (see
  :func:`conic_through`), so "lofted" / "depressed" only names an apogee above / below the
  minimum-energy apogee of the ground range, h_a = R (sin(psi/2) + cos(psi/2) - 1) / 2 (the default).
  The boost geometry and the conic depend on each other; a fixed-point iteration solves both.
* **Re-entry**: the same conic continues to impact (no drag, no speed cap); the impact speed is
  reported so the catalog's re-entry speed can be compared.

Positions are sampled analytically: Kepler's equation E - e sin E = M is solved by vectorised
Newton iterations at any array of times, no numerical integrator.

Limits: no drag, no Earth rotation, no gravity turn during boost. A boost from rest costs time
against the impulsive reference: about t_b/2 of extra flight time (a 20 s boost adds ~4% at 300 km,
the catalog's 60 s boost of ``srbm-300`` 13 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from scipy.optimize import brentq

from iadsim.errors import InputError
from iadsim.geo.earth import MU_EARTH_M3_S2, R_EARTH_M
from iadsim.geo.frames import GeodesicPath, ecef_and_velocity

MU = MU_EARTH_M3_S2
RE = R_EARTH_M
MIN_LAUNCH_ANGLE_DEG = 5.0  #: shallowest launch/boost elevation accepted for a depressed arc


# ---------------------------------------------------------------- closed forms (reference) --
def min_energy_apogee_m(range_m):
    """Minimum-energy apogee altitude, burnout and re-entry at the surface:
    h_a = R (sin(psi/2) + cos(psi/2) - 1) / 2 with psi = range / R  (~ range/4 for short range)."""
    half = np.asarray(range_m, float) / RE / 2
    return RE * (np.sin(half) + np.cos(half) - 1) / 2


def min_energy_time_of_flight_s(range_m):
    """Minimum-energy time of flight: TOF = 2 sqrt(a^3/mu) (pi - E_b + e sin E_b),
    a = R (1 + sin(psi/2)) / 2, e = cos(psi/2) / (1 + sin(psi/2)), cos E_b = (1 - R/a) / e."""
    half = np.asarray(range_m, float) / RE / 2
    a = RE * (1 + np.sin(half)) / 2
    e = np.cos(half) / (1 + np.sin(half))
    eb = np.arccos((1 - RE / a) / e)
    return 2 * np.sqrt(a**3 / MU) * (np.pi - eb + e * np.sin(eb))


def min_energy_burnout(range_m):
    """Minimum-energy burnout speed (m/s) and flight-path angle (rad), burnout at the surface:
    Q = v^2 R / mu = 2 sin(psi/2) / (1 + sin(psi/2))  (BMW eq. 6.2-20), gamma* = (pi - psi) / 4."""
    psi = np.asarray(range_m, float) / RE
    q = 2 * np.sin(psi / 2) / (1 + np.sin(psi / 2))
    return np.sqrt(q * MU / RE), (np.pi - psi) / 4


# ---------------------------------------------------------------------------- the conic --
@dataclass(frozen=True)
class Conic:
    """A Keplerian ellipse in its plane; polar angle theta measured from the burnout point,
    apogee at ``theta_apogee``. True anomaly nu = theta - theta_apogee + pi."""

    a_m: float
    e: float
    p_m: float
    theta_apogee: float

    @property
    def mean_motion(self) -> float:
        return float(np.sqrt(MU / self.a_m**3))

    def mean_anomaly(self, theta):
        nu = np.asarray(theta, float) - self.theta_apogee + np.pi
        ecc = 2 * np.arctan2(
            np.sqrt(1 - self.e) * np.sin(nu / 2), np.sqrt(1 + self.e) * np.cos(nu / 2)
        )
        ecc = np.where(ecc < 0, ecc + 2 * np.pi, ecc)  # nu in (0, 2 pi) on a suborbital arc
        return ecc - self.e * np.sin(ecc)

    def state_at_mean_anomaly(self, m):
        """(theta, r, r_dot, r*theta_dot) at mean anomaly(ies) ``m`` (Newton on Kepler's eq.)."""
        m = np.asarray(m, float)
        e = self.e
        ecc = np.where(m > np.pi, m - e, m + e)  # Vallado's starter: converges for all e < 1
        for _ in range(50):
            step = (ecc - e * np.sin(ecc) - m) / (1 - e * np.cos(ecc))
            ecc = ecc - step
            if np.all(np.abs(step) < 1e-13):
                break
        r = self.a_m * (1 - e * np.cos(ecc))
        nu = 2 * np.arctan2(np.sqrt(1 + e) * np.sin(ecc / 2), np.sqrt(1 - e) * np.cos(ecc / 2))
        theta = nu - np.pi + self.theta_apogee
        r_dot = np.sqrt(MU * self.a_m) * e * np.sin(ecc) / r
        v_horizontal = np.sqrt(MU * self.p_m) / r
        return theta, r, r_dot, v_horizontal


def conic_through(r0_m: float, r1_m: float, psi_rad: float, r_apogee_m: float) -> Conic:
    """The unique ellipse through radius r0 at polar angle 0 and r1 at angle psi with apogee
    radius r_a between them. With r(theta) = p / (1 - e cos(theta - theta_a)) and p = r_a (1 - e):
    e = (r_a/r0 - 1) / (r_a/r0 - cos theta_a) = (r_a/r1 - 1) / (r_a/r1 - cos(psi - theta_a));
    the first decreases and the second increases with theta_a, so one root lies in (0, psi)."""
    k0, k1 = r_apogee_m / r0_m, r_apogee_m / r1_m
    if k0 <= 1 or k1 <= 1 or psi_rad <= 0:
        raise ValueError("apogee must lie above both end points, and the range be positive")

    def diff(th):
        return (k0 - 1) / (k0 - np.cos(th)) - (k1 - 1) / (k1 - np.cos(psi_rad - th))

    th = brentq(diff, 0.0, psi_rad, xtol=1e-15, rtol=1e-15)
    e = (k0 - 1) / (k0 - np.cos(th))
    p = r_apogee_m * (1 - e)
    return Conic(a_m=p / (1 - e * e), e=float(e), p_m=float(p), theta_apogee=float(th))


# ------------------------------------------------------------- boost + free-flight solution --
BoostModel = Literal["arc", "climb"]
#: the boost model used when none is named: the one closer to published flight times
DEFAULT_BOOST_MODEL: BoostModel = "climb"


@dataclass(frozen=True)
class BallisticSolution:
    """A launch-to-impact profile in the trajectory plane (no geography).

    ``sample_plane(t)`` gives ground distance from the launch point, altitude, horizontal and
    vertical speed at times ``t`` after launch (clipped to [0, time_of_flight_s])."""

    range_m: float
    apogee_m: float
    boost_time_s: float
    boost_model: str
    launch_angle_rad: float  # elevation of the path at the launch point
    burnout_speed_mps: float  # "arc": the equivalent impulsive speed at the surface
    burnout_radius_m: float  # where the Kepler conic starts
    burnout_downrange_rad: float
    flight_path_angle_rad: float  # at the conic's start, above the local horizontal
    conic: Conic
    free_flight_s: float
    shape: str  # "minimum-energy", "lofted" or "depressed"
    _m0: float = field(repr=False, default=0.0)
    launch_ground_m: float = 0.0  # the arc starts at radius R + launch_ground_m
    aim_ground_m: float = 0.0  # and ends (impact) at radius R + aim_ground_m

    @property
    def time_of_flight_s(self) -> float:
        if self.boost_model == "arc":  # the boost overlays the first seconds of the arc
            return self.free_flight_s
        return self.boost_time_s + self.free_flight_s

    @property
    def effective_boost_s(self) -> float:
        """Boost duration used (the "arc" model caps it at half the flight time)."""
        if self.boost_model == "arc":
            return min(self.boost_time_s, self.free_flight_s / 2)
        return self.boost_time_s

    @property
    def burnout_altitude_m(self) -> float:
        return float(self.sample_plane(self.effective_boost_s)[1])

    @property
    def impact_speed_mps(self) -> float:
        """Vis-viva speed at the aim point's ground, sqrt(mu (2/r - 1/a)), r = R + g_aim."""
        return float(np.sqrt(MU * (2 / (RE + self.aim_ground_m) - 1 / self.conic.a_m)))

    def _free(self, t_free):
        m = self._m0 + self.conic.mean_motion * t_free
        theta, r, v_up, v_h = self.conic.state_at_mean_anomaly(m)
        return self.burnout_downrange_rad + theta, r, v_h, v_up

    def _climb(self, t):
        """Constant acceleration from rest along the straight boost line (model "climb")."""
        accel = self.burnout_speed_mps / self.boost_time_s
        s = 0.5 * accel * t**2
        x, z = s * np.cos(self.launch_angle_rad), s * np.sin(self.launch_angle_rad)
        r_launch = RE + self.launch_ground_m
        phi = np.arctan2(x, r_launch + z)
        ang = self.launch_angle_rad + phi  # the local horizontal tilts down by phi downrange
        return phi, np.hypot(r_launch + z, x), accel * t * np.cos(ang), accel * t * np.sin(ang)

    def sample_plane(self, t_s):
        """(ground_distance_m, alt_m, v_horizontal_mps, v_up_mps) at times after launch; times
        before launch give the launch state (at rest), times after impact the impact state."""
        t = np.clip(np.asarray(t_s, float), 0.0, self.time_of_flight_s)
        tb = self.effective_boost_s
        if self.boost_model == "arc":
            tau, rate = t, np.ones_like(t)
            if tb > 0:
                # smooth start from rest that joins the arc's own timing and velocity at t_b:
                # tau = 2 t^2/t_b - t^3/t_b^2, tau(t_b) = t_b, tau'(0) = 0, tau'(t_b) = 1
                u = np.minimum(t / tb, 1.0)
                tau = np.where(u < 1, tb * (2 * u**2 - u**3), t)
                rate = np.where(u < 1, 4 * u - 3 * u**2, 1.0)
            phi, r, v_h, v_up = self._free(tau)
            v_h, v_up = v_h * rate, v_up * rate
        else:
            phi, r, v_h, v_up = self._free(np.maximum(t - tb, 0.0))
            boost = t < tb
            if tb > 0 and np.any(boost):
                pieces = self._climb(t[boost])
                phi, r, v_h, v_up = (
                    np.array(a, dtype=float, copy=True) for a in (phi, r, v_h, v_up)
                )
                phi = np.broadcast_to(phi, t.shape).copy()
                for arr, val in zip((phi, r, v_h, v_up), pieces, strict=True):
                    arr[boost] = val
        done = t >= self.time_of_flight_s  # exactly on the aim point's ground from impact on
        phi = np.where(done, self.range_m / RE, phi)
        alt = np.where(done, self.aim_ground_m, r - RE)
        return phi * RE, alt, v_h, v_up


def _launch_state(conic: Conic, r0: float):
    v = float(np.sqrt(MU * (2 / r0 - 1 / conic.a_m)))
    gamma = float(np.arccos(min(1.0, np.sqrt(MU * conic.p_m) / r0 / v)))
    return v, gamma


def _profile(
    range_m: float,
    apogee_m: float,
    boost_time_s: float,
    boost_model: str,
    launch_ground_m: float = 0.0,
    aim_ground_m: float = 0.0,
):
    """The free-flight conic (and for "climb" the boost geometry, by fixed-point iteration)
    from radius R + launch_ground_m to R + aim_ground_m; None if the requested arc is not
    ballistic (apogee below burnout or an end, launch too shallow, or an open conic at escape
    speed). A burnout speed above the circular speed is no obstacle: the ellipse still meets the
    Earth at the aim point (a highly lofted arc, e.g. 7,700 km apogee over 1,000 km, needs
    8.3 km/s at the surface)."""
    psi = range_m / RE
    r_a = RE + apogee_m
    r_launch, r_aim = RE + launch_ground_m, RE + aim_ground_m
    if r_a <= r_aim * (1 + 1e-9):
        return None
    r0, phi0 = r_launch, 0.0
    if boost_model == "climb" and boost_time_s > 0:
        for _ in range(1000):
            if psi - phi0 <= 1e-9 or r_a <= r0 * (1 + 1e-9):
                return None
            v, gamma = _launch_state(conic_through(r0, r_aim, psi - phi0, r_a), r0)
            length, gamma_b = v * boost_time_s / 2, gamma - phi0
            r1 = np.hypot(r_launch + length * np.sin(gamma_b), length * np.cos(gamma_b))
            phi1 = np.arctan2(length * np.cos(gamma_b), r_launch + length * np.sin(gamma_b))
            converged = abs(r1 - r0) < 1e-4 and abs(phi1 - phi0) * RE < 1e-4
            r0, phi0 = float(r1), float(phi1)
            if converged:
                break
        else:
            return None
    if psi - phi0 <= 1e-9 or r_a <= r0 * (1 + 1e-9):
        return None
    conic = conic_through(r0, r_aim, psi - phi0, r_a)
    v, gamma = _launch_state(conic, r0)
    if gamma - phi0 < np.radians(MIN_LAUNCH_ANGLE_DEG) or v * v >= 2 * MU / r0:
        return None
    return conic, r0, phi0, v, gamma


def min_feasible_apogee_m(
    range_m: float,
    boost_time_s: float = 0.0,
    boost_model: str = DEFAULT_BOOST_MODEL,
    launch_ground_m: float = 0.0,
    aim_ground_m: float = 0.0,
) -> float:
    """Lowest apogee giving a ballistic arc (launch above MIN_LAUNCH_ANGLE_DEG)."""
    ends = (launch_ground_m, aim_ground_m)
    lo = max(ends) + 1.0
    hi = max(float(min_energy_apogee_m(range_m)), lo + 1.0)
    while _profile(range_m, hi, boost_time_s, boost_model, *ends) is None and hi < 1e8:
        hi *= 2
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        ok = _profile(range_m, mid, boost_time_s, boost_model, *ends) is not None
        lo, hi = (lo, mid) if ok else (mid, hi)
    return hi


def solve_ballistic(
    range_m: float,
    apogee_m: float | None = None,
    boost_time_s: float = 0.0,
    boost_model: BoostModel = DEFAULT_BOOST_MODEL,
    launch_ground_m: float = 0.0,
    aim_ground_m: float = 0.0,
) -> BallisticSolution:
    """Solve the boost + free-flight profile for a ground range and apogee (default: the
    minimum-energy apogee of the range, with both ends at sea level) with ``boost_model``
    ("climb" by default, see the module docstring), starting at the launch point's ground
    ``launch_ground_m`` and ending at the aim point's ``aim_ground_m`` (heights above R).
    Raises :class:`InputError` if no ballistic arc fits."""
    if not np.isfinite(range_m) or range_m < 1_000.0:
        raise InputError(f"ballistic range {range_m / 1e3:.3f} km is too short (need >= 1 km)")
    if range_m >= np.pi * RE:
        raise InputError(
            f"ballistic range {range_m / 1e3:.0f} km exceeds half the Earth's circumference"
        )
    if not boost_time_s >= 0:
        raise InputError(f"boost_time_s must be >= 0, got {boost_time_s}", "boost_time_s")
    if boost_model not in ("arc", "climb"):
        raise InputError(
            f"boost_model {boost_model!r} is unknown; use 'arc' or 'climb'", "boost_model"
        )
    for name, g in (("launch_ground_m", launch_ground_m), ("aim_ground_m", aim_ground_m)):
        if not (np.isfinite(g) and -500.0 <= g <= 9_000.0):
            raise InputError(f"{name} must be a terrain height in [-500, 9000] m, got {g}", name)
    ends = (float(launch_ground_m), float(aim_ground_m))
    h_min_energy = float(min_energy_apogee_m(range_m))
    h_a = h_min_energy if apogee_m is None else float(apogee_m)
    sol = _profile(range_m, h_a, boost_time_s, boost_model, *ends)
    if sol is None:
        floor = min_feasible_apogee_m(range_m, boost_time_s, boost_model, *ends)
        raise InputError(
            f"apogee {h_a / 1e3:.1f} km is not feasible for a {range_m / 1e3:.0f} km ballistic "
            f"range with a {boost_time_s:g} s boost; use an apogee above {floor / 1e3:.1f} km"
        )
    conic, r0, phi0, v, gamma = sol
    m0 = float(conic.mean_anomaly(0.0))
    m1 = float(conic.mean_anomaly(range_m / RE - phi0))
    rel = h_a / h_min_energy - 1
    shape = "minimum-energy" if abs(rel) < 1e-6 else ("lofted" if rel > 0 else "depressed")
    return BallisticSolution(
        range_m=float(range_m),
        apogee_m=h_a,
        boost_time_s=float(boost_time_s),
        boost_model=boost_model,
        launch_angle_rad=gamma - phi0,
        burnout_speed_mps=v,
        burnout_radius_m=r0,
        burnout_downrange_rad=phi0,
        flight_path_angle_rad=gamma,
        conic=conic,
        free_flight_s=(m1 - m0) / conic.mean_motion,
        shape=shape,
        _m0=m0,
        launch_ground_m=ends[0],
        aim_ground_m=ends[1],
    )


# ------------------------------------------------------------------------- on the globe --
class TrajectorySample(NamedTuple):
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    ecef_m: np.ndarray  # (..., 3)
    vel_ecef_mps: np.ndarray  # (..., 3)


@dataclass(frozen=True)
class BallisticTrajectory:
    """A solved ballistic flight placed on the WGS84 geodesic from launch to aim point."""

    launch_lat_deg: float
    launch_lon_deg: float
    aim_lat_deg: float
    aim_lon_deg: float
    solution: BallisticSolution
    path: GeodesicPath

    apogee_m = property(lambda self: self.solution.apogee_m)
    time_of_flight_s = property(lambda self: self.solution.time_of_flight_s)
    burnout_speed_mps = property(lambda self: self.solution.burnout_speed_mps)
    range_m = property(lambda self: self.solution.range_m)
    shape = property(lambda self: self.solution.shape)
    impact_speed_mps = property(lambda self: self.solution.impact_speed_mps)

    @property
    def flight_path_angle_deg(self) -> float:
        return float(np.degrees(self.solution.flight_path_angle_rad))

    def sample(self, t_rel_s) -> TrajectorySample:
        """Position and ECEF velocity at times after launch (any array shape)."""
        dist, alt, v_h, v_up = self.solution.sample_plane(t_rel_s)
        lat, lon, sin_az, cos_az = self.path.at(dist)
        pos, vel = ecef_and_velocity(lat, lon, alt, v_h * sin_az, v_h * cos_az, v_up)
        return TrajectorySample(lat, lon, alt, pos, vel)


def ballistic_trajectory(
    launch_lat: float,
    launch_lon: float,
    aim_lat: float,
    aim_lon: float,
    apogee_km: float | None = None,
    boost_time_s: float = 0.0,
    boost_model: BoostModel = DEFAULT_BOOST_MODEL,
    launch_ground_m: float = 0.0,
    aim_ground_m: float = 0.0,
) -> BallisticTrajectory:
    """Solve a ballistic flight from a launch point to an aim point (WGS84 degrees).

    ``apogee_km`` None gives the minimum-energy arc; a higher value a lofted one, a lower value
    a depressed one. ``boost_model``: "climb" (default) or "arc" (module docstring). The flight
    starts at ``launch_ground_m`` and impacts at ``aim_ground_m`` (terrain heights of the two
    points, m above the ellipsoid; 0: sea level). Raises
    :class:`InputError` for an infeasible request.
    """
    for name, v, lim in (("launch_lat", launch_lat, 90), ("launch_lon", launch_lon, 180),
                         ("aim_lat", aim_lat, 90), ("aim_lon", aim_lon, 180)):  # fmt: skip
        if not (np.isfinite(v) and -lim <= v <= lim):
            raise InputError(f"{name} {v} is outside [-{lim}, {lim}] degrees", name)
    path = GeodesicPath([launch_lat, aim_lat], [launch_lon, aim_lon])
    apogee_m = None if apogee_km is None else 1e3 * float(apogee_km)
    sol = solve_ballistic(
        path.length_m, apogee_m, boost_time_s, boost_model, launch_ground_m, aim_ground_m
    )
    return BallisticTrajectory(
        float(launch_lat), float(launch_lon), float(aim_lat), float(aim_lon), sol, path
    )
