"""Smooth-Earth coverage against closed forms: spherical caps, the §4.1 horizon table, unions,
overlaps and the engagement/fire-control-radar relation."""

import numpy as np
import pytest

from iadsim.coverage import EnvelopeSpec, RadarSpec, SiteSpec, compute_coverage_multi
from iadsim.coverage.grid import GEOD, make_grid
from iadsim.geo import earth

R_E = earth.R_EARTH_M
OMNI = dict(min_elevation_deg=-90.0, max_elevation_deg=90.0)


def _site(sid="a", lat=45.0, lon=10.0, h_ant=10.0, det_m=5e6, envs=(), fcr=0):
    return SiteSpec(
        sid, "test", lat, lon, (RadarSpec("r", h_ant, det_m, **OMNI),), fcr, tuple(envs)
    )


def _run(sites, alts, res_km, **kw):
    return compute_coverage_multi(None, alts, sites=sites, resolution_km=res_km, **kw)


def _cap_km2(arc_m):
    return float(earth.spherical_cap_area_m2(arc_m)) / 1e6


def test_horizon_limited_area_matches_spherical_cap_at_1km():
    # radar 10 m, target 1000 m: horizon s = 13.0 + 130.3 km; no range limit
    s = float(earth.horizon_range_m(10.0, 1000.0))
    r = _run([_site()], [1000.0], 1.0)[0]
    assert r.area_km2(r.detection[0]) == pytest.approx(_cap_km2(s), rel=0.01)


def test_range_limited_area_matches_spherical_cap_from_slant_range():
    # 100 km slant range to a 3000 m target; the horizon (239 km) is not the limit
    s = float(earth.ground_range_for_slant_m(100e3, 10.0, 3000.0))
    r = _run([_site(det_m=100e3)], [3000.0], 1.0)[0]
    assert s < earth.horizon_range_m(10.0, 3000.0)
    assert r.area_km2(r.detection[0]) == pytest.approx(_cap_km2(s), rel=0.01)


# (h_radar_m, h_target_m, exact_km): the 4/3-Earth radio horizon
# sqrt(2 k R_E h1) + sqrt(2 k R_E h2), k = 4/3, R_E = 6371 km (Federal Standard 1037C)
HORIZON_TABLE = [
    (10, 0, 13.03),
    (10, 50, 42.18),
    (10, 100, 54.25),
    (30, 15, 38.54),
    (10, 10_000, 425.2),
    (25, 30_000, 734.5),
]


@pytest.mark.parametrize("h_r,h_t,exact_km", HORIZON_TABLE)
def test_coverage_radius_along_meridian_reproduces_horizon_table(h_r, h_t, exact_km):
    res_km = max(0.1, exact_km / 150)
    r = _run([_site(h_ant=h_r, lat=30.0, lon=0.0)], [h_t], res_km)[0]
    g = r.grid
    x0, _ = g.project(0.0, 30.0)
    col = int((x0 - g.x_min) // g.cell_m)  # the column through the site is its meridian
    rows = np.flatnonzero(r.detection[0][:, col])
    lon, lat = g.centres_lonlat(slice(rows[0], rows[0] + 1), slice(col, col + 1))
    _, _, north_m = GEOD.inv(0.0, 30.0, float(lon[0, 0]), float(lat[0, 0]))
    # the table's "exact" is the sqrt(2kRh) sum; the tangent form differs by < 0.1 %
    assert north_m / 1000 == pytest.approx(exact_km, abs=1.5 * res_km + 2e-3 * exact_km)


def test_union_of_distant_sites_is_sum_and_identical_sites_count_once():
    a, b = _site("a", lat=40.0, lon=10.0), _site("b", lat=40.0, lon=25.0)  # ~1270 km apart
    r = _run([a, b], [1000.0], 4.0)[0]
    da, db = r.area_km2(r.detection[0]), r.area_km2(r.detection[1])
    assert r.area_km2(r.union_detection) == pytest.approx(da + db)
    assert r.overlap_detection.max() == 1
    twin = _run([a, _site("a2", lat=40.0, lon=10.0)], [1000.0], 4.0)[0]
    assert twin.area_km2(twin.union_detection) == pytest.approx(twin.area_km2(twin.detection[0]))
    assert twin.overlap_detection.max() == 2
    assert np.array_equal(twin.overlap_detection == 2, twin.detection[0])


def test_overlap_count_is_inclusion_exclusion_of_two_overlapping_caps():
    a, b = _site("a", lat=40.0, lon=10.0), _site("b", lat=40.0, lon=11.5)  # ~128 km apart
    r = _run([a, b], [1000.0], 2.0)[0]
    both = r.area_km2(r.overlap_detection == 2)
    assert both > 0
    assert both == pytest.approx(
        r.area_km2(r.detection[0]) + r.area_km2(r.detection[1]) - r.area_km2(r.union_detection)
    )
    # overlap of two caps of radius s at centre distance c: 2 s^2 acos(c/2s) - c/2 sqrt(4s^2-c^2)
    s = float(earth.horizon_range_m(10.0, 1000.0)) / 1000
    _, _, c = GEOD.inv(10.0, 40.0, 11.5, 40.0)
    c /= 1000
    lens = 2 * s * s * np.arccos(c / (2 * s)) - c / 2 * np.sqrt(4 * s * s - c * c)
    assert both == pytest.approx(lens, rel=0.03)


def test_engagement_is_envelope_inside_fire_control_line_of_sight():
    env = EnvelopeSpec("m", 5e3, 400e3, 10.0, 30e3)
    site = _site(h_ant=20.0, det_m=50e3, envs=[env])
    r = _run([site], [2000.0], 2.0)[0]
    g = r.grid
    lon, lat = g.centres_lonlat()
    _, _, d = GEOD.inv(np.full(lon.shape, 10.0), np.full(lon.shape, 45.0), lon, lat)
    fcr_los = 2000.0 >= earth.min_visible_height_m(d, 20.0)
    eng = r.engagement[0]
    assert not (eng & ~fcr_los).any()
    # here the horizon (18.4 + 184.4 km) limits, not the 400 km envelope nor the 50 km radar
    s = float(earth.horizon_range_m(20.0, 2000.0))
    inner = float(earth.ground_range_for_slant_m(5e3, 0.0, 2000.0))
    assert r.area_km2(eng) == pytest.approx(_cap_km2(s) - _cap_km2(inner), rel=0.01)
    assert r.area_km2(r.detection[0]) < r.area_km2(eng)


def test_engagement_respects_altitude_limits_and_radar_only_site_never_engages():
    env = EnvelopeSpec("m", 0.0, 100e3, 50.0, 5000.0)
    sites = [_site("f", envs=[env]), _site("ew", lat=45.0, lon=20.0, fcr=None)]
    low, high = _run(sites, [20.0, 8000.0], 4.0)
    assert not low.engagement.any() and not high.engagement.any()
    mid = _run(sites, [1000.0], 4.0)[0]
    assert mid.engagement[0].any() and not mid.engagement[1].any()
    assert mid.detection[1].any()


def test_cone_of_silence_from_max_elevation():
    site = SiteSpec("c", "t", 45.0, 10.0, (RadarSpec("r", 10.0, 300e3, 0.0, 45.0),), 0, ())
    r = _run([site], [10_000.0], 2.0)[0]
    g = r.grid
    row, col, _ = g.rowcol(*g.project(10.0, 45.0))
    assert not r.detection[0][row, col]  # overhead: elevation 90 deg > 45 deg
    # the hole is a disc of radius ~10 km (45 deg); a cell 20 km north is seen
    assert r.detection[0][row - 10, col]


def test_several_altitudes_match_single_runs():
    site = _site(det_m=200e3)
    multi = _run([site], [100.0, 5000.0], 4.0)
    for m in multi:
        single = _run([site], [m.altitude_m], 4.0)[0]
        # grids differ in extent only (cells stay aligned on the same LAEA origin)
        assert single.area_km2(single.detection) == m.area_km2(m.detection)


def test_grid_cells_are_equal_area():
    g = make_grid([60.0], [100.0], [500e3], 5000.0)
    # the four corners of a cell far from the centre, measured on the ellipsoid
    x, y = g.x_min + 10 * g.cell_m, g.y_max - 10 * g.cell_m
    xs = np.array([x, x + g.cell_m, x + g.cell_m, x, x])
    ys = np.array([y, y, y - g.cell_m, y - g.cell_m, y])
    lon, lat = g.to_wgs84.transform(xs, ys)
    area, _ = GEOD.polygon_area_perimeter(lon, lat)
    assert abs(area) == pytest.approx(g.cell_m**2, rel=2e-3)


def test_resolution_is_refused_only_when_coarser_than_every_reach_at_some_altitude():
    from iadsim.errors import InputError

    # radar 10 m, target 0 m: horizon 13.0 km; 2 km cells resolve it (a NASAMS against a
    # sea-skimmer), whatever other altitudes are asked for
    low = _run([_site()], [0.0], 2.0)[0]
    assert low.area_km2(low.detection[0]) > 0
    assert _run([_site()], [0.0, 10000.0], 2.0)[0].area_km2(low.detection[0]) > 0
    # 20 km cells are coarser than the 13 km reach at 0 m: refused, naming that altitude,
    # even when a higher altitude (reach ~425 km) is asked for too
    for alts in ([0.0], [0.0, 10000.0]):
        with pytest.raises(InputError, match=r"coarser than the widest site's reach at 0 m"):
            _run([_site()], alts, 20.0)
    with pytest.raises(InputError, match="must be >= 0"):
        _run([_site()], [-50.0], 2.0, agl=True)


def test_bad_resolution_and_empty_sites_are_user_errors():
    from iadsim.errors import InputError

    with pytest.raises(InputError, match="resolution"):
        _run([_site()], [100.0], -1.0)
    with pytest.raises(InputError, match="no sites"):
        _run([], [100.0], 2.0)


def test_site_inventory_selects_the_interceptors_that_shape_engagement():
    from iadsim.coverage import resolve_sites
    from iadsim.scenario import scenario_from_dict

    base = {"id": "a", "system": "s-400", "lat": 39.9, "lon": 32.9}
    scn = scenario_from_dict(
        {
            "name": "t",
            "sites": [
                base,
                {**base, "id": "no40n6", "interceptors": {"48n6e3": 16, "40n6e": 0}},
                {**base, "id": "empty", "interceptors": {"48n6e3": 0}},
            ],
        }
    )
    full, short, empty = resolve_sites(scn, "fighter-4gen")
    assert "40n6e" in {e.interceptor for e in full.envelopes}
    assert [e.interceptor for e in short.envelopes] == ["48n6e3"]
    assert empty.envelopes == ()
    r = compute_coverage_multi(scn, [10_000.0], resolution_km=8.0)[0]
    eng = [r.area_km2(m) for m in r.engagement]
    assert eng[0] > eng[1] > 0 and eng[2] == 0


def test_fixed_sector_radar_covers_its_sector_only():
    radar = RadarSpec("r", 10.0, 5e6, -90.0, 90.0, azimuth_sector_deg=120.0, heading_deg=90.0)
    site = SiteSpec("s", "t", 45.0, 10.0, (radar,), 0, ())
    free, fixed = (_run([site], [1000.0], 1.0, sectors=sec)[0] for sec in (False, True))
    s = float(earth.horizon_range_m(10.0, 1000.0))
    assert free.area_km2(free.detection[0]) == pytest.approx(_cap_km2(s), rel=0.01)
    assert fixed.area_km2(fixed.detection[0]) == pytest.approx(_cap_km2(s) / 3, rel=0.02)
    g = fixed.grid
    for lon, seen in ((11.0, True), (9.0, False)):  # 79 km east / west of the site
        row, col, _ = g.rowcol(*g.project(lon, 45.0))
        assert fixed.detection[0][row, col] == seen
