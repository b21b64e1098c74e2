"""Track pictures and their sharing over networks: the interoperability question.

Own picture (``tracking: ideal``): one track slot per (site, threat), fed only by that site's own
radars, with the truth association (a detection updates the track of the threat it came from)
and the constant-velocity Kalman filter of :mod:`iadsim.sim.kalman` (the one
:class:`iadsim.sim.tracking.Tracker` runs), in ECEF (the filter is linear and the
white-acceleration noise is isotropic, so ECEF and local ENU give the same estimates). A track is *confirmed* at its ``init_m``-th detection and dropped when no
detection arrives within ``delete_after_misses`` scan periods of the site's slowest radar.

Sharing: every step each network publishes a fused picture (for each threat, the most recently
updated confirmed track among its members) into a delay line; a member reads the picture
published ``latency_s`` earlier. :class:`Networks` (membership, modes, delays) is fixed for a
scenario and shared by its runs; the delay lines (:class:`DelayLines`) belong to one run.
Modes (per network, applying to its fire units):

* ``standalone``: own radars only (also every site outside a network);
* ``cued``: a remote track starts the fire unit's reaction clock and cues its fire-control radar,
  so one FCR detection is enough to establish the fire-control track; launch still needs it;
* ``launch_on_remote``: launch on the network's (remote) track before the own FCR holds the
  target; the own FCR takes over the guidance once it acquires, so the unit launches only when
  its FCR is predicted to hold the target at the intercept point;
* ``engage_on_remote``: the network's track supports the whole engagement (midcourse guidance
  uplinked through the network) for rounds with an active terminal seeker, which home on
  their own at the end; the unit launches only when some network radar is predicted to hold
  the target at the intercept point. Semi-active, track-via-missile and command-guided
  rounds need the own FCR to the end: for them the unit falls back to launch on remote.

These are the terms of US Navy integrated fire control (NIFC-CA) and the US Army's IBCS: see
docs/simulation.md. The launch-time checks are in :mod:`iadsim.sim.guidance`, the guidance
checks at the intercept in :func:`iadsim.sim.steps.resolve`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np

from iadsim.errors import ScenarioError
from iadsim.sim import kalman

MODES = ("standalone", "cued", "launch_on_remote", "engage_on_remote")
MODE_CODE = {m: i for i, m in enumerate(MODES)}
INIT_SPEED_SIGMA_MPS = 1500.0  #: prior velocity spread of a new track (covers ballistic speeds)
#: white-noise acceleration of the CV filter by target class: small for air-breathing threats
#: flying straight legs, large for ballistic missiles (gravity, re-entry drag unmodelled by CV)
Q_ACCEL_MPS2 = {"aircraft": 5.0, "cruise": 3.0, "ballistic": 30.0}


@dataclass
class TrackTable:
    """Own tracks of every site on every threat (struct of arrays over (site, threat))."""

    x: np.ndarray  # (S, N, 6) ECEF position and velocity at t_upd
    P: np.ndarray  # (S, N, 6, 6)
    t_upd: np.ndarray  # (S, N) last update time, -inf when no track
    hits: np.ndarray  # (S, N) detections since the track started (0 = no track)
    confirmed: np.ndarray  # (S, N) bool
    track_id: np.ndarray  # (S, N) int, -1 when no track
    fcr_hits: np.ndarray  # (S, N) fire-control-radar detections in this track
    fcr_t: np.ndarray  # (S, N) last FCR detection time, -inf when none
    held: np.ndarray  # (S,) tracks held per site
    next_id: int = 0

    @classmethod
    def empty(cls, n_sites: int, n_threats: int) -> TrackTable:
        s, n = n_sites, n_threats
        return cls(
            x=np.zeros((s, n, 6)), P=np.zeros((s, n, 6, 6)), t_upd=np.full((s, n), -np.inf),
            hits=np.zeros((s, n), np.int64), confirmed=np.zeros((s, n), bool),
            track_id=np.full((s, n), -1, np.int64), fcr_hits=np.zeros((s, n), np.int64),
            fcr_t=np.full((s, n), -np.inf), held=np.zeros(s, np.int64),
        )  # fmt: skip

    def arrays(self) -> TrackArrays:
        """The table's arrays (the same objects, not copies) for the numba kernels."""
        return TrackArrays(self.x, self.P, self.t_upd, self.hits, self.confirmed, self.track_id,
                           self.fcr_hits, self.fcr_t, self.held)  # fmt: skip


class TrackArrays(NamedTuple):
    """The arrays of a :class:`TrackTable`, as :func:`_kf_apply` takes them (updated in place)."""

    x: np.ndarray
    P: np.ndarray
    t_upd: np.ndarray
    hits: np.ndarray
    confirmed: np.ndarray
    track_id: np.ndarray
    fcr_hits: np.ndarray
    fcr_t: np.ndarray
    held: np.ndarray


class Detections(NamedTuple):
    """One step's detections to apply to the own tracks, at most one per (site, threat)."""

    time_s: float
    site: np.ndarray  # (m,) int64
    threat: np.ndarray  # (m,) int64
    z: np.ndarray  # (m, 3) ECEF position
    R: np.ndarray  # (m, 3, 3) its covariance
    from_fcr: np.ndarray  # (m,) bool: a fire-control radar saw the threat this step


class TrackRules(NamedTuple):
    """Filter and track-management settings."""

    q_accel_mps2: np.ndarray  # (N,) white-noise acceleration of the filter per threat
    init_m: int  # detections that confirm a track
    capacity: np.ndarray  # (S,) tracks a site can hold
    v0_var: float  # prior velocity variance of a new track per axis (m^2/s^2)


# the constant-velocity filter in 3-D (module globals: numba calls them as compiled functions)
_kf_workspace, _kf_predict_update = kalman.CV3.workspace, kalman.CV3.predict_update


@numba.njit(cache=True)
def _kf_apply(tab, next_id, det, rules):
    """In-place track updates (``tab``: :class:`TrackArrays`) for one step's detections
    (:class:`Detections`): a new track starts at the detection, an existing one gets
    the CV filter's ``predict_update`` (:data:`iadsim.sim.kalman.CV3`: prediction over the
    time since its last update, then the position update). Returns (started, newly confirmed) masks over the detections and
    the next free track id."""
    m = len(det.site)
    started = np.zeros(m, np.bool_)
    newly = np.zeros(m, np.bool_)
    work = _kf_workspace()
    for i in range(m):
        s, n = det.site[i], det.threat[i]
        if tab.hits[s, n] == 0:
            if tab.held[s] >= rules.capacity[s]:
                continue  # radar track capacity reached: no new track
            tab.held[s] += 1
            tab.x[s, n, :3] = det.z[i]
            tab.x[s, n, 3:] = 0.0
            tab.P[s, n] = 0.0
            tab.P[s, n, :3, :3] = det.R[i]
            for k in range(3, 6):
                tab.P[s, n, k, k] = rules.v0_var
            tab.track_id[s, n] = next_id
            next_id += 1
            started[i] = True
        else:
            dt = det.time_s - tab.t_upd[s, n]
            q2 = rules.q_accel_mps2[n] ** 2
            x, P = tab.x[s, n], tab.P[s, n]
            _kf_predict_update(x, P, dt, q2, det.z[i], det.R[i], work)
        tab.t_upd[s, n] = det.time_s
        tab.hits[s, n] += 1
        if det.from_fcr[i]:
            tab.fcr_hits[s, n] += 1
            tab.fcr_t[s, n] = det.time_s
        if not tab.confirmed[s, n] and tab.hits[s, n] >= rules.init_m:
            tab.confirmed[s, n] = True
            newly[i] = True
    return started, newly, next_id


def update_tracks(tab: TrackTable, time_s, site, threat, z, R, from_fcr, init_m, capacity, q_accel):
    """Apply one step's detections (one per (site, threat) pair at most) to the own tracks.

    New tracks start at the detection with zero velocity and a wide velocity prior
    (:data:`INIT_SPEED_SIGMA_MPS`); a site already holding ``capacity[site]`` tracks starts no
    new ones. ``q_accel`` (N,) is the filter's white-noise acceleration per threat. Returns
    the (site, threat) pairs whose track started and those newly confirmed.
    """
    det = Detections(
        time_s=float(time_s),
        site=site.astype(np.int64),
        threat=threat.astype(np.int64),
        z=np.ascontiguousarray(z, float),
        R=np.ascontiguousarray(R, float),
        from_fcr=from_fcr.astype(np.bool_),
    )
    started, newly = apply_detections(tab, det, track_rules(init_m, capacity, q_accel))
    return (site[started], threat[started]), (site[newly], threat[newly])


def track_rules(init_m, capacity, q_accel) -> TrackRules:
    """The :class:`TrackRules` of :func:`update_tracks` (a run keeps them)."""
    return TrackRules(
        q_accel_mps2=q_accel,
        init_m=int(init_m),
        capacity=capacity.astype(np.int64),
        v0_var=INIT_SPEED_SIGMA_MPS**2,
    )


def apply_detections(tab: TrackTable, det: Detections, rules: TrackRules):
    """:func:`update_tracks` on ready-made packs (``det`` with int64 site and threat, float
    z and R, bool from_fcr): the masks of the detections that started a track and of those
    that confirmed one."""
    started, newly, tab.next_id = _kf_apply(tab.arrays(), tab.next_id, det, rules)
    return started, newly


def drop_tracks(tab: TrackTable, site, threat):
    """Delete tracks; returns (track ids, was_confirmed) of those that existed."""
    had = tab.hits[site, threat] > 0
    site, threat = site[had], threat[had]
    ids, conf = tab.track_id[site, threat].copy(), tab.confirmed[site, threat].copy()
    np.subtract.at(tab.held, site, 1)
    tab.hits[site, threat] = 0
    tab.confirmed[site, threat] = False
    tab.track_id[site, threat] = -1
    tab.t_upd[site, threat] = -np.inf
    tab.fcr_hits[site, threat] = 0
    tab.fcr_t[site, threat] = -np.inf
    return site, threat, ids, conf


def stale_pairs(tab: TrackTable, time_s: float, coast_s: np.ndarray):
    """(site, threat) pairs whose track has had no detection for longer than ``coast_s[site]``
    (row-major order, as ``np.nonzero``)."""
    return _stale_pairs_nb(tab.hits, tab.t_upd, float(time_s), coast_s)


@numba.njit(cache=True)
def _stale_pairs_nb(hits, t_upd, time_s, coast_s):
    n_site, n_thr = hits.shape
    count = 0
    for s in range(n_site):
        for n in range(n_thr):
            if hits[s, n] > 0 and time_s - t_upd[s, n] > coast_s[s]:
                count += 1
    site = np.empty(count, np.int64)
    thr = np.empty(count, np.int64)
    count = 0
    for s in range(n_site):
        for n in range(n_thr):
            if hits[s, n] > 0 and time_s - t_upd[s, n] > coast_s[s]:
                site[count] = s
                thr[count] = n
                count += 1
    return site, thr


@dataclass
class Networks:
    """Network membership, modes and delays: fixed for a scenario, shared by all its runs
    (a run's delay lines are :meth:`delay_lines`)."""

    net_of_site: np.ndarray  # (S,) network index, -1 when standalone
    mode_of_site: np.ndarray  # (S,) MODE_CODE
    members: np.ndarray  # (G, S) bool
    delay_steps: np.ndarray  # (G,)
    names: list[str]
    member_idx: list[np.ndarray] = field(init=False)  # (G,) member site indices per network

    def __post_init__(self) -> None:
        self.member_idx = [np.flatnonzero(row) for row in self.members]

    def delay_lines(self) -> DelayLines:
        """Empty delay lines for a new run."""
        return DelayLines(self.delay_steps, self.member_idx)


class DelayLines:
    """One run's delay lines of fused pictures, one per network: the state a run mutates, so
    that runs sharing a :class:`Networks` (threads, or runs stepped alternately) never see
    each other's pictures."""

    def __init__(self, delay_steps: np.ndarray, member_idx: list[np.ndarray]) -> None:
        self.member_idx = member_idx
        self.lines = [deque(maxlen=int(d) + 1) for d in delay_steps]

    def publish(self, tab: TrackTable) -> None:
        """Push this step's fused picture of every network onto its delay line."""
        for g, line in enumerate(self.lines):
            line.append(_fuse(tab.confirmed, tab.t_upd, tab.x, self.member_idx[g]))

    def remote(self, g: int):
        """The picture of network g published ``latency_s`` ago, or None before then."""
        line = self.lines[g]
        return line[0] if len(line) == line.maxlen else None


@numba.njit(cache=True)
def _fuse(confirmed, t_upd, x, m):
    """Per threat, the most recently updated confirmed track among the member sites ``m``
    (the first on ties): (has one, its state, its update time; -inf and the first member's
    state when none). Member by member over all threats, so that each member's row is read
    in order."""
    n = t_upd.shape[1]
    has = np.zeros(n, np.bool_)
    xb = np.empty((n, x.shape[2]))
    tb = np.full(n, -np.inf)
    if len(m) == 0:  # a network without members publishes nothing
        xb[:] = 0.0
        return has, xb, tb
    best = np.full(n, m[0])
    for s in m:
        for c in range(n):
            if confirmed[s, c] and t_upd[s, c] > tb[c]:
                best[c], tb[c] = s, t_upd[s, c]
    for c in range(n):
        has[c] = tb[c] > -np.inf
        xb[c] = x[best[c], c]
    return has, xb, tb


def build_networks(scenario, step_s: float) -> Networks:
    """Membership, modes and delays from the scenario (sites outside any network, and
    members of ``standalone`` networks, use their own radars only)."""
    ids = [s.id for s in scenario.sites]
    nets = list(scenario.network_members().values())
    members = np.zeros((len(nets), len(ids)), bool)
    net_of = np.full(len(ids), -1, np.int64)
    mode = np.zeros(len(ids), np.int64)
    for g, net in enumerate(nets):
        for m in net.members:
            s = ids.index(m)
            if net_of[s] not in (-1, g):
                raise ScenarioError(
                    f"scenario: site {m!r} is in networks {nets[net_of[s]].id!r} and {net.id!r}; "
                    "a site belongs to one network (put shared sensors in one network)"
                )
            members[g, s] = True
            net_of[s] = g
            mode[s] = MODE_CODE[net.mode]
    delay = np.array([int(np.ceil(n.latency_s / step_s - 1e-9)) for n in nets], np.int64)
    return Networks(net_of, mode, members, delay, [n.id for n in nets])


class GnnTracks:
    """``tracking: gnn``: one :class:`iadsim.sim.tracking.Tracker` (Kalman + gating + global
    nearest neighbour + M-of-N) per site, in the site's local ENU frame, fed the site's
    detections without their truth, stepped on every scan of the site's fastest radar (so
    ``init_n`` and ``delete_after_misses`` count those scans and are scaled by the ratio of
    the slowest to the fastest scan period). After every step its confirmed tracks are projected onto
    the (site, threat) :class:`TrackTable` by the tag of the detection that last updated them
    (bookkeeping only: it tells which threat a track follows, to score kills and log events);
    when two tracks follow one threat, the most recently updated is used.
    """

    def __init__(self, site_ecef, site_rot, init_m, init_n, delete_after_misses, capacity, q_accel_mps2=10.0):  # fmt: skip
        from iadsim.sim.tracking import Tracker, TrackerConfig  # lazy: scipy only for gnn

        self.origin, self.rot = np.asarray(site_ecef, float), np.asarray(site_rot, float)
        cfg = [
            TrackerConfig(
                q_accel_mps2=q_accel_mps2,
                init_m=init_m,
                init_n=int(n),
                delete_after_misses=int(d),
                max_tracks=int(c),
                init_speed_sigma_mps=INIT_SPEED_SIGMA_MPS,
            )  # fmt: skip
            for n, d, c in zip(init_n, delete_after_misses, capacity, strict=True)
        ]
        self.trackers = [Tracker(c) for c in cfg]

    def step(self, tab: TrackTable, s: int, time_s: float, z_ecef, R_ecef, tag):
        """One scan of site s. Returns (threat tags of newly confirmed tracks, their ids,
        tags and ids of deleted confirmed tracks)."""
        C, o = self.rot[s], self.origin[s]
        z = (np.asarray(z_ecef) - o) @ C.T
        R = C @ np.asarray(R_ecef) @ C.T if len(z) else np.zeros((0, 3, 3))
        trk = self.trackers[s]
        tags_before = dict(zip(trk.track_id.tolist(), trk.last_tag.tolist(), strict=True))
        res = trk.step(time_s, z, R, detection_tag=tag)
        ids, pos, vel, _, last = trk.confirmed_tracks()
        t_upd = trk.last_update_s[trk.confirmed]
        tab.confirmed[s] = False
        tab.t_upd[s] = -np.inf
        if len(ids):
            order = np.lexsort((t_upd, last))  # per tag, the most recent last
            last, ids, pos, vel, t_upd = (
                last[order],
                ids[order],
                pos[order],
                vel[order],
                t_upd[order],
            )
            keep = (last >= 0) & np.append(last[1:] != last[:-1], True)
            n = last[keep]
            tab.x[s, n, :3] = o + pos[keep] @ C
            tab.x[s, n, 3:] = vel[keep] @ C
            tab.t_upd[s, n], tab.track_id[s, n], tab.confirmed[s, n] = t_upd[keep], ids[keep], True
        tag_of = dict(zip(trk.track_id.tolist(), trk.last_tag.tolist(), strict=True))
        new_tags = np.array([tag_of[i] for i in res.confirmed_ids.tolist()], np.int64)
        dead = res.deleted_ids[res.deleted_was_confirmed]
        dead_tags = np.array([tags_before.get(i, -1) for i in dead.tolist()], np.int64)
        return new_tags, res.confirmed_ids, dead_tags, dead
