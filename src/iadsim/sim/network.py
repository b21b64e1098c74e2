"""Track pictures and their sharing over networks: the interoperability question.

Own picture (``tracking: ideal``): one track slot per (site, threat), fed only by that site's own
radars, with the truth association (a detection updates the track of the threat it came from)
and the same constant-velocity Kalman filter as :mod:`iadsim.sim.tracking`, run in ECEF (the
filter is linear and the white-acceleration noise is isotropic, so ECEF and local ENU give the
same estimates). A track is *confirmed* at its ``init_m``-th detection and dropped when no
detection arrives within ``delete_after_misses`` scan periods of the site's slowest radar.

Sharing: every step each network publishes a fused picture (for each threat, the most recently
updated confirmed track among its members) into a delay line; a member reads the picture
published ``latency_s`` earlier. Modes (per network, applying to its fire units):

* ``standalone``: own radars only (also every site outside a network);
* ``cued``: a remote track starts the fire unit's reaction clock and cues its fire-control radar,
  so one FCR detection is enough to establish the fire-control track; launch still needs it;
* ``engage_on_remote``: launch on a remote track; see :mod:`iadsim.sim.engagement` for guidance.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

MODES = ("standalone", "cued", "engage_on_remote")
MODE_CODE = {m: i for i, m in enumerate(MODES)}
INIT_SPEED_SIGMA_MPS = 1500.0  #: prior velocity spread of a new track (covers ballistic speeds)
Q_ACCEL_MPS2 = 30.0  #: white-noise acceleration of the CV filter (manoeuvre, re-entry drag)


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
    next_id: int = 0

    @classmethod
    def empty(cls, n_sites: int, n_threats: int) -> TrackTable:
        s, n = n_sites, n_threats
        return cls(
            x=np.zeros((s, n, 6)), P=np.zeros((s, n, 6, 6)), t_upd=np.full((s, n), -np.inf),
            hits=np.zeros((s, n), np.int64), confirmed=np.zeros((s, n), bool),
            track_id=np.full((s, n), -1, np.int64), fcr_hits=np.zeros((s, n), np.int64),
            fcr_t=np.full((s, n), -np.inf),
        )  # fmt: skip


def _predict(x, P, dt, q=Q_ACCEL_MPS2):
    """CV prediction over dt (per row): Q = q^2 [[dt^3/3, dt^2/2], [dt^2/2, dt]] per axis."""
    x = x.copy()
    x[:, :3] += x[:, 3:] * dt[:, None]
    F = np.tile(np.eye(6), (len(dt), 1, 1))
    F[:, :3, 3:] = np.eye(3) * dt[:, None, None]
    q2 = q * q
    Q = np.zeros_like(F)
    eye = np.eye(3)
    Q[:, :3, :3] = eye * (q2 * dt**3 / 3)[:, None, None]
    Q[:, :3, 3:] = Q[:, 3:, :3] = eye * (q2 * dt**2 / 2)[:, None, None]
    Q[:, 3:, 3:] = eye * (q2 * dt)[:, None, None]
    return x, F @ P @ np.swapaxes(F, 1, 2) + Q


def _update(x, P, z, R):
    """Kalman update with a position measurement (H = [I 0]), Joseph form."""
    S = P[:, :3, :3] + R
    K = np.swapaxes(np.linalg.solve(S, P[:, :3, :]), 1, 2)  # (m, 6, 3) = P H' S^-1
    x = x + np.einsum("mij,mj->mi", K, z - x[:, :3])
    IKH = np.tile(np.eye(6), (len(x), 1, 1))
    IKH[:, :, :3] -= K
    P = IKH @ P @ np.swapaxes(IKH, 1, 2) + K @ R @ np.swapaxes(K, 1, 2)
    return x, P


def update_tracks(tab: TrackTable, time_s, site, threat, z, R, from_fcr, init_m, capacity):
    """Apply one step's detections (one per (site, threat) pair at most) to the own tracks.

    New tracks start at the detection with zero velocity and a wide velocity prior; a site
    holding ``capacity[site]`` tracks starts no new ones. Returns the (site, threat) pairs whose
    track started and those newly confirmed.
    """
    new = tab.hits[site, threat] == 0
    if new.any():
        held = np.count_nonzero(tab.hits > 0, axis=1)
        room = capacity - held
        # rank new detections within each site and keep those that fit the capacity
        ns = site[new]
        order = np.argsort(ns, kind="stable")
        rank = np.empty(len(ns), np.int64)
        first = np.searchsorted(ns[order], ns[order])
        rank[order] = np.arange(len(ns)) - first
        keep = np.ones(len(site), bool)
        keep[np.flatnonzero(new)] = rank < room[ns]
        site, threat, z, R, from_fcr, new = (a[keep] for a in (site, threat, z, R, from_fcr, new))
    s_new, t_new = site[new], threat[new]
    x0 = np.zeros((len(s_new), 6))
    x0[:, :3] = z[new]
    P0 = np.zeros((len(s_new), 6, 6))
    P0[:, :3, :3] = R[new]
    P0[:, 3:, 3:] = np.eye(3) * INIT_SPEED_SIGMA_MPS**2
    tab.x[s_new, t_new], tab.P[s_new, t_new] = x0, P0
    tab.track_id[s_new, t_new] = tab.next_id + np.arange(len(s_new))
    tab.next_id += len(s_new)

    old = ~new
    s_o, t_o = site[old], threat[old]
    if len(s_o):
        dt = time_s - tab.t_upd[s_o, t_o]
        x, P = _predict(tab.x[s_o, t_o], tab.P[s_o, t_o], dt)
        tab.x[s_o, t_o], tab.P[s_o, t_o] = _update(x, P, z[old], R[old])

    tab.t_upd[site, threat] = time_s
    tab.hits[site, threat] += 1
    tab.fcr_hits[site[from_fcr], threat[from_fcr]] += 1
    tab.fcr_t[site[from_fcr], threat[from_fcr]] = time_s
    newly = ~tab.confirmed[site, threat] & (tab.hits[site, threat] >= init_m)
    tab.confirmed[site[newly], threat[newly]] = True
    return (s_new, t_new), (site[newly], threat[newly])


def drop_tracks(tab: TrackTable, site, threat):
    """Delete tracks; returns (track ids, was_confirmed) of those that existed."""
    had = tab.hits[site, threat] > 0
    site, threat = site[had], threat[had]
    ids, conf = tab.track_id[site, threat].copy(), tab.confirmed[site, threat].copy()
    tab.hits[site, threat] = 0
    tab.confirmed[site, threat] = False
    tab.track_id[site, threat] = -1
    tab.t_upd[site, threat] = -np.inf
    tab.fcr_hits[site, threat] = 0
    tab.fcr_t[site, threat] = -np.inf
    return site, threat, ids, conf


def stale_pairs(tab: TrackTable, time_s: float, coast_s: np.ndarray):
    """(site, threat) pairs whose track has had no detection for longer than ``coast_s[site]``."""
    return np.nonzero((tab.hits > 0) & (time_s - tab.t_upd > coast_s[:, None]))


@dataclass
class Networks:
    """Network membership and the per-network delay lines of fused pictures."""

    net_of_site: np.ndarray  # (S,) network index, -1 when standalone
    mode_of_site: np.ndarray  # (S,) MODE_CODE
    members: np.ndarray  # (G, S) bool
    delay_steps: np.ndarray  # (G,)
    names: list[str]
    lines: list[deque] = field(default_factory=list)

    def reset(self) -> None:
        self.lines = [deque(maxlen=int(d) + 1) for d in self.delay_steps]

    def publish(self, tab: TrackTable) -> None:
        """Push this step's fused picture of every network onto its delay line."""
        n = tab.t_upd.shape[1]
        for g, line in enumerate(self.lines):
            m = np.flatnonzero(self.members[g])
            t = np.where(tab.confirmed[m], tab.t_upd[m], -np.inf)
            best = np.argmax(t, axis=0)
            cols = np.arange(n)
            has = t[best, cols] > -np.inf
            line.append((has, tab.x[m[best], cols], t[best, cols]))

    def remote(self, g: int):
        """The picture of network g published ``latency_s`` ago, or None before then."""
        line = self.lines[g]
        return line[0] if len(line) == line.maxlen else None


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
            members[g, s] = True
            net_of[s] = g
            mode[s] = MODE_CODE[net.mode]
    delay = np.array([int(np.ceil(n.latency_s / step_s - 1e-9)) for n in nets], np.int64)
    out = Networks(net_of, mode, members, delay, [n.id for n in nets])
    out.reset()
    return out
