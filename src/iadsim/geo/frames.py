"""WGS84 frames: geodetic <-> ECEF, the local east-north-up (ENU) rotation, the height of an
ECEF point, and geodesic paths through waypoints.

Conversions (degrees, metres, heights above the WGS84 ellipsoid; ECEF arrays end in an axis
of 3):

* :func:`geodetic_to_ecef_m` and :func:`ecef_to_geodetic`: pymap3d (sites, radars, the
  simulation's predicted intercept points).
* :func:`ecef_and_velocity`: the closed form ``x = (N + h) cos(lat) cos(lon)``,
  ``y = (N + h) cos(lat) sin(lon)``, ``z = (N (1 - e^2) + h) sin(lat)``,
  ``N = a / sqrt(1 - e^2 sin^2 lat)``, with an ENU velocity rotated into ECEF using the same
  sines and cosines (threat trajectories, millions of samples). It agrees with
  :func:`geodetic_to_ecef_m` to ~3e-9 m, not bit for bit; the simulation's events depend on
  those last bits where each is used, so each keeps its use.
* :func:`geodetic_height_m`: a compiled (numba) height of an ECEF point, for kernels.
* :func:`geodetic_from_ecef_rad` and :func:`aeqd_xy_m`: compiled geodetic coordinates of an
  ECEF point and its position on a site-centred azimuthal-equidistant grid (the projection of
  :func:`iadsim.geo.dem.aeqd_crs`), for kernels that look points up in such a raster.

:class:`GeodesicPath` tabulates geodesic legs (pyproj ``Geod``) so that positions along a
route or a ballistic ground track come from ``np.interp``.
"""

from __future__ import annotations

import numba
import numpy as np
import pymap3d
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
WGS84_A_M = GEOD.a  #: semi-major axis (m)
WGS84_E2 = GEOD.es  #: first eccentricity squared


def geodetic_to_ecef_m(lat_deg, lon_deg, alt_m) -> np.ndarray:
    """Geodetic (degrees, metres above the ellipsoid) -> ECEF metres, shape (..., 3)."""
    return np.stack(pymap3d.geodetic2ecef(lat_deg, lon_deg, alt_m), -1)


def ecef_to_geodetic(x_m, y_m, z_m):
    """ECEF metres -> ``(lat_deg, lon_deg, alt_m)`` above the WGS84 ellipsoid (pymap3d's
    closed form, You 2000: no iteration)."""
    return pymap3d.ecef2geodetic(x_m, y_m, z_m)


def ecef_and_velocity(lat_deg, lon_deg, alt_m, v_east=None, v_north=None, v_up=None):
    """ECEF position (..., 3) and, given the east, north and up velocity components, the
    velocity rotated into ECEF (..., 3), else None; the two share the trigonometry."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    n = WGS84_A_M / np.sqrt(1 - WGS84_E2 * sl * sl)
    h = np.asarray(alt_m, float)
    pos = np.stack([(n + h) * cl * co, (n + h) * cl * so, (n * (1 - WGS84_E2) + h) * sl], axis=-1)
    if v_east is None:
        return pos, None
    vel = np.stack(
        [
            -so * v_east - sl * co * v_north + cl * co * v_up,
            co * v_east - sl * so * v_north + cl * so * v_up,
            cl * v_north + sl * v_up,
        ],
        axis=-1,
    )
    return pos, vel


def enu_rotation(lat_deg, lon_deg) -> np.ndarray:
    """Rows are the east, north, up unit vectors in ECEF: ``enu = C @ (x_ecef - origin)``."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    sla, cla, slo, clo = np.sin(la), np.cos(la), np.sin(lo), np.cos(lo)
    z = np.zeros_like(la)
    return np.stack(
        [
            np.stack([-slo, clo, z], -1),
            np.stack([-sla * clo, -sla * slo, cla], -1),
            np.stack([cla * clo, cla * slo, sla], -1),
        ],
        -2,
    )


# the WGS84 defining values as tabulated (NIMA TR8350.2: e^2 = 6.69437999014e-3), for the
# compiled height below
_A, _E2 = 6378137.0, 6.69437999014e-3
_B = _A * np.sqrt(1 - _E2)
#: (a, b) semi-axes in metres of those values, for other compiled kernels that measure heights
#: as :func:`geodetic_height_m` does
WGS84_SEMI_AXES_M = (_A, float(_B))


@numba.njit(cache=True)
def geodetic_height_m(x, y, z):
    """Height of an ECEF point above the WGS84 ellipsoid, measured along the geocentric
    radius: ``|p| - a b / sqrt(b^2 cos^2(psi) + a^2 sin^2(psi))`` with psi the geocentric
    latitude. Exact on the surface; the difference from the normal (geodetic) height grows as
    about h * delta^2 / 2 with delta <= 0.19 deg the angle between radius and normal: under
    0.2 m at 30 km, 2 m at 300 km. No trigonometry, so it is cheap in the inner loop."""
    r2 = x * x + y * y + z * z
    r = np.sqrt(r2)
    s2 = z * z / r2
    return r - _A * _B / np.sqrt(_B * _B * (1 - s2) + _A * _A * s2)


_F = 1.0 - np.sqrt(1.0 - _E2)  # flattening from e^2 (1 / 298.257223563)


@numba.njit(cache=True)
def geodetic_from_ecef_rad(x, y, z):
    """Geodetic latitude and longitude (radians) and height above the WGS84 ellipsoid (m) of
    an ECEF point, in closed form (Heikkinen 1982, as given by J. Zhu, "Conversion of
    Earth-centered Earth-fixed coordinates to geodetic coordinates", IEEE Trans. Aerospace
    and Electronic Systems 30(3), 1994, https://doi.org/10.1109/7.303772; no iteration,
    exact to well under a millimetre from the ground to satellite heights). ``lon = atan2(y,
    x)``. Not for points within ~45 km of the Earth's centre."""
    a, e2 = _A, _E2
    b = _B
    a2, b2 = a * a, b * b
    ep2 = (a2 - b2) / b2
    p2 = x * x + y * y
    p = np.sqrt(p2)
    z2 = z * z
    f = 54.0 * b2 * z2
    g = p2 + (1.0 - e2) * z2 - e2 * (a2 - b2)
    c = e2 * e2 * f * p2 / (g * g * g)
    s = np.cbrt(1.0 + c + np.sqrt(c * c + 2.0 * c))
    k = s + 1.0 + 1.0 / s
    pp = f / (3.0 * k * k * g * g)
    q = np.sqrt(1.0 + 2.0 * e2 * e2 * pp)
    r0 = -(pp * e2 * p) / (1.0 + q) + np.sqrt(
        max(0.5 * a2 * (1.0 + 1.0 / q) - pp * (1.0 - e2) * z2 / (q * (1.0 + q)) - 0.5 * pp * p2,
            0.0)
    )  # fmt: skip
    t = p - e2 * r0
    u = np.sqrt(t * t + z2)
    v = np.sqrt(t * t + (1.0 - e2) * z2)
    z0 = b2 * z / (a * v)
    h = u * (1.0 - b2 / (a * v))
    lat = np.arctan2(z + ep2 * z0, p)
    return lat, np.arctan2(y, x), h


@numba.njit(cache=True)
def geodesic_inverse_m(lat1, lon1, lat2, lon2):
    """Geodesic distance (m) and forward azimuth at point 1 (radians clockwise from north)
    between two points on the WGS84 ellipsoid (radians): Vincenty's inverse formula
    (T. Vincenty, "Direct and inverse solutions of geodesics on the ellipsoid", Survey Review
    23(176), 1975, https://www.ngs.noaa.gov/PUBS_LIB/inverse.pdf), iterated on the auxiliary
    longitude until it changes by < 1e-12 rad (sub-millimetre; not for near-antipodal
    points, where it may not converge). Coincident points give (0, 0)."""
    a, f = _A, _F
    b = a * (1.0 - f)
    u1 = np.arctan((1.0 - f) * np.tan(lat1))
    u2 = np.arctan((1.0 - f) * np.tan(lat2))
    su1, cu1, su2, cu2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    dl = lon2 - lon1
    lam = dl
    sin_sig = cos_sig = sig = cos2a = cos2sm = 0.0
    for _ in range(200):
        sl, cl = np.sin(lam), np.cos(lam)
        sin_sig = np.sqrt((cu2 * sl) ** 2 + (cu1 * su2 - su1 * cu2 * cl) ** 2)
        if sin_sig == 0.0:
            return 0.0, 0.0
        cos_sig = su1 * su2 + cu1 * cu2 * cl
        sig = np.arctan2(sin_sig, cos_sig)
        sin_a = cu1 * cu2 * sl / sin_sig
        cos2a = 1.0 - sin_a * sin_a
        cos2sm = cos_sig - 2.0 * su1 * su2 / cos2a if cos2a != 0.0 else 0.0
        c = f / 16.0 * cos2a * (4.0 + f * (4.0 - 3.0 * cos2a))
        prev = lam
        lam = dl + (1.0 - c) * f * sin_a * (
            sig + c * sin_sig * (cos2sm + c * cos_sig * (-1.0 + 2.0 * cos2sm * cos2sm))
        )
        if abs(lam - prev) < 1e-12:
            break
    usq = cos2a * (a * a - b * b) / (b * b)
    k1 = usq / 1024.0
    aa = 1.0 + usq / 16384.0 * (4096.0 + usq * (-768.0 + usq * (320.0 - 175.0 * usq)))
    bb = k1 * (256.0 + usq * (-128.0 + usq * (74.0 - 47.0 * usq)))
    dsig = bb * sin_sig * (
        cos2sm
        + bb / 4.0 * (cos_sig * (-1.0 + 2.0 * cos2sm * cos2sm)
                      - bb / 6.0 * cos2sm * (-3.0 + 4.0 * sin_sig * sin_sig)
                      * (-3.0 + 4.0 * cos2sm * cos2sm))
    )  # fmt: skip
    s = b * aa * (sig - dsig)
    sl, cl = np.sin(lam), np.cos(lam)
    az = np.arctan2(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
    return s, az


@numba.njit(cache=True)
def aeqd_xy_m(lat0, lon0, lat, lon):
    """Position (x east, y north; m) of (lat, lon) on the azimuthal-equidistant projection
    centred on (lat0, lon0), all radians, WGS84: ``x = s sin(az)``, ``y = s cos(az)`` with s and
    az the geodesic distance and azimuth from the centre, as PROJ's ellipsoidal ``aeqd``
    computes them (:func:`iadsim.geo.dem.aeqd_crs`; :func:`geodesic_inverse_m`)."""
    s, az = geodesic_inverse_m(lat0, lon0, lat, lon)
    return s * np.sin(az), s * np.cos(az)


class GeodesicPath:
    """Geodesic legs through waypoints, tabulated every <= ``max_step_m`` so any number of
    positions along it come from ``np.interp`` (linear interpolation over <= 1 km of a
    geodesic is exact to well under a metre)."""

    def __init__(self, lats_deg, lons_deg, max_step_m: float = 1_000.0):
        lats, lons = np.asarray(lats_deg, float), np.asarray(lons_deg, float)
        az12, _, dist = GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
        dist = np.atleast_1d(dist)
        self.leg_length_m = dist
        self.waypoint_s_m = np.concatenate([[0.0], np.cumsum(dist)])
        s_all, lat_all, lon_all, az_all = [], [], [], []
        for k, (a, d) in enumerate(zip(np.atleast_1d(az12), dist, strict=True)):
            n = max(1, int(np.ceil(d / max_step_m)))
            dk = np.linspace(0.0, d, n + 1)[(1 if k else 0) :]
            lon2, lat2, back = GEOD.fwd(
                np.full(dk.size, lons[k]), np.full(dk.size, lats[k]), np.full(dk.size, a), dk
            )
            s_all.append(self.waypoint_s_m[k] + dk)
            lat_all.append(lat2)
            lon_all.append(lon2)
            az_all.append(np.radians(np.asarray(back) + 180.0))  # forward azimuth there
        self._s = np.concatenate(s_all)
        self._lat = np.concatenate(lat_all)
        self._lon = np.degrees(np.unwrap(np.radians(np.concatenate(lon_all))))
        az = np.concatenate(az_all)
        self._sin_az, self._cos_az = np.sin(az), np.cos(az)

    @property
    def length_m(self) -> float:
        return float(self.waypoint_s_m[-1])

    def at(self, s_m):
        """(lat_deg, lon_deg, sin(azimuth), cos(azimuth)) at distances ``s_m`` along the path."""
        s = np.clip(s_m, 0.0, self.length_m)
        lat = np.interp(s, self._s, self._lat)
        lon = (np.interp(s, self._s, self._lon) + 180.0) % 360.0 - 180.0
        sa, ca = np.interp(s, self._s, self._sin_az), np.interp(s, self._s, self._cos_az)
        norm = np.hypot(sa, ca)
        return lat, lon, sa / norm, ca / norm
