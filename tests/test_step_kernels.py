"""The compiled passes of an engine step against the NumPy formulation they replace."""

from __future__ import annotations

import numpy as np
import pytest

from iadsim.sim import engagement as eng
from iadsim.sim import step_kernels as kern


def _reference_detections(det, alive, seen_det, first_det, fcr_seen_t, a, b, t):
    """The NumPy version: keep live threats, first detection of new pairs (np.unique), the
    most precise detection per pair (np.lexsort on trace then pair), FCR of any."""
    rows = np.arange(a, b)
    rows = rows[alive[det.threat[rows]]]
    site, thr, fcr = det.site[rows], det.threat[rows], det.from_fcr[rows]
    fcr_seen_t[site[fcr], thr[fcr]] = t
    key = site * seen_det.shape[1] + thr
    new = ~seen_det[site, thr]
    new_rows = np.zeros(0, np.int64)
    if new.any():
        _, i = np.unique(key[new], return_index=True)
        i = np.flatnonzero(new)[i]
        seen_det[site[i], thr[i]] = True
        first_det[thr[i]] = np.fmin(first_det[thr[i]], t)
        new_rows = rows[i]
    order = np.lexsort((det.trace_R[rows], key))
    _, first = np.unique(key[order], return_index=True)
    u = order[first]
    fcr_u = np.zeros(len(u), bool)
    np.logical_or.at(fcr_u, np.searchsorted(key[u], key), fcr)
    return rows, new_rows, rows[u], fcr_u


@pytest.mark.parametrize("seed", range(5))
def test_step_detections_matches_the_numpy_formulation(seed):
    rng = np.random.default_rng(seed)
    s, n, d = 4, 30, 200
    det = kern.Detections(
        site=rng.integers(0, s, d),
        threat=rng.integers(0, n, d),
        from_fcr=rng.random(d) < 0.4,
        trace_R=rng.integers(1, 4, d).astype(float),  # ties on purpose
    )
    alive = rng.random(n) < 0.8
    seen = rng.random((s, n)) < 0.3
    first = np.where(rng.random(n) < 0.5, np.nan, rng.random(n) * 5)
    fcr_t = np.full((s, n), -np.inf)
    ref_state = [a.copy() for a in (seen, first, fcr_t)]
    for a, b in ((0, 0), (0, 70), (70, 200)):
        t = float(b)
        got = kern.step_detections(det, kern.SiteState(alive, seen, first, fcr_t), a, b, t)
        want = _reference_detections(det, alive, *ref_state, a, b, t)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
        for g, w in zip((seen, first, fcr_t), ref_state, strict=True):
            np.testing.assert_array_equal(g, w)


def _reference_choose(f, n, reason, fcr_ok, t_ready, tgo, t, free, group, n_threats):
    reason = np.where((reason == 0) & ~fcr_ok, 2, reason)
    usable = (reason == 0) & (t >= t_ready)
    iu = np.flatnonzero(usable)
    take = np.zeros(len(f), bool)
    take[iu] = eng.pick_by_channel(f[iu], tgo[iu], free, group[f[iu]] * n_threats + n[iu])
    per_unit = np.bincount(f[take], minlength=len(free))
    no_chan = usable & ~take & (free[f] - per_unit[f] <= 0)
    return take, np.where(no_chan, 9, reason)


@pytest.mark.parametrize("seed", range(10))
def test_choose_engagements_is_pick_by_channel(seed):
    rng = np.random.default_rng(seed)
    units, threats, c = 6, 12, 60
    pairs = rng.choice(units * threats, c, replace=False)
    pairs.sort()  # candidates come by unit, then threat
    f, n = pairs // threats, pairs % threats
    reason = np.where(rng.random(c) < 0.7, 0, rng.integers(3, 8, c))
    fcr_ok = rng.random(c) < 0.9
    t_ready = rng.random(c) * 10
    tgo = rng.integers(5, 15, c).astype(float)  # ties on purpose
    free = rng.integers(-1, 4, units)
    group = np.array([0, 0, 0, 1, 2, 1])
    args = (f, n, reason, fcr_ok, t_ready, tgo, 5.0, free, group, threats)
    want_take, want_reason = _reference_choose(*args)
    got_reason = reason.copy()
    got = kern.choose_engagements(f, n, got_reason, *args[3:], 2, 9)
    np.testing.assert_array_equal(got, want_take)
    np.testing.assert_array_equal(got_reason, want_reason)


def test_first_reasons_records_each_reason_once_per_pair():
    seen = np.zeros((2, 3, 4), bool)
    f, n, code = np.array([0, 0, 1, 1]), np.array([0, 1, 2, 2]), np.array([1, 0, 3, 2])
    np.testing.assert_array_equal(kern.first_reasons(seen, f, n, code), [0, 2, 3])
    assert seen[0, 0, 1] and seen[1, 2, 3] and seen[1, 2, 2] and seen.sum() == 3
    np.testing.assert_array_equal(kern.first_reasons(seen, f, n, np.array([1, 2, 3, 1])), [1, 3])
