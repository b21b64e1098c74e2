"""visible_mask (threshold in the kernel, several observers in one call) against the exact
per-cell line of sight (R3) and against the minimum-visible-height raster."""

from __future__ import annotations

import numpy as np
import pytest

from iadsim.errors import InputError
from iadsim.geo.los import min_visible_height, min_visible_height_exact, visible_mask
from iadsim.geo.synthetic_dem import fractal_dem

CELL_M = 30.0
N = 301


def _observers(dem):
    """The highest peak and the lowest cell of the central quarter (a valley)."""
    q = dem.shape[0] // 4
    centre = dem[q:-q, q:-q]
    r, c = np.unravel_index(np.argmin(centre), centre.shape)
    return {"peak": np.unravel_index(np.argmax(dem), dem.shape), "valley": (r + q, c + q)}


@pytest.fixture(scope="module")
def dems():
    return {seed: fractal_dem(N, seed) for seed in (3, 11)}


@pytest.mark.parametrize("seed", [3, 11])
@pytest.mark.parametrize("where", ["valley", "peak"])
@pytest.mark.parametrize("agl_m", [0.0, 30.0, 100.0])
def test_mask_agrees_with_exact_line_of_sight(dems, seed, where, agl_m):
    dem = dems[seed]
    obs = _observers(dem)[where]
    exact = min_visible_height_exact(dem, CELL_M, *obs, 10.0)
    truth = dem + agl_m >= exact
    got = visible_mask(dem, CELL_M, [obs], 10.0, agl_m)
    assert got.dtype == np.uint8 and set(np.unique(got)) <= {0, 1}
    agreement = np.mean((got == 1) == truth)
    assert agreement >= 0.999, f"{agreement:.5f} of cells agree"
    assert 0.0 < truth.mean() < 1.0  # the case is not trivial


def test_mask_is_the_thresholded_raster_away_from_the_limit(dems):
    # where the raster's value is far from the target altitude, both must give the same verdict
    dem = dems[3]
    obs = _observers(dem)["peak"]
    h = min_visible_height(dem, CELL_M, *obs, 10.0)
    got = visible_mask(dem, CELL_M, [obs], 10.0, 100.0, visible_value=255)
    far = np.abs(dem + 100.0 - h) > 30.0
    np.testing.assert_array_equal((got == 255)[far], (dem + 100.0 >= h)[far])
    assert far.mean() > 0.8


def test_several_observers_give_the_union_of_single_runs():
    import numba

    dem = fractal_dem(200, 7)[:, :170]
    sites = [(10, 10), (100, 85), (190, 160), (50, 150)]
    heights = [10.0, 25.0, 5.0, 40.0]
    single = np.zeros(dem.shape, bool)
    for s, h in zip(sites, heights, strict=True):
        single |= visible_mask(dem, CELL_M, [s], h, 50.0, max_range_m=60 * CELL_M) == 1
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = visible_mask(dem, CELL_M, sites, heights, 50.0, max_range_m=60 * CELL_M)
    finally:
        numba.set_num_threads(before)
    two = visible_mask(dem, CELL_M, sites, heights, 50.0, max_range_m=60 * CELL_M)
    np.testing.assert_array_equal(one == 1, single)
    np.testing.assert_array_equal(two == 1, single)


def test_range_limit_and_nodata_are_not_visible():
    dem = fractal_dem(101, 5)
    dem[20:25, 70:80] = np.nan
    got = visible_mask(dem, CELL_M, [(50, 50)], 10.0, 100.0, max_range_m=40 * CELL_M)
    rows, cols = np.indices(dem.shape)
    beyond = np.hypot(rows - 50, cols - 50) > 40
    assert not got[beyond].any()
    assert not got[20:25, 70:80].any()
    exact = min_visible_height_exact(dem, CELL_M, 50, 50, 10.0, max_range_m=40 * CELL_M)
    inside = ~beyond & np.isfinite(dem)
    agree = (got == 1) == (dem + 100.0 >= exact)
    assert agree[inside].mean() >= 0.999


def test_flat_ground_is_all_visible_and_the_observer_cell_is_set():
    dem = np.zeros((40, 50), np.float32)
    got = visible_mask(dem, CELL_M, [(0, 0)], 10.0, 0.0, visible_value=7)
    assert (got == 7).all()


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(target_height_m=-1.0), "target_height_m"),
        (dict(visible_value=0), "visible_value"),
        (dict(ray_density=0.0), "ray_density"),
        (dict(observers=[(5, 64)]), "outside the DEM"),
    ],
)
def test_bad_mask_arguments_are_rejected(bad, match):
    args = dict(observers=[(4, 4)], target_height_m=10.0) | bad
    obs, tgt = args.pop("observers"), args.pop("target_height_m")
    with pytest.raises(InputError, match=match):
        visible_mask(np.zeros((64, 64), np.float32), CELL_M, obs, 10.0, tgt, **args)
