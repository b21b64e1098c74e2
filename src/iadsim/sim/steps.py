"""One run of the engine, stage by stage (:func:`iadsim.sim.engine.run_once` calls them).

:class:`RunState` holds the mutable arrays of one run over threats, (site, threat) and
(fire unit, threat) pairs, and the run's network delay lines: everything a run changes, so
that the :class:`PreparedScenario` it reads is never written and may be shared by runs in
several threads. :func:`init_state` draws every detection and measurement of the run at
once. Each time step then calls, in order, :func:`sense` (detections -> tracks),
the network publish, :func:`resolve` (intercepts due), :func:`leaks` (threats arriving) and
:func:`engage` (launches), each vectorised over all pairs of the step: no Python loop over
threats or units. The passes over every pair of a step (detections to track updates, track
pictures to engagement candidates) are compiled kernels of :mod:`iadsim.sim.step_kernels`;
the packs they take hold the state's own arrays, which the stages update in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iadsim.geo.frames import ecef_to_geodetic, enu_rotation
from iadsim.sim import engagement as eng
from iadsim.sim import guidance, sensors
from iadsim.sim import network as net
from iadsim.sim import step_kernels as kern
from iadsim.sim.events import REASON_CODE, REASONS, EventLog
from iadsim.sim.prepared import PreparedScenario


@dataclass
class RunState:
    """Mutable state of one run (arrays over threats, (site, threat), (unit, threat); the
    network delay lines)."""

    log: EventLog
    tab: net.TrackTable
    z: np.ndarray  # measurements of every detection of the run, ECEF
    R: np.ndarray
    det_rows: np.ndarray  # opportunity rows that detected
    det_off: np.ndarray  # (T+1,) detections of step k: det_off[k]:det_off[k+1]
    alive: np.ndarray
    kill_t: np.ndarray
    leaked: np.ndarray
    first_det: np.ndarray
    first_track: np.ndarray
    spent: np.ndarray
    spent_site: np.ndarray
    seen_det: np.ndarray
    had_track: np.ndarray
    fcr_seen_t: np.ndarray
    avail_t: np.ndarray
    busy: np.ndarray
    inflight: np.ndarray
    grp_inflight: np.ndarray
    lockout: np.ndarray
    done: np.ndarray
    ready: np.ndarray
    reserve: np.ndarray
    reload_at: np.ndarray
    seen_reason: np.ndarray
    eng: dict[str, np.ndarray]
    remote_groups: list[tuple[int, np.ndarray]]
    lines: net.DelayLines  # the networks' delayed pictures, published every step
    det: kern.Detections  # what a step reads of each detection (rows of det_rows)
    det_range_m: np.ndarray  # slant range of each detection
    sites_st: kern.SiteState  # the (site, threat) arrays above, as the kernels take them
    units_st: kern.UnitState  # the (unit, threat) arrays above, as the kernels take them
    unit_rules: kern.UnitRules
    #: each network's delayed picture of this step, stacked for the candidate pass
    net_ok: np.ndarray
    net_has: np.ndarray
    net_x: np.ndarray
    net_t: np.ndarray
    unit_params: eng.FireUnitParams  # the engagement kernel's packs (ready rounds: st.ready)
    icp_params: eng.InterceptorParams
    support: guidance.SupportPack  # the remote modes' launch-time check (none: standalone)
    track_rules: net.TrackRules
    gnn: net.GnnTracks | None = None


#: rounds in flight: unit, threat, interceptor type, rounds, launch time, the time the
#: outcome is decided (true intercept, or the target's impact / the end of the fly-out), P_k,
#: who must guide it (``need_fcr``: the own FCR, launch on remote and the fallback of engage
#: on remote; ``need_net``: the network's track, engage on remote), the adjudication's reason
#: (0: inside the envelope) and the true target position at the outcome time
_ENG_FIELDS = {"f": np.int64, "n": np.int64, "type": np.int64, "count": np.int64,
               "t_launch": float, "t_int": float, "pk": float, "need_fcr": bool,
               "need_net": bool, "adj": np.int64, "lat": float, "lon": float,
               "alt_m": float}  # fmt: skip


def init_state(p: PreparedScenario, rng: np.random.Generator, run_id: int) -> RunState:
    s, n, f = len(p.site_ids), p.n_threats, len(p.fu.site)
    log = EventLog(run_id, p.site_ids, list(np.asarray(p.traj.name)), p.icp.ids, p.asset_ids)
    # every scan opportunity's detection draw and measurement noise, all at once
    det_rows = np.flatnonzero(rng.random(len(p.opp.pd)) < p.opp.pd)
    z, R = sensors.measure(p.radars, p.opp, det_rows, rng)
    det_off = np.searchsorted(p.opp.step[det_rows], np.arange(len(p.time_s) + 1))
    rad = p.opp.radar[det_rows]
    det = kern.Detections(
        site=np.ascontiguousarray(p.radars.site[rad], np.int64),
        threat=p.opp.threat[det_rows].astype(np.int64),
        from_fcr=np.ascontiguousarray(p.radars.is_fcr[rad], bool),
        trace_R=np.trace(R, axis1=1, axis2=2),
    )
    groups = [
        (g, np.flatnonzero(p.fu_group == g)) for g in np.unique(p.fu_group) if g < len(p.nets.names)
    ]
    gnn = _gnn_trackers(p) if p.config.tracking == "gnn" else None
    n_nets = len(p.nets.names)
    alive, first_det = np.ones(n, bool), np.full(n, np.nan)
    seen_det, fcr_seen_t = np.zeros((s, n), bool), np.full((s, n), -np.inf)
    avail_t, inflight = np.full((f, n), np.inf), np.zeros((f, n), bool)
    lockout, done = np.full((f, n), -np.inf), np.zeros((f, n), bool)
    grp_inflight = np.zeros((n_nets + f, n), np.int64)
    ready = p.fu.ready0.copy()
    rules = kern.UnitRules(
        site=p.fu.site, group=p.fu_group.astype(np.int64), mode=p.fu_mode.astype(np.int64),
        reaction_s=p.fu.reaction_s, active=p.traj.active, init_m=int(p.config.init_m),
        mode_cued=net.MODE_CODE["cued"], mode_lor=net.MODE_CODE["launch_on_remote"],
        mode_eor=net.MODE_CODE["engage_on_remote"],
    )  # fmt: skip
    return RunState(
        log, net.TrackTable.empty(s, n), z, R, det_rows, det_off,
        alive=alive, kill_t=np.full(n, np.nan), leaked=np.zeros(n, bool),
        first_det=first_det, first_track=np.full(n, np.nan), spent=np.zeros(n, np.int64),
        spent_site=np.zeros(s, np.int64),
        seen_det=seen_det, had_track=np.zeros((s, n), bool),
        fcr_seen_t=fcr_seen_t, avail_t=avail_t,
        busy=np.zeros(f, np.int64), inflight=inflight, grp_inflight=grp_inflight,
        lockout=lockout, done=done,
        ready=ready, reserve=p.fu.reserve0.copy(),
        reload_at=np.full(p.fu.ready0.shape, np.inf),
        seen_reason=np.zeros((f, n, len(REASONS)), bool),
        eng={k: np.empty(0, v) for k, v in _ENG_FIELDS.items()}, remote_groups=groups,
        lines=p.nets.delay_lines(), det=det, det_range_m=p.opp.range_m[det_rows],
        # the kernels' packs hold the state's arrays themselves (updated in place)
        sites_st=kern.SiteState(alive, seen_det, first_det, fcr_seen_t),
        units_st=kern.UnitState(alive, avail_t, inflight, lockout, done, grp_inflight,
                                np.zeros((f, n), bool)),
        unit_rules=rules,
        net_ok=np.zeros(n_nets, bool), net_has=np.zeros((n_nets, n), bool),
        net_x=np.zeros((n_nets, n, 6)), net_t=np.full((n_nets, n), -np.inf),
        unit_params=eng.unit_params(p.fu, ready), icp_params=eng.interceptor_params(p.icp),
        support=guidance.no_support(f, len(p.icp.ids)) if p.support is None else p.support,
        track_rules=net.track_rules(p.config.init_m, p.capacity, p.q_accel),
        gnn=gnn,
    )  # fmt: skip


def _gnn_trackers(p: PreparedScenario) -> net.GnnTracks:
    """One GNN tracker per site, stepped on every scan of its fastest radar: M-of-N window and
    deletion count are scaled by the slowest/fastest scan-period ratio."""
    s = len(p.site_ids)
    step = p.time_s[1] - p.time_s[0] if len(p.time_s) > 1 else 1.0
    fast, slow = np.full(s, np.inf), np.zeros(s)
    np.minimum.at(fast, p.radars.site, np.maximum(p.radars.scan_period_s, step))
    np.maximum.at(slow, p.radars.site, np.maximum(p.radars.scan_period_s, step))
    ratio = np.ceil(np.where(slow > 0, slow / fast, 1.0))
    sites = p.scenario.sites
    rot = enu_rotation([x.lat for x in sites], [x.lon for x in sites]).reshape(s, 3, 3)
    init_n = p.config.init_m + ratio
    misses = p.config.delete_after_misses * ratio
    return net.GnnTracks(p.site_ecef, rot, p.config.init_m, init_n, misses, p.capacity)


def _truth(p: PreparedScenario, n, k):
    tr = p.traj
    return dict(lat=tr.lat_deg[n, k], lon=tr.lon_deg[n, k], alt_m=tr.alt_m[n, k])


def _drop(p, st, site, threat, t, reason):
    if st.gnn is not None:  # the GNN trackers drop their tracks themselves (misses)
        return
    site, threat, ids, conf = net.drop_tracks(st.tab, site, threat)
    st.log.add("track_stop", t, site=site[conf], threat=threat[conf], track=ids[conf],
               reason=REASON_CODE[reason], value=0.0)  # fmt: skip


def sense(p: PreparedScenario, st: RunState, k: int, t: float) -> None:
    """This step's detections -> detection_start events and own-track updates."""
    if st.gnn is None:
        s_st, t_st = net.stale_pairs(st.tab, t, p.coast_s)
        if len(s_st):
            _drop(p, st, s_st, t_st, t, "lost")
    a, b = st.det_off[k], st.det_off[k + 1]
    if a == b and st.gnn is None:
        return
    det = st.det
    kept, new, best, fcr_any = kern.step_detections(det, st.sites_st, a, b, t)
    if len(new):
        thr = det.threat[new]
        st.log.add("detection_start", t, site=det.site[new], threat=thr,
                   value=st.det_range_m[new], **_truth(p, thr, k))  # fmt: skip
    if st.gnn is not None:
        z, R = st.z[kept], st.R[kept]
        _track_gnn(p, st, k, t, det.site[kept], det.threat[kept], z, R, det.from_fcr[kept])
        return
    if not len(best):
        return
    # one update per (site, threat) and step: the most precise measurement
    site, thr = det.site[best], det.threat[best]
    upd = net.Detections(t, site, thr, st.z[best], st.R[best], fcr_any)
    newly = net.apply_detections(st.tab, upd, st.track_rules)[1]
    cs, cn = site[newly], thr[newly]
    if len(cs):
        st.first_track[cn] = np.fmin(st.first_track[cn], t)
        st.log.add("track_start", t, site=cs, threat=cn, track=st.tab.track_id[cs, cn],
                   value=(~st.had_track[cs, cn]).astype(float), **_truth(p, cn, k))  # fmt: skip
        st.had_track[cs, cn] = True


def _track_gnn(p, st, k, t, site, thr, z, R, fcr) -> None:
    """``tracking: gnn``: step the GNN tracker of every site scanning now."""
    np.add.at(st.tab.fcr_hits, (site[fcr], thr[fcr]), 1)
    st.tab.fcr_t[site[fcr], thr[fcr]] = t
    for s in np.flatnonzero(p.site_scan[k]):
        m = site == s
        new_tags, new_ids, dead_tags, dead_ids = st.gnn.step(st.tab, s, t, z[m], R[m], thr[m])
        ok = new_tags >= 0
        cn, ids = new_tags[ok], new_ids[ok]
        if len(cn):
            st.first_track[cn] = np.fmin(st.first_track[cn], t)
            st.log.add("track_start", t, site=s, threat=cn, track=ids,
                       value=(~st.had_track[s, cn]).astype(float), **_truth(p, cn, k))  # fmt: skip
            st.had_track[s, cn] = True
        if len(dead_ids):
            st.log.add("track_stop", t, site=s, threat=dead_tags, track=dead_ids,
                       reason=REASON_CODE["lost"], value=0.0)  # fmt: skip


def _take_engagements(st: RunState, mask: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: v[mask] for k, v in st.eng.items()}
    st.eng = {k: v[~mask] for k, v in st.eng.items()}
    return out


def resolve(p: PreparedScenario, st: RunState, k: int, t: float, rng) -> None:
    """Outcomes due this step (true intercept time at or before ``t``), earliest first: free
    the channel; miss if the target is already dead, if the adjudication at the true
    intercept failed (:func:`_adjudicate`) or if nobody guided the round; else draw the
    outcome from P_k per round. Events carry the outcome time and the true target position
    then."""
    due = st.eng["t_int"] <= t + 1e-9
    if not due.any():
        return
    e = _take_engagements(st, due)
    order = np.argsort(e["t_int"], kind="stable")  # an earlier intercept kills first
    e = {key: v[order] for key, v in e.items()}
    f, n, t_int = e["f"], e["n"], e["t_int"]
    s = p.fu.site[f]
    np.subtract.at(st.busy, f, 1)
    np.subtract.at(st.grp_inflight, (p.fu_group[f], n), 1)
    st.inflight[f, n] = False
    sls = p.fu.shoot_look_shoot[f]
    st.lockout[f[sls], n[sls]] = e["t_int"][sls] + eng.KILL_ASSESSMENT_S
    st.done[f[~sls], n[~sls]] = True
    reason = np.where(~st.alive[n], REASON_CODE["target_already_killed"], 0)
    reason = np.where(reason == 0, e["adj"], reason)  # outside the envelope at intercept
    guided = st.fcr_seen_t[s, n] >= e["t_launch"] - p.coast_s[s]
    reason = np.where(
        (reason == 0) & e["need_fcr"] & ~guided, REASON_CODE["no_fcr_guidance"], reason
    )
    net_guided = e["t_int"] - _network_track_time(p, st, f, n) <= p.fu_net_coast_s[f]
    reason = np.where(
        (reason == 0) & e["need_net"] & ~net_guided, REASON_CODE["no_network_guidance"], reason
    )
    ok = reason == 0
    kill = np.zeros(len(f), bool)
    cnt = e["count"][ok]
    if cnt.sum():
        u = rng.random(int(cnt.sum()))
        kill[ok] = np.minimum.reduceat(u, np.cumsum(cnt) - cnt) < e["pk"][ok]
    ki = np.flatnonzero(kill)
    _, first = np.unique(n[ki], return_index=True)
    dup = np.setdiff1d(ki, ki[first])  # a second kill of the same threat in the same step
    kill[dup], reason[dup] = False, REASON_CODE["target_already_killed"]
    common = dict(time_s=t_int, site=s, threat=n, interceptor=e["type"], value=e["pk"],
                  lat=e["lat"], lon=e["lon"], alt_m=e["alt_m"])  # fmt: skip
    for kind, m in (("intercept", kill), ("miss", ~kill)):
        st.log.add(kind, reason=reason[m], **{a: v[m] for a, v in common.items()})
    st.log.add("kill_assessed", t_int[ok] + eng.KILL_ASSESSMENT_S, site=s[ok], threat=n[ok],
               interceptor=e["type"][ok], value=kill[ok].astype(float))  # fmt: skip
    nk = n[kill]
    if len(nk):
        st.alive[nk], st.kill_t[nk] = False, t_int[kill]
        _drop(
            p,
            st,
            np.repeat(np.arange(len(p.site_ids)), len(nk)),
            np.tile(nk, len(p.site_ids)),
            t,
            "killed",
        )


def _network_track_time(p: PreparedScenario, st: RunState, f, n) -> np.ndarray:
    """Last update time of the track unit ``f`` holds on threat ``n`` through its network:
    its own confirmed track, or the network's fused picture as it reaches the unit (published
    ``latency_s`` ago); -inf when neither has one."""
    s = p.fu.site[f]
    t_own = np.where(st.tab.confirmed[s, n], st.tab.t_upd[s, n], -np.inf)
    t_net = np.full(len(f), -np.inf)
    for g, idx in st.remote_groups:
        snap = st.lines.remote(g)
        m = np.isin(f, idx)
        if snap is not None and m.any():
            t_net[m] = np.where(snap[0][n[m]], snap[2][n[m]], -np.inf)
    return np.maximum(t_own, t_net)


def leaks(p: PreparedScenario, st: RunState, k: int, t: float) -> None:
    """Threats reaching their aim point (ballistic) or route end alive: leak, and impact when
    the point lies within an asset's radius."""
    a, b = p.impact_off[k], p.impact_off[k + 1]
    if a == b:
        return
    n = p.impact_order[a:b]
    n = n[st.alive[n]]
    if not len(n):
        return
    st.leaked[n], st.alive[n] = True, False
    a = p.impact_asset[n]
    val = np.where(a >= 0, p.asset_value[np.maximum(a, 0)] if len(p.asset_value) else 0.0, 0.0)
    # the end point: on the aim point's ground (ballistic), at the route's last height (air)
    where = dict(
        lat=p.traj.impact_lat_deg[n], lon=p.traj.impact_lon_deg[n], alt_m=p.traj.alt_m[n, k]
    )
    st.log.add("leak", t, threat=n, value=val, **where)
    hit = a >= 0
    st.log.add("impact", t, threat=n[hit], reason=len(REASONS) + a[hit], value=val[hit],
               **{k_: (v[hit] if np.ndim(v) else v) for k_, v in where.items()})  # fmt: skip
    _drop(
        p,
        st,
        np.repeat(np.arange(len(p.site_ids)), len(n)),
        np.tile(n, len(p.site_ids)),
        t,
        "impacted",
    )


def _reload(p: PreparedScenario, st: RunState, t: float) -> None:
    due = st.reload_at <= t
    if due.any():
        amount = np.minimum(p.fu.loadout, st.reserve) * due
        st.ready += amount
        st.reserve -= amount
        st.reload_at[due] = np.inf


def _network_pictures(st: RunState) -> kern.Pictures:
    """This step's track pictures for the candidate pass: the own tracks, and each network's
    fused picture as it reaches its members (copied into the run's stacked buffers)."""
    for g in range(len(st.net_ok)):
        snap = st.lines.remote(g)
        st.net_ok[g] = snap is not None
        if snap is not None:
            st.net_has[g], st.net_x[g], st.net_t[g] = snap
    tab = st.tab
    return kern.Pictures(tab.confirmed, tab.t_upd, tab.x, tab.fcr_hits, st.net_ok, st.net_has,
                         st.net_x, st.net_t)  # fmt: skip


def _no_engagement(p, st, k, t, f, n, code) -> None:
    """Record each reason once per (unit, threat)."""
    i = kern.first_reasons(st.seen_reason, f, n, code)
    if not len(i):
        return
    f, n = f[i], n[i]
    st.log.add("no_engagement", t, site=p.fu.site[f], threat=n, reason=code[i], value=0.0,
               **_truth(p, n, k))  # fmt: skip


def engage(p: PreparedScenario, st: RunState, k: int, t: float) -> None:
    """Choose and launch this step's engagements; record why the others were not taken: the
    pairs coming within reach without a track, and the candidates
    (:func:`iadsim.sim.step_kernels.engage_candidates`) refused by the engagement kernel,
    the fire-control condition of their mode or a lack of free channels."""
    _reload(p, st, t)
    a, b = p.reach_off[k], p.reach_off[k + 1]
    reach_f, reach_n = p.reach_f[a:b], p.reach_n[a:b]
    no_track, f, n, pos, vel, use_own, fcr_ok, t_ready = kern.engage_candidates(
        _network_pictures(st), st.units_st, st.unit_rules, k, t, reach_f, reach_n
    )
    if no_track.any():  # pairs coming within reach this step without a track
        rf, rn = reach_f[no_track], reach_n[no_track]
        _no_engagement(p, st, k, t, rf, rn, np.full(len(rf), REASON_CODE["no_track"]))
    if not len(f):
        return
    fu = p.fu
    cls = p.threat_class[n]
    ground = np.zeros(len(n)) if p.threat_ground_m is None else p.threat_ground_m[n, k]
    cand = eng.Candidates(unit=f, pos_ecef_m=pos, vel_ecef_mps=vel, target_class=cls,
                          ground_m=np.ascontiguousarray(ground, float),
                          level=cls != eng.CLASS_CODE["ballistic"])  # fmt: skip
    slot, reason, tgo, pip = eng.evaluate_packed(cand, st.unit_params, st.icp_params,
                                                 st.support, n)  # fmt: skip
    take = kern.choose_engagements(f, n, reason, fcr_ok, t_ready, tgo, t, fu.channels - st.busy,
                                   st.unit_rules.group, p.n_threats, REASON_CODE["no_fcr_track"],
                                   REASON_CODE["no_channel"])  # fmt: skip
    _no_engagement(p, st, k, t, f, n, reason)
    if take.any():
        _launch(p, st, k, t, f[take], n[take], slot[take], pip[take], use_own[take])


def _adjudicate(p: PreparedScenario, k: int, t: float, f, n, typ, pip):
    """The outcome of rounds launched now, decided on the truth: the true intercept
    (:func:`iadsim.sim.engagement.true_intercept`: the round at its average speed against the
    target on its sampled trajectory) and the envelope there (true slant range from the
    launcher, true height above the ground under the target, true speed;
    :func:`iadsim.sim.engagement.adjudicate`). Returns the outcome time (inf: after the run),
    the reason code (0: inside the envelope), the true target position then (lat, lon, alt)
    and the geodetic position of the predicted intercept points ``pip`` (ECEF; converted
    with the true positions in one call, elementwise the same as two)."""
    cls = p.threat_class[n]
    launcher = p.fu.ecef_m[f]
    speed = p.icp.speed_mps[typ]
    flyout = p.icp.max_range_m[typ, cls] / speed
    t_end, status, pos, vel = eng.true_intercept(
        p.traj.ecef_m, p.traj.vel_ecef_mps, p.time_s, p.traj.impact_time_s, n, k, t, launcher,
        speed, flyout,
    )  # fmt: skip
    geo = [np.asarray(a, float) for a in ecef_to_geodetic(*np.concatenate([pos, pip]).T)]
    lat, lon, alt = (a[: len(n)] for a in geo)
    height = alt - p.ground_at_m(n, lat, lon)
    rng = np.linalg.norm(pos - launcher, axis=1)
    reason = eng.adjudicate(p.icp, typ, cls, status, rng, height, np.linalg.norm(vel, axis=1))
    return t_end, reason, lat, lon, alt, [a[len(n) :] for a in geo]


def _launch(p, st, k, t, f, n, slot, pip, use_own) -> None:
    fu = p.fu
    # rounds per launch, sharing a unit's ready rounds of one type in priority order
    key = f * fu.types.shape[1] + slot
    order = np.argsort(key, kind="stable")
    salvo = fu.salvo[f][order]
    before = np.cumsum(salvo) - salvo
    start = np.searchsorted(key[order], key[order])
    before -= before[start]
    cnt = np.empty(len(f), np.int64)
    cnt[order] = np.clip(st.ready[f[order], slot[order]] - before, 0, salvo)
    ok = cnt > 0
    f, n, slot, pip, use_own, cnt = (a[ok] for a in (f, n, slot, pip, use_own, cnt))
    np.subtract.at(st.ready, (f, slot), cnt)
    empty = (st.ready == 0) & (st.reserve > 0) & np.isinf(st.reload_at)
    st.reload_at[empty] = t + np.broadcast_to(fu.reload_s[:, None], empty.shape)[empty]
    typ = fu.types[f, slot]
    s = fu.site[f]
    np.add.at(st.busy, f, 1)
    np.add.at(st.grp_inflight, (p.fu_group[f], n), 1)
    st.inflight[f, n] = True
    np.add.at(st.spent, n, cnt)
    np.add.at(st.spent_site, s, cnt)
    t_end, adj, lat, lon, alt, (pip_lat, pip_lon, pip_alt) = _adjudicate(p, k, t, f, n, typ, pip)
    mode = p.fu_mode[f]
    eor = mode == net.MODE_CODE["engage_on_remote"]
    fallback = eor & ~p.icp.active_seeker[typ]  # not homing on its own: the FCR must guide
    need_fcr = (mode == net.MODE_CODE["launch_on_remote"]) | fallback
    new = dict(f=f, n=n, type=typ, count=cnt, t_launch=np.full(len(f), t), t_int=t_end,
               pk=p.icp.pk[typ, p.threat_class[n]], need_fcr=need_fcr, need_net=eor & ~fallback,
               adj=adj, lat=lat, lon=lon, alt_m=alt)  # fmt: skip
    st.eng = {
        key: np.concatenate([st.eng[key], np.asarray(v, _ENG_FIELDS[key])])
        for key, v in new.items()
    }
    track = np.where(use_own, st.tab.track_id[s, n], -1)
    why = np.where(fallback, REASON_CODE["fallback_launch_on_remote"], 0)
    st.log.add("launch", t, site=s, threat=n, track=track, lat=pip_lat, lon=pip_lon, alt_m=pip_alt,
               reason=why, interceptor=typ, value=cnt.astype(float))  # fmt: skip
