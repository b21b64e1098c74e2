"""Vertical coverage diagram curves against closed forms and against the coverage maps."""

import csv

import numpy as np
import pytest

from iadsim import catalog
from iadsim.coverage import compute_coverage
from iadsim.geo import earth
from iadsim.report.vcd import vcd_curves, write_vcd
from iadsim.scenario import scenario_from_dict


@pytest.fixture(scope="module")
def s400():
    return vcd_curves("s-400", threat="fighter-4gen", antenna_height_m=10.0, n=4001)


@pytest.mark.parametrize("h_t_m,exact_km", [(100, 54.25), (10_000, 425.2)])
def test_horizon_curve_reproduces_reference_table(s400, h_t_m, exact_km):
    # 4/3-Earth radio horizon d = sqrt(2 k R h1) + sqrt(2 k R h2) (Federal Standard 1037C,
    # "radar line-of-sight equation"): radar 10 m sees a target at h_t out to exact_km
    d = s400["ground_range_km"]
    h = np.interp(exact_km, d, s400["columns"]["horizon_91n6e"])
    assert h * 1000 == pytest.approx(h_t_m, rel=0.01)


def test_horizon_curve_equals_small_height_closed_form(s400):
    a_km = 4 / 3 * earth.R_EARTH_M / 1000
    d = s400["ground_range_km"]
    d1 = np.sqrt(2 * a_km * 0.010)
    far = d > 2 * d1
    closed = (d[far] - d1) ** 2 / (2 * a_km)
    np.testing.assert_allclose(s400["columns"]["horizon_91n6e"][far], closed, rtol=2e-3)


def test_detection_boundary_is_fourth_root_scaled_range(s400):
    r = catalog.get("91n6e")
    rcs = catalog.get("fighter-4gen").rcs.si
    expected_km = min(
        r.reference_detection_range.value * (rcs / r.reference_rcs.si) ** 0.25,
        r.instrumented_range.value,
    )  # catalog values are in km
    assert s400["meta"]["detection_range_km"]["91n6e"] == pytest.approx(expected_km)
    d = s400["ground_range_km"]
    up = s400["columns"]["detection_91n6e_upper"]
    # far out, the range circle (not the 60 deg elevation limit) bounds the band from above
    ok = ~np.isnan(up) & (d > 300)
    assert ok.sum() > 100
    slant = earth.slant_range_m(d[ok] * 1000, 10.0, up[ok] * 1000) / 1000
    np.testing.assert_allclose(slant, expected_km, rtol=1e-6)
    # a stealthier threat: range ratio is the fourth root of the RCS ratio
    stealth = vcd_curves("s-400", threat="fighter-stealth", antenna_height_m=10.0, n=11)
    rcs2 = catalog.get("fighter-stealth").rcs.si
    assert stealth["meta"]["detection_range_km"]["91n6e"] == pytest.approx(
        expected_km * (rcs2 / rcs) ** 0.25
    )


def test_detection_band_matches_coverage_radius(s400):
    # the farthest ground range of the VCD band at 5 km equals the coverage map's radius
    h = 5.0
    d = s400["ground_range_km"]
    lo = s400["columns"]["detection_91n6e_lower"]
    up = s400["columns"]["detection_91n6e_upper"]
    band = np.fmax(
        np.where((lo <= h) & (up >= h), d, np.nan),
        np.where(
            (s400["columns"]["detection_92n6e_lower"] <= h)
            & (s400["columns"]["detection_92n6e_upper"] >= h),
            d,
            np.nan,
        ),
    )
    vcd_reach = np.nanmax(band)
    scn = scenario_from_dict(
        {
            "name": "t",
            "sites": [
                {"id": "a", "system": "s-400", "lat": 30.0, "lon": 0.0, "antenna_height_m": 10}
            ],
        }
    )
    cov = compute_coverage(scn, h * 1000, resolution_km=2.0)
    g = cov.grid
    x0, _ = g.project(0.0, 30.0)
    col = int((x0 - g.x_min) // g.cell_m)
    rows = np.flatnonzero(cov.detection[0][:, col])
    lon, lat = g.centres_lonlat(slice(rows[0], rows[0] + 1), slice(col, col + 1))
    from iadsim.coverage.grid import GEOD

    _, _, north_m = GEOD.inv(0.0, 30.0, float(lon[0, 0]), float(lat[0, 0]))
    assert north_m / 1000 == pytest.approx(vcd_reach, abs=3.0)


def test_engagement_envelope_limits(s400):
    d = s400["ground_range_km"]
    lo = s400["columns"]["engagement_40n6e_lower"]
    up = s400["columns"]["engagement_40n6e_upper"]
    env = catalog.get("40n6e").envelopes["aircraft"]
    ok = ~np.isnan(lo)
    assert np.nanmax(up) == pytest.approx(env.max_altitude.si / 1000)
    assert d[ok].max() <= env.max_range.si / 1000 + 1e-9
    assert d[ok].max() > 0.99 * env.max_range.si / 1000
    # never below the fire-control radar's horizon (92N6E at 10 m here)
    assert np.all(lo[ok] >= s400["columns"]["horizon_92n6e"][ok] - 1e-9)


def test_write_vcd_png_and_csv(tmp_path):
    out = write_vcd("patriot", tmp_path / "vcd.png", threat="cruise-missile")
    assert out["png"].read_bytes()[:4] == b"\x89PNG"
    with open(out["csv"]) as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "ground_range_km" and "horizon_an-mpq-65_km" in rows[0]
    assert len(rows) > 100


# --- axes that fit the radar and the threat ------------------------------------------------


def _drawn_limits(item, threat):
    from iadsim.report.figure import with_fonts
    from iadsim.report.vcd import vcd_figure

    curves = vcd_curves(item, threat=threat)
    ax = with_fonts(vcd_figure)(curves).axes[0]
    scale = 1000.0 if "(m above" in ax.get_ylabel() else 1.0  # the altitude axis in m or km
    return curves["meta"], ax.get_xlim()[1], ax.get_ylim()[1] / scale


def test_vcd_of_an_early_warning_radar_vs_an_mrbm_spans_hundreds_of_km():
    """AN/TPY-2 vs mrbm-1000: the axes hold the radar's 1,000 km detection range for the
    threat's RCS (catalog R_ref (sigma/sigma_ref)^(1/4), capped) and the MRBM's 240 km apogee,
    not a 10 km ceiling."""
    radar = catalog.get("an-tpy-2", kind="radar")
    mrbm = catalog.get("mrbm-1000", kind="threat")
    r_det_km = (
        min(
            radar.reference_detection_range.si * (mrbm.rcs.si / radar.reference_rcs.si) ** 0.25,
            radar.instrumented_range.si,
        )
        / 1000
    )
    meta, x_max, y_max = _drawn_limits("an-tpy-2", "mrbm-1000")
    assert meta["detection_range_km"]["an-tpy-2"] == pytest.approx(r_det_km)
    assert r_det_km <= x_max <= 1.1 * r_det_km
    assert mrbm.cruise_altitude.si / 1000 <= y_max <= 1.3 * mrbm.cruise_altitude.si / 1000
    assert y_max > 200


def test_vcd_of_a_short_range_radar_vs_a_cruise_missile_is_zoomed_to_fit():
    """AN/MPQ-64 vs cruise-missile: ground range to just beyond its 22 km detection range
    and the AMRAAM's reach, altitudes to just above the missile's 50 m (in metres), where the
    old diagram showed 0-10 km."""
    meta, x_max, y_max = _drawn_limits("nasams", "cruise-missile")
    r_det = meta["detection_range_km"]["an-mpq-64"]
    assert 20 < r_det <= x_max < 2 * r_det
    assert 0.050 <= y_max < 0.1  # km: the cruise altitude fits, nothing far above it
    # the legend's reach at 50 m is the coverage's rule for one radar: range-limited here
    assert meta["reach_at_cruise_altitude_km"]["an-mpq-64"] == pytest.approx(r_det, rel=2e-3)


def test_vcd_altitude_axis_holds_the_horizon_at_the_detection_range():
    """S-400 vs cruise-missile: the 91N6E sees a 0.1 m2 target to 190 km in free space; the
    radar horizon there (a / cos((d - d1) / a) - a) is the diagram's ceiling, so the whole
    horizon-limited reach is drawn."""
    import numpy as np

    meta, x_max, y_max = _drawn_limits("s-400", "cruise-missile")
    a = (4 / 3) * 6_371_000.0
    for rid, rng_km in meta["detection_range_km"].items():
        h_r = meta["antenna_height_m"][rid]
        d1 = a * np.arccos(a / (a + h_r))
        horizon_km = (a / np.cos((rng_km * 1e3 - d1) / a) - a) / 1000
        assert horizon_km <= y_max and rng_km <= x_max
    assert y_max < 5  # not the interceptors' 30 km ceiling
