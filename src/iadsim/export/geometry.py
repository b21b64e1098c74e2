"""Geometry for the exports: coverage polygons in WGS84 longitude/latitude that follow RFC 7946
(exterior rings counter-clockwise, holes clockwise, split at the antimeridian), geodesic
wedges and circles, and lines split at ±180°.

Coverage comes as polygons on the coverage's equal-area LAEA grid (the edges of raster
cells). Their edges are densified to at most one cell before they are projected to
longitude/latitude, so that an edge that is straight in the projection stays on the same
ground in longitude/latitude (a long straight edge taken vertex to vertex would cut across
it), and oriented counter-clockwise in the projection, which keeps east and north as they
are, so that the orientation carries over. ``antimeridian.fix_polygon`` then splits a ring
that crosses ±180° into one polygon on each side, and closes a ring around a pole along the
pole's edge of the longitude/latitude plane; the area on the WGS84 ellipsoid is unchanged
(tests/test_export_geojson.py checks it to 0.5 % against the coverage's cell count).
"""

from __future__ import annotations

import warnings

import antimeridian
import numpy as np
import shapely
from shapely.geometry.polygon import orient

from iadsim.coverage.grid import GEOD, Grid

#: decimals of longitude/latitude written (1e-6 deg: 0.11 m at the equator)
LONLAT_DECIMALS = 6


def _parts(geom) -> list:
    """The polygons of a Polygon or MultiPolygon (none when empty)."""
    if geom is None or geom.is_empty:
        return []
    return list(geom.geoms) if hasattr(geom, "geoms") else [geom]


def _oriented(geom):
    """Every polygon counter-clockwise outside, clockwise holes (planar coordinates)."""
    parts = [orient(p, 1.0) for p in _parts(geom)]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def fix_antimeridian(geom_lonlat):
    """A longitude/latitude (Multi)Polygon, counter-clockwise exteriors, whose rings may jump
    across ±180°, as polygons that do not (split there, poles closed); RFC 7946 orientation."""
    if geom_lonlat.is_empty:
        return geom_lonlat
    with warnings.catch_warnings():
        # a ring reversed by the split is re-oriented below; the warning says only that
        warnings.simplefilter("ignore", antimeridian.FixWindingWarning)
        if isinstance(geom_lonlat, shapely.MultiPolygon):
            fixed = antimeridian.fix_multi_polygon(geom_lonlat, great_circle=False)
        else:
            fixed = antimeridian.fix_polygon(geom_lonlat, great_circle=False)
    return _oriented(fixed)


def laea_to_lonlat(geom, grid: Grid):
    """A polygon of the coverage grid's projection (metres) in WGS84 longitude/latitude:
    densified to one cell, oriented, projected, split at the antimeridian, rounded to
    :data:`LONLAT_DECIMALS`."""
    parts = _parts(geom)
    if not parts:
        return shapely.Polygon()
    dense = shapely.segmentize(_oriented(geom), grid.cell_m)
    lonlat = shapely.transform(
        dense, lambda xy: np.column_stack(grid.to_wgs84.transform(xy[:, 0], xy[:, 1]))
    )
    fixed = fix_antimeridian(lonlat)
    return shapely.transform(fixed, lambda xy: np.round(xy, LONLAT_DECIMALS))


def geodesic_ring(lon: float, lat: float, azimuths_deg, dist_m: float) -> np.ndarray:
    """(n, 2) lon/lat of the points ``dist_m`` from (lon, lat) along each geodesic azimuth
    (degrees clockwise from north), longitudes in [-180, 180]."""
    az = np.asarray(azimuths_deg, float)
    lons, lats, _ = GEOD.fwd(
        np.full(az.shape, lon), np.full(az.shape, lat), az, np.full(az.shape, dist_m)
    )
    return np.column_stack([(np.asarray(lons) + 180.0) % 360.0 - 180.0, lats])


def _unwrapped(xy: np.ndarray) -> np.ndarray:
    """Longitudes made continuous along the ring (no jump above 180°)."""
    lon = np.degrees(np.unwrap(np.radians(xy[:, 0])))
    return np.column_stack([lon, xy[:, 1]])


def _from_unwrapped_ring(ring: np.ndarray):
    """A polygon from a ring with continuous longitudes (counter-clockwise there), wrapped
    to [-180, 180] and split at the antimeridian."""
    poly = orient(shapely.Polygon(ring), 1.0)
    xy = np.asarray(poly.exterior.coords)
    wrapped = np.column_stack([(xy[:, 0] + 180.0) % 360.0 - 180.0, xy[:, 1]])
    out = fix_antimeridian(shapely.Polygon(wrapped))
    return shapely.transform(out, lambda v: np.round(v, LONLAT_DECIMALS))


def circle(lon: float, lat: float, radius_m: float, n: int = 72):
    """A geodesic circle as a longitude/latitude polygon (split at ±180°)."""
    ring = geodesic_ring(lon, lat, np.linspace(0.0, 360.0, n, endpoint=False), radius_m)
    return _from_unwrapped_ring(_unwrapped(ring))


def wedge(lon: float, lat: float, heading_deg: float, sector_deg: float, range_m: float):
    """A sector of a geodesic disc around (lon, lat): azimuths heading ± sector/2, out to
    ``range_m``; the whole disc for a sector of 360° or more."""
    if sector_deg >= 360.0:
        return circle(lon, lat, range_m)
    n = max(8, int(np.ceil(sector_deg / 2.0)) + 1)
    az = heading_deg + np.linspace(-sector_deg / 2.0, sector_deg / 2.0, n)
    arc = geodesic_ring(lon, lat, az, range_m)
    ring = np.vstack([[lon, lat], arc])
    return _from_unwrapped_ring(_unwrapped(ring))


def split_line(lon, lat, alt) -> list[np.ndarray]:
    """A path as pieces of (n, 3) lon/lat/alt arrays that do not cross the antimeridian: where
    consecutive points are more than 180° of longitude apart, the path is cut at ±180° (the
    latitude and altitude of the crossing interpolated along the shorter way round)."""
    pts = np.column_stack([lon, lat, alt]).astype(float)
    if len(pts) < 2 or not np.any(np.abs(np.diff(pts[:, 0])) > 180.0):
        return [pts]
    pieces, cur = [], [pts[0]]
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        if abs(b[0] - a[0]) > 180.0:
            edge = 180.0 if a[0] > 0 else -180.0  # the side a is on
            b_lon = b[0] + (360.0 if edge > 0 else -360.0)  # b continued past that side
            f = (edge - a[0]) / (b_lon - a[0])
            mid = a[1:] + f * (b[1:] - a[1:])
            cur.append(np.array([edge, *mid]))
            pieces.append(np.array(cur))
            cur = [np.array([-edge, *mid])]
        cur.append(b)
    pieces.append(np.array(cur))
    return pieces


def geodesic_area_km2(geom) -> float:
    """Area of a longitude/latitude (Multi)Polygon on the WGS84 ellipsoid, km² (holes
    subtracted; positive for counter-clockwise exteriors)."""
    return float(GEOD.geometry_area_perimeter(geom)[0]) / 1e6
