"""Compiled passes of one engine time step (:mod:`iadsim.sim.steps` calls them).

A step touches every (site, threat) and (fire unit, threat) pair: 20 units x 1,000 threats
are 20,000 pairs, every step. Done as a chain of NumPy masks, fancy indexing and
``np.nonzero`` on arrays that small, the per-call overhead outweighs the arithmetic; these
kernels make one pass over the pairs instead and return only the rows the step acts on:

* :func:`step_detections`: this step's detections of live threats, the first detection of
  each new (site, threat) pair and the most precise detection of each pair (the one the
  pair's track is updated with);
* :func:`engage_candidates`: which pairs have a track (own or network) and are free to be
  engaged, and each candidate's extrapolated target state;
* :func:`first_reasons`: which ``no_engagement`` reasons are new for their pair.

They compute exactly what the NumPy code they replace computed (the same floating-point
operations in the same order, the same row order), so runs are unchanged bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np


class Detections(NamedTuple):
    """Every detection of the run (rows of :attr:`iadsim.sim.steps.RunState.det_rows`, by
    step), with what a step reads of it."""

    site: np.ndarray  # (D,) int64 site of the detecting radar
    threat: np.ndarray  # (D,) int64
    from_fcr: np.ndarray  # (D,) bool: the radar is the site's fire-control radar
    trace_R: np.ndarray  # (D,) trace of the measurement covariance (smaller: more precise)


class SiteState(NamedTuple):
    """Per-run (site, threat) state that :func:`step_detections` updates in place."""

    alive: np.ndarray  # (N,) bool
    seen_det: np.ndarray  # (S, N) bool: the site has detected the threat
    first_det: np.ndarray  # (N,) first detection time of the threat by any site, NaN: none
    fcr_seen_t: np.ndarray  # (S, N) last fire-control-radar detection time


@numba.njit(cache=True)
def step_detections(det, state, a, b, t):
    """Detections ``a:b`` (this step's) at time ``t``: drop those of dead threats, stamp the
    fire-control-radar ones in ``state.fcr_seen_t``, mark the first detection of each new
    (site, threat) pair (``seen_det``, ``first_det``).

    Returns, as rows of ``det``: ``kept`` (the live threats' detections, in row order),
    ``new`` (the first detection of each pair not detected before) and ``best`` (per pair,
    the detection with the smallest covariance trace, the earliest on ties), both ordered by
    pair (site, then threat), with ``fcr_any`` (per ``best``: did any of the pair's
    detections come from its FCR)."""
    n_thr = state.seen_det.shape[1]
    kept = np.empty(b - a, np.int64)
    m = 0
    for j in range(a, b):
        if state.alive[det.threat[j]]:
            kept[m] = j
            m += 1
    kept = kept[:m]
    key = np.empty(m, np.int64)
    for i in range(m):
        j = kept[i]
        s, n = det.site[j], det.threat[j]
        key[i] = s * n_thr + n
        if det.from_fcr[j]:
            state.fcr_seen_t[s, n] = t
    order = np.argsort(key, kind="mergesort")  # stable: rows in order within a pair
    new = np.empty(m, np.int64)
    best = np.empty(m, np.int64)
    fcr_any = np.zeros(m, np.bool_)
    n_new = n_pair = 0
    g0 = 0
    while g0 < m:
        g1 = g0 + 1
        while g1 < m and key[order[g1]] == key[order[g0]]:
            g1 += 1
        j0 = kept[order[g0]]
        s, n = det.site[j0], det.threat[j0]
        if not state.seen_det[s, n]:
            new[n_new] = j0
            n_new += 1
            state.seen_det[s, n] = True
            if not state.first_det[n] <= t:  # fmin: NaN (none yet) or later
                state.first_det[n] = t
        jb = j0
        for g in range(g0, g1):
            j = kept[order[g]]
            if det.trace_R[j] < det.trace_R[jb]:
                jb = j
            if det.from_fcr[j]:
                fcr_any[n_pair] = True
        best[n_pair] = jb
        n_pair += 1
        g0 = g1
    return kept, new[:n_new], best[:n_pair], fcr_any[:n_pair]


class Pictures(NamedTuple):
    """The track pictures fire units engage on at one step: the own tracks of every site
    (:class:`iadsim.sim.network.TrackTable`) and each network's fused picture as it reaches
    its members (published ``latency_s`` earlier)."""

    confirmed: np.ndarray  # (S, N) bool
    t_upd: np.ndarray  # (S, N) last update time of the own track
    x: np.ndarray  # (S, N, 6) own track state (ECEF) at t_upd
    fcr_hits: np.ndarray  # (S, N) FCR detections in the own track
    net_ok: np.ndarray  # (G,) bool: network g's first picture has arrived
    net_has: np.ndarray  # (G, N) bool: the network holds a confirmed track
    net_x: np.ndarray  # (G, N, 6) its state
    net_t: np.ndarray  # (G, N) its update time


class UnitState(NamedTuple):
    """Per-run (fire unit, threat) engagement state; ``avail_t`` is updated in place."""

    alive: np.ndarray  # (N,) bool
    avail_t: np.ndarray  # (F, N) first time the unit had a track on the threat (inf: never)
    inflight: np.ndarray  # (F, N) bool
    lockout: np.ndarray  # (F, N) no new engagement before this time (shoot-look-shoot)
    done: np.ndarray  # (F, N) bool: engaged once without shoot-look-shoot
    grp_inflight: np.ndarray  # (groups, N) rounds in flight per coordination group
    work: np.ndarray  # (F, N) bool scratch: the candidate mask


class UnitRules(NamedTuple):
    """What the candidate pass reads of the fire units and the threats (fixed per scenario)."""

    site: np.ndarray  # (F,) int64
    group: np.ndarray  # (F,) int64 coordination group (network index, or one per unit)
    mode: np.ndarray  # (F,) int64 network mode code
    reaction_s: np.ndarray  # (F,)
    active: np.ndarray  # (N, T) bool: the threat is flying at step k
    init_m: int  # detections that confirm a track (the FCR track too)
    mode_cued: int
    mode_lor: int
    mode_eor: int


@numba.njit(cache=True)
def engage_candidates(pic, st, rules, k, t, reach_f, reach_n):
    """The engagement candidates of step ``k`` at time ``t``: every (unit, threat) pair with
    a track (own confirmed, or in the network picture reaching the unit) on a threat alive
    and flying, and not in flight, locked out, done, or engaged by another unit of its group.
    Stamps ``st.avail_t`` where a pair first has a track.

    Returns ``no_track`` (mask over the pairs ``reach_f, reach_n`` coming within reach this
    step: flying without a track), then per candidate, in (unit, threat) order: unit,
    threat, target position extrapolated to ``t`` and velocity (ECEF) of the unit's best
    track (own if confirmed, else the network's), whether that is the own track, whether the
    fire-control condition of the unit's network mode holds (the FCR holds ``init_m``
    detections, or one when cued by an own or, in ``cued`` mode, a network track; not asked in
    the remote modes) and the time the reaction time has elapsed.

    The arrays are taken out of the packs first: a helper function called per pair with a
    pack would copy it and count references to each of its arrays on every call."""
    alive, avail_t, inflight, lockout, done = st.alive, st.avail_t, st.inflight, st.lockout, st.done
    grp_inflight, work = st.grp_inflight, st.work
    confirmed, net_ok, net_has = pic.confirmed, pic.net_ok, pic.net_has
    n_f, n_n = avail_t.shape
    n_net = len(net_ok)
    flying = np.empty(n_n, np.bool_)
    for n in range(n_n):
        flying[n] = alive[n] and rules.active[n, k]
    # remote[g]: the network picture reaching group g holds the threat; the last row, all
    # False, stands for the groups of units outside any network
    remote = np.zeros((n_net + 1, n_n), np.bool_)
    for g in range(n_net):
        if net_ok[g]:
            remote[g] = net_has[g]
    count = 0
    for f in range(n_f):  # rows as 1-D views and no branches: the loop over threats vectorises
        s, g = rules.site[f], rules.group[f]
        own_row, rem_row = confirmed[s], remote[min(g, n_net)]
        a_t, busy, lock, gone = avail_t[f], inflight[f], lockout[f], done[f]
        grp, w = grp_inflight[g], work[f]
        for n in range(n_n):
            avail = flying[n] & (own_row[n] | rem_row[n])
            a_t[n] = t if avail & np.isinf(a_t[n]) else a_t[n]
            c = avail & (not busy[n]) & (t >= lock[n]) & (not gone[n]) & (grp[n] == 0)
            w[n] = c
            count += c
    no_track = np.zeros(len(reach_f), np.bool_)
    for i in range(len(reach_f)):
        f, n = reach_f[i], reach_n[i]
        s, g = rules.site[f], rules.group[f]
        no_track[i] = flying[n] and not (confirmed[s, n] or remote[min(g, n_net), n])
    cf = np.empty(count, np.int64)
    cn = np.empty(count, np.int64)
    pos = np.empty((count, 3))
    vel = np.empty((count, 3))
    use_own = np.empty(count, np.bool_)
    fcr_ok = np.empty(count, np.bool_)
    t_ready = np.empty(count)
    x_own, t_own, x_net, t_net, fcr_hits = pic.x, pic.t_upd, pic.net_x, pic.net_t, pic.fcr_hits
    i = 0
    for f in range(n_f):
        s, g, mode = rules.site[f], rules.group[f], rules.mode[f]
        on_remote = mode == rules.mode_lor or mode == rules.mode_eor
        cued = mode == rules.mode_cued and g < n_net
        for n in range(n_n):
            if not work[f, n]:
                continue
            own = confirmed[s, n]
            x = x_own[s, n] if own else x_net[g, n]
            dt = t - (t_own[s, n] if own else t_net[g, n])
            for j in range(3):
                pos[i, j] = x[j] + x[j + 3] * dt
                vel[i, j] = x[j + 3]
            h = fcr_hits[s, n]
            cue = own or (cued and remote[min(g, n_net), n])
            cf[i], cn[i], use_own[i] = f, n, own
            fcr_ok[i] = on_remote or h >= rules.init_m or (h >= 1 and cue)
            t_ready[i] = avail_t[f, n] + rules.reaction_s[f]
            i += 1
    return no_track, cf, cn, pos, vel, use_own, fcr_ok, t_ready


@numba.njit(cache=True)
def first_reasons(seen, f, n, code):
    """Rows whose reason ``code`` (> 0) is new for the pair (unit ``f``, threat ``n``): their
    indices; marks them in ``seen`` (F, N, reasons)."""
    m = len(f)
    new = np.zeros(m, np.bool_)
    for i in range(m):
        new[i] = code[i] > 0 and not seen[f[i], n[i], code[i]]
    for i in range(m):
        if new[i]:
            seen[f[i], n[i], code[i]] = True
    return np.flatnonzero(new)


@numba.njit(cache=True)
def choose_engagements(cand_f, cand_n, reason, fcr_ok, t_ready, tgo, t, free, group, n_threats,
                       code_no_fcr_track, code_no_channel):  # fmt: skip
    """Which candidates launch now (the rule of :func:`iadsim.sim.engagement.pick_by_channel`
    on the usable ones), from the engagement kernel's ``reason`` (0: a slot is usable; updated
    in place) and intercept times ``tgo``.

    A candidate is usable when its reason is 0, the fire-control condition ``fcr_ok`` holds
    (else ``no_fcr_track``) and its reaction time has elapsed (``t >= t_ready``). Per unit the
    usable ones with the earliest intercepts take the ``free`` channels (stable: the earlier
    candidate on ties), then one per coordination group (``group`` per unit) and threat, the
    earliest intercept. A usable candidate not taken whose unit has no channel left gets
    ``no_channel``. Returns the mask of the candidates taken."""
    c = len(cand_f)
    usable = np.zeros(c, np.bool_)
    for i in range(c):
        if reason[i] == 0 and not fcr_ok[i]:
            reason[i] = code_no_fcr_track
        usable[i] = reason[i] == 0 and t >= t_ready[i]
    iu = np.flatnonzero(usable)
    f, pr = cand_f[iu], tgo[iu]
    # by unit, then intercept time, stable (np.lexsort((pr, f)): two stable sorts)
    order = np.argsort(pr, kind="mergesort")
    order = order[np.argsort(f[order], kind="mergesort")]
    taken = np.zeros(len(iu), np.bool_)
    first = 0
    for r in range(len(order)):
        if r > 0 and f[order[r]] != f[order[r - 1]]:
            first = r
        taken[order[r]] = r - first < free[f[order[r]]]
    # one engagement per group and threat: the earliest intercept (stable) of those taken
    idx = np.flatnonzero(taken)
    o = idx[np.argsort(pr[idx], kind="mergesort")]
    key = np.empty(len(o), np.int64)
    for r in range(len(o)):
        key[r] = group[f[o[r]]] * n_threats + cand_n[iu[o[r]]]
    by_key = np.argsort(key, kind="mergesort")
    take = np.zeros(c, np.bool_)
    for r in range(len(by_key)):
        if r == 0 or key[by_key[r]] != key[by_key[r - 1]]:
            take[iu[o[by_key[r]]]] = True
    per_unit = np.zeros(len(free), np.int64)
    for i in range(c):
        if take[i]:
            per_unit[cand_f[i]] += 1
    for i in range(c):
        if usable[i] and not take[i] and free[cand_f[i]] - per_unit[cand_f[i]] <= 0:
            reason[i] = code_no_channel
    return take
