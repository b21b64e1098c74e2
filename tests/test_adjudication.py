"""Adjudication on the truth: a round launched on the track is judged where it really meets
the target, and no event lies under the ground.

* the true intercept time against a brute-force search over the sampled (true) path;
* level-flight PIPs that follow the Earth, against an independent construction;
* a cruise missile that dives under the floor during the fly-out, a ballistic missile below
  the ballistic floor at intercept, a target that turns away after launch;
* both demo raids, several seeds: every kill recomputed from the events alone (site from the
  scenario, envelope from the catalog, ground from the DEM read with rasterio) lies inside the
  killing interceptor's envelope, and no event lies under the DEM.
"""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest
import rasterio
from pyproj import Transformer
from scipy.optimize import brentq
from scipy.spatial.transform import Rotation

from iadsim import catalog
from iadsim.examples import example_path
from iadsim.geo.frames import geodetic_height_m
from iadsim.scenario import load_scenario
from iadsim.sim import engagement as eng
from iadsim.sim import engine
from iadsim.sim.events import REASONS
from iadsim.sim.kinematics import RouteFlight
from tests.helpers.simkit import SITE, east_of, sam, scenario

_TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)  # lon, lat, h -> XYZ


def _ecef(lat, lon, alt):
    lat, lon, alt = np.broadcast_arrays(*(np.asarray(a, float) for a in (lat, lon, alt)))
    return np.stack(_TO_ECEF.transform(lon, lat, alt), axis=-1)


def _first_catch_brute_force(t, pos, launcher, t_launch, speed, dt=1e-3):
    """First t >= t_launch with |p(t) - L| <= s (t - t_launch) on the path given by samples
    (t, pos), linear between them: a dense grid (``dt``) then brentq on the bracketing cell."""

    def p_at(tt):
        return np.stack([np.interp(tt, t, pos[:, j]) for j in range(3)], axis=-1)

    def gap(tt):
        return np.linalg.norm(p_at(tt) - launcher, axis=-1) - speed * (tt - t_launch)

    grid = np.arange(t_launch, t[-1], dt)
    g = gap(grid)
    k = int(np.flatnonzero(g <= 0)[0])
    return brentq(gap, grid[k - 1], grid[k], xtol=1e-10), p_at


# ---------------------------------------------------------------- the true intercept time --
def test_true_intercept_time_is_the_first_catch_on_the_sampled_path():
    # a target weaving on samples 1 s apart (zig-zag in ECEF), several launchers and speeds
    rng = np.random.default_rng(3)
    time_s = np.arange(0.0, 200.0, 1.0)
    start = _ecef(40.0, 30.0, 3000.0)
    steps = rng.normal(0, 1, (len(time_s), 3)) * [150, 150, 20] + [-200.0, 60.0, 0.0]
    traj = start + np.cumsum(steps, axis=0)
    rows = 40
    threat = np.zeros(rows, np.int64)
    step = rng.integers(0, 60, rows)
    launcher = _ecef(40.0 + rng.uniform(-0.3, 0.3, rows), 29.6 + rng.uniform(-0.3, 0.3, rows), 0.0)
    speed = rng.uniform(600.0, 1500.0, rows)
    t_end, status, pos, _ = eng.true_intercept(
        traj[None], np.zeros((1, len(time_s), 3)), time_s, np.array([1e9]), threat, step,
        time_s[step], launcher, speed, np.full(rows, 1e9),
    )  # fmt: skip
    assert (status == eng.CAUGHT).all()
    for i in range(rows):
        ref, p_at = _first_catch_brute_force(time_s, traj, launcher[i], time_s[step[i]], speed[i])
        assert t_end[i] == pytest.approx(ref, abs=1e-6)
        np.testing.assert_allclose(pos[i], p_at(t_end[i]), atol=1e-6)


def test_a_round_that_cannot_catch_the_target_before_impact_or_within_its_flyout_misses():
    time_s = np.arange(0.0, 100.0, 1.0)
    launcher = _ecef(40.0, 30.0, 0.0)[None]
    # a target 50 km away receding at 300 m/s from the launcher
    away = _ecef(40.0, 30.0, 0.0) + np.outer(50e3 + 300.0 * time_s, [1.0, 0.0, 0.0])
    kw = dict(threat=[0], step=0, t_launch_s=0.0, launcher_ecef_m=launcher, speed_mps=[1000.0])
    vel = np.zeros((1, len(time_s), 3))
    # it lands at 40 s: the round (catch at 71.4 s) is still in flight
    t_end, status, pos, _ = eng.true_intercept(
        away[None], vel, time_s, [40.0], flyout_s=[100.0], **kw
    )
    assert status[0] == eng.IMPACT_FIRST and t_end[0] == 40.0
    np.testing.assert_allclose(pos[0], away[40], atol=1e-6)
    # it flies on, but the round's fly-out (60 km at 1000 m/s) ends first
    t_end, status, pos, _ = eng.true_intercept(
        away[None], vel, time_s, [1e9], flyout_s=[60.0], **kw
    )
    assert status[0] == eng.FLYOUT_SPENT and t_end[0] == 60.0
    # with 80 s of fly-out it is caught at 50e3 / (1000 - 300) s
    t_end, status, _, _ = eng.true_intercept(away[None], vel, time_s, [1e9], flyout_s=[80.0], **kw)
    assert status[0] == eng.CAUGHT and t_end[0] == pytest.approx(50e3 / 700.0, rel=1e-9)


# ------------------------------------------------------------ level-flight PIP on the Earth --
def _great_circle_at_height(lat, lon, h, heading_deg, dist_m, r0):
    """Independent construction of the level path: the start's geocentric direction rotated
    about the great circle's pole by dist/r0 (scipy Rotation), then the point on that ray
    whose geodetic (normal) height is h (pymap3d, fixed-point on the radius)."""
    p0 = np.array(pymap3d.geodetic2ecef(lat, lon, h))
    east, north, up = (
        np.array(pymap3d.enu2uvw(*e, lat, lon)) for e in ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    )
    head = np.sin(np.radians(heading_deg)) * east + np.cos(np.radians(heading_deg)) * north
    p_hat = p0 / np.linalg.norm(p0)
    u = head - head.dot(p_hat) * p_hat  # horizontal w.r.t. the radius, as the engine
    pole = np.cross(p_hat, u / np.linalg.norm(u))
    d = Rotation.from_rotvec(np.outer(np.atleast_1d(dist_m) / r0, pole)).apply(p_hat)
    r = np.full(len(d), np.linalg.norm(p0))
    for _ in range(5):
        alt = pymap3d.ecef2geodetic(*(d * r[:, None]).T)[2]
        r = r + (h - alt)
    return d * r[:, None], u / np.linalg.norm(u)


@pytest.mark.parametrize("lat, heading", [(0.0, 90.0), (40.0, 0.0), (40.0, 135.0), (70.0, 200.0)])
def test_level_pip_keeps_its_height_above_the_ellipsoid_after_70_km(lat, heading):
    h, v = 50.0, 250.0
    p0 = np.array(pymap3d.geodetic2ecef(lat, 30.0, h))
    east, north = (np.array(pymap3d.enu2uvw(*e, lat, 30.0)) for e in ((1, 0, 0), (0, 1, 0)))
    vel = v * (np.sin(np.radians(heading)) * east + np.cos(np.radians(heading)) * north)
    p_hat = p0 / np.linalg.norm(p0)
    u = vel - vel.dot(p_hat) * p_hat  # level: across the radius (evaluate() drops the rest)
    u /= np.linalg.norm(u)
    t = 70e3 / v
    x = eng._level_state(*p0, *u, geodetic_height_m(*p0), v / np.linalg.norm(p0), t)
    alt = pymap3d.ecef2geodetic(*x[:3])[2]
    assert alt == pytest.approx(h, abs=1.0)
    # the straight tangent line would have climbed ~ d^2 / (2 R) = 385 m
    straight = pymap3d.ecef2geodetic(*(p0 + vel * t))[2]
    assert straight - h > 350.0
    # and the point is the one the independent construction finds, 70 km along
    ref, _ = _great_circle_at_height(lat, 30.0, h, heading, 70e3, np.linalg.norm(p0))
    np.testing.assert_allclose(x[:3], ref[0], atol=1.0)
    # its velocity is the derivative of the position
    dt = 1e-3
    fwd = eng._level_state(*p0, *u, geodetic_height_m(*p0), v / np.linalg.norm(p0), t + dt)
    np.testing.assert_allclose((np.array(fwd[:3]) - x[:3]) / dt, x[3:], atol=1e-3)


@pytest.mark.parametrize("seed", range(6))
def test_level_intercept_time_matches_a_dense_search_on_the_curved_path(seed):
    rng = np.random.default_rng(seed)
    lat, lon, h = 40.0 + rng.uniform(-5, 5), 30.0, rng.uniform(30.0, 10e3)
    heading = rng.uniform(0, 360)
    v, speed = rng.uniform(150, 700), rng.uniform(800, 1600)
    p0 = np.array(pymap3d.geodetic2ecef(lat, lon, h))
    # launcher 40-80 km away on the ground
    lnch = np.array(
        pymap3d.geodetic2ecef(lat + rng.uniform(-0.7, 0.7), lon + rng.uniform(-0.9, 0.9), 0.0)
    )
    east, north = (np.array(pymap3d.enu2uvw(*e, lat, lon)) for e in ((1, 0, 0), (0, 1, 0)))
    vel = v * (np.sin(np.radians(heading)) * east + np.cos(np.radians(heading)) * north)
    t, *pip = eng._level_intercept(*p0, *vel, *lnch, speed)
    assert np.isfinite(t)
    r0 = np.linalg.norm(p0)

    def gap(tt):
        pos, _ = _great_circle_at_height(lat, lon, h, heading, v * np.atleast_1d(tt), r0)
        return np.linalg.norm(pos - lnch, axis=-1) - speed * np.atleast_1d(tt)

    grid = np.linspace(0, 400, 40_001)
    g = gap(grid)
    k = int(np.flatnonzero(g <= 0)[0])
    ref = brentq(lambda tt: gap(tt)[0], grid[k - 1], grid[k], xtol=1e-9)
    assert t == pytest.approx(ref, abs=2e-3)  # normal vs radial height: millimetres
    assert pymap3d.ecef2geodetic(*pip)[2] == pytest.approx(h, abs=1.0)
    # and evaluate() fires on that PIP (the same kernel path)
    fu = eng.FireUnits(
        site=np.array([0]), ecef_m=lnch[None], enu_rot=np.eye(3)[None], heading_rad=np.zeros(1),
        half_sector_rad=np.full(1, np.pi), channels=np.ones(1, np.int64),
        salvo=np.ones(1, np.int64), shoot_look_shoot=np.zeros(1, bool), reaction_s=np.zeros(1),
        reload_s=np.zeros(1), types=np.zeros((1, 1), np.int64), ready0=np.ones((1, 1), np.int64),
        reserve0=np.zeros((1, 1), np.int64), loadout=np.ones((1, 1), np.int64),
    )  # fmt: skip
    icp = eng.Interceptors(
        ["x"], np.array([speed]), np.array([3000.0]), np.ones((1, 3), bool),
        np.zeros((1, 3)), np.full((1, 3), 1e6), np.zeros((1, 3)), np.full((1, 3), 1e5),
        np.full((1, 3), 0.5), np.zeros(1, bool),
    )  # fmt: skip
    cls = np.array([eng.CLASS_CODE["cruise"]])
    slot, _, tgo, pip_e = eng.evaluate(fu, icp, np.array([0]), p0[None], vel[None], cls, fu.ready0)
    assert slot[0] == 0 and tgo[0] == pytest.approx(t, rel=1e-12)
    np.testing.assert_allclose(pip_e[0], pip, atol=1e-6)


def test_level_pip_decisions_equal_the_exact_curved_pip_checked_everywhere():
    """The kernel decides some level-flight candidates on the straight PIP when the curve
    cannot change the outcome; a reference that takes the exact curved PIP for every candidate
    (and the checks in the documented order) must give the same reason for each."""
    rng = np.random.default_rng(11)
    n = 400_000
    lat0, lon0 = 40.0, 30.0
    lnch = np.array(pymap3d.geodetic2ecef(lat0, lon0, 0.0))
    lat = lat0 + rng.uniform(-2.0, 2.0, n)
    lon = lon0 + rng.uniform(-2.5, 2.5, n)
    h = rng.uniform(0.0, 400.0, n)
    pos = np.stack(pymap3d.geodetic2ecef(lat, lon, h), axis=-1)
    heading = np.radians(rng.uniform(0, 360, n))
    speed_t = rng.uniform(100, 700, n)
    vel = np.stack(
        pymap3d.enu2uvw(speed_t * np.sin(heading), speed_t * np.cos(heading), rng.normal(0, 20, n),
                        lat, lon), axis=-1,
    )  # fmt: skip
    ground = rng.uniform(0.0, 200.0, n)
    rot = np.asarray([pymap3d.enu2uvw(*e, lat0, lon0) for e in ((1, 0, 0), (0, 1, 0), (0, 0, 1))])
    env = dict(min_r=3e3, max_r=150e3, min_a=50.0, max_a=5e3, vmax=650.0, s=1000.0)
    # keep the candidates whose straight-line PIP lies near the max-range sphere or the sector
    # edges (where the curve may decide), and a few of the others
    up = pos / np.linalg.norm(pos, axis=1, keepdims=True)
    v_lvl = vel - np.einsum("ij,ij->i", vel, up)[:, None] * up
    t_s = eng.intercept_time_s(pos - lnch, v_lvl, env["s"])
    q_s = pos - lnch + v_lvl * np.nan_to_num(t_s)[:, None]
    az = np.degrees(np.abs(np.arctan2(q_s @ rot[0], q_s @ rot[1])))
    near = (np.abs(np.linalg.norm(q_s, axis=1) - env["max_r"]) < 60) | (np.abs(az - 60) < 0.02)
    keep = near | (rng.random(n) < 0.005)
    pos, vel, ground = pos[keep], vel[keep], ground[keep]
    n = int(keep.sum())
    for half_sector, ready in ((np.pi, 1), (np.pi, 0), (np.radians(60), 1), (np.radians(60), 0)):
        fu = eng.FireUnits(
            site=np.array([0]), ecef_m=lnch[None], enu_rot=rot[None], heading_rad=np.zeros(1),
            half_sector_rad=np.full(1, half_sector), channels=np.ones(1, np.int64),
            salvo=np.ones(1, np.int64), shoot_look_shoot=np.zeros(1, bool), reaction_s=np.zeros(1),
            reload_s=np.zeros(1), types=np.zeros((1, 1), np.int64),
            ready0=np.full((1, 1), ready, np.int64), reserve0=np.zeros((1, 1), np.int64),
            loadout=np.ones((1, 1), np.int64),
        )  # fmt: skip
        icp = eng.Interceptors(
            ["x"], np.array([env["s"]]), np.array([env["vmax"]]), np.ones((1, 3), bool),
            np.full((1, 3), env["min_r"]), np.full((1, 3), env["max_r"]),
            np.full((1, 3), env["min_a"]), np.full((1, 3), env["max_a"]), np.full((1, 3), 0.5),
            np.zeros(1, bool),
        )  # fmt: skip
        cls = np.full(n, eng.CLASS_CODE["cruise"])
        _, reason, _, _ = eng.evaluate(
            fu, icp, np.zeros(n, np.int64), pos, vel, cls, fu.ready0, ground_m=ground
        )
        want = []
        for i in range(n):
            p_hat = pos[i] / np.linalg.norm(pos[i])
            v_h = vel[i] - vel[i].dot(p_hat) * p_hat
            t, *pip = eng._level_intercept(*pos[i], *vel[i], *lnch, env["s"])
            q = np.array(pip) - lnch
            r = np.linalg.norm(q)
            e, nn = rot[0] @ q, rot[1] @ q
            reach = env["max_r"] * (1 + np.linalg.norm(v_h) / env["s"])
            if np.linalg.norm(pos[i] - lnch) > reach * 1.001 + 1.0:  # the kernel's early reject
                code = "beyond_max_range"
            elif np.linalg.norm(v_h) > env["vmax"]:
                code = "too_fast"
            elif np.isnan(t) or r > env["max_r"]:
                code = "beyond_max_range"
            elif r < env["min_r"]:
                code = "out_of_envelope"
            elif geodetic_height_m(*pos[i]) - ground[i] < env["min_a"]:
                code = "below_min_altitude"
            elif geodetic_height_m(*pos[i]) - ground[i] > env["max_a"]:
                code = "above_max_altitude"
            elif abs(np.arctan2(e, nn)) > half_sector + 1e-12:
                code = "outside_fcr_sector"
            elif ready <= 0:
                code = "no_interceptor"
            else:
                code = ""
            want.append(code)
        got = [REASONS[r] if r else "" for r in reason]
        assert got == want
        assert len(set(want)) >= 4  # the checks are exercised


# ------------------------------------------------------------------- synthetic scenarios --
def _outcomes(ev):
    return ev[ev.kind.isin(["intercept", "miss"])]


def _truth_at(prepared, threat_idx, t):
    """The true position (lat, lon, alt) of a threat at time t: its samples, linear in ECEF."""
    pos = prepared.traj.ecef_m[threat_idx]
    p = np.array([np.interp(t, prepared.time_s, pos[:, j]) for j in range(3)])
    return np.array(pymap3d.ecef2geodetic(*p))


@pytest.mark.usefixtures("test_catalog")
def test_a_cruise_missile_diving_under_the_floor_during_the_flyout_is_never_killed_there():
    # test-floor: 50 m floor against cruise missiles. The missile flies at 300 m, then dives to
    # 10 m between 44 and 41 km out: a round launched on its 300 m track meets it at 10 m
    lat = SITE[0]
    route = [[lat, east_of(60), 300.0], [lat, east_of(44), 300.0], [lat, east_of(41), 10.0],
             [lat, east_of(3), 10.0]]  # fmt: skip
    raid = {"threat": "test-cruise", "speed_mps": 250, "route": route}
    site = sam("test-sam-floor", doctrine={"salvo_size": 1, "shoot_look_shoot": True})
    prepared = engine.prepare(scenario([site], [raid], duration_s=400))
    below = 0
    for seed in range(4):
        res = engine.run_once(prepared, np.random.default_rng(seed))
        ev = res.events.to_frame()
        assert (ev.kind == "intercept").sum() == 0 and not res.per_threat.killed.any()
        launches, out = ev[ev.kind == "launch"], _outcomes(ev)
        assert len(launches) >= 1 and (launches.alt_m > 100).all()  # launched on the 300 m track
        below += int((out.reason == "below_floor_at_intercept").sum())
        for row in out.itertuples():  # the outcome is at the true position
            np.testing.assert_allclose(
                [row.lat, row.lon, row.alt_m], _truth_at(prepared, 0, row.time_s), atol=1e-6
            )
            assert row.alt_m < 50.0
    assert below >= 4


@pytest.mark.usefixtures("test_catalog")
def test_a_ballistic_missile_below_the_ballistic_floor_at_intercept_is_never_killed():
    # test-floor engages ballistic missiles between 8.5 and 11 km only. One SRBM passes 21 km
    # west of the site: its straight-line PIP (no gravity) lies in the band, the true missile
    # ~23 s later is ~2 km lower, under the floor. Another comes down 11 km north of the site:
    # a short fly-out, met inside the band
    lat, lon = SITE
    raid = [
        {"threat": "srbm-300", "launch": [lat - 2.5, lon - 0.25], "aim": [lat + 0.05, lon - 0.25]},
        {"threat": "srbm-300", "launch": [lat - 2.5, lon], "aim": [lat + 0.1, lon],
         "launch_time_s": 100},
    ]  # fmt: skip
    site = sam("test-sam-floor", doctrine={"salvo_size": 1, "shoot_look_shoot": True})
    prepared = engine.prepare(scenario([site], raid, duration_s=600))
    floor_m = catalog.get("test-floor").envelopes["ballistic"].min_altitude.si
    reasons, kills = [], 0
    for seed in range(4):
        ev = engine.run_once(prepared, np.random.default_rng(seed)).events.to_frame()
        out = _outcomes(ev)
        reasons += list(out.reason.dropna())
        for row in out.itertuples():
            n = list(prepared.traj.name).index(row.threat)
            truth = _truth_at(prepared, n, row.time_s)
            np.testing.assert_allclose([row.lat, row.lon, row.alt_m], truth, atol=1e-6)
            if row.kind == "intercept":  # ground 0 here: the height is the altitude
                assert truth[2] >= floor_m
                kills += 1
    assert reasons.count("below_floor_at_intercept") >= 2 and kills >= 4


@pytest.mark.usefixtures("test_catalog")
def test_a_target_turning_away_is_adjudicated_at_its_true_position():
    # inbound at 2 km from 30 km east; at 24 km east it turns sharply north: the round launched
    # on the inbound track meets it ~3 km north of the straight-line PIP
    lat = SITE[0]
    route = [
        [lat, east_of(30), 2000.0],
        [lat, east_of(24), 2000.0],
        [lat + 0.3, east_of(24), 2000.0],
    ]
    raid = {"threat": "test-cruise", "speed_mps": 250, "route": route}
    site = sam("test-sam", doctrine={"salvo_size": 1, "shoot_look_shoot": False})
    prepared = engine.prepare(scenario([site], [raid], duration_s=300))
    speed = catalog.get("test-missile").average_speed.si
    launcher = prepared.fu.ecef_m[0]
    t_grid, samples = prepared.time_s, prepared.traj.ecef_m[0]
    dense = RouteFlight(route, 250.0)
    for seed in range(3):
        ev = engine.run_once(prepared, np.random.default_rng(seed)).events.to_frame()
        launch = ev[ev.kind == "launch"].iloc[0]
        out = _outcomes(ev).iloc[0]
        assert launch.time_s < 24.0  # launched before the turn (24 s after its start)
        ref, p_at = _first_catch_brute_force(t_grid, samples, launcher, launch.time_s, speed)
        assert out.time_s == pytest.approx(ref, abs=1e-6)
        truth = np.array(pymap3d.ecef2geodetic(*p_at(out.time_s)))
        np.testing.assert_allclose([out.lat, out.lon, out.alt_m], truth, atol=1e-6)
        # the exact route (no sampling) agrees to the cut corner: < 0.15 s
        tt = np.arange(launch.time_s, launch.time_s + 60, 1e-3)
        pos = dense.sample(tt)[3]
        gap = np.linalg.norm(pos - launcher, axis=1) - speed * (tt - launch.time_s)
        assert out.time_s == pytest.approx(tt[np.flatnonzero(gap <= 0)[0]], abs=0.15)
        # far from the predicted point, north of it
        pip = _ecef(launch.lat, launch.lon, launch.alt_m)
        assert np.linalg.norm(_ecef(out.lat, out.lon, out.alt_m) - pip) > 2000.0
        assert out.lat > launch.lat + 0.02


# -------------------------------------------------- both demo raids, checked from the events --
DEMO = ("raid_s400_standalone.yaml", "raid_patriot_networked.yaml")
SEEDS = (0, 1, 2)


class DemTruth:
    """The shipped DEM read with rasterio and sampled bilinearly between cell centres (edge
    half cells at the edge value): independent of iadsim.geo.dem."""

    def __init__(self, path):
        with rasterio.open(path) as ds:
            assert ds.crs.to_epsg() == 4326
            self.z = ds.read(1).astype(float)
            self.inv = ~ds.transform

    def height_m(self, lat, lon):
        col, row = self.inv @ (np.asarray(lon, float), np.asarray(lat, float))
        nr, nc = self.z.shape
        px, py = np.clip(col - 0.5, 0, nc - 1), np.clip(row - 0.5, 0, nr - 1)
        c0, r0 = np.floor(px).astype(int), np.floor(py).astype(int)
        c1, r1 = np.minimum(c0 + 1, nc - 1), np.minimum(r0 + 1, nr - 1)
        fx, fy = px - c0, py - r0
        top = self.z[r0, c0] * (1 - fx) + self.z[r0, c1] * fx
        bot = self.z[r1, c0] * (1 - fx) + self.z[r1, c1] * fx
        return top * (1 - fy) + bot * fy


@pytest.fixture(scope="module")
def demo_runs():
    out = {}
    for name in DEMO:
        scn = load_scenario(example_path(name))
        prepared = engine.prepare(scn)
        for seed in SEEDS:
            res = engine.run_once(prepared, np.random.default_rng(seed), run_id=seed)
            out[name, seed] = (scn, res.events.to_frame())
    return out


@pytest.mark.slow
def test_every_kill_of_both_demo_raids_lies_inside_the_killing_interceptors_envelope(demo_runs):
    """From the events alone: the intercept's true lat/lon/alt, the launching site from the
    scenario (its ground: ground_altitude_m, else the DEM), the interceptor's envelope for the
    threat's class from the catalog, the ground under the target from the DEM (ballistic: at the
    aim point). Tolerances: 1 mm of slant range (a caught round is at s (t* - t_launch) <= max
    range, rounded through ECEF and back) and 1e-6 m of height (the same bilinear formula)."""
    dem = DemTruth(example_path("anatolia-globe.tif"))
    checked, refused = 0, 0
    for (name, _), (scn, ev) in demo_runs.items():
        sites = {s.id: s for s in scn.sites}
        names = {}  # threat name -> (class, aim point)
        for i, raid in enumerate(scn.raids):
            threat = catalog.get(raid.threat)
            for k in range(raid.count):
                names[f"{raid.id or f'raid{i}'}-{raid.threat}-{k}"] = (
                    threat.target_class,
                    raid.aim,
                )
        refused += int(ev.reason.astype(str).str.endswith("_at_intercept").sum())
        for row in ev[ev.kind == "intercept"].itertuples():
            site = sites[row.site]
            ground_site = site.ground_altitude_m
            if ground_site is None:
                ground_site = float(dem.height_m(site.lat, site.lon))
            cls, aim = names[row.threat]
            env = catalog.get(row.interceptor).envelopes[cls]
            slant = np.linalg.norm(
                _ecef(row.lat, row.lon, row.alt_m) - _ecef(site.lat, site.lon, ground_site)
            )
            under = (row.lat, row.lon) if cls != "ballistic" else tuple(aim)
            height = row.alt_m - float(dem.height_m(*under))
            assert env.min_range.si <= slant <= env.max_range.si + 1e-3, (name, row)
            assert env.min_altitude.si - 1e-6 <= height <= env.max_altitude.si + 1e-6, (name, row)
            checked += 1
    assert checked >= 20 and refused >= 3  # kills checked, and the truth refused some rounds


@pytest.mark.slow
def test_no_event_of_both_demo_raids_lies_under_the_ground(demo_runs):
    """Every positioned event (true positions, launch PIPs, impacts) at or above the DEM under
    it. Tolerance 1 mm: leaks and impacts lie exactly on the DEM (the ballistic arc ends at the
    aim point's ground), and their positions pass through ECEF and back (~1e-9 m); nothing
    physical hides in it (low cruise missiles fly 30 m above the ground)."""
    dem = DemTruth(example_path("anatolia-globe.tif"))
    for (name, seed), (_, ev) in demo_runs.items():
        pos = ev.dropna(subset=["alt_m"])
        height = pos.alt_m.to_numpy() - dem.height_m(pos.lat.to_numpy(), pos.lon.to_numpy())
        worst = pos.assign(height=height).sort_values("height").head(3)
        assert height.min() >= -1e-3, (name, seed, worst)
        assert {"leak", "launch", "intercept"} <= set(pos.kind)
