"""Threat kinematics: geodesic routes, AGL over terrain, raid expansion (vs pyproj)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from iadsim import catalog
from iadsim.errors import ScenarioError
from iadsim.geo.frames import GeodesicPath
from iadsim.scenario import scenario_from_dict
from iadsim.sim.ballistic import min_energy_apogee_m
from iadsim.sim.kinematics import RouteFlight, sample_raids

GEOD = Geod(ellps="WGS84")
ROUTE = [[50.0, 30.0, 100.0], [50.4, 31.0, 500.0], [50.9, 31.5, 500.0]]


def _scenario(raids):
    return scenario_from_dict({"name": "kinematics test", "raids": raids})


def test_geodesic_path_positions_match_pyproj_and_pass_every_waypoint():
    lats, lons = [50.0, 50.4, 50.9, 51.0], [179.0, -179.5, -179.0, 179.8]  # wraps the antimeridian
    path = GeodesicPath(lats, lons)
    lat, lon, _, _ = path.at(path.waypoint_s_m)
    np.testing.assert_allclose(lat, lats, atol=1e-9)
    np.testing.assert_allclose(lon, lons, atol=1e-9)
    # inside the first leg, compare with a direct geodesic forward computation
    az, _, _ = GEOD.inv(lons[0], lats[0], lons[1], lats[1])
    d = np.linspace(0, path.leg_length_m[0], 37)
    lon_ref, lat_ref, _ = GEOD.fwd(
        np.full(d.size, lons[0]), np.full(d.size, lats[0]), np.full(d.size, az), d
    )
    lat, lon, sin_az, cos_az = path.at(d)
    _, _, miss = GEOD.inv(lon, lat, lon_ref, lat_ref)
    assert np.max(miss) < 0.05
    assert np.degrees(np.arctan2(sin_az[0], cos_az[0])) == pytest.approx(az, abs=1e-6)


def test_route_flight_keeps_speed_and_arrives_after_length_over_speed():
    flight = RouteFlight(ROUTE, speed_mps=240.0)
    legs = [GEOD.inv(a[1], a[0], b[1], b[0])[2] for a, b in zip(ROUTE, ROUTE[1:], strict=False)]
    assert flight.duration_s == pytest.approx(sum(legs) / 240.0, rel=1e-9)
    t = np.arange(0.0, flight.duration_s, 10.0)
    lat, lon, alt, ecef, vel = flight.sample(t)
    _, _, step = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    corner_t = flight.path.waypoint_s_m[1:-1] / 240.0
    straight = ~np.any((t[:-1, None] < corner_t) & (t[1:, None] > corner_t), axis=1)
    np.testing.assert_allclose(step[straight] / 10.0, 240.0, rtol=1e-4)
    # altitude linear between waypoints: half-way along leg 0 is the mean altitude
    mid = flight.sample(legs[0] / 2 / 240.0)
    assert float(mid[2]) == pytest.approx(300.0, abs=1e-6)
    # velocity = finite difference of ECEF positions (leg 0, away from the corner)
    dt = 0.5
    tt = np.array([100.0, 300.0])
    fd = (flight.sample(tt + dt)[3] - flight.sample(tt - dt)[3]) / (2 * dt)
    np.testing.assert_allclose(flight.sample(tt)[4], fd, atol=0.05)
    assert np.linalg.norm(vel[5]) == pytest.approx(
        np.hypot(240.0, 400.0 / legs[0] * 240.0), rel=1e-6
    )


def test_agl_route_follows_terrain_and_amsl_ignores_it():
    def terrain(lat, lon):  # a ramp rising 1 m per 0.001 deg of latitude north of 50N
        return 1000.0 * (np.asarray(lat) - 50.0)

    agl = RouteFlight(ROUTE, 240.0, agl=True, terrain=terrain)
    amsl = RouteFlight(ROUTE, 240.0, agl=False, terrain=terrain)
    t = np.linspace(0, agl.duration_s, 50)
    lat, _, alt_agl, _, vel = agl.sample(t)
    _, _, alt_amsl, _, _ = amsl.sample(t)
    np.testing.assert_allclose(alt_agl - alt_amsl, terrain(lat, None), atol=1e-6)
    # the climb rate includes the terrain slope: vertical velocity vs d(alt)/dt of the samples
    lon = agl.sample(t)[1]
    v_up = np.einsum("ij,ij->i", vel, _up(lat, lon))
    np.testing.assert_allclose(v_up[1:-1], np.gradient(alt_agl, t)[1:-1], rtol=0.05, atol=0.1)
    assert np.ptp(v_up) > 1.0  # the ramp makes a visible difference


def _up(lat, lon):
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def test_raids_expand_to_threats_with_spacing_names_and_catalog_attributes():
    scn = _scenario(
        [
            {
                "threat": "cruise-missile",
                "count": 3,
                "launch_time_s": 10,
                "spacing_s": 20,
                "route": ROUTE,
            },
            {
                "id": "tbm",
                "threat": "srbm-300",
                "count": 2,
                "spacing_s": 5,
                "launch": [50, 30],
                "aim": [52, 31],
            },
        ]
    )
    t = np.arange(0.0, 1200.0, 2.0)
    ts = sample_raids(scn, t)
    assert ts.lat_deg.shape == (5, t.size) and ts.ecef_m.shape == (5, t.size, 3)
    assert list(ts.name) == [
        "raid0-cruise-missile-0",
        "raid0-cruise-missile-1",
        "raid0-cruise-missile-2",
        "tbm-srbm-300-0",
        "tbm-srbm-300-1",
    ]
    np.testing.assert_array_equal(ts.launch_time_s, [10, 30, 50, 0, 5])
    np.testing.assert_array_equal(ts.raid_index, [0, 0, 0, 1, 1])
    assert list(ts.target_class) == ["cruise"] * 3 + ["ballistic"] * 2
    cm, srbm = catalog.get("cruise-missile"), catalog.get("srbm-300")
    np.testing.assert_array_equal(ts.rcs_m2, [cm.rcs.si] * 3 + [srbm.rcs.si] * 2)
    # active window = [launch, impact); positions held and velocity zero outside it
    for i in range(5):
        want = (t >= ts.launch_time_s[i]) & (t < ts.impact_time_s[i])
        np.testing.assert_array_equal(ts.active[i], want)
        assert np.all(ts.vel_ecef_mps[i][~want] == 0)
    np.testing.assert_allclose(np.diff(ts.impact_time_s[:3]), 20.0)
    assert ts.impact_lat_deg[0] == ROUTE[-1][0] and ts.impact_lat_deg[3] == 52
    cruise_speed = ts.speed_mps[0][ts.active[0]]
    assert np.all(cruise_speed >= cm.speed.si - 1e-6)  # ground speed plus climb
    range_m = GEOD.inv(30, 50, 31, 52)[2]
    assert ts.alt_m[3].max() == pytest.approx(min_energy_apogee_m(range_m), rel=1e-3)
    assert np.all(ts.alt_m[3][t >= ts.impact_time_s[3]] == 0)


def test_every_threat_of_a_raid_is_the_first_one_shifted_in_time():
    scn = _scenario(
        [{"threat": "srbm-300", "count": 3, "spacing_s": 7.5, "launch": [50, 30], "aim": [52, 31]}]
    )
    t = np.arange(0.0, 400.0, 0.5)
    ts = sample_raids(scn, t, chunk_threats=2)
    for k in (1, 2):
        shift = int(7.5 * k / 0.5)
        np.testing.assert_allclose(ts.ecef_m[k, shift:], ts.ecef_m[0, : t.size - shift], atol=1e-6)


def test_chunking_does_not_change_results_and_zero_raids_give_empty_arrays():
    raids = [{"threat": "drone", "count": 5, "spacing_s": 3, "route": ROUTE, "speed_mps": 60}]
    t = np.arange(0.0, 100.0, 1.0)
    a = sample_raids(_scenario(raids), t, chunk_threats=1)
    b = sample_raids(_scenario(raids), t, chunk_threats=128)
    np.testing.assert_array_equal(a.ecef_m, b.ecef_m)
    assert a.speed_mps[0][a.active[0]] == pytest.approx(60.0, rel=0.01)
    empty = sample_raids(_scenario([]), t)
    assert empty.lat_deg.shape == (0, t.size) and empty.ecef_m.shape == (0, t.size, 3)
    assert empty.n_threats == 0 and empty.name.shape == (0,)


def test_an_infeasible_raid_apogee_names_the_scenario_field():
    raids = [
        {"threat": "drone", "route": ROUTE},
        {"threat": "srbm-300", "launch": [50, 30], "aim": [52, 31], "apogee_km": 1.0},
    ]
    with pytest.raises(ScenarioError, match=r"field 'raids\[1\]': apogee 1\.0 km is not feasible"):
        sample_raids(_scenario(raids), np.arange(0.0, 10.0))


def test_a_ballistic_raid_over_terrain_starts_and_impacts_on_the_ground():
    def terrain(lat, lon):  # 800 m at the launch point (50N), 1,200 m at the aim point (52N)
        return 800.0 + 200.0 * (np.asarray(lat, float) - 50.0)

    scn = _scenario([{"threat": "srbm-300", "launch": [50, 30], "aim": [52, 31]}])
    t = np.arange(0.0, 400.0, 0.25)
    ts = sample_raids(scn, t, terrain=terrain)
    flat = sample_raids(scn, t)
    assert ts.alt_m[0, 0] == pytest.approx(800.0, abs=1e-6)
    after = t >= ts.impact_time_s[0]
    assert np.all(ts.alt_m[0, after] == pytest.approx(1200.0))
    assert ts.alt_m[0, ts.active[0]].min() >= 800.0 - 1e-6  # never under the ground
    assert ts.impact_time_s[0] < flat.impact_time_s[0]
