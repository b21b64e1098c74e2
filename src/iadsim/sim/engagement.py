"""Fire units and engagements: predicted intercept point, envelope, doctrine, outcomes.

Abstract and public (no guidance laws, seekers or fuzing):

* **Predicted intercept point (PIP).** The track is extrapolated at constant velocity (aircraft
  and cruise missiles in level flight: their vertical velocity is dropped) and the
  interceptor flies straight at its catalog ``average_speed`` s. With the target at p (relative
  to the launcher) moving at v, the intercept time t solves ``|p + v t| = s t``:
  ``(v.v - s^2) t^2 + 2 (p.v) t + p.p = 0``; the smallest positive root is taken (none: the
  interceptor cannot catch the target). PIP = p + v t; fly-out time = t.
* **Launch rule.** A fire unit launches iff the PIP lies inside the envelope of one of its
  interceptors for the target's class (slant range between min and max; PIP height above the
  terrain under the target now between min and max: an envelope's "altitude" is a height above
  ground, so a cruise missile 30 m over a 1,000 m plateau is at 30 m, not 1,030 m), the PIP lies
  inside the azimuth sector of the unit's fire-control radar (which must guide the round), the
  target speed is at most ``max_target_speed``, a round is ready, a fire-control channel is
  free, the reaction time has elapsed since the fire unit first had a track on the threat, and
  the fire-control condition of its network mode holds. Among usable interceptors the one with
  the highest P_k for the class is fired.
* **Doctrine.** ``salvo_size`` rounds per engagement (at most the system's
  ``missiles_per_channel``), each killing independently with P_k
  (P(kill) = 1 - (1 - P_k)^n). A channel is busy from launch to intercept. With
  ``shoot_look_shoot`` the unit may re-engage a survivor after kill assessment
  (:data:`KILL_ASSESSMENT_S` after the intercept time); without it, it fires one salvo per
  threat. Within a network a threat is engaged by one fire unit at a time.
* **Magazine and reload.** Ready rounds start at ``min(inventory, catalog loadout)`` per type; the
  rest is reserve. When a type's ready rounds run out and reserve remains, the type is reloaded
  ``reload_time_s`` later.
* **Engage on remote.** If the fire unit's own FCR has not detected the target between launch and
  the intercept time, nobody guides the interceptor: the shot is a miss (``no_fcr_guidance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from iadsim.catalog.models import TARGET_CLASSES, Interceptor
from iadsim.deployment import Deployment
from iadsim.geo.frames import enu_rotation, geodetic_height_m
from iadsim.sim.events import REASON_CODE

KILL_ASSESSMENT_S = 2.0  #: time after the intercept before the unit knows the outcome
CLASS_CODE = {c: i for i, c in enumerate(TARGET_CLASSES)}

# reasons in the order a candidate passes the checks: a unit with several interceptor types
# reports the reason of the type that got furthest
_STAGE = {
    "class_not_engageable": 0, "too_fast": 1, "beyond_max_range": 2, "out_of_envelope": 3,
    "below_min_altitude": 4, "above_max_altitude": 4, "outside_fcr_sector": 5, "no_interceptor": 6,
}  # fmt: skip


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
        heading_rad=np.radians([site.heading_deg for _, site in rows]),
        half_sector_rad=np.array([site.fcr.half_sector_rad for _, site in rows], float),
        channels=np.array([d.channels for d in doc], np.int64),
        salvo=np.array([d.salvo_size for d in doc], np.int64),
        shoot_look_shoot=np.array([d.shoot_look_shoot for d in doc], bool),
        reaction_s=np.array([d.reaction_time_s for d in doc], float),
        reload_s=np.array([d.reload_time_s for d in doc], float),
        types=types, ready0=ready, reserve0=reserve, loadout=load,
    )  # fmt: skip
    return fu, build_interceptors(types_used.values())


def intercept_time_s(p_rel, v, speed):
    """Smallest positive t with ``|p + v t| = speed * t`` (row-wise); NaN when there is none."""
    a = np.einsum("ij,ij->i", v, v) - speed**2
    b = 2 * np.einsum("ij,ij->i", p_rel, v)
    c = np.einsum("ij,ij->i", p_rel, p_rel)
    disc = b * b - 4 * a * c
    with np.errstate(invalid="ignore", divide="ignore"):
        sq = np.sqrt(disc)
        r1, r2 = (-b - sq) / (2 * a), (-b + sq) / (2 * a)
        lin = np.where(b < 0, -c / b, np.nan)  # a == 0: speeds equal
    r1 = np.where(r1 > 0, r1, np.inf)
    r2 = np.where(r2 > 0, r2, np.inf)
    t = np.where(np.abs(a) < 1e-9, lin, np.minimum(r1, r2))
    return np.where(np.isfinite(t) & (disc >= 0), t, np.nan)


_R = {k: REASON_CODE[k] for k in _STAGE}


@numba.njit(cache=True)
def _intercept_t(px, py, pz, vx, vy, vz, s):
    a = vx * vx + vy * vy + vz * vz - s * s
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
def _in_sector(qx, qy, qz, rot, heading, half_sector):
    """Is the launcher-relative point q inside the azimuth sector around ``heading``?"""
    e = rot[0, 0] * qx + rot[0, 1] * qy + rot[0, 2] * qz
    n = rot[1, 0] * qx + rot[1, 1] * qy + rot[1, 2] * qz
    daz = (np.arctan2(e, n) - heading + np.pi) % (2 * np.pi) - np.pi
    return abs(daz) <= half_sector + 1e-12


@numba.njit(cache=True)
def _evaluate_nb(
    f,
    pos,
    vel,
    cls,
    types,
    ready,
    launcher,
    tgt_ground,
    enu,
    heading,
    half_sector,
    speed,
    vmax,
    has,
    min_r,
    max_r,
    min_a,
    max_a,
    pk,
    codes,
):
    c_n, q_n = len(f), types.shape[1]
    slot = np.full(c_n, -1, np.int64)
    reason = np.zeros(c_n, np.int64)
    tgo = np.full(c_n, np.nan)
    pip = np.full((c_n, 3), np.nan)
    (r_cls, r_fast, r_range, r_min, r_low, r_high, r_sector, r_inv) = codes
    for i in range(c_n):
        u, c = f[i], cls[i]
        best_pk, best_stage = -1.0, -1
        px, py, pz = (
            pos[i, 0] - launcher[u, 0],
            pos[i, 1] - launcher[u, 1],
            pos[i, 2] - launcher[u, 2],
        )
        vx, vy, vz = vel[i, 0], vel[i, 1], vel[i, 2]
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
        for j in range(q_n):
            t = types[u, j]
            if t < 0:
                continue
            ti = _intercept_t(px, py, pz, vx, vy, vz, speed[t])
            tt = 0.0 if np.isnan(ti) else ti
            qx, qy, qz = px + vx * tt, py + vy * tt, pz + vz * tt
            rng = np.sqrt(qx * qx + qy * qy + qz * qz)
            ex, ey, ez = pos[i, 0] + vx * tt, pos[i, 1] + vy * tt, pos[i, 2] + vz * tt
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
                alt = geodetic_height_m(ex, ey, ez) - tgt_ground[i]
                if alt < min_a[t, c]:
                    code, stage = r_low, 4
                elif alt > max_a[t, c]:
                    code, stage = r_high, 4
                elif half_sector[u] < np.pi and not _in_sector(
                    qx, qy, qz, enu[u], heading[u], half_sector[u]
                ):
                    code, stage = r_sector, 5
                elif ready[u, j] <= 0:
                    code, stage = r_inv, 6
            better = code == 0 and pk[t, c] > best_pk
            if better:
                slot[i], best_pk = j, pk[t, c]
            if stage > best_stage or better:
                best_stage, reason[i], tgo[i] = stage, code, ti
                pip[i, 0], pip[i, 1], pip[i, 2] = ex, ey, ez
        if slot[i] >= 0:
            reason[i] = 0
    return slot, reason, tgo, pip


def evaluate(fu: FireUnits, icp: Interceptors, f, pos, vel, cls, ready, ground_m=None):
    """Best interceptor slot for candidates (unit f, target state pos/vel ECEF, class code).

    ``ground_m`` is the terrain height under each candidate's target (None: 0, sea level); the
    PIP's height above it is compared with the envelope's altitudes. Aircraft and cruise
    targets are extrapolated in level flight (the vertical part of ``vel``, local up, is
    dropped): a terrain follower's momentary climb or dive times a 30 s fly-out would
    otherwise put the PIP hundreds of metres above or below the ground it keeps hugging.

    Returns ``slot`` (-1 when none), ``reason`` codes (0 when a slot is usable; otherwise the
    reason of the slot that passed most checks), intercept time ``tgo_s`` and the PIP (ECEF)
    of the chosen (or that) slot. Checks in order: class, target speed, catch-up/max range,
    min range, min/max height above ground, PIP inside the fire-control radar's azimuth
    sector (sector radars such as AN/MPQ-65 face the site's ``heading_deg``), ready rounds.
    Compiled with numba (one pass, no temporaries).
    """
    n = len(np.atleast_1d(f))
    ground = np.zeros(n) if ground_m is None else np.ascontiguousarray(ground_m, float)
    pos = np.ascontiguousarray(pos, float).reshape(n, 3)
    vel = np.ascontiguousarray(vel, float).reshape(n, 3)
    level = np.asarray(cls) != CLASS_CODE["ballistic"]
    if level.any():  # on all rows (cheaper than gathering the level ones), kept where level
        up = pos / np.linalg.norm(pos, axis=1, keepdims=True)
        d = np.einsum("ij,ij->i", vel, up)
        vel = np.where(level[:, None], vel - d[:, None] * up, vel)
    codes = (_R["class_not_engageable"], _R["too_fast"], _R["beyond_max_range"], _R["out_of_envelope"],
             _R["below_min_altitude"], _R["above_max_altitude"], _R["outside_fcr_sector"],
             _R["no_interceptor"])  # fmt: skip
    return _evaluate_nb(
        np.ascontiguousarray(f, np.int64), pos, vel,
        np.ascontiguousarray(cls, np.int64), fu.types, ready, fu.ecef_m, ground, fu.enu_rot, fu.heading_rad,
        fu.half_sector_rad, icp.speed_mps,
        icp.max_target_speed_mps, icp.has_class, icp.min_range_m, icp.max_range_m, icp.min_alt_m,
        icp.max_alt_m, icp.pk_or_neg, codes,
    )  # fmt: skip


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
