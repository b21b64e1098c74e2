"""WGS84 frames (iadsim.geo.frames) against pymap3d and pyproj, and against their own
definitions: inverse round trips, orthonormal ENU axes, velocity as the time derivative of
position."""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest
from pyproj import Geod, Transformer

from iadsim.geo.frames import (
    ecef_and_velocity,
    ecef_to_geodetic,
    enu_rotation,
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
