"""Radar horizon and sphere geometry against the closed forms in public-parameters.md §4.1."""

import numpy as np
import pytest

from iadsim.geo import earth

# (h_radar_m, h_target_m, exact_km, approx_4.12_km) from public-parameters.md §4.1
HORIZON_TABLE = [
    (10, 0, 13.03, 13.03),
    (10, 50, 42.18, 42.16),
    (10, 100, 54.25, 54.23),
    (30, 15, 38.54, 38.52),
    (10, 10_000, 425.2, 425.0),
    (25, 30_000, 734.5, 734.2),
]


@pytest.mark.parametrize("h1,h2,exact_km,approx_km", HORIZON_TABLE)
def test_horizon_range_matches_reference_table(h1, h2, exact_km, approx_km):
    # The table's "exact" column is sqrt(2kRh) summed; the tangent form differs by < 0.1 % at 30 km.
    assert earth.horizon_range_approx_m(h1, h2) / 1000 == pytest.approx(exact_km, abs=0.06)
    assert earth.horizon_range_m(h1, h2) / 1000 == pytest.approx(exact_km, rel=2e-3)
    four_twelve = 4.12 * (np.sqrt(h1) + np.sqrt(h2))
    assert four_twelve == pytest.approx(approx_km, abs=0.06)


def test_horizon_is_symmetric_monotonic_and_flat_earth_limit():
    h = np.linspace(0, 5000, 50)
    d = earth.horizon_range_m(h, 100.0)
    assert np.all(np.diff(d) > 0)
    assert earth.horizon_range_m(30, 15) == pytest.approx(earth.horizon_range_m(15, 30))
    assert earth.horizon_range_m(10, 0, k_factor=1e6) > 100 * earth.horizon_range_m(10, 0)


def test_min_visible_height_is_inverse_of_horizon():
    for h_r in (5.0, 25.0, 100.0):
        for h_t in (50.0, 1000.0, 10_000.0):
            d = earth.horizon_range_m(h_r, h_t)
            assert earth.min_visible_height_m(d, h_r) == pytest.approx(h_t, rel=1e-6)
    assert earth.min_visible_height_m(1000.0, 10.0) == 0.0


def test_slant_range_round_trip_and_flat_limit():
    g = np.array([1e3, 5e4, 3e5])
    s = earth.slant_range_m(g, 10.0, 8000.0)
    np.testing.assert_allclose(earth.ground_range_for_slant_m(s, 10.0, 8000.0), g, rtol=1e-7)
    # close range: Pythagoras
    assert earth.slant_range_m(3000.0, 0.0, 4000.0) == pytest.approx(5000.0, rel=1e-3)


def test_spherical_cap_area_small_radius_is_disc():
    s = 10_000.0
    assert earth.spherical_cap_area_m2(s) == pytest.approx(np.pi * s**2, rel=1e-6)
    assert earth.spherical_cap_area_m2(np.pi * earth.R_EARTH_M) == pytest.approx(
        4 * np.pi * earth.R_EARTH_M**2
    )
