"""Earth constants, the effective-Earth radar horizon and the geometry of sight lines over a
sphere.

Refraction is modelled by the standard effective-Earth-radius method: rays travel in straight
lines over a sphere of radius ``k * R_E`` (k = 4/3 for the standard atmosphere; FS-1037C,
MATLAB ``horizonrange``). Positions are WGS84; the sphere is only used for line of sight.

The functions taking ``k_factor`` or ``radius_m`` work on numpy arrays (coverage maps, the
vertical coverage diagram). :func:`horizon_distance_m` and :func:`refracted_elevation_rad`
are compiled scalar forms (numba) of the same formulas for compiled kernels, where numba
inlines them; from Python they take floats.
"""

from __future__ import annotations

import numba
import numpy as np

R_EARTH_M = 6_371_000.0  #: mean Earth radius used for line of sight (IUGG R1 = 6371.0088 km)
K_STANDARD = 4.0 / 3.0  #: standard-atmosphere effective-Earth factor
MU_EARTH_M3_S2 = 3.986004418e14  #: Earth's gravitational parameter (WGS84 / IERS)


def effective_radius_m(k_factor: float = K_STANDARD) -> float:
    """Effective Earth radius ``k * R_E`` in metres."""
    return k_factor * R_EARTH_M


def horizon_range_m(h1_m, h2_m=0.0, k_factor: float = K_STANDARD):
    """Ground distance to the mutual radio horizon of two heights over a smooth sphere.

    Exact tangent form on a sphere of radius a = k R_E, for each height h:
    d = a * arccos(a / (a + h)); the two tangent distances add. For h << a this is the
    familiar d = sqrt(2 k R_E h1) + sqrt(2 k R_E h2) (~4.12 km * (sqrt(h1 m) + sqrt(h2 m))).
    """
    a = effective_radius_m(k_factor)
    h1 = np.maximum(np.asarray(h1_m, dtype=float), 0.0)
    h2 = np.maximum(np.asarray(h2_m, dtype=float), 0.0)
    return a * (np.arccos(a / (a + h1)) + np.arccos(a / (a + h2)))


def horizon_range_approx_m(h1_m, h2_m=0.0, k_factor: float = K_STANDARD):
    """Small-height approximation d = sqrt(2 a h1) + sqrt(2 a h2), a = k R_E."""
    a = effective_radius_m(k_factor)
    return np.sqrt(2 * a * np.asarray(h1_m, float)) + np.sqrt(2 * a * np.asarray(h2_m, float))


def min_visible_height_m(ground_range_m, h_radar_m, k_factor: float = K_STANDARD):
    """Lowest height above a smooth sphere visible at ground distance ``d`` from a radar at
    height ``h_radar_m`` (0 inside the radar's own horizon).

    Exact on the sphere of radius a: the tangent ray from the radar touches the sphere at
    arc ``d1 = a*arccos(a/(a+h_r))``; beyond it the ray reaches height
    ``a / cos((d - d1)/a) - a``.
    """
    a = effective_radius_m(k_factor)
    d = np.asarray(ground_range_m, dtype=float)
    d1 = a * np.arccos(a / (a + max(float(h_radar_m), 0.0)))
    beyond = np.clip((d - d1) / a, 0.0, np.pi / 2 - 1e-9)
    return np.where(d > d1, a / np.cos(beyond) - a, 0.0)


@numba.njit(cache=True)
def horizon_distance_m(h_m, radius_m):
    """Ground (arc) distance from a point at height ``h_m`` (clamped at 0) to where its tangent
    ray touches a sphere of radius ``radius_m`` (k R_E for radio): ``a arccos(a / (a + h))``;
    one height's term of :func:`horizon_range_m`. Scalar, compiled."""
    return radius_m * np.arccos(radius_m / (radius_m + max(h_m, 0.0)))


@numba.njit(cache=True)
def refracted_elevation_rad(ground_range_m, h_obs_m, h_target_m, radius_m):
    """Elevation at an observer at height ``h_obs_m`` of a point at ``h_target_m`` and ground
    distance ``ground_range_m``, over a sphere of radius ``radius_m`` (k R_E: the refracted
    elevation); :func:`elevation_angle_rad` for one point. Scalar, compiled."""
    th = ground_range_m / radius_m
    r1, r2 = radius_m + h_obs_m, radius_m + h_target_m
    return np.arctan2(r2 * np.cos(th) - r1, r2 * np.sin(th))


def slant_range_m(ground_range_m, h1_m, h2_m, radius_m: float = R_EARTH_M):
    """Straight-line distance between two points at heights h1, h2 over a sphere, separated by
    a ground (arc) distance; law of cosines in the Earth-centred triangle."""
    r1 = radius_m + np.asarray(h1_m, float)
    r2 = radius_m + np.asarray(h2_m, float)
    theta = np.asarray(ground_range_m, float) / radius_m
    return np.sqrt(np.maximum(r1 * r1 + r2 * r2 - 2 * r1 * r2 * np.cos(theta), 0.0))


def ground_range_for_slant_m(slant_m, h1_m, h2_m, radius_m: float = R_EARTH_M):
    """Inverse of :func:`slant_range_m`: ground distance at which the slant range equals
    ``slant_m`` (NaN if unreachable)."""
    r1 = radius_m + np.asarray(h1_m, float)
    r2 = radius_m + np.asarray(h2_m, float)
    s = np.asarray(slant_m, float)
    c = (r1 * r1 + r2 * r2 - s * s) / (2 * r1 * r2)
    with np.errstate(invalid="ignore"):
        theta = np.where(np.abs(c) <= 1, np.arccos(np.clip(c, -1, 1)), np.nan)
    return theta * radius_m


def elevation_angle_rad(ground_range_m, h1_m, h2_m, radius_m: float):
    """Elevation angle at the observer (height h1) of a point at height h2 and ground distance
    d on a sphere of the given radius (use the effective radius for refracted rays)."""
    r1 = radius_m + np.asarray(h1_m, float)
    r2 = radius_m + np.asarray(h2_m, float)
    theta = np.asarray(ground_range_m, float) / radius_m
    return np.arctan2(r2 * np.cos(theta) - r1, r2 * np.sin(theta))


def altitude_at_slant_m(ground_range_m, h_obs_m, slant_m, radius_m: float = R_EARTH_M):
    """Altitude at which the slant range from an observer at ``h_obs_m`` equals ``slant_m``
    at the given ground range: law of cosines with theta = d / R, r_1 = R + h_obs,
    ``r_2 = r_1 cos(theta) + sqrt(S^2 - r_1^2 sin^2(theta))`` (the upper root), ``h = r_2 - R``;
    NaN where the circle does not reach."""
    r1 = radius_m + h_obs_m
    th = np.asarray(ground_range_m, float) / radius_m
    disc = slant_m**2 - (r1 * np.sin(th)) ** 2
    with np.errstate(invalid="ignore"):
        return np.where(
            disc >= 0, r1 * np.cos(th) + np.sqrt(np.maximum(disc, 0)) - radius_m, np.nan
        )


def altitude_at_elevation_m(ground_range_m, h_obs_m, elevation_deg, radius_m):
    """Altitude seen at ``elevation_deg`` at the given ground range on a sphere of radius
    ``radius_m`` (use k R_E): theta = d / a, ``r_2 = (a + h_obs) / (cos(theta) - sin(theta)
    tan(e))``, ``h = r_2 - a``; +inf where the ray never reaches that ground range."""
    th = np.asarray(ground_range_m, float) / radius_m
    den = np.cos(th) - np.sin(th) * np.tan(np.radians(elevation_deg))
    with np.errstate(divide="ignore"):
        return np.where(
            den > 0, (radius_m + h_obs_m) / np.where(den > 0, den, 1) - radius_m, np.inf
        )


def spherical_cap_area_m2(arc_radius_m, radius_m: float = R_EARTH_M):
    """Area of a spherical cap of the given arc (ground) radius: 2 pi R^2 (1 - cos(s/R))."""
    return 2 * np.pi * radius_m**2 * (1 - np.cos(np.asarray(arc_radius_m, float) / radius_m))
