"""Kalman filter kernels (numba) for constant-velocity and constant-acceleration motion.

One implementation serves the engine's own tracks (:func:`iadsim.sim.network.update_tracks`:
``CV3.predict_update`` per detection) and :class:`iadsim.sim.tracking.Tracker` (its case's
``predict_rows`` on every track at each scan, then ``update_rows`` on the assigned ones).

State layout: ``order`` blocks of ``dim`` axes (``dim`` 2 or 3; ``order`` 2 for constant
velocity, 3 for constant acceleration), metres, m/s, m/s^2::

    x = [p_1 .. p_dim, v_1 .. v_dim, (a_1 .. a_dim)]

and the measurement is the position, ``H = [I 0 (0)]``. Per axis (Bar-Shalom, Li &
Kirubarajan, *Estimation with Applications to Tracking and Navigation*, 2001, sec. 6.2-6.3),
with ``q2`` the power spectral density of the continuous white noise (m^2/s^3: acceleration
for CV, jerk for CA; ``q2 = sigma^2 * 1 s``)::

    CV: F1 = [[1, dt], [0, 1]]                  Q1 = q2 [[dt^3/3, dt^2/2], [dt^2/2, dt]]
    CA: F1 = [[1, dt, dt^2/2], [0, 1, dt],      Q1 = q2 [[dt^5/20, dt^4/8, dt^3/6],
              [0, 0, 1]]                                 [dt^4/8,  dt^3/3, dt^2/2],
                                                         [dt^3/6,  dt^2/2, dt    ]]

and ``F = F1 (x) I_dim``, ``Q = Q1 (x) I_dim`` (Kronecker products).

* **Predict** ``x <- F x``, ``P- = F P F' + Q``, blockwise: each ``dim x dim`` block of
  ``P-`` is a combination of the blocks of ``P`` at the same (axis, axis) position, so no
  product with the identity blocks is formed.
* **Update** ``S = H P- H' + R`` (inverted by cofactors: 2x2 or 3x3, symmetric positive
  definite here), ``K = P- H' S^-1``, ``x <- x + K (z - H x)``, ``P <- P- - K H P-``, then
  ``P <- (P + P') / 2`` (the plain form with the optimal gain; the symmetrisation removes
  the rounding asymmetry that would otherwise accumulate over thousands of updates).

One source, compiled per case: :func:`kernels` builds the functions of one (dim, order) with
both as closure constants, so that numba sees fixed trip counts and unrolls every loop (with
the sizes as run-time arguments the engine's update took twice as long). The prediction
``P-`` lives in the :class:`Workspace` between the two steps (reading one array and writing
another is faster than updating ``P`` in place). The arithmetic (order of every sum and
product) is fixed: the engine's events depend on it bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numba
import numpy as np


class Workspace(NamedTuple):
    """Scratch arrays of one filter step (allocated once per batch by a ``workspace``)."""

    P_pred: np.ndarray  # (n_state, n_state) predicted covariance P-
    S: np.ndarray  # (dim, dim) innovation covariance H P- H' + R
    S_inv: np.ndarray  # (dim, dim)
    gain: np.ndarray  # (n_state, dim) Kalman gain K


class Measurements(NamedTuple):
    """Position measurements: ``z`` (m, dim) and their covariances ``R`` (m, dim, dim)."""

    z: np.ndarray
    R: np.ndarray


class Kernels(NamedTuple):
    """The compiled functions of one (dim, order) case (see :func:`kernels`)."""

    dim: int
    order: int
    workspace: Callable  # () -> Workspace
    predict: Callable  # (x, P, dt, q2, work)
    update: Callable  # (x, P, z, R, work)
    predict_update: Callable  # (x, P, dt, q2, z, R, work)
    predict_rows: Callable  # (x, P, dt, q2)
    update_rows: Callable  # (x, P, rows, meas)


@numba.njit(cache=True)
def _inv2(a, out):
    """Inverse of a 2x2 matrix by cofactors."""
    det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    out[0, 0], out[1, 1] = a[1, 1] / det, a[0, 0] / det
    out[0, 1], out[1, 0] = -a[0, 1] / det, -a[1, 0] / det


@numba.njit(cache=True)
def _inv3(a, out):
    """Inverse of a 3x3 matrix by cofactors."""
    c00 = a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]
    c01 = a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2]
    c02 = a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]
    det = a[0, 0] * c00 + a[0, 1] * c01 + a[0, 2] * c02
    out[0, 0], out[1, 0], out[2, 0] = c00 / det, c01 / det, c02 / det
    out[0, 1] = (a[0, 2] * a[2, 1] - a[0, 1] * a[2, 2]) / det
    out[1, 1] = (a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0]) / det
    out[2, 1] = (a[0, 1] * a[2, 0] - a[0, 0] * a[2, 1]) / det
    out[0, 2] = (a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1]) / det
    out[1, 2] = (a[0, 2] * a[1, 0] - a[0, 0] * a[1, 2]) / det
    out[2, 2] = (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]) / det


@numba.njit(inline="always")
def _workspace(d, n):
    return Workspace(np.empty((n, n)), np.empty((d, d)), np.empty((d, d)), np.empty((n, d)))


@numba.njit(inline="always")
def _predict(x, P, dt, q2, work, d, order):
    out = work.P_pred
    if order == 2:
        for a in range(d):  # F = [[I, dt I], [0, I]] blockwise
            for b in range(d):
                out[a, b] = P[a, b] + dt * (P[a + d, b] + P[a, b + d]) + dt * dt * P[a + d, b + d]
                out[a, b + d] = P[a, b + d] + dt * P[a + d, b + d]
                out[a + d, b] = P[a + d, b] + dt * P[a + d, b + d]
                out[a + d, b + d] = P[a + d, b + d]
            out[a, a] += q2 * dt**3 / 3
            out[a, a + d] += q2 * dt**2 / 2
            out[a + d, a] += q2 * dt**2 / 2
            out[a + d, a + d] += q2 * dt
            x[a] += dt * x[a + d]
        return
    h = dt * dt / 2
    q00, q01, q02 = q2 * (dt**5 / 20), q2 * (dt**4 / 8), q2 * (dt**3 / 6)
    q11, q12, q22 = q2 * (dt**3 / 3), q2 * (dt**2 / 2), q2 * dt
    for a in range(d):
        b1, b2 = a + d, a + 2 * d
        for b in range(d):
            u, v, w = b, b + d, b + 2 * d
            # A = F1 M on the 3x3 block M of axes (a, b), then F1 M F1' = A F1'
            a00 = P[a, u] + dt * P[b1, u] + h * P[b2, u]
            a01 = P[a, v] + dt * P[b1, v] + h * P[b2, v]
            a02 = P[a, w] + dt * P[b1, w] + h * P[b2, w]
            a10 = P[b1, u] + dt * P[b2, u]
            a11 = P[b1, v] + dt * P[b2, v]
            a12 = P[b1, w] + dt * P[b2, w]
            a20, a21, a22 = P[b2, u], P[b2, v], P[b2, w]
            out[a, u] = a00 + dt * a01 + h * a02
            out[a, v] = a01 + dt * a02
            out[a, w] = a02
            out[b1, u] = a10 + dt * a11 + h * a12
            out[b1, v] = a11 + dt * a12
            out[b1, w] = a12
            out[b2, u] = a20 + dt * a21 + h * a22
            out[b2, v] = a21 + dt * a22
            out[b2, w] = a22
        out[a, a] += q00
        out[a, b1] += q01
        out[a, b2] += q02
        out[b1, a] += q01
        out[b1, b1] += q11
        out[b1, b2] += q12
        out[b2, a] += q02
        out[b2, b1] += q12
        out[b2, b2] += q22
        x[a] += dt * x[b1] + h * x[b2]
        x[b1] += dt * x[b2]


@numba.njit(inline="always")
def _update(x, P, z, R, work, d, n):
    Pk, S, Si, K = work.P_pred, work.S, work.S_inv, work.gain
    for a in range(d):
        for b in range(d):
            S[a, b] = Pk[a, b] + R[a, b]
    if d == 3:
        _inv3(S, Si)
    else:
        _inv2(S, Si)
    for r in range(n):  # K = Pk H' S^-1
        for b in range(d):
            acc = Pk[r, 0] * Si[0, b]
            for k in range(1, d):
                acc += Pk[r, k] * Si[k, b]
            K[r, b] = acc
    # the innovation in registers (an array would be reloaded after every store to x)
    y0, y1 = z[0] - x[0], z[1] - x[1]
    y2 = z[2] - x[2] if d == 3 else 0.0
    for r in range(n):
        acc = K[r, 0] * y0 + K[r, 1] * y1
        if d == 3:
            acc += K[r, 2] * y2
        x[r] += acc
    for r in range(n):  # P = Pk - K H Pk, then symmetrised
        for c in range(n):
            acc = K[r, 0] * Pk[0, c]
            for k in range(1, d):
                acc += K[r, k] * Pk[k, c]
            P[r, c] = Pk[r, c] - acc
    for r in range(n):
        for c in range(r + 1, n):
            m = 0.5 * (P[r, c] + P[c, r])
            P[r, c] = m
            P[c, r] = m


def kernels(dim: int, order: int) -> Kernels:
    """The filter for ``dim`` axes (2 or 3) and ``order`` blocks (2: CV, 3: CA), compiled on
    first use (and cached on disk like every kernel of the package):

    * ``workspace()``: a :class:`Workspace` for this case;
    * ``predict(x, P, dt, q2, work)``: the motion model over ``dt`` seconds with white-noise
      PSD ``q2``: ``x`` (n_state,) in place, the predicted covariance of ``P`` (unchanged)
      into ``work.P_pred``;
    * ``update(x, P, z, R, work)``: the update of the prediction (``x``, ``work.P_pred``) with
      the position measurement ``z`` (dim,) of covariance ``R`` (dim, dim): ``x`` in place,
      the posterior covariance into ``P``;
    * ``predict_update(x, P, dt, q2, z, R, work)``: both, in place on ``x`` and ``P``;
    * ``predict_rows(x, P, dt, q2)``: ``predict`` of every row of ``x`` (n, n_state) and
      ``P`` (n, n_state, n_state), in place;
    * ``update_rows(x, P, rows, meas)``: ``update`` of track ``rows[k]`` (in place) with
      measurement k of ``meas`` (:class:`Measurements`).

    The functions are closures over the integers only (numba caches closures by their
    values) and inline the module's generic ``_predict`` / ``_update`` with them as constants.
    """
    if dim not in (2, 3) or order not in (2, 3):
        raise ValueError(f"kalman.kernels: dim and order must be 2 or 3, got {dim}, {order}")
    d, o, n = dim, order, dim * order

    @numba.njit(cache=True)
    def workspace():
        return _workspace(d, n)

    @numba.njit(cache=True)
    def predict(x, P, dt, q2, work):
        _predict(x, P, dt, q2, work, d, o)

    @numba.njit(cache=True)
    def update(x, P, z, R, work):
        _update(x, P, z, R, work, d, n)

    @numba.njit(cache=True)
    def predict_update(x, P, dt, q2, z, R, work):
        _predict(x, P, dt, q2, work, d, o)
        _update(x, P, z, R, work, d, n)

    @numba.njit(cache=True)
    def predict_rows(x, P, dt, q2):
        work = _workspace(d, n)
        for i in range(x.shape[0]):
            _predict(x[i], P[i], dt, q2, work, d, o)
            P[i] = work.P_pred

    @numba.njit(cache=True)
    def update_rows(x, P, rows, meas):
        work = _workspace(d, n)
        for k in range(len(rows)):
            i = rows[k]
            work.P_pred[:] = P[i]
            _update(x[i], P[i], meas.z[k], meas.R[k], work, d, n)

    return Kernels(
        dim, order, workspace, predict, update, predict_update, predict_rows, update_rows
    )


CV2, CV3, CA2, CA3 = (kernels(d, o) for d, o in ((2, 2), (3, 2), (2, 3), (3, 3)))
_BY_CASE = {(k.dim, k.order): k for k in (CV2, CV3, CA2, CA3)}


def for_case(dim: int, order: int) -> Kernels:
    """The module's compiled :class:`Kernels` of (dim, order)."""
    return _BY_CASE[dim, order]


def transition_matrices(dim: int, order: int, dt_s: float, q2: float):
    """``F`` and ``Q`` as applied by the kernels' ``predict``, read back from the kernel
    itself: the predicted unit states are the columns of ``F``, the prediction of a zero
    covariance is ``Q``. For tests and documentation; the filter never forms them."""
    n = dim * order
    cols = np.eye(n)
    P = np.zeros((n, n, n))
    for_case(dim, order).predict_rows(cols, P, float(dt_s), float(q2))
    return cols.T.copy(), P[0].copy()
