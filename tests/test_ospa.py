"""OSPA metric against a brute-force permutation implementation and closed cases."""

from itertools import permutations

import numpy as np
import pytest

from iadsim.errors import InputError
from iadsim.sim.ospa import ospa, ospa_components, ospa_series


def ospa_brute_force(X, Y, c, p):
    """Schuhmacher et al. 2008 eq. (3) by enumerating every injection of the smaller set."""
    X, Y = np.asarray(X, float), np.asarray(Y, float)
    if len(X) > len(Y):
        X, Y = Y, X
    m, n = len(X), len(Y)
    if n == 0:
        return 0.0
    best = np.inf
    for perm in permutations(range(n), m):
        s = sum(min(c, float(np.linalg.norm(X[i] - Y[j]))) ** p for i, j in enumerate(perm))
        best = min(best, s)
    return ((best + c**p * (n - m)) / n) ** (1 / p)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.5])
def test_ospa_matches_brute_force_permutations_on_small_random_sets(p):
    rng = np.random.default_rng(7)
    for _ in range(60):
        m, n = rng.integers(0, 6, size=2)
        dim = int(rng.integers(1, 4))
        X = rng.uniform(0, 300, (m, dim))
        Y = rng.uniform(0, 300, (n, dim))
        assert ospa(X, Y, c=100.0, p=p) == pytest.approx(
            ospa_brute_force(X, Y, 100.0, p), rel=1e-12
        )


def test_ospa_of_a_set_with_itself_in_any_order_is_zero():
    X = np.random.default_rng(1).normal(0, 1000, (8, 3))
    assert ospa(X, X[::-1], c=50.0) == pytest.approx(0.0, abs=1e-9)


def test_ospa_one_missing_estimate_costs_c_over_n_to_the_one_over_p():
    X = np.random.default_rng(2).normal(0, 1000, (5, 2))
    for p in (1.0, 2.0):
        # (1/n * c^p * 1)^(1/p) with n = 5 and c = 100
        assert ospa(X, X[:4], c=100.0, p=p) == pytest.approx((100.0**p / 5) ** (1 / p))


def test_ospa_empty_sets_and_far_sets_hit_the_cut_off():
    X = np.array([[0.0, 0.0], [10.0, 0.0]])
    assert ospa(np.empty((0, 2)), np.empty((0, 2)), c=30.0) == 0.0
    assert ospa(X, np.empty((0, 2)), c=30.0) == 30.0
    assert ospa(np.empty((0, 2)), X, c=30.0) == 30.0
    assert ospa(X, X + 1e6, c=30.0) == pytest.approx(30.0)


def test_ospa_single_pair_is_the_distance_below_the_cut_off():
    assert ospa([[0.0, 0.0]], [[3.0, 4.0]], c=100.0, p=2) == pytest.approx(5.0)


def test_ospa_components_split_localisation_and_cardinality():
    X = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]])
    Y = np.array([[0.0, 6.0], [100.0, 0.0]])
    total, loc, card = ospa_components(X, Y, c=40.0, p=2)
    assert loc == pytest.approx(np.sqrt(36.0 / 3))
    assert card == pytest.approx(np.sqrt(40.0**2 / 3))
    assert total**2 == pytest.approx(loc**2 + card**2)


def ospa_inf_brute_force(X, Y, c):
    """Schuhmacher et al. 2008 eq. (4): min over injections of the worst cut-off error when the
    cardinalities agree, c when they differ; also that worst error for unequal sets."""
    X, Y = np.asarray(X, float), np.asarray(Y, float)
    if len(X) > len(Y):
        X, Y = Y, X
    m, n = len(X), len(Y)
    if n == 0:
        return 0.0, 0.0
    if m == 0:
        return float(c), 0.0
    best = min(
        max(min(c, float(np.linalg.norm(X[i] - Y[j]))) for i, j in enumerate(perm))
        for perm in permutations(range(n), m)
    )
    return (best if m == n else float(c)), best


def _lowest_total_worst(X, Y, c):
    """The worst error of the lowest-total assignment (what p = inf must NOT return)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    D = np.minimum(cdist(X, Y), c)
    r, k = linear_sum_assignment(D)
    return float(D[r, k].max())


def test_ospa_p_infinity_minimises_the_worst_error_not_the_total():
    # matched errors (0, 10) have the lowest total (10 < 12) but the worst error is 6 under the
    # other assignment (6, 6): x2 = (6, 0), y2 on the circle of radius 6 at 10 from x2
    theta = np.arccos(-28 / 72)
    X = np.array([[0.0, 0.0], [6.0, 0.0]])
    Y = np.array([[0.0, 0.0], [6 * np.cos(theta), 6 * np.sin(theta)]])
    assert _lowest_total_worst(X, Y, 20.0) == pytest.approx(10.0)
    assert ospa(X, Y, c=20.0, p=np.inf) == pytest.approx(6.0)
    total, loc, card = ospa_components(X, Y[::-1], c=20.0, p=np.inf)
    assert (total, loc, card) == pytest.approx((6.0, 6.0, 0.0))
    # with one more estimate the distance is c, the localisation still the bottleneck value
    total, loc, card = ospa_components(X, np.vstack([Y, [[500.0, 0.0]]]), c=20.0, p=np.inf)
    assert (total, loc, card) == pytest.approx((20.0, 6.0, 20.0))


def test_ospa_p_infinity_matches_brute_force_on_small_random_sets():
    rng = np.random.default_rng(11)
    differs = 0
    for trial in range(300):
        if trial % 2:
            m = n = int(rng.integers(1, 7))
        else:
            m, n = (int(v) for v in rng.integers(0, 7, size=2))
        dim = int(rng.integers(1, 4))
        X = rng.uniform(0, 300, (m, dim))
        Y = rng.uniform(0, 300, (n, dim))
        c = float(rng.choice([60.0, 150.0, 1e4]))
        want_total, want_loc = ospa_inf_brute_force(X, Y, c)
        total, loc, card = ospa_components(X, Y, c=c, p=np.inf)
        assert total == pytest.approx(want_total, rel=1e-12)
        if m and n:
            assert loc == pytest.approx(want_loc, rel=1e-12)
            assert card == (0.0 if m == n else c)
            small, big = (X, Y) if m <= n else (Y, X)
            differs += _lowest_total_worst(small, big, c) > want_loc + 1e-9
    assert differs > 10  # the sets do tell the bottleneck from the lowest-total assignment


def test_ospa_p_infinity_is_worst_match_or_cut_off():
    X = np.array([[0.0, 0.0], [100.0, 0.0]])
    assert ospa(X, X + [3.0, 4.0], c=50.0, p=np.inf) == pytest.approx(5.0)
    assert ospa(X, X[:1], c=50.0, p=np.inf) == 50.0


def test_ospa_series_is_per_scan_ospa():
    rng = np.random.default_rng(3)
    truths = [rng.normal(0, 50, (k, 2)) for k in (0, 3, 4)]
    ests = [rng.normal(0, 50, (k, 2)) for k in (2, 3, 0)]
    expected = [ospa_brute_force(t, e, 20.0, 1.0) for t, e in zip(truths, ests, strict=True)]
    np.testing.assert_allclose(ospa_series(truths, ests, c=20.0), expected, rtol=1e-12)


def test_ospa_rejects_bad_cut_off_or_order():
    with pytest.raises(InputError):
        ospa([[0.0]], [[1.0]], c=0.0)
    with pytest.raises(InputError):
        ospa([[0.0]], [[1.0]], c=1.0, p=0.5)


def test_ospa_agrees_with_stone_soup_ospa_metric():
    pytest.importorskip("stonesoup")
    from datetime import datetime

    from stonesoup.metricgenerator.ospametric import OSPAMetric
    from stonesoup.types.state import State

    rng = np.random.default_rng(4)
    X, Y = rng.uniform(0, 300, (6, 2)), rng.uniform(0, 300, (4, 2))
    t = datetime(2026, 1, 1)
    metric = OSPAMetric(c=100.0, p=1.0)
    peer = metric.compute_OSPA_distance(
        [State(y.reshape(-1, 1), timestamp=t) for y in Y],
        [State(x.reshape(-1, 1), timestamp=t) for x in X],
    ).value
    assert ospa(X, Y, c=100.0, p=1.0) == pytest.approx(peer, rel=1e-12)
