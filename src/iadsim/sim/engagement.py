"""Fire units and engagements: predicted intercept point, envelope, doctrine, outcomes.

Abstract and public (no guidance laws, seekers or fuzing). A shot is *launched on the track*
(the fire unit's estimate decides whether and with what to fire) and its *outcome is decided on
the truth* (where the round really meets the target):

* **Predicted intercept point (PIP).** The interceptor flies straight at its catalog
  ``average_speed`` s. A ballistic target is extrapolated at constant velocity: with the target
  at p (relative to the launcher) moving at v, the intercept time t solves ``|p + v t| = s t``,
  ``(v.v - s^2) t^2 + 2 (p.v) t + p.p = 0``, smallest positive root (none: the interceptor
  cannot catch it); PIP = p + v t. Aircraft and cruise missiles are extrapolated in **level
  flight along the Earth**: their velocity less its part along the radius, along the great
  circle of that horizontal velocity at constant height above the WGS84 ellipsoid
  (:func:`_level_state`; a straight tangent line would climb d^2 / (2 R), ~390 m after 70 km).
  Their intercept time is the root of ``|P(t) - L| = s t`` on that curve, by Newton's method
  from the straight-line root (:func:`_level_intercept`).
* **Launch rule.** A fire unit launches iff the PIP lies inside the envelope of one of its
  interceptors for the target's class (slant range between min and max; PIP height above the
  terrain under the target now between min and max: an envelope's "altitude" is a height above
  ground, so a cruise missile 30 m over a 1,000 m plateau is at 30 m, not 1,030 m), the PIP lies
  inside the azimuth sector of the unit's fire-control radar (which must guide the round; not
  asked of an active-seeker round fired in engage-on-remote, which the network guides), the
  target speed is at most ``max_target_speed``, a round is ready, the engagement is predicted
  supportable to the PIP in the two remote network modes (:mod:`iadsim.sim.guidance`: the own
  FCR, or for engage-on-remote active-seeker rounds a network radar, holds the target there),
  a fire-control channel is free, the reaction time has elapsed since the fire unit first had
  a track on the threat, and the fire-control condition of its network mode holds. Among
  usable interceptors the one with the highest P_k for the class is fired.
* **Adjudication on the truth.** The fire control guides the round onto the target where it
  really is, so at time t after launch the round can be anywhere within ``s (t - t_launch)`` of
  the launcher L. The true intercept time t* is the first time the target, on its TRUE
  trajectory (the sampled trajectory, linear in ECEF between time steps, so t* is not
  quantised to the step), is inside that sphere: ``|p_true(t*) - L| <= s (t* - t_launch)``
  (:func:`true_intercept`, computed at launch for all rounds launched in the step in one
  compiled pass). If the target impacts (or ends its route) first, the round misses
  (``no_intercept_before_impact``, at the impact); if it is not caught within the
  interceptor's fly-out, max range / s, it misses (``beyond_range_at_intercept``, when the
  fly-out ends). At t* the true point must lie inside the envelope for the target's class
  (:func:`adjudicate`): slant range in [min, max] (``inside_min_range_at_intercept``), true
  height above the ground under the target (the DEM there; ballistic: at the aim point) in
  [min, max] altitude (``below_floor_at_intercept``, ``above_ceiling_at_intercept``), true speed
  at most ``max_target_speed`` (``too_fast_at_intercept``). Inside, the outcome is one uniform
  draw per round against P_k. Outcome events are at t* at the true target position.
* **Doctrine.** ``salvo_size`` rounds per engagement (at most the system's
  ``missiles_per_channel``), each killing independently with P_k
  (P(kill) = 1 - (1 - P_k)^n). A channel is busy from launch to the outcome (t*). With
  ``shoot_look_shoot`` the unit may re-engage a survivor after kill assessment
  (:data:`KILL_ASSESSMENT_S` after the outcome time); without it, it fires one salvo per
  threat. Within a network a threat is engaged by one fire unit at a time.
* **Magazine and reload.** Ready rounds start at ``min(inventory, catalog loadout)`` per type; the
  rest is reserve. When a type's ready rounds run out and reserve remains, the type is reloaded
  ``reload_time_s`` later.
* **Guidance at the intercept** (the launch-time prediction can be wrong): a round launched on
  remote whose own FCR must take over (launch-on-remote, and semi-active, track-via-missile
  or command-guided rounds of an engage-on-remote unit) misses (``no_fcr_guidance``) unless
  the FCR detected the target between launch and intercept; an engage-on-remote active-seeker
  round misses (``no_network_guidance``) unless the network's track was updated within the
  coast window before the intercept (:func:`iadsim.sim.steps.resolve`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from iadsim.catalog.models import TARGET_CLASSES, Interceptor
from iadsim.deployment import Deployment
from iadsim.geo.frames import WGS84_SEMI_AXES_M, enu_rotation, geodetic_height_m
from iadsim.sim import guidance
from iadsim.sim.events import REASON_CODE

KILL_ASSESSMENT_S = 2.0  #: time after the intercept before the unit knows the outcome
CLASS_CODE = {c: i for i, c in enumerate(TARGET_CLASSES)}
_A, _B = WGS84_SEMI_AXES_M  # WGS84 semi-axes (m) as geodetic_height_m uses them


@dataclass
class Interceptors:
    """Interceptor types used in the scenario (rows), envelopes by class (columns)."""

    ids: list[str]
    speed_mps: np.ndarray  # (I,)
    max_target_speed_mps: np.ndarray  # (I,)
    has_class: np.ndarray  # (I, 3) bool
    min_range_m: np.ndarray  # (I, 3)
    max_range_m: np.ndarray
    min_alt_m: np.ndarray
    max_alt_m: np.ndarray
    pk: np.ndarray  # (I, 3)
    #: (I,) bool: the round homes with its own radar (catalog ``terminal_seeker``)
    active_seeker: np.ndarray

    def __post_init__(self) -> None:
        self.pk_or_neg = np.nan_to_num(self.pk, nan=-1.0)  # the kernel's form: -1 = no P_k


@dataclass
class FireUnits:
    """Sites with interceptors, one row each; interceptor slots (F, Q) index Interceptors."""

    site: np.ndarray  # (F,) site index
    ecef_m: np.ndarray  # (F, 3) launcher position
    enu_rot: np.ndarray  # (F, 3, 3) rows: east, north, up unit vectors at the launcher (ECEF)
    heading_rad: np.ndarray  # (F,) boresight of the fire-control radar (site heading_deg)
    half_sector_rad: np.ndarray  # (F,) half its azimuth sector (pi: all round)
    channels: np.ndarray  # (F,)
    salvo: np.ndarray
    shoot_look_shoot: np.ndarray
    reaction_s: np.ndarray
    reload_s: np.ndarray
    types: np.ndarray  # (F, Q) interceptor index, -1 = empty slot
    ready0: np.ndarray  # (F, Q) ready rounds at start
    reserve0: np.ndarray  # (F, Q)
    loadout: np.ndarray  # (F, Q) rounds per reload


def build_interceptors(items: Sequence[Interceptor]) -> Interceptors:
    """One row per interceptor type (catalog models, as resolved in the deployment)."""
    items = list(items)
    shape = (len(items), len(TARGET_CLASSES))
    arr = {k: np.full(shape, np.nan) for k in ("min_r", "max_r", "min_a", "max_a", "pk")}
    has = np.zeros(shape, bool)
    for i, it in enumerate(items):
        for c, env in it.envelopes.items():
            j = CLASS_CODE[c]
            has[i, j] = c in it.pk
            arr["min_r"][i, j], arr["max_r"][i, j] = env.min_range.si, env.max_range.si
            arr["min_a"][i, j], arr["max_a"][i, j] = env.min_altitude.si, env.max_altitude.si
            arr["pk"][i, j] = it.pk[c].si if c in it.pk else np.nan
    return Interceptors(
        [it.id for it in items], np.array([it.average_speed.si for it in items]),
        np.array([it.max_target_speed.si for it in items]), has,
        arr["min_r"], arr["max_r"], arr["min_a"], arr["max_a"], arr["pk"],
        np.array([it.active_seeker for it in items], bool).reshape(len(items)),
    )  # fmt: skip


def build_fire_units(deployment: Deployment, site_ecef_m) -> tuple[FireUnits, Interceptors]:
    """One fire unit per site of ``deployment`` that has one (a system with interceptors;
    radar-only sites have none), launcher at ``site_ecef_m`` (S, 3); inventory, magazine split
    and doctrine as resolved in the deployment. Interceptor types are numbered in order of
    first appearance."""
    rows = [(s, site) for s, site in enumerate(deployment.sites) if site.has_fire_unit]
    types_used: dict[str, Interceptor] = {}
    for _, site in rows:
        for i in site.interceptors:
            types_used.setdefault(i.id, i.interceptor)
    type_ids = list(types_used)
    q = max((len(site.interceptors) for _, site in rows), default=1)
    f = len(rows)
    types = np.full((f, q), -1, np.int64)
    ready, reserve, load = (np.zeros((f, q), np.int64) for _ in range(3))
    for k, (_, site) in enumerate(rows):
        for j, i in enumerate(site.interceptors):
            types[k, j] = type_ids.index(i.id)
            load[k, j], ready[k, j], reserve[k, j] = i.rounds_per_reload, i.ready, i.reserve
    doc = [site.doctrine for _, site in rows]
    fu = FireUnits(
        site=np.array([s for s, _ in rows], np.int64),
        ecef_m=np.asarray(site_ecef_m, float)[[s for s, _ in rows]].reshape(f, 3),
        enu_rot=enu_rotation(np.array([site.lat for _, site in rows], float),
                             np.array([site.lon for _, site in rows], float)).reshape(f, 3, 3),
        heading_rad=np.array([site.fcr.boresight_rad for _, site in rows], float),
        half_sector_rad=np.array([site.fcr.half_sector_rad for _, site in rows], float),
        channels=np.array([d.channels for d in doc], np.int64),
        salvo=np.array([d.salvo_size for d in doc], np.int64),
        shoot_look_shoot=np.array([d.shoot_look_shoot for d in doc], bool),
        reaction_s=np.array([d.reaction_time_s for d in doc], float),
        reload_s=np.array([d.reload_time_s for d in doc], float),
        types=types, ready0=ready, reserve0=reserve, loadout=load,
    )  # fmt: skip
    return fu, build_interceptors(types_used.values())


@numba.njit(cache=True)
def intercept_time_scalar_s(px, py, pz, vx, vy, vz, speed):
    """Smallest t > 0 with ``|p + v t| = speed * t`` for a target at p (m, relative to the
    launcher) moving at v (m/s) and an interceptor flying straight at ``speed`` (m/s); NaN
    when there is none (also for NaN inputs).

    The quadratic ``(v.v - s^2) t^2 + 2 (p.v) t + p.p = 0``; when the speeds are equal
    (``|v.v - s^2| < 1e-9``) it is linear, ``t = -p.p / (2 p.v)``, a root only for a target
    closing in (``p.v < 0``). A target at the launcher has the root t = 0, which is not
    positive: NaN. A target receding faster than the interceptor has no positive root."""
    a = vx * vx + vy * vy + vz * vz - speed * speed
    b = 2 * (px * vx + py * vy + pz * vz)
    c = px * px + py * py + pz * pz
    if abs(a) < 1e-9:
        return -c / b if b < 0 else np.nan
    disc = b * b - 4 * a * c
    if disc < 0:
        return np.nan
    sq = np.sqrt(disc)
    t = np.inf
    for r in ((-b - sq) / (2 * a), (-b + sq) / (2 * a)):
        if 0 < r < t:
            t = r
    return t if np.isfinite(t) else np.nan


@numba.njit(cache=True)
def _intercept_time_rows(p_rel, v, speed, out):
    for i in range(out.shape[0]):
        out[i] = intercept_time_scalar_s(
            p_rel[i, 0], p_rel[i, 1], p_rel[i, 2], v[i, 0], v[i, 1], v[i, 2], speed[i]
        )


def intercept_time_s(p_rel, v, speed):
    """:func:`intercept_time_scalar_s` over rows: ``p_rel`` and ``v`` (..., 3), ``speed``
    broadcast against their leading shape; returns t (s) of that shape, NaN where no
    intercept exists."""
    p, vel = np.broadcast_arrays(np.asarray(p_rel, float), np.asarray(v, float))
    shape = p.shape[:-1]
    s = np.broadcast_to(np.asarray(speed, float), shape).reshape(-1)
    out = np.empty(s.shape[0])
    _intercept_time_rows(
        np.ascontiguousarray(p).reshape(-1, 3),
        np.ascontiguousarray(vel).reshape(-1, 3),
        np.ascontiguousarray(s),
        out,
    )
    return out.reshape(shape)


@numba.njit(cache=True)
def _level_state(x, y, z, ux, uy, uz, h, w, t):
    """Position and velocity (ECEF) at time t of a target in level flight from (x, y, z):
    along the great circle through the unit radial direction p^ = (x, y, z)/|p| and the unit
    direction u^ perpendicular to it (its velocity's), at the angular rate w (rad/s), at the constant
    height h above the WGS84 ellipsoid, measured along the radius as
    :func:`iadsim.geo.frames.geodetic_height_m`: direction d = cos(w t) p^ + sin(w t) u^,
    position (rho(d) + h) d with rho(d) = a b / sqrt(b^2 + (a^2 - b^2) d_z^2) the ellipsoid's
    radius in direction d."""
    r = np.sqrt(x * x + y * y + z * z)
    c, s = np.cos(w * t), np.sin(w * t)
    dx, dy, dz = c * x / r + s * ux, c * y / r + s * uy, c * z / r + s * uz
    ddx, ddy, ddz = -s * x / r + c * ux, -s * y / r + c * uy, -s * z / r + c * uz  # d'(theta)
    q = _B * _B + (_A * _A - _B * _B) * dz * dz
    rho = _A * _B / np.sqrt(q)
    drho = -_A * _B * (_A * _A - _B * _B) * dz * ddz / (q * np.sqrt(q))  # d rho / d theta
    rr = rho + h
    return (
        rr * dx, rr * dy, rr * dz,
        w * (drho * dx + rr * ddx), w * (drho * dy + rr * ddy), w * (drho * dz + rr * ddz),
    )  # fmt: skip


@numba.njit(cache=True)
def _level_intercept(x, y, z, vx, vy, vz, lx, ly, lz, speed):
    """Intercept time and PIP of a target in level flight (:func:`_level_state`: position
    (x, y, z) now, velocity v less its part along the radius) by a round flying straight from
    the launcher L at ``speed``: the root of ``f(t) = |P(t) - L| - speed t`` by
    :func:`_level_newton` from the straight-line root (:func:`intercept_time_scalar_s`). NaN
    when there is none."""
    r = np.sqrt(x * x + y * y + z * z)
    radial = (vx * x + vy * y + vz * z) / r  # level: only the part across the radius
    vx, vy, vz = vx - radial * x / r, vy - radial * y / r, vz - radial * z / r
    t0 = intercept_time_scalar_s(x - lx, y - ly, z - lz, vx, vy, vz, speed)
    return _level_newton(x, y, z, vx, vy, vz, lx, ly, lz, speed, t0)


@numba.njit(cache=True)
def _level_newton(x, y, z, vx, vy, vz, lx, ly, lz, speed, t0):
    """Newton's method on ``f(t) = |P(t) - L| - speed t``, f'(t) = (P - L).P'(t)/|P - L| - s,
    from ``t0`` (the straight-line root; v horizontal). Newton rather than the plain
    fixed-point map t <- |P(t) - L|/s, which only contracts when the target is slower than the
    round; the curve departs from the tangent line by about d^2 / (2 R) (~390 m after 70 km),
    so two or three evaluations bring ``|f|`` under 0.1 mm. NaN when t0 is NaN or Newton does
    not settle on a positive root within 12 steps."""
    if np.isnan(t0):
        return np.nan, np.nan, np.nan, np.nan
    v = np.sqrt(vx * vx + vy * vy + vz * vz)
    if v == 0.0:
        return t0, x, y, z
    r = np.sqrt(x * x + y * y + z * z)
    h = geodetic_height_m(x, y, z)
    ux, uy, uz, w = vx / v, vy / v, vz / v, v / r
    t = t0
    for _ in range(12):
        px, py, pz, dpx, dpy, dpz = _level_state(x, y, z, ux, uy, uz, h, w, t)
        qx, qy, qz = px - lx, py - ly, pz - lz
        dist = np.sqrt(qx * qx + qy * qy + qz * qz)
        gap = dist - speed * t
        if abs(gap) < 1e-4:  # 0.1 mm: two or three evaluations from the straight root
            return (t, px, py, pz) if t > 0 else (np.nan, np.nan, np.nan, np.nan)
        t -= gap / ((qx * dpx + qy * dpy + qz * dpz) / dist - speed)
    return np.nan, np.nan, np.nan, np.nan


#: below this, a level target's straight-line PIP decides out-of-range alone: the curve lies
#: within (v t)^2 / (2 R) of the tangent line, R taken low (6,300 km) to bound it from above
_R_LOW_M = 6.3e6


@numba.njit(cache=True)
def _in_sector(qx, qy, qz, rot, heading, half_sector):
    """Is the launcher-relative point q inside the azimuth sector around ``heading``?"""
    return _sector_margin(qx, qy, qz, rot, heading, half_sector)[0] >= -1e-12


@numba.njit(cache=True)
def _sector_margin(qx, qy, qz, rot, heading, half_sector):
    """Angle (rad) by which the launcher-relative point q lies inside the azimuth sector around
    ``heading`` (negative: outside), and q's horizontal distance (m)."""
    e = rot[0, 0] * qx + rot[0, 1] * qy + rot[0, 2] * qz
    n = rot[1, 0] * qx + rot[1, 1] * qy + rot[1, 2] * qz
    daz = (np.arctan2(e, n) - heading + np.pi) % (2 * np.pi) - np.pi
    return half_sector - abs(daz), np.sqrt(e * e + n * n)


class Candidates(NamedTuple):
    """Engagement candidates, one row each: a fire unit and its estimate of one target."""

    unit: np.ndarray  # (C,) fire unit index
    pos_ecef_m: np.ndarray  # (C, 3) target position now
    vel_ecef_mps: np.ndarray  # (C, 3) target velocity (the kernel drops the vertical if level)
    target_class: np.ndarray  # (C,) CLASS_CODE
    ground_m: np.ndarray  # (C,) terrain height envelope altitudes are measured from
    level: np.ndarray  # (C,) bool: extrapolated in level flight along the Earth (not ballistic)


class FireUnitParams(NamedTuple):
    """What the kernel needs of the fire units (rows of :class:`FireUnits`)."""

    types: np.ndarray  # (F, Q) interceptor index per slot, -1 = empty
    ready: np.ndarray  # (F, Q) rounds ready now
    launcher_ecef_m: np.ndarray  # (F, 3)
    enu_rot: np.ndarray  # (F, 3, 3)
    heading_rad: np.ndarray  # (F,) FCR boresight
    half_sector_rad: np.ndarray  # (F,) half the FCR's azimuth sector (pi: all round)


class InterceptorParams(NamedTuple):
    """Interceptor types (rows of :class:`Interceptors`), envelopes by target class."""

    speed_mps: np.ndarray  # (I,)
    max_target_speed_mps: np.ndarray  # (I,)
    has_class: np.ndarray  # (I, 3) bool
    min_range_m: np.ndarray  # (I, 3)
    max_range_m: np.ndarray
    min_alt_m: np.ndarray
    max_alt_m: np.ndarray
    pk_or_neg: np.ndarray  # (I, 3) P_k, -1 where none


class ReasonCodes(NamedTuple):
    """The event reason codes the kernel reports (:data:`iadsim.sim.events.REASON_CODE`), in
    the order a candidate passes the checks (the two altitude reasons are one stage): a unit
    with several interceptor types reports the reason of the type that got furthest."""

    class_not_engageable: int
    too_fast: int
    beyond_max_range: int
    out_of_envelope: int
    below_min_altitude: int
    above_max_altitude: int
    outside_fcr_sector: int
    no_interceptor: int


_CODES = ReasonCodes(*(REASON_CODE[k] for k in ReasonCodes._fields))


@numba.njit(cache=True)
def _evaluate_nb(cand, units, icp, codes, support):
    """Best slot, reason, intercept time and PIP of every candidate: see :func:`evaluate`;
    ``support`` is the :class:`iadsim.sim.guidance.SupportPack` of the remote modes."""
    f, pos, vel = cand.unit, cand.pos_ecef_m, cand.vel_ecef_mps
    cls, tgt_ground, level = cand.target_class, cand.ground_m, cand.level
    types, ready, launcher = units.types, units.ready, units.launcher_ecef_m
    enu, heading, half_sector = units.enu_rot, units.heading_rad, units.half_sector_rad
    speed, vmax, has = icp.speed_mps, icp.max_target_speed_mps, icp.has_class
    min_r, max_r, min_a, max_a = icp.min_range_m, icp.max_range_m, icp.min_alt_m, icp.max_alt_m
    pk = icp.pk_or_neg
    r_cls, r_fast, r_range = codes.class_not_engageable, codes.too_fast, codes.beyond_max_range
    r_min, r_low, r_high = codes.out_of_envelope, codes.below_min_altitude, codes.above_max_altitude
    r_sector, r_inv = codes.outside_fcr_sector, codes.no_interceptor
    c_n, q_n = len(f), types.shape[1]
    slot = np.full(c_n, -1, np.int64)
    reason = np.zeros(c_n, np.int64)
    tgo = np.full(c_n, np.nan)
    pip = np.full((c_n, 3), np.nan)
    for i in range(c_n):
        u, c = f[i], cls[i]
        best_pk, best_stage = -1.0, -1
        px, py, pz = (
            pos[i, 0] - launcher[u, 0],
            pos[i, 1] - launcher[u, 1],
            pos[i, 2] - launcher[u, 2],
        )
        vx, vy, vz = vel[i, 0], vel[i, 1], vel[i, 2]
        if level[i]:  # level flight: drop the velocity's part along the radius
            r = np.sqrt(pos[i, 0] ** 2 + pos[i, 1] ** 2 + pos[i, 2] ** 2)
            ux, uy, uz = pos[i, 0] / r, pos[i, 1] / r, pos[i, 2] / r
            radial = vx * ux + vy * uy + vz * uz
            vx, vy, vz = vx - radial * ux, vy - radial * uy, vz - radial * uz
        v = np.sqrt(vx * vx + vy * vy + vz * vz)
        # a PIP within range R needs |p| <= R (1 + v / s): cheap early reject of far targets
        dist = np.sqrt(px * px + py * py + pz * pz)
        reach = 0.0
        for j in range(q_n):
            t = types[u, j]
            if t >= 0 and has[t, c]:
                reach = max(reach, max_r[t, c] * (1 + v / speed[t]))
        if dist > reach * 1.001 + 1.0 and reach > 0:
            reason[i] = r_range
            continue
        h_level = geodetic_height_m(pos[i, 0], pos[i, 1], pos[i, 2]) if level[i] else 0.0
        for j in range(q_n):
            t = types[u, j]
            if t < 0:
                continue
            # straight at constant velocity (ballistic targets; the start for level ones)
            ti = intercept_time_scalar_s(px, py, pz, vx, vy, vz, speed[t])
            tt = 0.0 if np.isnan(ti) else ti
            qx, qy, qz = px + vx * tt, py + vy * tt, pz + vz * tt
            ex, ey, ez = pos[i, 0] + vx * tt, pos[i, 1] + vy * tt, pos[i, 2] + vz * tt
            rng = np.sqrt(qx * qx + qy * qy + qz * qz)
            if level[i] and has[t, c] and v <= vmax[t] and not np.isnan(ti):
                # along the Earth at constant height h (the PIP's height whatever t): the
                # exact PIP (Newton) unless the straight one decides alone. The curved PIP lies
                # within dev s / (s - v) of the straight one (dev: the curve's departure from
                # the tangent line; the root moves by at most dev / (s - v)), taken twice plus
                # 10 m: a straight range that far outside the band is out, that far inside it
                # is in, and then a height outside [min, max], a PIP that far (in azimuth)
                # outside the FCR sector (when the FCR must guide: not for an engage-on-remote
                # active-seeker round), or one inside it without a ready round refuses the
                # shot whatever the exact PIP
                s_t = speed[t]
                dev = (v * ti) ** 2 / (2 * _R_LOW_M)
                slack = 2 * s_t * dev / (s_t - v) + 10.0 if v < 0.9 * s_t else np.inf
                exact = not (rng > max_r[t, c] + slack or rng < min_r[t, c] - slack)
                if exact and min_r[t, c] + slack <= rng <= max_r[t, c] - slack:
                    if not (min_a[t, c] <= h_level - tgt_ground[i] <= max_a[t, c]):
                        exact = False
                    elif half_sector[u] >= np.pi or guidance.eor_active(support, u, t):
                        exact = ready[u, j] > 0
                    else:
                        margin, horiz = _sector_margin(
                            qx, qy, qz, enu[u], heading[u], half_sector[u]
                        )
                        bound = slack / max(horiz, 1.0)
                        exact = not (margin < -bound or (margin > bound and ready[u, j] <= 0))
                if exact:
                    lx, ly, lz = launcher[u, 0], launcher[u, 1], launcher[u, 2]
                    ti, ex, ey, ez = _level_newton(
                        pos[i, 0], pos[i, 1], pos[i, 2], vx, vy, vz, lx, ly, lz, s_t, ti
                    )
                    if np.isnan(ti):
                        ex, ey, ez = pos[i, 0], pos[i, 1], pos[i, 2]
                    qx, qy, qz = ex - lx, ey - ly, ez - lz
                    rng = np.sqrt(qx * qx + qy * qy + qz * qz)
            code, stage = 0, 9
            if not has[t, c]:
                code, stage = r_cls, 0
            elif v > vmax[t]:
                code, stage = r_fast, 1
            elif np.isnan(ti) or rng > max_r[t, c]:
                code, stage = r_range, 2
            elif rng < min_r[t, c]:
                code, stage = r_min, 3
            else:  # the altitude (trigonometry) only for PIPs inside the range band
                alt = (h_level if level[i] else geodetic_height_m(ex, ey, ez)) - tgt_ground[i]
                if alt < min_a[t, c]:
                    code, stage = r_low, 4
                elif alt > max_a[t, c]:
                    code, stage = r_high, 4
                elif (
                    half_sector[u] < np.pi
                    and not guidance.eor_active(support, u, t)
                    and not _in_sector(qx, qy, qz, enu[u], heading[u], half_sector[u])
                ):
                    code, stage = r_sector, 5
                elif ready[u, j] <= 0:
                    code, stage = r_inv, 6
                elif guidance.remote_mode(support, u):  # who guides it to the PIP?
                    sc = guidance.support_code(support, i, u, t, ex, ey, ez)
                    if sc != 0:
                        code, stage = sc, 7
            better = code == 0 and pk[t, c] > best_pk
            if better:
                slot[i], best_pk = j, pk[t, c]
            if stage > best_stage or better:
                best_stage, reason[i], tgo[i] = stage, code, ti
                pip[i, 0], pip[i, 1], pip[i, 2] = ex, ey, ez
        if slot[i] >= 0:
            reason[i] = 0
    return slot, reason, tgo, pip


def evaluate(fu: FireUnits, icp: Interceptors, f, pos, vel, cls, ready, ground_m=None,
             support: guidance.SupportPack | None = None, threat=None):  # fmt: skip
    """Best interceptor slot for candidates (unit f, target state pos/vel ECEF, class code).

    ``ground_m`` is the terrain height under each candidate's target (None: 0, sea level); the
    PIP's height above it is compared with the envelope's altitudes. Aircraft and cruise
    targets are extrapolated in level flight along the Earth (the part of ``vel`` along the
    radius is dropped: a terrain follower's momentary climb or dive times a 30 s fly-out would
    otherwise put the PIP hundreds of metres above or below the ground it keeps hugging; then
    the great circle at constant height, :func:`_level_state`).

    Returns ``slot`` (-1 when none), ``reason`` codes (0 when a slot is usable; otherwise the
    reason of the slot that passed most checks), intercept time ``tgo_s`` and the PIP (ECEF)
    of the chosen (or that) slot. Checks in order: class, target speed, catch-up/max range,
    min range, min/max height above ground, PIP inside the fire-control radar's azimuth
    sector (sector radars such as AN/MPQ-65 face the site's ``heading_deg``; skipped for an
    engage-on-remote active-seeker round), ready rounds, then, in the two remote modes, the
    engagement supportable to the PIP (``support``, a
    :class:`iadsim.sim.guidance.SupportPack`, with ``threat`` the threat index of each
    candidate; None: every unit standalone, no such check). Compiled with numba (one pass, no
    temporaries).
    """
    n = len(np.atleast_1d(f))
    ground = np.zeros(n) if ground_m is None else np.ascontiguousarray(ground_m, float)
    pos = np.ascontiguousarray(pos, float).reshape(n, 3)
    vel = np.ascontiguousarray(vel, float).reshape(n, 3)
    level = np.asarray(cls) != CLASS_CODE["ballistic"]  # the kernel drops their vertical part
    cand = Candidates(
        unit=np.ascontiguousarray(f, np.int64),
        pos_ecef_m=pos,
        vel_ecef_mps=vel,
        target_class=np.ascontiguousarray(cls, np.int64),
        ground_m=ground,
        level=np.ascontiguousarray(level, bool).reshape(n),
    )
    if support is None:
        support = guidance.no_support(len(fu.site), len(icp.ids))
    threat = np.zeros(n, np.int64) if threat is None else threat
    return evaluate_packed(cand, unit_params(fu, ready), interceptor_params(icp), support,
                           np.ascontiguousarray(threat, np.int64))  # fmt: skip


def unit_params(fu: FireUnits, ready) -> FireUnitParams:
    """The engagement kernel's :class:`FireUnitParams` of ``fu`` with ``ready`` rounds (the
    array itself: a caller that updates it in place may keep the pack)."""
    return FireUnitParams(
        types=fu.types,
        ready=ready,
        launcher_ecef_m=fu.ecef_m,
        enu_rot=fu.enu_rot,
        heading_rad=fu.heading_rad,
        half_sector_rad=fu.half_sector_rad,
    )


def interceptor_params(icp: Interceptors) -> InterceptorParams:
    """The engagement kernel's :class:`InterceptorParams` of ``icp``."""
    return InterceptorParams(
        speed_mps=icp.speed_mps,
        max_target_speed_mps=icp.max_target_speed_mps,
        has_class=icp.has_class,
        min_range_m=icp.min_range_m,
        max_range_m=icp.max_range_m,
        min_alt_m=icp.min_alt_m,
        max_alt_m=icp.max_alt_m,
        pk_or_neg=icp.pk_or_neg,
    )


def evaluate_packed(cand: Candidates, units: FireUnitParams, icp: InterceptorParams,
                    support: guidance.SupportPack, threat: np.ndarray):  # fmt: skip
    """:func:`evaluate` on ready-made packs (the engine keeps ``units`` and ``icp`` for a
    run); ``threat`` (int64) is each candidate's threat index."""
    return _evaluate_nb(cand, units, icp, _CODES, support._replace(threat=threat))


def pick_by_channel(f, priority, free, group_key):
    """Choose candidates: at most ``free[f]`` per unit by ascending priority, and one per
    ``group_key`` (network-threat pair, or unit-threat for standalone units). Returns a mask."""
    order = np.lexsort((priority, f))
    fs = f[order]
    first = np.searchsorted(fs, fs)
    rank = np.arange(len(fs)) - first
    take = np.zeros(len(f), bool)
    take[order] = rank < free[fs]
    # one engagement per network and threat: keep the highest priority taker
    idx = np.flatnonzero(take)
    if len(idx):
        o = idx[np.argsort(priority[idx], kind="stable")]
        _, keep = np.unique(group_key[o], return_index=True)
        take[:] = False
        take[o[keep]] = True
    return take


# --------------------------------------------------------------- adjudication on the truth --
#: how a round's fly-out ends (:func:`true_intercept`)
CAUGHT, IMPACT_FIRST, FLYOUT_SPENT, AFTER_RUN = 0, 1, 2, 3


@numba.njit(cache=True)
def _segment_root(ax, ay, az, dx, dy, dz, h, c0, s):
    """Smallest tau in [0, 1] with ``|a + d tau| = s (c0 + h tau)`` (a target moving from a to
    a + d, relative to the launcher, over h seconds, c0 seconds after launch), or -1. Squared:
    ``(d.d - s^2 h^2) tau^2 + 2 (a.d - s^2 c0 h) tau + (a.a - s^2 c0^2) = 0``, both sides being
    non-negative for tau >= 0; the numerically stable form of the quadratic roots."""
    qa = dx * dx + dy * dy + dz * dz - s * s * h * h
    qb = 2.0 * (ax * dx + ay * dy + az * dz - s * s * c0 * h)
    qc = ax * ax + ay * ay + az * az - s * s * c0 * c0
    if qc <= 0.0:  # already inside the fly-out sphere at the segment's start
        return 0.0
    best = 2.0
    if qa == 0.0:
        if qb < 0.0:
            best = -qc / qb
    else:
        disc = qb * qb - 4.0 * qa * qc
        if disc >= 0.0:
            q = -0.5 * (qb + np.copysign(np.sqrt(disc), qb))
            for r in (q / qa, qc / q if q != 0.0 else 2.0):
                if 0.0 <= r < best:
                    best = r
    return best if best <= 1.0 else -1.0


@numba.njit(cache=True)
def _true_intercept_nb(traj, vel, time_s, impact_s, threat, k0, t_launch, launcher, speed, flyout):
    b_n, t_n = len(threat), len(time_s)
    t_end = np.full(b_n, np.inf)
    status = np.full(b_n, AFTER_RUN, np.int64)
    pos = np.full((b_n, 3), np.nan)
    v_end = np.full((b_n, 3), np.nan)
    for i in range(b_n):
        m, tl, s = threat[i], t_launch[i], speed[i]
        t_imp = impact_s[m]
        t_stop = min(t_imp, tl + flyout[i])  # the target lands, or the round's fly-out ends
        lx, ly, lz = launcher[i, 0], launcher[i, 1], launcher[i, 2]
        k = k0[i]
        while k + 1 < t_n and time_s[k] < t_stop:
            t0, t1 = time_s[k], time_s[k + 1]
            # sample k + 1 after the impact holds the impact point: the segment ends there
            h = min(t1, t_imp) - t0
            px, py, pz = traj[m, k, 0], traj[m, k, 1], traj[m, k, 2]
            dx, dy, dz = traj[m, k + 1, 0] - px, traj[m, k + 1, 1] - py, traj[m, k + 1, 2] - pz
            tau = _segment_root(px - lx, py - ly, pz - lz, dx, dy, dz, h, t0 - tl, s)
            end_here = t0 + h >= t_stop
            if tau >= 0.0 and t0 + h * tau <= t_stop:
                t_end[i], status[i] = t0 + h * tau, CAUGHT
            elif end_here:
                tau = (t_stop - t0) / h
                t_end[i] = t_stop
                status[i] = IMPACT_FIRST if t_imp <= tl + flyout[i] else FLYOUT_SPENT
            else:
                k += 1
                continue
            pos[i, 0], pos[i, 1], pos[i, 2] = px + dx * tau, py + dy * tau, pz + dz * tau
            w = (t_end[i] - t0) / (t1 - t0) if t1 < t_imp else 0.0  # after impact: the last
            for j in range(3):  # flying sample's velocity (the held samples are at rest)
                v_end[i, j] = vel[m, k, j] + (vel[m, k + 1, j] - vel[m, k, j]) * w
            break
    return t_end, status, pos, v_end


def true_intercept(traj_ecef_m, traj_vel_mps, time_s, impact_time_s, threat, step, t_launch_s,
                   launcher_ecef_m, speed_mps, flyout_s):  # fmt: skip
    """Where each launched round meets its target on the target's TRUE trajectory.

    The round flies out at its average speed s from the launcher L at ``t_launch_s`` (the time
    of ``step``); the fire control guides it onto the target where it really is, so the round
    is anywhere within ``s (t - t_launch)`` of L at time t. The true intercept time t* is the
    first t with ``|p(t) - L| <= s (t - t_launch)``, p the true position: the sampled
    trajectory (``traj_ecef_m`` (N, T, 3) on ``time_s``) linear in ECEF between samples, the
    last segment ending at the impact point at ``impact_time_s`` (so t* is not quantised to
    the step). Per segment that is a quadratic (:func:`_segment_root`); one compiled pass over
    all rows, no per-launch Python loop.

    Returns ``(t_end_s, status, pos_ecef_m, vel_ecef_mps)`` per row: status :data:`CAUGHT` (t*
    and the true position and velocity there), :data:`IMPACT_FIRST` (the target impacted or
    reached its route's end first: its time and point), :data:`FLYOUT_SPENT` (not caught
    within the fly-out ``flyout_s`` = max range / s: the time it ends and where the target is
    then) or :data:`AFTER_RUN` (none of these before the simulated time ends: inf, NaN).
    """
    n = len(threat)
    return _true_intercept_nb(
        np.ascontiguousarray(traj_ecef_m, float), np.ascontiguousarray(traj_vel_mps, float),
        np.ascontiguousarray(time_s, float), np.ascontiguousarray(impact_time_s, float),
        np.ascontiguousarray(threat, np.int64), np.broadcast_to(np.asarray(step, np.int64), (n,)),
        np.broadcast_to(np.asarray(t_launch_s, float), (n,)),
        np.ascontiguousarray(launcher_ecef_m, float).reshape(n, 3),
        np.broadcast_to(np.asarray(speed_mps, float), (n,)),
        np.broadcast_to(np.asarray(flyout_s, float), (n,)),
    )  # fmt: skip


def adjudicate(icp: Interceptors, typ, cls, status, range_m, height_agl_m, speed_mps):
    """Reason code per round from where it met the target (:func:`true_intercept`): 0 when the
    true intercept point lies inside the envelope of interceptor ``typ`` for class ``cls``,
    else the first failed check, in the launch rule's order: ``no_intercept_before_impact``
    (status IMPACT_FIRST), ``beyond_range_at_intercept`` (FLYOUT_SPENT, or slant range above
    max), ``too_fast_at_intercept`` (true speed above ``max_target_speed``),
    ``inside_min_range_at_intercept``, ``below_floor_at_intercept`` /
    ``above_ceiling_at_intercept`` (true height above the ground outside [min, max] altitude).
    A caught round's slant range is s (t* - t_launch) <= max range by construction; the check
    allows 1e-9 of it for rounding."""
    typ, cls, status = (np.asarray(a, np.int64) for a in (typ, cls, status))
    caught = status == CAUGHT
    geometric = [
        (speed_mps > icp.max_target_speed_mps[typ], "too_fast_at_intercept"),
        (range_m > icp.max_range_m[typ, cls] * (1 + 1e-9), "beyond_range_at_intercept"),
        (range_m < icp.min_range_m[typ, cls], "inside_min_range_at_intercept"),
        (height_agl_m < icp.min_alt_m[typ, cls], "below_floor_at_intercept"),
        (height_agl_m > icp.max_alt_m[typ, cls], "above_ceiling_at_intercept"),
    ]
    reason = np.zeros(len(typ), np.int64)
    for failed, code in reversed(geometric):  # the first failed check wins
        reason = np.where(caught & failed, REASON_CODE[code], reason)
    reason = np.where(status == FLYOUT_SPENT, REASON_CODE["beyond_range_at_intercept"], reason)
    return np.where(status == IMPACT_FIRST, REASON_CODE["no_intercept_before_impact"], reason)
