"""The Kalman kernels (iadsim.sim.kalman) that the engine's own tracks and the Tracker run,
against independent references: the discrete algebraic Riccati equation, Van Loan's
discretisation, the textbook matrix formulas in numpy and Stone Soup's Kalman predictor and
updater. The engine's path (network.update_tracks) is tested end to end as well."""

import numpy as np
import pytest
from scipy.linalg import expm, solve_discrete_are

from iadsim.sim import kalman, network

RNG = np.random.default_rng(20261130)


def spd(n, scale=1.0, rng=RNG):
    """A random symmetric positive-definite matrix with correlated axes."""
    a = rng.normal(size=(n, n))
    return scale * (a @ a.T + n * np.eye(n))


def van_loan(dim, order, dt, q2):
    """F and Q of the continuous model whose block i is the derivative of block i-1, white
    noise of PSD q2 on the last block (Van Loan 1978)."""
    n = dim * order
    A = np.kron(np.eye(order, order, 1), np.eye(dim))
    G = np.zeros((n, dim))
    G[-dim:] = np.eye(dim)
    W = G @ G.T * q2
    M = expm(np.block([[-A, W], [np.zeros((n, n)), A.T]]) * dt)
    F = M[n:, n:].T
    return F, F @ M[:n, n:]


def H_of(dim, order):
    return np.hstack([np.eye(dim), np.zeros((dim, dim * (order - 1)))])


@pytest.mark.parametrize(("dim", "order"), [(3, 2), (2, 2), (3, 3), (2, 3)])
def test_prediction_is_F_P_Ft_plus_Q_with_van_loan_F_and_Q(dim, order):
    n, dt, q2 = dim * order, 1.7, 9.0
    F, Q = van_loan(dim, order, dt, q2)
    x0, P0 = RNG.normal(size=n) * 100, spd(n, 50.0)
    x, P = x0.copy(), P0.copy()
    kf = kalman.kernels(dim, order)
    work = kf.workspace()
    kf.predict(x, P, dt, q2, work)
    np.testing.assert_allclose(x, F @ x0, rtol=1e-13, atol=1e-9)
    np.testing.assert_allclose(work.P_pred, F @ P0 @ F.T + Q, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(P, P0)  # the prediction goes to the workspace
    Fk, Qk = kalman.transition_matrices(dim, order, dt, q2)  # from a zero covariance
    np.testing.assert_allclose(Fk, F, atol=1e-12)
    np.testing.assert_allclose(Qk, Q, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dim", [3, 2])
def test_update_matches_the_textbook_formulas(dim):
    n = 2 * dim
    H = H_of(dim, 2)
    x0, P0, R = RNG.normal(size=n) * 100, spd(n, 30.0), spd(dim, 20.0)
    z = H @ x0 + RNG.normal(size=dim) * 10
    S = H @ P0 @ H.T + R
    K = P0 @ H.T @ np.linalg.inv(S)
    x_ref = x0 + K @ (z - H @ x0)
    P_ref = (np.eye(n) - K @ H) @ P0
    kf = kalman.kernels(dim, 2)
    x, P, work = x0.copy(), np.empty((n, n)), kf.workspace()
    work.P_pred[:] = P0
    kf.update(x, P, z, R, work)
    np.testing.assert_allclose(x, x_ref, rtol=1e-12)
    np.testing.assert_allclose(P, 0.5 * (P_ref + P_ref.T), rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(P, P.T)  # symmetrised exactly
    # the Joseph form gives the same covariance with the optimal gain
    A = np.eye(n) - K @ H
    np.testing.assert_allclose(P, A @ P0 @ A.T + K @ R @ K.T, rtol=1e-9, atol=1e-9)


def test_engine_kernel_reaches_the_discrete_riccati_steady_state_with_correlated_noise():
    """The engine's CV filter in 3-D (ECEF: R couples the axes) at a fixed 2 s revisit: after
    many updates P is the posterior of the filter Riccati equation's solution."""
    dt, q2 = 2.0, 30.0**2
    R = spd(3, 400.0)
    F, Q = van_loan(3, 2, dt, q2)
    H = H_of(3, 2)
    x, P = np.zeros(6), np.zeros((6, 6))
    P[:3, :3], P[3:, 3:] = R, np.eye(3) * 1500.0**2
    work = kalman.CV3.workspace()
    for k in range(400):  # the covariance does not depend on the measurements
        kalman.CV3.predict_update(x, P, dt, q2, np.full(3, 10.0 * k), R, work)
    P_pred = solve_discrete_are(F.T, H.T, Q, R)
    P_post = P_pred - P_pred @ H.T @ np.linalg.solve(H @ P_pred @ H.T + R, H @ P_pred)
    np.testing.assert_allclose(P, P_post, rtol=1e-7, atol=1e-7)


def test_engine_track_table_starts_then_filters_each_pair_with_its_own_noise():
    """network.update_tracks: a new track starts at the detection with the velocity prior; the
    next detection of a pair is one CV prediction over the elapsed time with that threat's
    q_accel, then the update (numpy formulas); other pairs are left alone."""
    tab = network.TrackTable.empty(2, 3)
    q_accel = np.array([5.0, 3.0, 30.0])
    cap = np.array([5, 5])
    R1, R2 = spd(3, 100.0), spd(3, 200.0)
    z1 = np.array([4.0e6, 3.0e6, 3.5e6])
    z2 = z1 + np.array([300.0, -200.0, 100.0])
    fcr = np.array([True])
    started, newly = network.update_tracks(
        tab, 10.0, np.array([1]), np.array([2]), z1[None], R1[None], fcr, 2, cap, q_accel
    )
    assert started[0].tolist() == [1] and started[1].tolist() == [2] and len(newly[0]) == 0
    P0 = np.zeros((6, 6))
    P0[:3, :3], P0[3:, 3:] = R1, np.eye(3) * network.INIT_SPEED_SIGMA_MPS**2
    np.testing.assert_array_equal(tab.P[1, 2], P0)
    np.testing.assert_array_equal(tab.x[1, 2], np.r_[z1, 0, 0, 0])
    started, newly = network.update_tracks(
        tab, 13.0, np.array([1]), np.array([2]), z2[None], R2[None], ~fcr, 2, cap, q_accel
    )
    assert len(started[0]) == 0 and newly[0].tolist() == [1] and newly[1].tolist() == [2]
    F, Q = van_loan(3, 2, 3.0, 30.0**2)
    H = H_of(3, 2)
    x, P = F @ np.r_[z1, 0, 0, 0], F @ P0 @ F.T + Q
    K = P @ H.T @ np.linalg.inv(H @ P @ H.T + R2)
    # ECEF positions of ~4e6 m: velocities are good to ~1e-8 m/s after the cancellation
    np.testing.assert_allclose(tab.x[1, 2], x + K @ (z2 - H @ x), rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(tab.P[1, 2], P - K @ H @ P, rtol=1e-9, atol=1e-6)
    assert tab.hits[1, 2] == 2 and tab.fcr_hits[1, 2] == 1 and tab.fcr_t[1, 2] == 10.0
    assert tab.held.tolist() == [0, 1] and (tab.hits[0] == 0).all() and tab.hits[1, :2].sum() == 0


def test_track_capacity_blocks_new_tracks_of_a_full_site_only():
    tab = network.TrackTable.empty(2, 3)
    z, R = np.zeros((3, 3)) + 7e6, np.broadcast_to(np.eye(3), (3, 3, 3))
    site, thr = np.array([0, 0, 1]), np.array([0, 1, 2])
    started, _ = network.update_tracks(
        tab, 0.0, site, thr, z, R, np.zeros(3, bool), 2, np.array([1, 1]), np.ones(3)
    )
    assert started[0].tolist() == [0, 1] and started[1].tolist() == [0, 2]
    assert tab.track_id[0].tolist() == [0, -1, -1] and tab.track_id[1, 2] == 1


@pytest.mark.parametrize("dim", [2, 3])
def test_predict_and_update_agree_with_stone_soup(dim):
    pytest.importorskip("stonesoup")
    from datetime import datetime, timedelta

    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.types.detection import Detection
    from stonesoup.types.hypothesis import SingleHypothesis
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import KalmanUpdater

    q2, dt, n = 4.0, 2.5, 2 * dim
    R = spd(dim, 50.0)
    x0, P0 = RNG.normal(size=n) * 50, spd(n, 40.0)
    z = x0[:dim] + RNG.normal(size=dim) * 20
    # Stone Soup orders the state per axis (x, vx, y, vy, ...); ours per block
    perm = np.ravel(np.arange(n).reshape(2, dim).T)
    t0 = datetime(2026, 1, 1)
    model = CombinedLinearGaussianTransitionModel([ConstantVelocity(q2)] * dim)
    sensor = LinearGaussian(ndim_state=n, mapping=tuple(range(0, n, 2)), noise_covar=R)
    prior = GaussianState(x0[perm].reshape(-1, 1), P0[np.ix_(perm, perm)], timestamp=t0)
    pred = KalmanPredictor(model).predict(prior, timestamp=t0 + timedelta(seconds=dt))
    det = Detection(z.reshape(-1, 1), timestamp=pred.timestamp, measurement_model=sensor)
    post = KalmanUpdater(sensor).update(SingleHypothesis(pred, det))
    inv = perm.argsort()
    x, P = x0.copy(), P0.copy()
    kf = kalman.kernels(dim, 2)
    kf.predict_update(x, P, dt, q2, z, R, kf.workspace())
    np.testing.assert_allclose(x, np.ravel(post.state_vector)[inv], rtol=1e-10)
    np.testing.assert_allclose(P, np.asarray(post.covar)[np.ix_(inv, inv)], rtol=1e-8, atol=1e-8)
