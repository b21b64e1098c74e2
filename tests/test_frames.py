"""WGS84 frames (iadsim.geo.frames) against pymap3d and pyproj, and against their own
definitions: inverse round trips, orthonormal ENU axes, velocity as the time derivative of
position."""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest
from pyproj import Geod, Transformer

from iadsim.geo.dem import aeqd_crs
from iadsim.geo.frames import (
    aeqd_xy_m,
    ecef_and_velocity,
    ecef_to_geodetic,
    enu_rotation,
    geodesic_inverse_m,
    geodetic_from_ecef_rad,
    geodetic_height_m,
    geodetic_to_ecef_m,
)

RNG = np.random.default_rng(1)
LAT, LON = RNG.uniform(-89, 89, 200), RNG.uniform(-180, 180, 200)
ALT = RNG.uniform(-100, 500e3, 200)


def test_geodetic_to_ecef_matches_pyproj_geocentric():
    to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    ref = np.stack(to_ecef.transform(LON, LAT, ALT), -1)
    np.testing.assert_allclose(geodetic_to_ecef_m(LAT, LON, ALT), ref, rtol=0, atol=1e-6)


def test_trajectory_form_agrees_with_geodetic_to_ecef():
    pos, vel = ecef_and_velocity(LAT, LON, ALT)
    assert vel is None
    np.testing.assert_allclose(pos, geodetic_to_ecef_m(LAT, LON, ALT), rtol=0, atol=1e-6)


def test_ecef_to_geodetic_inverts_geodetic_to_ecef():
    lat, lon, alt = ecef_to_geodetic(*np.moveaxis(geodetic_to_ecef_m(LAT, LON, ALT), -1, 0))
    # pymap3d's closed form (You 2000) is exact to ~1 mm up to 500 km
    np.testing.assert_allclose(lat, LAT, rtol=0, atol=1e-8)
    np.testing.assert_allclose(lon, LON, rtol=0, atol=1e-9)
    np.testing.assert_allclose(alt, ALT, rtol=0, atol=1e-3)


def test_enu_rows_are_orthonormal_and_up_is_the_ellipsoid_normal():
    c = enu_rotation(LAT, LON)
    assert c.shape == (200, 3, 3)
    identity = np.broadcast_to(np.eye(3), c.shape)
    np.testing.assert_allclose(c @ np.swapaxes(c, 1, 2), identity, atol=1e-12)
    # up: the direction in which the geodetic height grows at fixed latitude and longitude
    up = geodetic_to_ecef_m(LAT, LON, ALT + 1.0) - geodetic_to_ecef_m(LAT, LON, ALT)
    np.testing.assert_allclose(c[:, 2], up, atol=1e-6)
    # east: pymap3d's ENU of a point 1 m east is (1, 0, 0)
    e, n, u = pymap3d.ecef2enu(*(geodetic_to_ecef_m(LAT, LON, ALT) + c[:, 0]).T, LAT, LON, ALT)
    np.testing.assert_allclose(np.stack([e, n, u], -1), np.tile([1.0, 0, 0], (200, 1)), atol=1e-6)


def test_velocity_is_the_derivative_of_position():
    # a point moving at (ve, vn, vu) m/s in its local frame, differenced over 1 ms: degrees
    # per metre from the meridian (M) and prime-vertical (N) radii of curvature
    ve, vn, vu = RNG.uniform(-300, 300, (3, 200))
    dt = 1e-3
    pos, vel = ecef_and_velocity(LAT, LON, ALT, ve, vn, vu)
    a_m, e2 = Geod(ellps="WGS84").a, Geod(ellps="WGS84").es
    w = 1 - e2 * np.sin(np.radians(LAT)) ** 2
    m_m, n_m = a_m * (1 - e2) / w**1.5, a_m / np.sqrt(w)
    dlat = np.degrees(vn * dt / (m_m + ALT))
    dlon = np.degrees(ve * dt / ((n_m + ALT) * np.cos(np.radians(LAT))))
    later, _ = ecef_and_velocity(LAT + dlat, LON + dlon, ALT + vu * dt)
    np.testing.assert_allclose((later - pos) / dt, vel, rtol=0, atol=1e-3)
    # and it is the ENU vector rotated by the transpose of enu_rotation
    enu = np.stack([ve, vn, vu], -1)[..., None]
    np.testing.assert_allclose(
        vel, (np.swapaxes(enu_rotation(LAT, LON), 1, 2) @ enu)[..., 0], rtol=0, atol=1e-9
    )


@pytest.mark.parametrize("h_m, tol_m", [(0.0, 1e-6), (50.0, 1e-3), (30e3, 0.2), (300e3, 2.0)])
def test_geodetic_height_of_ecef_points_within_its_documented_bound(h_m, tol_m):
    x, y, z = geodetic_to_ecef_m(LAT, LON, np.full(200, h_m)).T
    got = np.array([geodetic_height_m(a, b, c) for a, b, c in zip(x, y, z, strict=True)])
    assert np.abs(got - h_m).max() < tol_m


def test_compiled_geodetic_coordinates_match_pymap3d():
    x, y, z = pymap3d.geodetic2ecef(LAT, LON, ALT)
    got = np.array([geodetic_from_ecef_rad(*p) for p in zip(x, y, z, strict=True)])
    np.testing.assert_allclose(np.degrees(got[:, 0]), LAT, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.degrees(got[:, 1]), LON, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got[:, 2], ALT, rtol=0, atol=1e-6)


def test_compiled_geodesic_and_aeqd_match_pyproj():
    geod = Geod(ellps="WGS84")
    lat0, lon0 = 39.9, 32.8
    lat, lon = lat0 + RNG.uniform(-8, 8, 300), lon0 + RNG.uniform(-10, 10, 300)
    az, _, s = geod.inv(np.full(300, lon0), np.full(300, lat0), lon, lat)
    to_xy = Transformer.from_crs("EPSG:4326", aeqd_crs(lat0, lon0), always_xy=True)
    x_ref, y_ref = to_xy.transform(lon, lat)
    r0 = np.radians([lat0, lon0])
    for k in range(300):
        p = np.radians([lat[k], lon[k]])
        s_k, az_k = geodesic_inverse_m(r0[0], r0[1], p[0], p[1])
        assert s_k == pytest.approx(s[k], abs=1e-4)
        assert np.degrees(az_k) == pytest.approx(az[k], abs=1e-8)
        x, y = aeqd_xy_m(r0[0], r0[1], p[0], p[1])
        assert (x, y) == pytest.approx((x_ref[k], y_ref[k]), abs=1e-4)
    assert aeqd_xy_m(r0[0], r0[1], r0[0], r0[1]) == (0.0, 0.0)
