"""The required eye altitude (:func:`iadsim.geo.los.required_eye_altitude`): the exact R3 sight
line solved for the observer's eye, against the exact reference raster at cell centres and
against an independent march with a bisection on the eye height at fractional positions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from iadsim.geo.earth import R_EARTH_M
from iadsim.geo.los import min_visible_height_exact, required_eye_altitude
from iadsim.geo.synthetic_dem import fractal_dem

CELL_M = 30.0
K = 4 / 3


@pytest.mark.parametrize("seed", [3, 11])
def test_eye_altitude_is_where_the_exact_reference_turns_visible(seed):
    """For targets at cell centres, an eye a centimetre above the required altitude sees the
    target by :func:`min_visible_height_exact`, a centimetre below does not."""
    dem = fractal_dem(121, seed) * 3.0  # relief of a few hundred metres
    obs = (60, 60)
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, 121, 400), rng.integers(0, 121, 400)
    ground = dem[rows, cols].astype(float)
    alt = ground + rng.choice([0.0, 5.0, 30.0, 200.0], 400)
    need = required_eye_altitude(dem, CELL_M, *obs, rows, cols, alt, K)
    z_obs = float(dem[obs])
    checked = 0
    for h in np.unique(np.round(need[np.isfinite(need)] - z_obs, 3)):
        for eye, visible in ((h + 0.01, True), (h - 0.01, False)):
            if eye < 0:
                continue
            H = min_visible_height_exact(dem, CELL_M, *obs, eye, K)
            sel = np.isclose(np.round(need - z_obs, 3), h)
            seen = alt[sel] >= H[rows[sel], cols[sel]]
            assert (seen == visible).all(), (h, eye)
            checked += int(sel.sum())
        if checked > 150:
            break
    assert checked > 100
    # no sample between observer and target blocks: visible from any eye above the ground
    clear = np.isneginf(need)
    if clear.any():
        H = min_visible_height_exact(dem, CELL_M, *obs, 0.0, K)
        assert (alt[clear] >= H[rows[clear], cols[clear]]).all()


def _visible_direct(dem, r0, c0, eye, tr, tc, h_t, cell, k_factor):
    """An independent sight-line test: every point where the line from the eye to (tr, tc)
    crosses a cell-centre row or column line is interpolated linearly between the two
    neighbouring centres and compared with the straight ray over the effective sphere."""
    a = k_factor * R_EARTH_M
    dr, dc = tr - r0, tc - c0
    dist = cell * math.hypot(dr, dc)
    ts = set()
    for n, _ in ((dr, "r"), (dc, "c")):
        for k in range(1, int(math.ceil(abs(n)))):
            ts.add((k / abs(n), _))
    for t, axis in ts:
        if axis == "r":
            row = r0 + int(math.copysign(1, dr)) * round(t * abs(dr))
            x = c0 + t * dc
            c = math.floor(x)
            z = dem[row, c] + (x - c) * (dem[row, c + 1] - dem[row, c]) if x > c else dem[row, c]
        else:
            col = c0 + int(math.copysign(1, dc)) * round(t * abs(dc))
            y = r0 + t * dr
            r = math.floor(y)
            z = dem[r, col] + (y - r) * (dem[r + 1, col] - dem[r, col]) if y > r else dem[r, col]
        d = t * dist
        # in the effective-Earth frame the terrain drops by d^2/2a and the target by D^2/2a
        # below the straight ray's plane
        if z - d * d / (2 * a) > eye + t * ((h_t - dist * dist / (2 * a)) - eye) + 1e-9:
            return False
    return True


def test_eye_altitude_matches_a_bisection_at_fractional_target_positions():
    dem = fractal_dem(81, 5).astype(float) * 2.0
    r0, c0 = 40, 40
    rng = np.random.default_rng(1)
    tr, tc = rng.uniform(2, 78, 60), rng.uniform(2, 78, 60)
    # targets 20 m above the higher of the four surrounding centres (never below the ground)
    fl_r, fl_c = np.floor(tr).astype(int), np.floor(tc).astype(int)
    top = np.maximum.reduce([dem[fl_r, fl_c], dem[fl_r + 1, fl_c], dem[fl_r, fl_c + 1],
                             dem[fl_r + 1, fl_c + 1]])  # fmt: skip
    alt = top + 20.0
    need = required_eye_altitude(dem, CELL_M, r0, c0, tr, tc, alt, K)
    for m in range(len(tr)):
        lo, hi = float(dem[r0, c0]) - 500.0, 1e7  # an eye 10,000 km up sees over any crest
        assert _visible_direct(dem, r0, c0, hi, tr[m], tc[m], alt[m], CELL_M, K)
        if _visible_direct(dem, r0, c0, lo, tr[m], tc[m], alt[m], CELL_M, K):
            assert need[m] <= lo + 1e-6
            continue
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if _visible_direct(dem, r0, c0, mid, tr[m], tc[m], alt[m], CELL_M, K):
                hi = mid
            else:
                lo = mid
        assert need[m] == pytest.approx(hi, abs=1e-6), m


def test_a_target_below_its_ground_is_never_seen_and_an_empty_line_never_blocks():
    dem = np.full((11, 11), 100.0, np.float32)
    dem[5, 8] = 400.0  # a tower between the observer (5, 5) and (5, 10)
    need = required_eye_altitude(
        dem, 100.0, 5, 5, [5, 5, 5, 6.5], [10, 6, 7, 5], [150, 150, 50, 100]
    )
    a = K * R_EARTH_M
    # over the tower at d = 300 m, target at 500 m: eye >= (400 - 0.3^2/2a - h'_t 0.6) / 0.4
    h_t = 150.0 - 500.0**2 / (2 * a)
    assert need[0] == pytest.approx((400.0 - 300.0**2 / (2 * a) - h_t * 0.6) / 0.4)
    assert np.isneginf(need[1])  # the neighbouring cell: nothing in between
    assert np.isposinf(need[2])  # 50 m is below the 100 m ground there
    # (6.5, 5): one row-line crossing, at row 6, t = 2/3 (d = 100 m of D = 150 m)
    h_t = 100.0 - 150.0**2 / (2 * a)
    assert need[3] == pytest.approx((100.0 - 100.0**2 / (2 * a) - h_t * 2 / 3) / (1 / 3))
