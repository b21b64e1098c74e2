"""Digital elevation models: open any georeferenced GeoTIFF, sample it, and resample it onto a
site-centred local grid for line of sight.

The local grid uses the azimuthal-equidistant projection centred on the site
(``+proj=aeqd +lat_0 +lon_0 +datum=WGS84``): distances from the centre are geodesic distances,
so the planar line-of-sight engine (:mod:`iadsim.geo.los`) measures range correctly whatever
the DEM's own CRS (geographic degrees or any projection). Only the window of the DEM that the
grid needs is read (rasterio windowed reads); nodata becomes NaN.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from rasterio.errors import (
    NotGeoreferencedWarning,
    RasterioError,
    RasterioIOError,
    WindowError,
)
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.windows import Window, from_bounds

from iadsim.errors import DemError, DemOutlierWarning

_WGS84 = CRS.from_epsg(4326)
#: heights (m) that ground on Earth can have: the Mariana Trench to above Everest; a DEM value
#: outside is a broken cell (read as nodata, with a DemOutlierWarning)
HEIGHT_RANGE_M = (-11_000.0, 9_000.0)
_WINDOWS_KEPT = 4  #: windows an open Dem keeps for repeated identical requests


def aeqd_crs(lat_deg: float, lon_deg: float) -> CRS:
    """Azimuthal-equidistant CRS centred on (lat, lon), WGS84 datum, metres."""
    return CRS.from_proj4(f"+proj=aeqd +lat_0={lat_deg} +lon_0={lon_deg} +datum=WGS84 +units=m")


@dataclass
class LocalGrid:
    """A square raster centred on a site, in the site's azimuthal-equidistant projection.

    ``heights_m[r, c]`` is the DEM height (NaN = nodata / outside the DEM) at the cell centre
    ``x = transform.c + (c + 0.5) * cell``, ``y = transform.f - (r + 0.5) * cell``.
    """

    heights_m: np.ndarray
    cell_size_m: float
    crs: CRS
    transform: Affine
    centre_row: int
    centre_col: int

    def xy(self, rows=None, cols=None):
        """Projected x, y (m) of cell centres; all cells (2-D arrays) when rows/cols are None."""
        if rows is None or cols is None:
            rows, cols = np.indices(self.heights_m.shape)
        rows = np.asarray(rows, dtype=float)
        cols = np.asarray(cols, dtype=float)
        x = self.transform.c + (cols + 0.5) * self.transform.a
        y = self.transform.f + (rows + 0.5) * self.transform.e
        return x, y

    def latlon(self, rows=None, cols=None):
        """WGS84 latitude, longitude (deg) of cell centres; all cells when rows/cols are None."""
        x, y = self.xy(rows, cols)
        to_geo = Transformer.from_crs(self.crs, _WGS84, always_xy=True)
        lon, lat = to_geo.transform(x, y)
        return np.asarray(lat), np.asarray(lon)

    def resample_to(self, raster, dst_crs, dst_transform, dst_shape, fill=np.nan):
        """Nearest-neighbour resample of ``raster`` (on this grid) onto another grid.

        Cells of the destination outside this grid get ``fill``. Booleans come back as bool
        (outside = False).
        """
        src = np.asarray(raster)
        is_bool = src.dtype == bool
        src = src.astype(np.float32)
        dst = np.full(dst_shape, np.nan, dtype=np.float32)
        reproject(
            source=src,
            destination=dst,
            src_transform=self.transform,
            src_crs=self.crs,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs=CRS.from_user_input(dst_crs),
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
        if is_bool:
            return np.nan_to_num(dst, nan=0.0) > 0.5
        if not (isinstance(fill, float) and math.isnan(fill)):
            dst = np.where(np.isnan(dst), fill, dst)
        return dst


@dataclass
class HeightWindow:
    """A window of a DEM held in memory (band 1 as float32, nodata NaN), sampled like
    :meth:`Dem.height_at`: bilinear between cell centres, the outer half cells of the raster at
    their edge value, NaN outside the raster or on nodata. Made by :meth:`Dem.window_around`;
    picklable (the simulation ships it to worker processes)."""

    heights_m: np.ndarray  # (rows, cols) float32, the raster's cells [row_off:, col_off:]
    col_off: int
    row_off: int
    raster_shape: tuple[int, int]  # (rows, cols) of the whole raster
    transform: Affine  # of the whole raster
    crs_wkt: str

    def __post_init__(self) -> None:
        self._from_geo = Transformer.from_crs(_WGS84, CRS.from_wkt(self.crs_wkt), always_xy=True)
        self._inverse = ~self.transform

    def height_at(self, lat_deg, lon_deg) -> np.ndarray:
        """Bilinear height (m) at WGS84 points (any shape); NaN outside the raster or on
        nodata. :class:`ValueError` for a point of the raster whose cells lie outside the
        window (the window was made for other points)."""
        lat = np.asarray(lat_deg, dtype=float)
        x, y = self._from_geo.transform(np.ravel(np.asarray(lon_deg, float)), np.ravel(lat))
        col_f, row_f = self._inverse @ (np.asarray(x), np.asarray(y))
        nrow, ncol = self.raster_shape
        with np.errstate(invalid="ignore"):
            inside = (col_f >= 0) & (col_f <= ncol) & (row_f >= 0) & (row_f <= nrow)
        out = np.full(np.shape(col_f), np.nan)
        if inside.any():
            px = np.clip(col_f[inside] - 0.5, 0, ncol - 1)
            py = np.clip(row_f[inside] - 0.5, 0, nrow - 1)
            block = self.heights_m
            ci = np.floor(px).astype(int) - self.col_off
            ri = np.floor(py).astype(int) - self.row_off
            ci1 = np.minimum(ci + 1, ncol - 1 - self.col_off)  # the raster's last column
            ri1 = np.minimum(ri + 1, nrow - 1 - self.row_off)
            if (
                min(ci.min(), ri.min()) < 0
                or ci1.max() >= block.shape[1]
                or (ri1.max() >= block.shape[0])
            ):
                raise ValueError("DEM points outside the window held in memory")
            fx = px - self.col_off - ci
            fy = py - self.row_off - ri
            top = block[ri, ci] * (1 - fx) + block[ri, ci1] * fx
            bot = block[ri1, ci] * (1 - fx) + block[ri1, ci1] * fx
            out[inside] = top * (1 - fy) + bot * fy
        return out.reshape(lat.shape)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_from_geo", "_inverse")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()


class Dem:
    """An opened, georeferenced DEM (band 1). Use :meth:`open`; close with ``close()`` or
    ``with``."""

    def __init__(self, dataset, path: Path):
        self._ds = dataset
        self.path = path
        self.crs = CRS.from_user_input(dataset.crs)
        self.transform: Affine = dataset.transform
        self.shape = (dataset.height, dataset.width)
        self.nodata = dataset.nodata
        self._from_geo = Transformer.from_crs(_WGS84, self.crs, always_xy=True)
        self._outliers_warned, self._last_outliers = False, 0
        #: recent windows by their cells (:meth:`window_around`), oldest first
        self._windows: dict[tuple[int, int, int, int], HeightWindow] = {}

    @classmethod
    def open(cls, path) -> Dem:
        """Open a GeoTIFF (or any GDAL raster) with a CRS; :class:`DemError` if unusable."""
        path = Path(path)
        if path.is_dir():
            raise DemError(f"DEM path {path} is a folder; give the path to a GeoTIFF file")
        if not path.is_file():
            raise DemError(f"DEM file not found: {path}; give the path to a GeoTIFF")
        try:
            # GDAL's direct read of uncompressed GeoTIFFs (a config option read at open):
            # ~3x faster whole-raster reads than through GDAL's block cache, same values;
            # compressed or other formats take the usual path
            with rasterio.Env(GTIFF_DIRECT_IO=True), warnings.catch_warnings():
                # a raster without georeferencing gets the one-line DemError below instead
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                ds = rasterio.open(path)
        except (RasterioIOError, RasterioError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise DemError(f"cannot read DEM {path}: not a readable GeoTIFF ({first})") from None
        if ds.crs is None or ds.transform == Affine.identity():
            ds.close()
            raise DemError(
                f"DEM {path} has no coordinate reference system or geotransform; "
                "assign one (e.g. gdal_edit.py -a_srs EPSG:4326 FILE)"
            )
        return cls(ds, path)

    def close(self) -> None:
        self._ds.close()

    def __enter__(self) -> Dem:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_window(self, window: Window) -> np.ndarray:
        """Band 1 inside ``window`` as float32 with nodata -> NaN (window clipped to the DEM)."""
        full = Window(0, 0, self.shape[1], self.shape[0])
        try:
            window = window.intersection(full)
        except WindowError:  # no overlap with the DEM
            return np.empty((0, 0), dtype=np.float32)
        data = self._ds.read(1, window=window, out_dtype=np.float32)
        if self.nodata is not None and not math.isnan(self.nodata):
            data[data == np.float32(self.nodata)] = np.nan
        lo, hi = HEIGHT_RANGE_M
        with np.errstate(invalid="ignore"):
            bad = ~((data >= lo) & (data <= hi)) & ~np.isnan(data)  # inf, 1e9 spikes
        if bad.any():
            self._warn_outliers(data[bad], window)
            data[bad] = np.nan
        return data

    def outlier_count(self, window: Window | None = None) -> int:
        """Cells of band 1 (inside ``window``, default all) whose height lies outside
        :data:`HEIGHT_RANGE_M` (nodata excluded); reading them warns once
        (:class:`~iadsim.errors.DemOutlierWarning`)."""
        win = window or Window(0, 0, self.shape[1], self.shape[0])
        before = self._outliers_warned
        self._outliers_warned = False  # count this read even after an earlier warning
        try:
            self._last_outliers = 0
            self.read_window(win)
            return self._last_outliers
        finally:
            self._outliers_warned = self._outliers_warned or before

    def _warn_outliers(self, values: np.ndarray, window: Window) -> None:
        self._last_outliers = int(values.size)
        if self._outliers_warned:
            return
        self._outliers_warned = True
        lo, hi = HEIGHT_RANGE_M
        warnings.warn(
            DemOutlierWarning(
                f"DEM {self.path} has {values.size:,} cells with heights outside "
                f"[{lo:g}, {hi:g}] m (e.g. {float(values.flat[0]):g} m) in the area read; "
                "they are read as nodata (sea level): fix or mask them in the file"
            ),
            stacklevel=3,
        )

    def _pixel(self, lat_deg, lon_deg):
        """Fractional (col, row) of WGS84 points in the raster, and whether each lies inside
        its extent."""
        lat = np.asarray(lat_deg, dtype=float)
        lon = np.asarray(lon_deg, dtype=float)
        x, y = self._from_geo.transform(lon, lat)
        col_f, row_f = ~self.transform @ (np.asarray(x), np.asarray(y))
        nrow, ncol = self.shape
        with np.errstate(invalid="ignore"):
            inside = (col_f >= 0) & (col_f <= ncol) & (row_f >= 0) & (row_f <= nrow)
        return col_f, row_f, inside

    def contains(self, lat_deg, lon_deg) -> np.ndarray:
        """True where WGS84 points lie inside the raster's extent (nodata cells included)."""
        return self._pixel(lat_deg, lon_deg)[2]

    def height_at(self, lat_deg, lon_deg) -> np.ndarray:
        """Bilinear height (m) between cell centres at WGS84 points; NaN outside or on nodata.

        Reads only the window bounding the points (:meth:`window_around`).
        """
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=float))
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=float))
        return self.window_around(lat, lon).height_at(lat, lon).reshape(np.shape(lat_deg))

    def window_around(self, lat_deg, lon_deg, margin_cells: int = 0) -> HeightWindow:
        """The DEM's heights in memory over the cells that bilinear sampling at the WGS84 points
        needs (plus ``margin_cells`` on each side): a picklable :class:`HeightWindow` that
        samples exactly as :meth:`height_at` at those points and anywhere inside its window.
        The same cells requested again (a scenario prepared again with other catalog numbers,
        on a kept-open DEM) return the window already read; windows are read-only."""
        col_f, row_f, inside = self._pixel(
            np.ravel(np.asarray(lat_deg, float)), np.ravel(np.asarray(lon_deg, float))
        )
        nrow, ncol = self.shape
        if not inside.any():
            block, c0, r0 = np.empty((0, 0), np.float32), 0, 0
        else:
            # centre-based pixel coordinates, clamped so the outer half cells use the edge value
            px = np.clip(col_f[inside] - 0.5, 0, ncol - 1)
            py = np.clip(row_f[inside] - 0.5, 0, nrow - 1)
            c0 = max(int(np.floor(px.min())) - margin_cells, 0)
            r0 = max(int(np.floor(py.min())) - margin_cells, 0)
            c1 = min(int(np.floor(px.max())) + 2 + margin_cells, ncol)
            r1 = min(int(np.floor(py.max())) + 2 + margin_cells, nrow)
            key = (c0, r0, c1, r1)
            if key in self._windows:  # the same cells as a recent window: read once
                return self._windows[key]
            block = self.read_window(Window(c0, r0, c1 - c0, r1 - r0))
            window = HeightWindow(block, c0, r0, self.shape, self.transform, self.crs.to_wkt())
            self._windows[key] = window
            while len(self._windows) > _WINDOWS_KEPT:
                self._windows.pop(next(iter(self._windows)))
            return window
        return HeightWindow(block, c0, r0, self.shape, self.transform, self.crs.to_wkt())

    def max_height_m(self, lat_deg: float, lon_deg: float, radius_m: float) -> float:
        """Highest DEM value (m) within the square of half-side ``radius_m`` around (lat, lon)
        in its azimuthal-equidistant frame (the window :meth:`local_grid` reads for that
        radius); NaN when the DEM has no data there."""
        win = self._aeqd_window(aeqd_crs(lat_deg, lon_deg), float(radius_m), margin=1)
        if win is None:
            return math.nan
        data = self.read_window(win)
        if data.size == 0 or not np.isfinite(data).any():
            return math.nan
        return float(np.nanmax(data))

    def _aeqd_window(self, aeqd, ext_m: float, margin: int) -> Window | None:
        """The DEM window holding the square [-ext, ext]^2 of the azimuthal-equidistant CRS
        ``aeqd``, grown by ``margin`` cells on every side (for interpolation at its edges);
        None for an area the DEM's CRS cannot hold (e.g. across a pole)."""
        try:
            bounds = transform_bounds(aeqd, self.crs, -ext_m, -ext_m, ext_m, ext_m, densify_pts=51)
            win = from_bounds(*bounds, transform=self.transform)
        except (WindowError, ValueError, CRSError):
            return None
        return Window(
            math.floor(win.col_off) - margin,
            math.floor(win.row_off) - margin,
            math.ceil(win.width) + 2 * margin + 1,
            math.ceil(win.height) + 2 * margin + 1,
        )

    def local_grid(
        self,
        lat_deg: float,
        lon_deg: float,
        radius_m: float,
        cell_size_m: float,
        num_threads: int = 1,
    ):
        """DEM resampled (bilinear) onto a square site-centred azimuthal-equidistant grid of
        ``2 * ceil(radius / cell) + 1`` cells a side; the site is the centre cell.
        ``num_threads``: GDAL warp threads (the values do not depend on it)."""
        half = int(math.ceil(radius_m / cell_size_m))
        n = 2 * half + 1
        dst_crs = aeqd_crs(lat_deg, lon_deg)
        ext = (half + 0.5) * cell_size_m
        dst_transform = Affine(cell_size_m, 0, -ext, 0, -cell_size_m, ext)
        dst = np.full((n, n), np.nan, dtype=np.float32)
        win = self._aeqd_window(dst_crs, ext, margin=2)
        if win is None:
            return LocalGrid(dst, float(cell_size_m), dst_crs, dst_transform, half, half)
        src = self.read_window(win)
        if src.size:
            col_off = max(win.col_off, 0)
            row_off = max(win.row_off, 0)
            reproject(
                source=src,
                destination=dst,
                src_transform=self.transform @ Affine.translation(col_off, row_off),
                src_crs=self.crs,
                src_nodata=np.nan,
                dst_transform=dst_transform,
                dst_crs=dst_crs,
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
                num_threads=num_threads,
            )
        return LocalGrid(dst, float(cell_size_m), dst_crs, dst_transform, half, half)
