"""Ballistic arcs against the minimum-energy closed form, a numerical integrator and invariants.

Reference values: the minimum-energy trajectory in closed form (vacuum, spherical non-rotating
Earth, burnout at the surface; Bate, Mueller & White, *Fundamentals of Astrodynamics*, Dover
1971, eqs. 6.2-18 to 6.2-22: Q = 2 sin(psi/2) / (1 + sin(psi/2)), flight-path angle
(pi - psi) / 4, apogee altitude R (sin(psi/2) + cos(psi/2) - 1) / 2).
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod
from scipy.integrate import solve_ivp

from iadsim import catalog
from iadsim.errors import InputError
from iadsim.sim.ballistic import (
    MU,
    RE,
    ballistic_trajectory,
    min_energy_apogee_m,
    min_energy_burnout,
    min_energy_time_of_flight_s,
    min_feasible_apogee_m,
    solve_ballistic,
)

GEOD = Geod(ellps="WGS84")

# range km: (apogee km, burnout speed km/s, flight-path angle deg, time of flight s)
TABLE = {
    300: (74.1, 1.70, 44.3, 251),
    600: (146.4, 2.37, 43.7, 360),
    1000: (239.9, 3.02, 42.8, 474),
    1500: (352.1, 3.63, 41.6, 595),
    2000: (458.8, 4.11, 40.5, 702),
    3000: (655.2, 4.87, 38.3, 895),
    10000: (1319.5, 7.20, 22.5, 1931),
}


def _aim_at(range_m, lat=45.0, lon=10.0, az=60.0):
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, range_m)
    return lat, lon, lat2, lon2


def _peak_altitude_m(traj, n=20001):
    return float(traj.sample(np.linspace(0, traj.time_of_flight_s, n)).alt_m.max())


@pytest.mark.parametrize("range_km", sorted(TABLE))
def test_free_flight_arc_reproduces_the_minimum_energy_table(range_km):
    # numeric conic through two surface points (conic_through + Kepler) vs the table
    apogee_km, v_kms, gamma_deg, tof_s = TABLE[range_km]
    sol = solve_ballistic(range_km * 1e3)
    assert sol.apogee_m / 1e3 == pytest.approx(apogee_km, rel=1e-3)
    assert sol.burnout_speed_mps / 1e3 == pytest.approx(v_kms, abs=0.006)
    assert np.degrees(sol.flight_path_angle_rad) == pytest.approx(gamma_deg, abs=0.06)
    assert sol.time_of_flight_s == pytest.approx(tof_s, abs=0.6)
    assert sol.shape == "minimum-energy"
    # and the closed forms agree with the numeric conic
    assert min_energy_time_of_flight_s(range_km * 1e3) == pytest.approx(
        sol.time_of_flight_s, rel=1e-9
    )
    v, g = min_energy_burnout(range_km * 1e3)
    assert v == pytest.approx(sol.burnout_speed_mps, rel=1e-9)
    assert g == pytest.approx(sol.flight_path_angle_rad, rel=1e-9)


@pytest.mark.parametrize(("threat_id", "range_km"), [("srbm-300", 300), ("mrbm-1000", 1000)])
def test_arc_boost_model_keeps_the_closed_form_within_5pct_with_the_catalog_boost(
    threat_id, range_km
):
    boost_s = catalog.get(threat_id).boost_time.si
    assert boost_s > 0
    traj = ballistic_trajectory(*_aim_at(range_km * 1e3), boost_time_s=boost_s, boost_model="arc")
    apogee_km, _, _, tof_s = TABLE[range_km]
    assert _peak_altitude_m(traj) / 1e3 == pytest.approx(apogee_km, rel=0.05)
    assert traj.time_of_flight_s == pytest.approx(tof_s, rel=0.05)
    # the boost really is a powered start from rest, not the impulsive textbook start
    early = traj.sample(np.array([0.0, 0.1 * boost_s, boost_s]))
    speed = np.linalg.norm(early.vel_ecef_mps, axis=-1)
    assert speed[0] == 0 and speed[1] < 0.5 * traj.burnout_speed_mps


@pytest.mark.parametrize("range_km", [300, 2000])
def test_table_rows_hold_with_a_60s_boost_in_the_arc_model(range_km):
    apogee_km, _, _, tof_s = TABLE[range_km]
    traj = ballistic_trajectory(*_aim_at(range_km * 1e3), boost_time_s=60.0, boost_model="arc")
    assert _peak_altitude_m(traj) / 1e3 == pytest.approx(apogee_km, rel=0.05)
    assert traj.time_of_flight_s == pytest.approx(tof_s, rel=0.05)


@pytest.mark.parametrize("boost_s", [20.0, 60.0])
def test_climb_from_rest_keeps_the_apogee_and_costs_about_half_the_boost_time(boost_s):
    # vertical kinematics: a burn from rest spends t_b at half speed on average (~ t_b/2 lost)
    sol = solve_ballistic(300e3, boost_time_s=boost_s, boost_model="climb")
    ref = min_energy_time_of_flight_s(300e3)
    assert sol.apogee_m == pytest.approx(min_energy_apogee_m(300e3), rel=1e-9)
    assert sol.time_of_flight_s - ref == pytest.approx(boost_s / 2, rel=0.2)
    assert 0 < sol.burnout_altitude_m < sol.apogee_m
    dist, alt, v_h, v_up = sol.sample_plane(np.array([0.0, boost_s / 2, boost_s]))
    assert alt[0] == 0 and v_h[0] == v_up[0] == 0
    assert np.hypot(v_h[1], v_up[1]) == pytest.approx(sol.burnout_speed_mps / 2, rel=1e-6)


def test_short_range_apogee_tends_to_a_quarter_of_the_range():
    ratios = [float(min_energy_apogee_m(r)) / r for r in (100e3, 10e3, 1e3)]
    assert ratios[-1] == pytest.approx(0.25, rel=1e-3)
    assert np.all(np.diff(ratios) > 0)  # approaches 1/4 from below
    assert solve_ballistic(10e3).apogee_m / 10e3 == pytest.approx(0.25, rel=2e-3)


def test_time_of_flight_and_speed_grow_and_angle_falls_with_range():
    sols = [solve_ballistic(r * 1e3) for r in (50, 300, 1000, 3000, 8000, 12000)]
    assert np.all(np.diff([s.time_of_flight_s for s in sols]) > 0)
    assert np.all(np.diff([s.burnout_speed_mps for s in sols]) > 0)
    assert np.all(np.diff([s.flight_path_angle_rad for s in sols]) < 0)


@pytest.mark.parametrize(("apogee_km", "shape"), [(200.0, "lofted"), (45.0, "depressed")])
def test_requested_apogee_is_flown_and_costs_more_speed_than_minimum_energy(apogee_km, shape):
    traj = ballistic_trajectory(*_aim_at(300e3), apogee_km=apogee_km)
    ref = ballistic_trajectory(*_aim_at(300e3))
    assert traj.shape == shape
    assert _peak_altitude_m(traj) / 1e3 == pytest.approx(apogee_km, rel=1e-4)
    # minimum energy = minimum burnout speed for the range; both other arcs need more
    assert traj.burnout_speed_mps > ref.burnout_speed_mps
    longer = traj.time_of_flight_s > ref.time_of_flight_s
    assert longer == (shape == "lofted")
    assert (traj.flight_path_angle_deg > ref.flight_path_angle_deg) == (shape == "lofted")


def test_kepler_sampling_matches_a_numerical_two_body_integration():
    sol = solve_ballistic(1000e3, apogee_m=400e3)
    t = np.linspace(0, sol.time_of_flight_s, 9)
    dist, alt, v_h, v_up = sol.sample_plane(t)
    # planar two-body problem from the launch state, integrated independently
    y0 = [RE, 0.0, v_up[0], v_h[0]]  # x radial at launch, y downrange

    def rhs(_, y):
        r3 = np.hypot(y[0], y[1]) ** 3
        return [y[2], y[3], -MU * y[0] / r3, -MU * y[1] / r3]

    ivp = solve_ivp(rhs, (0, t[-1]), y0, t_eval=t, rtol=1e-11, atol=1e-6, method="DOP853")
    r_num = np.hypot(ivp.y[0], ivp.y[1])
    phi_num = np.arctan2(ivp.y[1], ivp.y[0])
    np.testing.assert_allclose(alt, r_num - RE, atol=1.0)
    np.testing.assert_allclose(dist, phi_num * RE, atol=1.0)


def test_energy_and_angular_momentum_are_conserved_in_free_flight():
    sol = solve_ballistic(2000e3, boost_time_s=60.0)
    t = np.linspace(sol.effective_boost_s, sol.time_of_flight_s, 500)
    _, alt, v_h, v_up = sol.sample_plane(t)
    r = RE + alt
    energy = 0.5 * (v_h**2 + v_up**2) - MU / r
    assert np.ptp(energy) < 1e-9 * abs(energy.mean())
    assert np.ptp(r * v_h) < 1e-9 * (r * v_h).mean()
    # and the ECEF velocity carries the same speed
    traj = ballistic_trajectory(*_aim_at(2000e3), boost_time_s=60.0)
    s = traj.sample(t)
    speed = np.linalg.norm(s.vel_ecef_mps, axis=-1)
    assert np.ptp(0.5 * speed**2 - MU / (RE + s.alt_m)) < 1e-6 * abs(energy.mean())


def test_impact_is_on_the_aim_point_and_velocity_matches_the_motion():
    lat0, lon0, lat1, lon1 = _aim_at(
        1500e3, lat=10.0, lon=170.0, az=80.0
    )  # across the antimeridian
    traj = ballistic_trajectory(lat0, lon0, lat1, lon1, boost_time_s=60.0)
    end = traj.sample(np.array([traj.time_of_flight_s, traj.time_of_flight_s + 100]))
    _, _, miss_m = GEOD.inv(end.lon_deg, end.lat_deg, [lon1] * 2, [lat1] * 2)
    assert np.max(miss_m) < 1.0 and np.all(end.alt_m == 0)
    start = traj.sample(np.array([-5.0, 0.0]))
    assert np.allclose(start.lat_deg, lat0) and np.allclose(start.lon_deg, lon0)
    # central differences of ECEF positions vs the analytic ECEF velocity
    t = np.linspace(30, traj.time_of_flight_s - 30, 7)
    dt = 0.01
    fd = (traj.sample(t + dt).ecef_m - traj.sample(t - dt).ecef_m) / (2 * dt)
    vel = traj.sample(t).vel_ecef_mps
    err = np.linalg.norm(fd - vel, axis=-1) / np.linalg.norm(vel, axis=-1)
    assert err.max() < 5e-3  # sphere-to-ellipsoid mapping of the ground track


def test_infeasible_apogee_is_refused_with_the_lowest_feasible_value():
    floor_m = min_feasible_apogee_m(300e3)
    assert 0 < floor_m < min_energy_apogee_m(300e3)
    solve_ballistic(300e3, apogee_m=floor_m * 1.01)  # just above is fine
    with pytest.raises(InputError, match=r"apogee 2\.0 km is not feasible.*above \d"):
        solve_ballistic(300e3, apogee_m=2e3)
    with pytest.raises(InputError, match="too short"):
        ballistic_trajectory(50.0, 30.0, 50.0, 30.0)
    with pytest.raises(InputError, match="boost_model 'rocket' is unknown"):
        solve_ballistic(300e3, boost_model="rocket")


@pytest.mark.parametrize("boost_model", ["arc", "climb"])
def test_arc_starts_on_the_launch_ground_and_impacts_on_the_aim_ground(boost_model):
    g0, g1 = 400.0, 900.0  # launch and aim points on terrain, m above the ellipsoid
    sol = solve_ballistic(300e3, None, 20.0, boost_model, launch_ground_m=g0, aim_ground_m=g1)
    sea = solve_ballistic(300e3, None, 20.0, boost_model)
    tof = sol.time_of_flight_s
    _, alt, v_h, v_up = sol.sample_plane(np.array([0.0, tof - 1e-6, tof, tof + 50]))
    assert alt[0] == pytest.approx(g0, abs=1e-6) and np.all(alt[2:] == g1)
    assert alt[1] == pytest.approx(g1, abs=0.01)
    # never under the aim point's ground on the way down, and it arrives earlier than at sea level
    _, late, _, _ = sol.sample_plane(np.linspace(tof - 30, tof, 301))
    assert late.min() >= g1 - 1e-6 and tof < sea.time_of_flight_s
    # vis-viva at the aim ground, and the sampled speed there
    assert np.hypot(v_h[1], v_up[1]) == pytest.approx(sol.impact_speed_mps, rel=1e-6)


def test_arc_to_the_aim_ground_matches_a_two_body_integration_to_that_radius():
    g0, g1 = 200.0, 1500.0
    sol = solve_ballistic(600e3, apogee_m=200e3, launch_ground_m=g0, aim_ground_m=g1)
    _, _, v_h, v_up = sol.sample_plane(np.array([0.0]))
    y0 = [RE + g0, 0.0, v_up[0], v_h[0]]  # impulsive burnout at the launch ground

    def rhs(_, y):
        r3 = np.hypot(y[0], y[1]) ** 3
        return [y[2], y[3], -MU * y[0] / r3, -MU * y[1] / r3]

    def ground(_, y):
        return np.hypot(y[0], y[1]) - (RE + g1)

    ground.terminal, ground.direction = True, -1
    ivp = solve_ivp(rhs, (0, 2 * sol.time_of_flight_s), y0, events=ground, rtol=1e-11,
                    atol=1e-6, method="DOP853")  # fmt: skip
    t_hit = ivp.t_events[0][0]
    x, y = ivp.y_events[0][0][:2]
    assert t_hit == pytest.approx(sol.time_of_flight_s, abs=1e-3)
    assert np.arctan2(y, x) * RE == pytest.approx(600e3, abs=1.0)


def test_ends_on_terrain_are_validated_and_infeasible_apogees_name_their_floor():
    with pytest.raises(InputError, match="aim_ground_m must be a terrain height"):
        solve_ballistic(300e3, aim_ground_m=float("nan"))
    floor_m = min_feasible_apogee_m(300e3, aim_ground_m=2000.0)
    assert floor_m > 2000.0
    solve_ballistic(300e3, apogee_m=floor_m * 1.01, aim_ground_m=2000.0)
