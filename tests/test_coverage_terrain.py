"""Terrain coverage: a synthetic ridge casts a radar shadow; checked against a brute-force
sight-line march over the DEM itself (Dem.height_at along the geodesic)."""

import warnings

import numpy as np
import pytest
from pyproj import Transformer

from iadsim.coverage import EnvelopeSpec, RadarSpec, SiteSpec, compute_coverage_multi
from iadsim.coverage.grid import GEOD
from iadsim.errors import DemCoverageWarning, DemError
from iadsim.geo.dem import Dem
from iadsim.geo.earth import R_EARTH_M
from iadsim.geo.synthetic_dem import write_geotiff

N, CELL = 201, 500.0  # 100 km square, UTM 33N
CX, CY = 500000 + 100.5 * CELL, 4500000 - 100.5 * CELL
RIDGE_X, RIDGE_HALF_M, RIDGE_M = CX + 20000.0, 1000.0, 1000.0


@pytest.fixture(scope="module")
def ridge(tmp_path_factory):
    dem = np.zeros((N, N), np.float32)
    x = 500000 + (np.arange(N) + 0.5) * CELL
    dem[:, np.abs(x - RIDGE_X) <= RIDGE_HALF_M] = RIDGE_M
    path = tmp_path_factory.mktemp("dem") / "ridge.tif"
    write_geotiff(path, dem, cell_size_m=CELL)
    lon, lat = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True).transform(CX, CY)
    site = SiteSpec(
        "s",
        "test",
        lat,
        lon,
        (RadarSpec("r", 10.0, 40e3),),
        0,
        (EnvelopeSpec("m", 0.0, 30e3, 0.0, 20e3),),
    )
    return path, site


def _brute_min_visible_m(dem, site, lon, lat, eye_m, k=4 / 3, n=600):
    """Lowest visible altitude at a cell by marching the sight line over the DEM: a straight
    ray over a sphere of radius kR, every sample lowered by s^2/(2kR) (GDAL/GRASS convention);
    the ray must pass over every sample between the site and the cell."""
    a = k * R_EARTH_M
    az, _, dist = GEOD.inv(site.lon, site.lat, lon, lat)
    s = dist * np.arange(1, n) / n
    lo, la, _ = GEOD.fwd(
        np.full(s.shape, site.lon), np.full(s.shape, site.lat), np.full(s.shape, az), s
    )
    z = dem.height_at(la, lo) - s**2 / (2 * a)
    needed = eye_m + (z - eye_m) * dist / s + dist**2 / (2 * a)
    return max(float(np.max(needed)), float(np.ravel(dem.height_at(lat, lon))[0]))


def test_ridge_shadow_matches_brute_force_sight_lines(ridge):
    path, site = ridge
    h_t = 500.0
    res = compute_coverage_multi(None, [h_t], sites=[site], resolution_km=1.0, dem=path)[0]
    smooth = compute_coverage_multi(None, [h_t], sites=[site], resolution_km=1.0)[0]
    det = res.detection[0]
    assert res.terrain and res.area_km2(det) < 0.9 * smooth.area_km2(smooth.detection[0])
    g = res.grid
    rng = np.random.default_rng(7)
    rows, cols = np.nonzero(smooth.detection[0])  # cells the range and horizon allow
    pick = rng.choice(rows.size, 150, replace=False)
    lon, lat = g.centres_lonlat()
    with Dem.open(path) as dem:
        eye = float(np.ravel(dem.height_at(site.lat, site.lon))[0]) + 10.0
        agree = decisive = shadowed = 0
        for i in pick:
            r, c = rows[i], cols[i]
            m = h_t - _brute_min_visible_m(dem, site, lon[r, c], lat[r, c], eye)
            if abs(m) < 40.0:  # at a shadow edge the cell-resolution answer may go either way
                continue
            decisive += 1
            shadowed += m < 0
            agree += (m >= 0) == bool(det[r, c])
    assert decisive > 100 and shadowed > 10, (decisive, shadowed)
    assert agree == decisive, (agree, decisive, shadowed)


def test_shadow_is_behind_the_ridge_and_targets_above_ground_clear_it(ridge):
    path, site = ridge
    low, high = compute_coverage_multi(
        None, [500.0, 3000.0], sites=[site], resolution_km=1.0, dem=path
    )
    g = low.grid
    to_xy = Transformer.from_crs("EPSG:32633", g.crs, always_xy=True)

    def cell(dx, dy=0.0):
        r, c, _ = g.rowcol(*to_xy.transform(CX + dx, CY + dy))
        return int(r), int(c)

    east, west, front = cell(30e3), cell(-30e3), cell(10e3)
    assert not low.detection[0][east] and low.detection[0][west] and low.detection[0][front]
    assert high.detection[0][east]  # a 3 km target is seen over the 1 km ridge
    assert not low.engagement[0][east] and low.engagement[0][front]
    on_ridge = cell(20e3)
    amsl = compute_coverage_multi(None, [100.0], sites=[site], resolution_km=1.0, dem=path)[0]
    agl = compute_coverage_multi(
        None, [100.0], agl=True, sites=[site], resolution_km=1.0, dem=path
    )[0]
    assert not amsl.detection[0][on_ridge]  # 100 m AMSL is inside the ridge
    assert agl.detection[0][on_ridge]  # 100 m above the ridge top is in view


def test_unreadable_dem_is_a_user_error(tmp_path, ridge):
    _, site = ridge
    bad = tmp_path / "bad.tif"
    bad.write_text("not a GeoTIFF")
    with pytest.raises(DemError):
        compute_coverage_multi(None, [100.0], sites=[site], resolution_km=2.0, dem=bad)


def test_dem_not_covering_the_site_is_a_user_error(ridge):
    path, site = ridge
    far = SiteSpec("far", "t", 10.0, 100.0, site.radars, 0, site.envelopes)
    with pytest.raises(DemError, match="does not cover site 'far'"):
        compute_coverage_multi(None, [100.0], sites=[far], resolution_km=4.0, dem=path)


def test_envelope_floor_is_height_above_the_ground_under_the_target(ridge):
    """An interceptor with a 200 m floor: over the 1,000 m ridge a target 100 m above the
    ground (1,100 m AMSL) is below the floor and not engageable, although 1,100 m AMSL is far
    above it; 300 m above ground clears it."""
    path, site = ridge
    floor = SiteSpec(site.id, site.system, site.lat, site.lon, site.radars, 0,
                     (EnvelopeSpec("m", 0.0, 30e3, 200.0, 20e3),))  # fmt: skip
    for agl_m, engaged in ((100.0, False), (300.0, True)):
        res = compute_coverage_multi(None, [agl_m], agl=True, sites=[floor], resolution_km=1.0,
                                     dem=path)[0]  # fmt: skip
        lon, lat = res.grid.centres_lonlat()
        xx, yy = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True).transform(lon, lat)
        in_range = np.hypot(xx - CX, yy - CY) < 28e3  # inside the 30 km envelope
        on_ridge = (np.abs(xx - RIDGE_X) <= RIDGE_HALF_M - CELL) & res.detection[0] & in_range
        assert on_ridge.sum() > 20  # seen (the ridge top faces the radar)
        assert res.engagement[0][on_ridge].all() == engaged
        assert res.engagement[0][on_ridge].any() == engaged


def test_dem_smaller_than_the_reach_warns_with_the_covered_share(ridge):
    """The 100 km square DEM around a site seeing 80 km (at 5 km the horizon is ~300 km, so
    the 80 km range decides): the square's corners (70.7 km away) lie inside the 80 km disc,
    so the DEM holds 100^2 / (pi 80^2) = 49.7 % of the reach. Coverage beyond the edge is
    approximate, so the user is warned and summary.json records the share."""
    path, site = ridge
    wide = SiteSpec("wide", "t", site.lat, site.lon, (RadarSpec("r", 10.0, 80e3),), 0, ())
    with pytest.warns(DemCoverageWarning, match=r"covers only 50% of the reach of site 'wide'"):
        (res,) = compute_coverage_multi(None, [5000.0], sites=[wide], resolution_km=1.0, dem=path)
    expected = (N * CELL / 1000) ** 2 / (np.pi * 80.0**2)
    assert res.dem_covered_fraction[0] == pytest.approx(expected, abs=0.01)
    assert res.summary(cities=False, countries=False)["sites"][0][
        "dem_covered_fraction"
    ] == pytest.approx(expected, abs=0.01)


def test_dem_covering_the_reach_gives_no_warning(ridge):
    path, site = ridge  # 40 km radar in the middle of a 100 km square
    with warnings.catch_warnings():
        warnings.simplefilter("error", DemCoverageWarning)
        (res,) = compute_coverage_multi(None, [5000.0], sites=[site], resolution_km=1.0, dem=path)
    assert res.dem_covered_fraction == [1.0]
    (smooth,) = compute_coverage_multi(None, [5000.0], sites=[site], resolution_km=1.0)
    assert smooth.dem_covered_fraction is None
    assert "dem_covered_fraction" not in smooth.summary(cities=False, countries=False)["sites"][0]
