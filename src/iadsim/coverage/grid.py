"""The common analysis grid: one Lambert azimuthal equal-area (LAEA) raster for all sites.

LAEA on the WGS84 ellipsoid preserves area (Snyder 1987, *Map Projections: A Working Manual*,
USGS PP 1395, ch. 24), so every cell covers exactly ``cell_m**2`` of the ellipsoid and a
covered area is ``count * cell_m**2``. Distances are not preserved (radial scale cos(c/2),
tangential 1/cos(c/2) at angular distance c from the centre), so ranges are always measured
as geodesics (pyproj ``Geod``) from each site to the cell centres, never in the plane.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from affine import Affine
from pyproj import CRS, Geod, Transformer

from iadsim.errors import InputError

GEOD = Geod(ellps="WGS84")


def laea_crs(lat0_deg: float, lon0_deg: float) -> CRS:
    """LAEA on WGS84 centred at (lat0, lon0), metres."""
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0_deg:.6f} +lon_0={lon0_deg:.6f} +datum=WGS84 +units=m +no_defs"
    )


def central_point(lats_deg, lons_deg) -> tuple[float, float]:
    """Centre of a set of points: the normalised mean of their unit vectors (safe across the
    antimeridian, unlike a mean of longitudes)."""
    lat = np.radians(np.asarray(lats_deg, float))
    lon = np.radians(np.asarray(lons_deg, float))
    v = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]).mean(axis=1)
    if np.linalg.norm(v) < 1e-9:
        raise InputError("sites are spread around the whole globe; cover them in separate runs")
    return float(np.degrees(np.arctan2(v[2], np.hypot(v[0], v[1])))), float(
        np.degrees(np.arctan2(v[1], v[0]))
    )


@dataclass(frozen=True)
class Grid:
    """A north-up raster in a projected CRS: cell (row, col) has its centre at
    ``x = x_min + (col + 0.5) * cell_m``, ``y = y_max - (row + 0.5) * cell_m``."""

    crs: CRS
    x_min: float
    y_max: float
    cell_m: float
    nrows: int
    ncols: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def transform(self) -> Affine:
        """rasterio/GDAL affine transform (pixel corner -> projected x, y)."""
        return Affine(self.cell_m, 0.0, self.x_min, 0.0, -self.cell_m, self.y_max)

    @property
    def cell_area_km2(self) -> float:
        return self.cell_m**2 / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) in projected metres."""
        return (
            self.x_min,
            self.y_max - self.nrows * self.cell_m,
            self.x_min + self.ncols * self.cell_m,
            self.y_max,
        )

    @cached_property
    def to_wgs84(self) -> Transformer:
        return Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    @cached_property
    def from_wgs84(self) -> Transformer:
        return Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    def centres_xy(self, rows: slice = slice(None), cols: slice = slice(None)):
        """Projected cell-centre coordinates (2-D arrays) of a window."""
        r = np.arange(self.nrows)[rows]
        c = np.arange(self.ncols)[cols]
        x = self.x_min + (c + 0.5) * self.cell_m
        y = self.y_max - (r + 0.5) * self.cell_m
        return np.meshgrid(x, y)

    def centres_lonlat(self, rows: slice = slice(None), cols: slice = slice(None)):
        """WGS84 longitude/latitude (degrees) of the cell centres of a window."""
        x, y = self.centres_xy(rows, cols)
        return self.to_wgs84.transform(x, y)

    def project(self, lon_deg, lat_deg):
        """WGS84 -> projected (x, y) metres."""
        return self.from_wgs84.transform(np.asarray(lon_deg, float), np.asarray(lat_deg, float))

    def rowcol(self, x, y):
        """Cell indices of projected points and a mask of those inside the grid."""
        col = np.floor((np.asarray(x, float) - self.x_min) / self.cell_m).astype(np.int64)
        row = np.floor((self.y_max - np.asarray(y, float)) / self.cell_m).astype(np.int64)
        inside = (row >= 0) & (row < self.nrows) & (col >= 0) & (col < self.ncols)
        return row, col, inside

    def window(self, x: float, y: float, radius_m: float) -> tuple[slice, slice]:
        """Row and column slices of the cells within a square of half-side ``radius_m`` around
        the projected point (x, y), clipped to the grid."""
        c0 = int(np.floor((x - radius_m - self.x_min) / self.cell_m))
        c1 = int(np.ceil((x + radius_m - self.x_min) / self.cell_m))
        r0 = int(np.floor((self.y_max - (y + radius_m)) / self.cell_m))
        r1 = int(np.ceil((self.y_max - (y - radius_m)) / self.cell_m))
        return (
            slice(max(r0, 0), min(max(r1, 0), self.nrows)),
            slice(max(c0, 0), min(max(c1, 0), self.ncols)),
        )


MAX_CELLS = 40_000_000  # ~40 M cells: beyond this a run needs coarser cells


class GridTooLargeError(InputError):
    """The grid would exceed :data:`MAX_CELLS`; ``nrows`` and ``ncols`` say by how much (so
    that a caller can phrase the error in terms of its own resolution parameter)."""

    def __init__(self, message: str, param=None, nrows: int = 0, ncols: int = 0) -> None:
        super().__init__(message, param)
        self.nrows, self.ncols = nrows, ncols

    def __reduce__(self):
        return (type(self), (self.args[0], self.params, self.nrows, self.ncols))


def make_grid(lats_deg, lons_deg, reach_m, cell_m: float, margin_frac: float = 0.02) -> Grid:
    """The smallest grid (LAEA centred on the sites) holding every site's reach.

    ``reach_m`` is each site's farthest possible coverage (ground metres). The projected
    half-width is enlarged by ``margin_frac`` (the LAEA tangential scale is 1/cos(c/2), 0.3 %
    at 1000 km from the centre) plus two cells.
    """
    if not cell_m > 0:
        raise InputError(f"cell_m must be > 0, got {cell_m:g}", "cell_m")
    lats = np.atleast_1d(np.asarray(lats_deg, float))
    lons = np.atleast_1d(np.asarray(lons_deg, float))
    reach = np.broadcast_to(np.asarray(reach_m, float), lats.shape)
    if lats.size == 0:
        raise InputError("the scenario has no sites; add at least one entry under 'sites'")
    lat0, lon0 = central_point(lats, lons)
    crs = laea_crs(lat0, lon0)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lons, lats)
    pad = reach * (1 + margin_frac) + 2 * cell_m
    x0 = np.floor(np.min(x - pad) / cell_m) * cell_m
    x1 = np.ceil(np.max(x + pad) / cell_m) * cell_m
    y0 = np.floor(np.min(y - pad) / cell_m) * cell_m
    y1 = np.ceil(np.max(y + pad) / cell_m) * cell_m
    nrows, ncols = int(round((y1 - y0) / cell_m)), int(round((x1 - x0) / cell_m))
    if nrows * ncols > MAX_CELLS:
        raise GridTooLargeError(
            f"the analysis grid would have {nrows}x{ncols} cells (at most {MAX_CELLS:,}); use "
            f"a cell_m coarser than {cell_m:g} m",
            "cell_m",
            nrows,
            ncols,
        )
    return Grid(
        crs=crs, x_min=float(x0), y_max=float(y1), cell_m=float(cell_m), nrows=nrows, ncols=ncols
    )
