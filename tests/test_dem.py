"""DEM access: the same terrain stored geographic or projected gives the same heights, local
grids are site-centred with geodesic distances, reads are windowed, errors are one line."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import rasterio
from pyproj import Geod, Transformer
from rasterio.transform import from_origin
from rasterio.windows import Window

from iadsim.errors import DemError
from iadsim.geo.dem import Dem
from iadsim.geo.synthetic_dem import fractal_dem, write_geotiff

UTM = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
LAT0, LON0 = 40.6, 15.0  # inside UTM 33N, near its central meridian


def terrain_m(x, y):
    """Smooth analytic terrain on UTM 33N coordinates (bilinear error << 1 m at 30 m cells)."""
    return 800.0 + 300.0 * np.sin(2 * np.pi * x / 20_000.0) * np.cos(2 * np.pi * y / 15_000.0)


def terrain_at(lat, lon):
    x, y = UTM.transform(np.asarray(lon), np.asarray(lat))
    return terrain_m(np.asarray(x), np.asarray(y))


@pytest.fixture(scope="module")
def dems(tmp_path_factory):
    """The same analytic terrain as a projected (UTM, 30 m) and a geographic (~1 arcsec) DEM."""
    tmp = tmp_path_factory.mktemp("dem")
    x0, y0 = UTM.transform(LON0, LAT0)
    x0, y0 = np.floor(x0 / 30) * 30 - 15_000, np.floor(y0 / 30) * 30 + 15_000
    n = 1000
    cols, rows = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    utm = terrain_m(x0 + cols * 30, y0 - rows * 30).astype(np.float32)
    write_geotiff(tmp / "utm.tif", utm, 30.0, "EPSG:32633", (x0, y0))
    step = 1 / 3600
    lon0, lat0 = LON0 - 0.2, LAT0 + 0.15
    m = 1500
    lon, lat = np.meshgrid(lon0 + (np.arange(m) + 0.5) * step, lat0 - (np.arange(m) + 0.5) * step)
    geo = terrain_at(lat, lon).astype(np.float32)
    write_geotiff(tmp / "geo.tif", geo, step, "EPSG:4326", (lon0, lat0))
    return tmp / "utm.tif", tmp / "geo.tif"


def test_geographic_and_projected_dems_give_the_same_heights(dems):
    rng = np.random.default_rng(0)
    lat = LAT0 + rng.uniform(-0.1, 0.1, 200)
    lon = LON0 + rng.uniform(-0.12, 0.12, 200)
    truth = terrain_at(lat, lon)
    with Dem.open(dems[0]) as utm, Dem.open(dems[1]) as geo:
        h_utm = utm.height_at(lat, lon)
        h_geo = geo.height_at(lat, lon)
    np.testing.assert_allclose(h_utm, truth, atol=0.5)
    np.testing.assert_allclose(h_geo, truth, atol=0.5)
    np.testing.assert_allclose(h_geo, h_utm, atol=1.0)


def test_height_outside_the_dem_is_nan(dems):
    with Dem.open(dems[0]) as dem:
        h = dem.height_at([LAT0, LAT0 + 2.0], [LON0, LON0])
    assert np.isfinite(h[0]) and np.isnan(h[1])


@pytest.mark.parametrize("which", [0, 1])
def test_a_window_in_memory_samples_like_the_dem_and_survives_pickling(dems, which):
    rng = np.random.default_rng(1)
    lat = LAT0 + rng.uniform(-0.05, 0.05, 300)
    lon = LON0 + rng.uniform(-0.06, 0.06, 300)
    with Dem.open(dems[which]) as dem:
        win = dem.window_around(lat, lon, margin_cells=2)
        want = dem.height_at(lat, lon)
        # points between those it was made for, and the raster's own edge cells
        mid_lat, mid_lon = (lat[:-1] + lat[1:]) / 2, (lon[:-1] + lon[1:]) / 2
        want_mid = dem.height_at(mid_lat, mid_lon)
    win2 = pickle.loads(pickle.dumps(win))
    np.testing.assert_array_equal(win2.height_at(lat, lon), want)
    np.testing.assert_array_equal(win2.height_at(mid_lat, mid_lon), want_mid)
    assert np.isnan(win2.height_at(LAT0 + 2.0, LON0))  # outside the raster: NaN, as the DEM
    with pytest.raises(ValueError, match="outside the window"):
        win2.height_at(LAT0 + 0.12, LON0)  # on the raster but not in the window


@pytest.mark.parametrize("which", [0, 1])
def test_local_grid_is_site_centred_with_geodesic_distances(dems, which):
    with Dem.open(dems[which]) as dem:
        grid = dem.local_grid(LAT0, LON0, 5_000.0, 100.0)
    assert grid.heights_m.shape == (101, 101)
    assert (grid.centre_row, grid.centre_col) == (50, 50)
    lat, lon = grid.latlon()
    assert lat[50, 50] == pytest.approx(LAT0, abs=1e-9)
    assert lon[50, 50] == pytest.approx(LON0, abs=1e-9)
    geod = Geod(ellps="WGS84")
    for r, c in [(50, 100), (0, 50), (0, 0), (80, 13)]:
        _, _, dist = geod.inv(LON0, LAT0, lon[r, c], lat[r, c])
        assert dist == pytest.approx(100.0 * np.hypot(r - 50, c - 50), rel=1e-6)
    np.testing.assert_allclose(grid.heights_m, terrain_at(lat, lon), atol=2.0)


def test_local_grid_reads_only_the_window_it_needs(dems):
    with Dem.open(dems[0]) as dem:
        sizes = []
        read = dem._ds.read

        def spy(*args, **kwargs):
            out = read(*args, **kwargs)
            sizes.append(out.size)
            return out

        dem._ds.read = spy
        dem.local_grid(LAT0, LON0, 1_500.0, 30.0)
    assert len(sizes) == 1
    assert sizes[0] < 0.02 * 1000 * 1000  # ~110 x 110 cells of the 1000 x 1000 file


def test_local_grid_beyond_the_dem_edge_is_nan(dems):
    with Dem.open(dems[0]) as dem:
        grid = dem.local_grid(LAT0, LON0 + 0.2, 10_000.0, 200.0)  # the DEM ends ~3 km east
    h = grid.heights_m
    assert np.isnan(h[:, -1]).all() and np.isfinite(h[:, 0]).all()


def test_local_grid_entirely_off_the_dem_is_all_nan(dems):
    with Dem.open(dems[0]) as dem:
        grid = dem.local_grid(LAT0 + 3.0, LON0, 2_000.0, 100.0)
        h = dem.height_at(LAT0 + 3.0, LON0)
    assert np.isnan(grid.heights_m).all()
    assert h.shape == () and np.isnan(h)


def test_nodata_becomes_nan(tmp_path):
    z = fractal_dem(64, 1)
    z[10:20, 10:20] = np.nan
    path = tmp_path / "nodata.tif"
    write_geotiff(path, z, nodata=-9999.0)
    with rasterio.open(path) as ds:
        assert ds.read(1)[15, 15] == -9999.0  # stored as the nodata value
    t = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    lon, lat = t.transform(500000 + 15.5 * 30, 4500000 - 15.5 * 30)
    lon2, lat2 = t.transform(500000 + 40.5 * 30, 4500000 - 40.5 * 30)
    with Dem.open(path) as dem:
        h = dem.height_at([lat, lat2], [lon, lon2])
        grid = dem.local_grid(lat, lon, 300.0, 30.0)
    assert np.isnan(h[0])
    assert h[1] == pytest.approx(z[40, 40], abs=1e-3)
    assert np.isnan(grid.heights_m[grid.centre_row, grid.centre_col])


@pytest.mark.parametrize(
    "profile",
    [
        {},  # plain strips: GDAL's direct IO path
        {"tiled": True, "blockxsize": 64, "blockysize": 64},  # tiles: direct IO too
        {"compress": "deflate"},  # compressed: the block-cache path
        {"dtype": "int16", "nodata": -32768},  # integers and nodata converted after the read
    ],
    ids=["strips", "tiles", "deflate", "int16-nodata"],
)
def test_windowed_reads_equal_gdal_block_cache_reads(tmp_path, profile):
    """Dem opens GeoTIFFs with GTIFF_DIRECT_IO (speed); every window must still hold exactly
    the values GDAL's ordinary read returns, nodata as NaN."""
    z = np.round(fractal_dem(300, 3) * 10) / 10
    z[40:50, 200:230] = np.nan
    dtype = profile.get("dtype", "float32")
    nodata = profile.get("nodata", -9999.0)
    path = tmp_path / "dem.tif"
    prof = {
        "driver": "GTiff", "height": 300, "width": 300, "count": 1, "crs": "EPSG:32633",
        "transform": from_origin(500000, 4500000, 30, 30), **profile,
        "dtype": dtype, "nodata": nodata,
    }  # fmt: skip
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(np.where(np.isnan(z), nodata, z).astype(dtype), 1)
    windows = [Window(0, 0, 300, 300), Window(17, 33, 101, 77), Window(250, 290, 80, 80)]
    with Dem.open(path) as dem:
        ours = [dem.read_window(w) for w in windows]
    with rasterio.open(path) as ds:  # no direct IO
        full = ds.read(1).astype(np.float32)
    full[full == np.float32(nodata)] = np.nan
    expected = [full[33:110, 17:118], full[290:300, 250:300]]
    assert np.array_equal(ours[0], full, equal_nan=True)
    assert np.isnan(ours[0][45, 210])
    for got, want in zip(ours[1:], expected, strict=True):
        assert got.dtype == np.float32
        assert np.array_equal(got, want, equal_nan=True)


def test_resample_to_another_grid_nearest(dems):
    with Dem.open(dems[0]) as dem:
        grid = dem.local_grid(LAT0, LON0, 3_000.0, 50.0)
    x, y = UTM.transform(LON0, LAT0)
    transform = from_origin(x - 2_000, y + 2_000, 100.0, 100.0)
    out = grid.resample_to(grid.heights_m, "EPSG:32633", transform, (40, 40))
    inv = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    lon, lat = inv.transform(x - 2_000 + 50 + 100 * np.arange(40), np.full(40, y + 2_000 - 50))
    np.testing.assert_allclose(out[0], terrain_at(lat, lon), atol=15.0)  # nearest: <= 35 m off
    mask = grid.resample_to(grid.heights_m > 800, "EPSG:32633", transform, (40, 40))
    assert mask.dtype == bool


def test_missing_file_is_a_one_line_dem_error(tmp_path):
    with pytest.raises(DemError, match="not found") as err:
        Dem.open(tmp_path / "nope.tif")
    assert "\n" not in str(err.value)
    with pytest.raises(DemError, match="is a folder; give the path to a GeoTIFF file"):
        Dem.open(tmp_path)


def test_corrupt_file_is_a_one_line_dem_error(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00this is not a tiff at all" * 10)
    with pytest.raises(DemError, match="cannot read DEM") as err:
        Dem.open(bad)
    assert "\n" not in str(err.value)
    text = tmp_path / "notes.txt"
    text.write_text("hello\nworld\n")
    with pytest.raises(DemError, match="cannot read DEM"):
        Dem.open(text)


def test_file_without_crs_is_a_one_line_dem_error(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=8, height=8, count=1, dtype="float32"
    ) as dst:
        dst.write(np.zeros((8, 8), np.float32), 1)
    with pytest.raises(DemError, match="no coordinate reference system") as err:
        Dem.open(path)
    assert "\n" not in str(err.value)
