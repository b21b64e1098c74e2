"""Radar model: Swerling 1 detection probability, sigma^(1/4) range scaling, horizon, sector,
ballistic flag, measurement noise."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pymap3d
import pytest
from pyproj import Geod

from iadsim import catalog
from iadsim.deployment import resolve_deployment
from iadsim.geo.earth import horizon_range_m
from iadsim.sim import sensors
from tests.helpers.simkit import SITE, east_of, inbound_raid, run, sam, scenario

pytestmark = pytest.mark.usefixtures("test_catalog")


@pytest.mark.parametrize("pd, snr_db", [(0.9, 21.14), (0.8, 17.85), (0.5, 12.77)])
def test_swerling1_snr_for_pd_at_pfa_1e6(pd, snr_db):
    # closed form SNR = ln(Pfa) / ln(Pd) - 1, e.g. ln(1e-6) / ln(0.9) - 1 = 130.1 (21.14 dB)
    snr = sensors.snr_for_pd_swerling1(pd)
    assert 10 * np.log10(snr) == pytest.approx(snr_db, abs=0.01)
    assert sensors.pd_swerling1(snr) == pytest.approx(pd, abs=1e-12)


def test_range_quoted_at_pd_0p5_overstates_the_pd_0p8_range_by_1p34():
    # the factor the catalog's detection_pd note states: (SNR(0.8) / SNR(0.5))^(1/4)
    s = sensors.snr_for_pd_swerling1
    assert (s(0.8) / s(0.5)) ** 0.25 == pytest.approx(1.339, abs=1e-3)
    assert (s(0.9) / s(0.8)) ** 0.25 == pytest.approx(1.209, abs=1e-3)


def test_swerling1_pd_matches_monte_carlo_square_law_detector():
    # independent reference: complex Gaussian noise (unit power) plus a Rayleigh-fluctuating
    # target (complex Gaussian of power SNR), square-law threshold T = -ln(Pfa)
    rng = np.random.default_rng(1)
    n, pfa = 400_000, 1e-3
    thr = -np.log(pfa)
    for snr_db in (3.0, 10.0, 15.0):
        snr = 10 ** (snr_db / 10)
        cn = lambda p: np.sqrt(p / 2) * (rng.standard_normal(n) + 1j * rng.standard_normal(n))  # noqa: E731
        pd_mc = np.mean(np.abs(cn(snr) + cn(1.0)) ** 2 > thr)
        assert pd_mc == pytest.approx(sensors.pd_swerling1(snr, pfa), abs=4e-3)


def _one_point_traj(ecef, lat, lon, alt, rcs=1.0, cls="cruise"):
    a = lambda v: np.array([[v]], float)  # noqa: E731
    return SimpleNamespace(
        ecef_m=np.asarray(ecef, float).reshape(1, 1, 3), lat_deg=a(lat), lon_deg=a(lon), alt_m=a(alt),
        active=np.ones((1, 1), bool), target_class=np.array([cls]), rcs_m2=np.array([rcs]),
    )  # fmt: skip


def _radar(system="test-sam", heading=0.0):
    scn = scenario([sam(system, heading_deg=heading)], [])
    return sensors.build_radars(resolve_deployment(scn))


def test_pd_is_the_radars_detection_pd_at_the_rcs_scaled_reference_range():
    radars = _radar()
    assert radars.detection_pd[0] == 0.9  # test-fcr fixture
    rcs = 0.01
    r_ref = 2000e3 * (rcs / 1.0) ** 0.25  # test-fcr: 2000 km on 1 m2 -> 632 km, capped at 400
    assert r_ref > radars.max_range_m[0]
    radars.max_range_m[:] = 1e9  # lift the instrumented cap to see the equation alone
    up = radars.enu_rot[0][2]
    # a point straight up at r_ref (no horizon or sector issue)
    p = radars.ecef_m[0] + up * r_ref
    lat, lon, alt = pymap3d.ecef2geodetic(*p)
    opp = sensors.scan_opportunities(
        radars, _one_point_traj(p, lat, lon, alt, rcs), np.zeros(1), 4 / 3
    )
    assert opp.pd[0] == pytest.approx(0.9, abs=1e-5)
    # and Pd falls as the Swerling 1 curve beyond it: SNR / 16 at twice the range
    p2 = radars.ecef_m[0] + up * 2 * r_ref
    opp2 = sensors.scan_opportunities(
        radars, _one_point_traj(p2, *pymap3d.ecef2geodetic(*p2), rcs), np.zeros(1), 4 / 3
    )
    want = sensors.pd_swerling1(sensors.snr_for_pd_swerling1(0.9) / 16)
    assert opp2.pd[0] == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("radar", catalog.items("radar"), ids=lambda r: r.id)
def test_engine_pd_at_the_reference_range_is_the_catalogs_detection_pd(radar):
    # every shipped radar, alone on a site: a target of the reference RCS at exactly the
    # reference range, in free space (boresight, mid elevation, far above any horizon), gets
    # Pd = pd_swerling1(snr_for_pd(detection_pd)) = the catalog's detection_pd
    site = {"id": "r", "system": radar.id, "lat": SITE[0], "lon": SITE[1]}
    radars = sensors.build_radars(resolve_deployment(scenario([site | {"heading_deg": 90.0}], [])))
    assert len(radars) == 1 and radars.detection_pd[0] == radar.detection_pd.value
    radars.max_range_m[:] = 1e12  # the reference range may equal the instrumented cap
    el = np.radians((radar.min_elevation.si + radar.max_elevation.si) / 2)
    az = radars.heading_rad[0]
    enu = np.array([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)])
    p = radars.ecef_m[0] + radars.enu_rot[0].T @ enu * radar.reference_detection_range.si
    lat, lon, alt = pymap3d.ecef2geodetic(*p)
    traj = _one_point_traj(p, lat, lon, alt, radar.reference_rcs.si)
    opp = sensors.scan_opportunities(radars, traj, np.zeros(1), 4 / 3)
    assert len(opp.pd) == 1
    assert opp.range_m[0] == pytest.approx(radar.reference_detection_range.si, rel=1e-9)
    assert opp.pd[0] == pytest.approx(radar.detection_pd.value, abs=1e-6)


def test_instrumented_range_caps_detection():
    radars = _radar()
    p = radars.ecef_m[0] + radars.enu_rot[0][2] * 401e3
    lat, lon, alt = pymap3d.ecef2geodetic(*p)
    opp = sensors.scan_opportunities(radars, _one_point_traj(p, lat, lon, alt), np.zeros(1), 4 / 3)
    assert len(opp.pd) == 0


def test_sector_radar_sees_only_inside_its_azimuth_sector_and_no_ballistic():
    radars = _radar("test-sam-sector", heading=90.0)  # 90 deg sector facing east
    east = dict(lat=SITE[0], lon=east_of(20), alt=1000.0)
    west = dict(lat=SITE[0], lon=east_of(-20), alt=1000.0)
    seen = []
    for pt, cls in ((east, "cruise"), (west, "cruise"), (east, "ballistic")):
        p = pymap3d.geodetic2ecef(pt["lat"], pt["lon"], pt["alt"])
        opp = sensors.scan_opportunities(
            radars, _one_point_traj(p, pt["lat"], pt["lon"], pt["alt"], cls=cls), np.zeros(1), 4 / 3
        )
        seen.append(len(opp.pd) == 1)
    assert seen == [True, False, False]


def test_scan_opportunities_only_on_scan_steps():
    t = np.arange(0, 10.0, 1.0)
    assert sensors.scan_steps(t, 3.0).tolist() == [0, 3, 6, 9]
    assert sensors.scan_steps(t, 0.5).tolist() == list(range(10))


def test_measurement_noise_matches_its_covariance():
    radars = _radar()
    k = 20_000
    opp = sensors.Opportunities(
        step=np.zeros(k, np.int32), radar=np.zeros(k, np.int32), threat=np.zeros(k, np.int32),
        pd=np.ones(k, np.float32), range_m=np.full(k, 50e3), az_rad=np.full(k, 0.7, np.float32),
        el_rad=np.full(k, 0.05, np.float32), offsets=np.array([0, k]),
    )  # fmt: skip
    z, R = sensors.measure(radars, opp, np.arange(k), np.random.default_rng(3))
    truth = radars.ecef_m[0] + radars.enu_rot[0].T @ np.array(
        [50e3 * np.cos(0.05) * np.sin(0.7), 50e3 * np.cos(0.05) * np.cos(0.7), 50e3 * np.sin(0.05)]
    )
    assert np.abs(z.mean(axis=0) - truth).max() < 5.0
    emp = np.cov(z.T)
    # compare in the whitened frame: R^-1/2 C R^-1/2 ~ I
    w = np.linalg.inv(np.linalg.cholesky(R[0]))
    assert np.allclose(w @ emp @ w.T, np.eye(3), atol=0.06)


def test_low_cruise_missile_first_seen_at_horizon_range():
    # radar antenna 10 m, missile 50 m AMSL inbound at 250 m/s; Pd ~ 1 inside 400 km, so the
    # first detection comes on the first 1 s scan after the missile crosses the radio horizon
    h_radar, h_target = 10.0, 50.0
    scn = scenario([sam()], [inbound_raid(150, 5, h_target)], duration_s=700)
    res = run(scn)
    ev = res.events.to_frame()
    first = ev[ev.kind == "detection_start"].iloc[0]
    _, _, ground_m = Geod(ellps="WGS84").inv(SITE[1], SITE[0], first.lon, first.lat)
    horizon = float(horizon_range_m(h_radar, h_target))
    assert horizon - 250.0 * 1.0 - 150.0 <= ground_m <= horizon + 150.0  # one scan of travel
    assert res.per_threat.first_detection_s.iloc[0] == first.time_s


def test_terrain_ridge_hides_a_low_target_until_it_crosses(tmp_path):
    # flat 0 m ground with a 400 m ridge 20-21 km east of the radar; target at 100 m AMSL.
    # Smooth Earth alone would show it at the horizon (54 km); the ridge hides it until < 20 km
    from iadsim.geo.synthetic_dem import write_geotiff
    from iadsim.scenario import scenario_from_dict

    cell, west, north = 0.002, SITE[1] - 0.2, SITE[0] + 0.2
    lon = west + (np.arange(int(1.2 / cell)) + 0.5) * cell
    dem = np.zeros((int(0.4 / cell), len(lon)), np.float32)
    dem[:, (lon >= east_of(20)) & (lon <= east_of(21))] = 400.0
    path = tmp_path / "ridge.tif"
    write_geotiff(path, dem, cell_size_m=cell, crs="EPSG:4326", origin=(west, north))
    firsts = []
    for env in ({}, {"dem": str(path)}):
        scn = scenario_from_dict({
            "name": "ridge", "environment": env, "sites": [sam()],
            "raids": [inbound_raid(60, 3, 100.0)], "time": {"duration_s": 300, "step_s": 1.0},
        })  # fmt: skip
        ev = run(scn).events.to_frame()
        first = ev[ev.kind == "detection_start"].iloc[0]
        firsts.append(Geod(ellps="WGS84").inv(SITE[1], SITE[0], first.lon, first.lat)[2])
    assert firsts[0] == pytest.approx(float(horizon_range_m(10.0, 100.0)), abs=400.0)
    assert 19_000.0 <= firsts[1] <= 20_300.0
