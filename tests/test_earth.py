"""Radar horizon and sphere geometry (array and compiled forms) against closed forms and a
table of 4/3-Earth horizon ranges, d = sqrt(2 k R_E h1) + sqrt(2 k R_E h2) exactly and in the
d[km] = 4.12 (sqrt(h1[m]) + sqrt(h2[m])) form of Federal Standard 1037C ("radar line-of-sight
equation")."""

import numpy as np
import pytest

from iadsim.geo import earth

# (h_radar_m, h_target_m, exact_km, approx_4.12_km): k = 4/3, R_E = 6371 km
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


A_M = 4 / 3 * earth.R_EARTH_M  # the standard effective radius k R_E


@pytest.mark.parametrize("h1,h2,exact_km,approx_km", HORIZON_TABLE)
def test_compiled_horizon_distance_matches_reference_table(h1, h2, exact_km, approx_km):
    d = earth.horizon_distance_m(float(h1), A_M) + earth.horizon_distance_m(float(h2), A_M)
    assert d / 1000 == pytest.approx(exact_km, rel=2e-3)
    assert d == pytest.approx(float(earth.horizon_range_m(h1, h2)), rel=1e-12)


def test_compiled_horizon_distance_is_sqrt_2kRh_for_low_heights_and_zero_below_ground():
    for h in (1.0, 10.0, 100.0, 1000.0):
        # a arccos(a / (a + h)) = sqrt(2 a h) (1 - 5 h / (12 a) + O(h^2)): 5e-5 below at 1 km
        ratio = earth.horizon_distance_m(h, A_M) / np.sqrt(2 * A_M * h)
        assert ratio - 1 == pytest.approx(-5 * h / (12 * A_M), rel=1e-2)
    assert earth.horizon_distance_m(0.0, A_M) == 0.0
    assert earth.horizon_distance_m(-50.0, A_M) == 0.0  # below the datum: no horizon gain


def test_compiled_refracted_elevation_closed_forms():
    h = 30.0
    # the tangent ray dips below the local horizontal by arccos(a / (a + h)) at the horizon
    d1 = earth.horizon_distance_m(h, A_M)
    assert earth.refracted_elevation_rad(d1, h, 0.0, A_M) == pytest.approx(
        -np.arccos(A_M / (A_M + h)), rel=1e-9
    )
    # close range: the flat-Earth slope less the curvature drop, tan(e) ~ (h2 - h1 - d^2 / 2a) / d
    d, h2 = 20e3, 2000.0
    assert earth.refracted_elevation_rad(d, h, h2, A_M) == pytest.approx(
        np.arctan((h2 - h - d**2 / (2 * A_M)) / d), rel=1e-3
    )
    assert earth.refracted_elevation_rad(0.0, h, 1000.0, A_M) == pytest.approx(np.pi / 2)


def test_compiled_forms_agree_with_the_array_forms():
    rng = np.random.default_rng(3)
    d = rng.uniform(0, 600e3, 300)
    h1, h2 = rng.uniform(0, 100, 300), rng.uniform(-50, 30e3, 300)
    el = [earth.refracted_elevation_rad(*x, A_M) for x in zip(d, h1, h2, strict=True)]
    np.testing.assert_allclose(
        el, earth.elevation_angle_rad(d, h1, h2, A_M), rtol=1e-12, atol=1e-15
    )
    hz = [earth.horizon_distance_m(x, A_M) for x in h2]
    np.testing.assert_allclose(hz, earth.horizon_range_m(h2, 0.0), rtol=1e-12)


def test_compiled_forms_are_callable_from_a_kernel():
    numba = pytest.importorskip("numba")

    @numba.njit
    def kernel(d, h1, h2, a):
        return earth.horizon_distance_m(h1, a), earth.refracted_elevation_rad(d, h1, h2, a)

    assert kernel(50e3, 10.0, 3000.0, A_M) == (
        earth.horizon_distance_m(10.0, A_M),
        earth.refracted_elevation_rad(50e3, 10.0, 3000.0, A_M),
    )


def test_altitude_at_elevation_inverts_the_refracted_elevation():
    d = np.array([1e3, 30e3, 150e3, 400e3])
    h_obs, h_t = 25.0, np.array([50.0, 2000.0, 9000.0, 12000.0])
    el_deg = np.degrees(earth.elevation_angle_rad(d, h_obs, h_t, A_M))
    back = earth.altitude_at_elevation_m(d, h_obs, el_deg, A_M)
    np.testing.assert_allclose(back, h_t, rtol=1e-9)
    # a ray climbing at 80 deg never gets 400 km out before leaving (den <= 0): +inf
    assert earth.altitude_at_elevation_m(2000e3, h_obs, 80.0, A_M) == np.inf


def test_altitude_at_slant_lies_on_the_range_circle():
    d = np.linspace(1e3, 300e3, 7)
    h = earth.altitude_at_slant_m(d, 10.0, 350e3)
    np.testing.assert_allclose(earth.slant_range_m(d, 10.0, h), 350e3, rtol=1e-10)
    # flat limit: sqrt(S^2 - d^2) + h_obs close in
    assert earth.altitude_at_slant_m(3000.0, 0.0, 5000.0) == pytest.approx(4000.0, rel=1e-3)
    assert np.isnan(earth.altitude_at_slant_m(400e3, 10.0, 350e3))  # beyond the circle
