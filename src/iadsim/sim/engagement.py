"""Fire units and engagements: predicted intercept point, envelope, doctrine, outcomes.

Abstract and public (no guidance laws, seekers or fuzing):

* **Predicted intercept point (PIP).** The track is extrapolated at constant velocity and the
  interceptor flies straight at its catalog ``average_speed`` s. With the target at p (relative
  to the launcher) moving at v, the intercept time t solves ``|p + v t| = s t``:
  ``(v.v - s^2) t^2 + 2 (p.v) t + p.p = 0``; the smallest positive root is taken (none: the
  interceptor cannot catch the target). PIP = p + v t; fly-out time = t.
* **Launch rule.** A fire unit launches iff the PIP lies inside the envelope of one of its
  interceptors for the target's class (slant range between min and max, PIP altitude above mean
  sea level between min and max), the target speed is at most ``max_target_speed``, a round is
  ready, a fire-control channel is free, the reaction time has elapsed since the fire unit first
  had a track on the threat, and the fire-control condition of its network mode holds. Among
  usable interceptors the one with the highest P_k for the class is fired.
* **Doctrine.** ``salvo_size`` rounds per engagement, each killing independently with P_k
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

from dataclasses import dataclass

import numpy as np
import pymap3d

from iadsim import catalog
from iadsim.catalog.models import TARGET_CLASSES
from iadsim.sim.events import REASON_CODE

KILL_ASSESSMENT_S = 2.0  #: time after the intercept before the unit knows the outcome
CLASS_CODE = {c: i for i, c in enumerate(TARGET_CLASSES)}

# reasons in the order a candidate passes the checks: a unit with several interceptor types
# reports the reason of the type that got furthest
_STAGE = {
    "class_not_engageable": 0, "too_fast": 1, "beyond_max_range": 2, "out_of_envelope": 3,
    "below_min_altitude": 4, "above_max_altitude": 4, "no_interceptor": 5,
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


@dataclass
class FireUnits:
    """Sites with interceptors, one row each; interceptor slots (F, Q) index Interceptors."""

    site: np.ndarray  # (F,) site index
    ecef_m: np.ndarray  # (F, 3) launcher position
    channels: np.ndarray  # (F,)
    salvo: np.ndarray
    shoot_look_shoot: np.ndarray
    reaction_s: np.ndarray
    reload_s: np.ndarray
    types: np.ndarray  # (F, Q) interceptor index, -1 = empty slot
    ready0: np.ndarray  # (F, Q) ready rounds at start
    reserve0: np.ndarray  # (F, Q)
    loadout: np.ndarray  # (F, Q) rounds per reload


def build_interceptors(ids: list[str]) -> Interceptors:
    items = [catalog.get(i, kind="interceptor") for i in ids]
    shape = (len(ids), len(TARGET_CLASSES))
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
        ids, np.array([it.average_speed.si for it in items]),
        np.array([it.max_target_speed.si for it in items]), has,
        arr["min_r"], arr["max_r"], arr["min_a"], arr["max_a"], arr["pk"],
    )  # fmt: skip


def build_fire_units(sites, site_ecef_m) -> tuple[FireUnits, Interceptors]:
    """Fire units from the sites whose catalog item is a system (radar-only sites have none)."""
    rows, type_ids = [], []
    for s, site in enumerate(sites):
        item = catalog.get(site.system, kind=("system", "radar"))
        if item.kind != "system" or not item.interceptors:
            continue
        inv = site.interceptors if site.interceptors is not None else item.default_loadout
        for t in inv:
            if t not in type_ids:
                type_ids.append(t)
        rows.append((s, site, item, inv))
    q = max((len(r[3]) for r in rows), default=1)
    f = len(rows)
    types = np.full((f, q), -1, np.int64)
    ready, reserve, load = (np.zeros((f, q), np.int64) for _ in range(3))
    for k, (_, _site, item, inv) in enumerate(rows):
        for j, (t, n) in enumerate(inv.items()):
            types[k, j] = type_ids.index(t)
            load[k, j] = item.default_loadout.get(t, n) or n
            ready[k, j] = min(n, load[k, j])
            reserve[k, j] = n - ready[k, j]
    doc = [(r[1].doctrine, r[2]) for r in rows]
    fu = FireUnits(
        site=np.array([r[0] for r in rows], np.int64),
        ecef_m=np.asarray(site_ecef_m)[[r[0] for r in rows]].reshape(f, 3),
        channels=np.array([d.max_simultaneous or int(it.fire_control_channels.si) for d, it in doc], np.int64),
        salvo=np.array([d.salvo_size for d, _ in doc], np.int64),
        shoot_look_shoot=np.array([d.shoot_look_shoot for d, _ in doc], bool),
        reaction_s=np.array([it.reaction_time.si for _, it in doc], float),
        reload_s=np.array([d.reload_time_s if d.reload_time_s is not None else it.reload_time.si for d, it in doc], float),
        types=types, ready0=ready, reserve0=reserve, loadout=load,
    )  # fmt: skip
    return fu, build_interceptors(type_ids)


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


def evaluate(fu: FireUnits, icp: Interceptors, f, pos, vel, cls, ready):
    """Best interceptor slot for candidates (unit f, target state pos/vel ECEF, class code).

    Returns ``slot`` (-1 when none), ``reason`` codes (0 when a slot is usable), intercept
    time ``tgo_s`` and PIP geodetic ``(lat, lon, alt)`` of the chosen (or first) slot.
    """
    c = len(f)
    q = fu.types.shape[1]
    best_slot = np.full(c, -1, np.int64)
    best_pk = np.full(c, -1.0)
    stage = np.full(c, -1, np.int64)
    reason = np.zeros(c, np.int64)
    tgo_out = np.full(c, np.nan)
    pip_out = np.full((c, 3), np.nan)
    p_rel = pos - fu.ecef_m[f]
    speed = np.linalg.norm(vel, axis=1)
    for j in range(q):
        t = fu.types[f, j]
        present = t >= 0
        ti = np.where(present, t, 0)
        tgo = intercept_time_s(p_rel, vel, icp.speed_mps[ti])
        pip = pos + vel * np.nan_to_num(tgo)[:, None]
        lat, lon, alt = pymap3d.ecef2geodetic(pip[:, 0], pip[:, 1], pip[:, 2])
        rng = np.linalg.norm(pip - fu.ecef_m[f], axis=1)
        code = np.select(
            [~icp.has_class[ti, cls], speed > icp.max_target_speed_mps[ti], np.isnan(tgo),
             rng > icp.max_range_m[ti, cls], rng < icp.min_range_m[ti, cls],
             alt < icp.min_alt_m[ti, cls], alt > icp.max_alt_m[ti, cls], ready[f, j] <= 0],
            [REASON_CODE[r] for r in ("class_not_engageable", "too_fast", "beyond_max_range",
             "beyond_max_range", "out_of_envelope", "below_min_altitude", "above_max_altitude",
             "no_interceptor")],
            0,
        )  # fmt: skip
        st = np.select([code == REASON_CODE[k] for k in _STAGE], list(_STAGE.values()), 9)
        pk = np.where(code == 0, icp.pk[ti, cls], -1.0)
        better = present & (code == 0) & (pk > best_pk)
        best_slot[better], best_pk[better] = j, pk[better]
        first = present & ((st > stage) | better)
        stage[first], reason[first] = st[first], code[first]
        tgo_out[first] = tgo[first]
        pip_out[first] = np.stack([lat, lon, alt], -1)[first]
    reason[best_slot >= 0] = 0
    return best_slot, reason, tgo_out, pip_out


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
