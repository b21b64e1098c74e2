"""Multi-target tracker: batched Kalman filter, chi-square gating, GNN assignment, M-of-N logic.

All tracks live in arrays (struct-of-arrays): means ``state`` (n, s) and covariances ``cov``
(n, s, s) with the state laid out in blocks of ``dim`` (2 or 3) axes::

    [x, y, (z), vx, vy, (vz), (ax, ay, az)]      metres, m/s, m/s^2 in a local Cartesian frame

One :meth:`Tracker.step` per scan does, for all tracks at once (Bar-Shalom, Li & Kirubarajan,
*Estimation with Applications to Tracking and Navigation*, 2001, ch. 5-6; Blackman & Popoli,
*Design and Analysis of Modern Tracking Systems*, 1999, ch. 6):

1. predict ``x <- F x``, ``P <- F P F' + Q`` (constant velocity or constant acceleration);
2. gate: a kd-tree pre-gate on positions, then the Mahalanobis test
   ``d2 = v' S^-1 v < gate_chi2`` with ``v = z - H x`` and ``S = H P H' + R``;
3. assign by global nearest neighbour: minimise the summed ``d2`` over gated pairs, a track left
   unassigned costing ``gate_chi2`` (the augmented matrix ``[C | diag(gate)]``), solved with
   ``scipy.optimize.linear_sum_assignment`` per connected cluster. Confirmed tracks choose first,
   tentative tracks take what is left, and the rest start new tentative tracks;
4. update with the Kalman gain ``K = P H' S^-1``: ``x <- x + K (z - H x)``,
   ``P <- P - K H P``, symmetrised;
5. confirm a tentative track after ``init_m`` hits within its first ``init_n`` scans, drop it as
   soon as that has become impossible, and delete any track after ``delete_after_misses``
   consecutive misses.

Prediction and update are the numba kernels of :mod:`iadsim.sim.kalman`, the filter the
engine's own tracks run too. A detection is a position ``z`` with covariance ``R``; radar
range/angle noise is turned into a Cartesian ``R`` by :func:`rae_to_enu_cov` (the
converted-measurement Kalman filter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.stats import chi2

from iadsim.errors import InputError
from iadsim.sim import kalman

_I64 = np.int64


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker settings.

    ``q_accel_mps2`` is the RMS white-noise acceleration per axis, sigma_a: the continuous
    white-noise acceleration model with power spectral density ``q = sigma_a**2 * 1 s``
    [m^2/s^3], i.e. Stone Soup's ``ConstantVelocity(noise_diff_coeff=q)``. Per axis and step dt
    ``Q = q [[dt^3/3, dt^2/2], [dt^2/2, dt]]``. For ``motion="ca"`` the same number is the
    white-noise jerk (m/s^3) and ``Q = q [[dt^5/20, dt^4/8, dt^3/6], [dt^4/8, dt^3/3, dt^2/2],
    [dt^3/6, dt^2/2, dt]]``. ``gate_chi2`` defaults to the 0.99 quantile of chi-square with
    ``dim`` degrees of freedom. A new track starts at the detection with zero velocity, its
    velocity (and acceleration) standard deviation ``init_speed_sigma_mps``
    (``init_accel_sigma_mps2``). ``max_tracks`` caps confirmed tracks (radar track capacity): a
    track that meets M-of-N while the cap is reached stays tentative until a slot frees;
    ``pregate_radius_m`` fixes the kd-tree pre-gate radius, otherwise it is per track
    ``sqrt(gate_chi2 * (tr(HPH') + max tr(R)))``, which never drops a pair the gate accepts.
    """

    dim: int = 3
    motion: Literal["cv", "ca"] = "cv"
    q_accel_mps2: float = 1.0
    gate_chi2: float | None = None
    init_m: int = 2
    init_n: int = 3
    delete_after_misses: int = 3
    max_tracks: int | None = None
    pregate_radius_m: float | None = None
    init_speed_sigma_mps: float = 300.0
    init_accel_sigma_mps2: float = 30.0

    def __post_init__(self) -> None:
        if self.dim not in (2, 3):
            raise InputError(f"TrackerConfig: dim must be 2 or 3, got {self.dim}", "dim")
        if self.motion not in ("cv", "ca"):
            raise InputError(
                f"TrackerConfig: motion must be 'cv' or 'ca', got {self.motion!r}", "motion"
            )
        if not 1 <= self.init_m <= self.init_n:
            raise InputError(
                f"TrackerConfig needs 1 <= init_m <= init_n, got {self.init_m}, {self.init_n}",
                ("init_m", "init_n"),
            )
        if self.delete_after_misses < 1:
            raise InputError(
                f"TrackerConfig: delete_after_misses must be >= 1, got {self.delete_after_misses}",
                "delete_after_misses",
            )
        if self.q_accel_mps2 < 0:
            raise InputError(
                f"TrackerConfig: q_accel_mps2 must be >= 0, got {self.q_accel_mps2}",
                "q_accel_mps2",
            )
        if self.gate_chi2 is None:
            object.__setattr__(self, "gate_chi2", float(chi2.ppf(0.99, self.dim)))
        elif self.gate_chi2 <= 0:
            raise InputError(
                f"TrackerConfig: gate_chi2 must be > 0, got {self.gate_chi2}", "gate_chi2"
            )

    @property
    def order(self) -> int:
        """Number of kinematic blocks: 2 for constant velocity, 3 for constant acceleration."""
        return 2 if self.motion == "cv" else 3


def transition_matrices(config: TrackerConfig, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``F`` and ``Q`` of one prediction over ``dt_s`` seconds, as the tracker's kernel
    applies them (:func:`iadsim.sim.kalman.transition_matrices`; see :mod:`iadsim.sim.kalman`
    for the model; the PSD is ``q_accel_mps2**2`` with the 1-s reference time)."""
    return kalman.transition_matrices(config.dim, config.order, dt_s, config.q_accel_mps2**2)


@dataclass
class StepResult:
    """What one scan changed. ``assignments`` is (k, 2): track id, detection index."""

    started_ids: np.ndarray
    confirmed_ids: np.ndarray
    deleted_ids: np.ndarray
    deleted_was_confirmed: np.ndarray
    assignments: np.ndarray = field(default_factory=lambda: np.empty((0, 2), _I64))


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class Tracker:
    """Multi-target tracker over one sensor's (or one fused picture's) position detections."""

    def __init__(self, config: TrackerConfig):
        self.config = config
        self._kf = kalman.for_case(config.dim, config.order)
        d, s = config.dim, config.dim * config.order
        self.time_s: float | None = None
        self._next_id = 0
        self._x = np.empty((0, s))
        self._P = np.empty((0, s, s))
        self._id = np.empty(0, _I64)
        self._confirmed = np.empty(0, bool)
        self._hits = np.empty(0, _I64)
        self._misses = np.empty(0, _I64)
        self._age = np.empty(0, _I64)
        self._last_update_s = np.empty(0)
        self._last_tag = np.empty(0, _I64)
        p0 = np.zeros((s, s))
        p0[d : 2 * d, d : 2 * d] = np.eye(d) * config.init_speed_sigma_mps**2
        if config.order == 3:
            p0[2 * d :, 2 * d :] = np.eye(d) * config.init_accel_sigma_mps2**2
        self._P0 = p0

    # read-only views ---------------------------------------------------------------------
    track_id = property(lambda self: _readonly(self._id))
    state = property(lambda self: _readonly(self._x))
    cov = property(lambda self: _readonly(self._P))
    confirmed = property(lambda self: _readonly(self._confirmed))
    hits = property(lambda self: _readonly(self._hits))
    misses = property(lambda self: _readonly(self._misses))
    last_update_s = property(lambda self: _readonly(self._last_update_s))
    last_tag = property(lambda self: _readonly(self._last_tag))

    def __len__(self) -> int:
        return len(self._id)

    def confirmed_tracks(self):
        """``(ids, positions, velocities, covariances, last_tag)`` of confirmed tracks (copies)."""
        m, d = self._confirmed, self.config.dim
        x = self._x[m]
        return self._id[m], x[:, :d].copy(), x[:, d : 2 * d].copy(), self._P[m], self._last_tag[m]

    # one scan ----------------------------------------------------------------------------
    def step(
        self,
        time_s: float,
        z: np.ndarray,
        R: np.ndarray,
        detection_tag: np.ndarray | None = None,
    ) -> StepResult:
        """Process the detections of one scan taken at ``time_s`` (seconds).

        ``z`` (M, dim) positions in metres; ``R`` (dim, dim) shared or (M, dim, dim) per
        detection; ``detection_tag`` optional int per detection (e.g. truth id) copied onto the
        track it updates or starts, for bookkeeping only: it never influences association.
        """
        cfg, d = self.config, self.config.dim
        z = np.asarray(z, float)
        z = z.reshape(0, d) if z.size == 0 else z
        if z.ndim != 2 or z.shape[1] != d:
            raise InputError(
                f"Tracker.step: z must be (M, {d}) positions, got shape {z.shape}", "z"
            )
        m = len(z)
        R = np.asarray(R, float)
        if R.shape == (d, d):
            R = np.broadcast_to(R, (m, d, d))
        if R.shape != (m, d, d):
            raise InputError(
                f"Tracker.step: R must be ({d},{d}) or ({m},{d},{d}), got {R.shape}", "R"
            )
        tags = np.full(m, -1, _I64) if detection_tag is None else np.asarray(detection_tag, _I64)
        if tags.shape != (m,):
            raise InputError(
                f"Tracker.step: detection_tag must have shape ({m},), got {tags.shape}",
                "detection_tag",
            )
        if self.time_s is not None and time_s < self.time_s:
            raise InputError(
                f"Tracker.step: time_s {time_s} is before the last scan at {self.time_s} s",
                "time_s",
            )
        if self.time_s is not None and time_s > self.time_s and len(self._id):
            dt, q2 = float(time_s - self.time_s), cfg.q_accel_mps2**2
            self._kf.predict_rows(self._x, self._P, dt, q2)
        self.time_s = float(time_s)

        # associate: confirmed tracks first, tentative tracks on what is left
        free = np.ones(m, bool)
        pairs_t, pairs_d = [], []
        for group in (np.flatnonzero(self._confirmed), np.flatnonzero(~self._confirmed)):
            dets = np.flatnonzero(free)
            ti, dj = self._associate(group, dets, z, R)
            free[dj] = False
            pairs_t.append(ti)
            pairs_d.append(dj)
        ti, dj = np.concatenate(pairs_t), np.concatenate(pairs_d)
        self._update(ti, dj, z, R)

        hit = np.zeros(len(self._id), bool)
        hit[ti] = True
        self._hits += hit
        self._misses = np.where(hit, 0, self._misses + 1)
        self._age += 1
        self._last_update_s[ti] = self.time_s
        self._last_tag[ti] = tags[dj]
        assignments = np.column_stack([self._id[ti], dj]).astype(_I64)

        started = self._start(np.flatnonzero(free), z, R, tags)
        confirmed = self._confirm()
        deleted, was_conf = self._delete()
        return StepResult(started, confirmed, deleted, was_conf, assignments)

    # stages ------------------------------------------------------------------------------
    def _associate(self, tracks, dets, z, R):
        """Gate ``tracks`` x ``dets`` and solve GNN; returns matched (track, detection) indices."""
        empty = (np.empty(0, np.intp), np.empty(0, np.intp))
        if len(tracks) == 0 or len(dets) == 0:
            return empty
        cfg, d = self.config, self.config.dim
        gate = cfg.gate_chi2
        pos = self._x[tracks, :d]
        hph = self._P[tracks, :d, :d]
        if cfg.pregate_radius_m is not None:
            radius = np.full(len(tracks), cfg.pregate_radius_m)
        else:
            r_tr = np.trace(R[dets], axis1=1, axis2=2).max()
            radius = np.sqrt(gate * (np.trace(hph, axis1=1, axis2=2) + r_tr))
        near = cKDTree(z[dets]).query_ball_point(pos, radius, return_sorted=False)
        counts = np.fromiter(map(len, near), np.intp, len(near))
        cols = np.fromiter(chain.from_iterable(near), np.intp, counts.sum())
        rows = np.repeat(np.arange(len(tracks)), counts)
        nu = z[dets[cols]] - pos[rows]
        S = hph[rows] + R[dets[cols]]
        d2 = np.einsum("ki,ki->k", nu, np.linalg.solve(S, nu[:, :, None])[:, :, 0])
        keep = d2 < gate
        rows, cols, d2 = rows[keep], cols[keep], d2[keep]
        if len(rows) == 0:
            return empty
        r, c = gnn_assign(rows, cols, d2, len(tracks), len(dets), gate)
        return tracks[r], dets[c]

    def _update(self, ti, dj, z, R):
        if len(ti) == 0:
            return
        meas = kalman.Measurements(z[dj], R[dj])
        self._kf.update_rows(self._x, self._P, np.asarray(ti, np.int64), meas)

    def _start(self, dj, z, R, tags):
        k, d, s = len(dj), self.config.dim, self._x.shape[1]
        if k == 0:
            return np.empty(0, _I64)
        ids = np.arange(self._next_id, self._next_id + k, dtype=_I64)
        self._next_id += k
        x = np.zeros((k, s))
        x[:, :d] = z[dj]
        P = np.broadcast_to(self._P0, (k, s, s)).copy()
        P[:, :d, :d] = R[dj]
        self._x = np.concatenate([self._x, x])
        self._P = np.concatenate([self._P, P])
        self._id = np.concatenate([self._id, ids])
        self._confirmed = np.concatenate([self._confirmed, np.zeros(k, bool)])
        self._hits = np.concatenate([self._hits, np.ones(k, _I64)])
        self._misses = np.concatenate([self._misses, np.zeros(k, _I64)])
        self._age = np.concatenate([self._age, np.ones(k, _I64)])
        self._last_update_s = np.concatenate([self._last_update_s, np.full(k, self.time_s)])
        self._last_tag = np.concatenate([self._last_tag, tags[dj]])
        return ids

    def _confirm(self):
        cfg = self.config
        cand = np.flatnonzero(~self._confirmed & (self._hits >= cfg.init_m))
        if cfg.max_tracks is not None:  # oldest candidates first (arrays are in id order)
            cand = cand[: max(0, cfg.max_tracks - int(self._confirmed.sum()))]
        self._confirmed[cand] = True
        return self._id[cand].copy()

    def _delete(self):
        cfg = self.config
        hopeless = ~self._confirmed & (self._hits + cfg.init_n - self._age < cfg.init_m)
        dead = hopeless | (self._misses >= cfg.delete_after_misses)
        ids, was_conf = self._id[dead].copy(), self._confirmed[dead].copy()
        if dead.any():
            keep = ~dead
            for name in ("_x", "_P", "_id", "_confirmed", "_hits", "_misses", "_age"):
                setattr(self, name, getattr(self, name)[keep])
            self._last_update_s = self._last_update_s[keep]
            self._last_tag = self._last_tag[keep]
        return ids, was_conf


def gnn_assign(rows, cols, cost, n_rows: int, n_cols: int, miss_cost: float):
    """Global nearest neighbour on a sparse gated cost list; returns matched (rows, cols).

    Minimises ``sum(cost of matched pairs) + miss_cost * (unmatched rows)`` over one-to-one
    matchings of the given pairs. A pair alone in its cluster (its row and column in no other
    pair) is matched directly; every other connected cluster is solved exactly by
    ``linear_sum_assignment`` on ``[C | diag(miss_cost)]`` with ``inf`` for gated-out pairs.
    """
    useful = cost < miss_cost  # a pair costing more than a miss is never worth matching
    rows, cols, cost = rows[useful], cols[useful], cost[useful]
    deg_r = np.bincount(rows, minlength=n_rows)
    deg_c = np.bincount(cols, minlength=n_cols)
    alone = (deg_r[rows] == 1) & (deg_c[cols] == 1)
    out_r, out_c = [rows[alone]], [cols[alone]]
    rest = np.flatnonzero(~alone)
    if len(rest):
        r, c, w = rows[rest], cols[rest], cost[rest]
        graph = coo_matrix((np.ones(len(r)), (r, n_rows + c)), shape=(n_rows + n_cols,) * 2)
        _, label = connected_components(graph, directed=False)
        comp = label[r]
        order = np.argsort(comp, kind="stable")
        bounds = np.flatnonzero(np.diff(comp[order])) + 1
        for e in np.split(order, bounds):
            ur, lr = np.unique(r[e], return_inverse=True)
            uc, lc = np.unique(c[e], return_inverse=True)
            C = np.full((len(ur), len(uc) + len(ur)), np.inf)
            C[lr, lc] = w[e]
            C[np.arange(len(ur)), len(uc) + np.arange(len(ur))] = miss_cost
            a, b = linear_sum_assignment(C)
            real = b < len(uc)
            out_r.append(ur[a[real]])
            out_c.append(uc[b[real]])
    return np.concatenate(out_r), np.concatenate(out_c)


def rae_to_enu(range_m, azimuth_rad, elevation_rad=None) -> np.ndarray:
    """Radar polar measurement to local Cartesian (x east, y north, z up), azimuth clockwise
    from north: ``x = r cos(el) sin(az)``, ``y = r cos(el) cos(az)``, ``z = r sin(el)``.
    Without elevation the result is 2-D ``(x, y)`` from range and azimuth."""
    r, az = np.asarray(range_m, float), np.asarray(azimuth_rad, float)
    el = np.zeros_like(r) if elevation_rad is None else np.asarray(elevation_rad, float)
    h = r * np.cos(el)
    out = [h * np.sin(az), h * np.cos(az)]
    if elevation_rad is not None:
        out.append(r * np.sin(el))
    return np.stack(out, axis=-1)


def rae_to_enu_cov(
    range_m, azimuth_rad, elevation_rad, sigma_range_m, sigma_azimuth_rad, sigma_elevation_rad=0.0
) -> np.ndarray:
    """Cartesian covariance of a converted radar measurement, ``R = J diag(s_r^2, s_az^2,
    s_el^2) J'`` with ``J`` the Jacobian of :func:`rae_to_enu` (the linearised converted-
    measurement Kalman filter, Bar-Shalom et al. 2001 sec. 10.4; its bias is negligible while
    ``r s_az^2 / s_r < 0.4``). ``elevation_rad=None`` gives the 2-D (range, azimuth) case.
    Returns (..., 3, 3), or (..., 2, 2) in 2-D."""
    r, az = np.broadcast_arrays(np.asarray(range_m, float), np.asarray(azimuth_rad, float))
    two_d = elevation_rad is None
    el = np.zeros_like(r) if two_d else np.broadcast_to(np.asarray(elevation_rad, float), r.shape)
    ca, sa, ce, se = np.cos(az), np.sin(az), np.cos(el), np.sin(el)
    # columns: d/dr, d/daz, d/del of (x, y, z)
    J = np.stack(
        [
            np.stack([ce * sa, r * ce * ca, -r * se * sa], -1),
            np.stack([ce * ca, -r * ce * sa, -r * se * ca], -1),
            np.stack([se, np.zeros_like(r), r * ce], -1),
        ],
        -2,
    )
    sig = np.stack(np.broadcast_arrays(sigma_range_m, sigma_azimuth_rad, sigma_elevation_rad), -1)
    sig = np.broadcast_to(sig, r.shape + (3,)).astype(float)
    if two_d:
        J, sig = J[..., :2, :2], sig[..., :2]
    return (J * sig[..., None, :] ** 2) @ np.swapaxes(J, -1, -2)
