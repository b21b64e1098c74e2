"""The four network modes with their established meaning, on a forward-radar geometry: a fire
unit (FCR on a 10 m mast) and a forward early-warning radar 100 km ahead of it (30 m mast) on
one network, against a cruise missile 30 m above the ground flying past both.

* engage on remote: an active-seeker round is guided by the network's track and kills beyond
  the own radar's horizon;
* launch on remote: the unit launches on the network's track only when its own FCR can guide
  at the predicted intercept point (smooth-Earth horizon, and terrain line of sight with a DEM);
* a semi-active round under engage on remote falls back to launch on remote, and says so;
* first launches: engage on remote <= launch on remote < cued <= standalone;
* the guidance check at the intercept: a round whose guide lost the target misses.

Distances are checked against closed forms (:func:`iadsim.geo.earth.horizon_range_m`,
geodesic distances with pyproj), independent of the engine's kernels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from iadsim.geo.earth import K_STANDARD, R_EARTH_M, horizon_range_m
from iadsim.geo.synthetic_dem import write_geotiff
from iadsim.scenario import scenario_from_dict
from iadsim.sim import engine, guidance, steps
from tests.helpers.simkit import SITE, east_of, inbound_raid, run, sam, scenario

pytestmark = pytest.mark.usefixtures("test_catalog")

GEOD = Geod(ellps="WGS84")
FORWARD_KM = 100.0  # the forward radar, east of the fire unit on the threat's path
ALT_M = 30.0  # the cruise missile's height (sea-level ground, or above the DEM)
FCR_MAST_M = 10.0  # test-fcr antenna height (tests/data/sim_catalog)
#: the fire unit's FCR cannot see the missile farther than this (4/3 Earth, smooth)
FCR_HORIZON_M = float(horizon_range_m(FCR_MAST_M, ALT_M))
MODES = ("engage_on_remote", "launch_on_remote", "cued", "standalone")
SALVO = {"salvo_size": 1, "shoot_look_shoot": True}


def _forward():
    return {"id": "fwd", "system": "test-ew", "lat": SITE[0], "lon": east_of(FORWARD_KM),
            "ground_altitude_m": 0}  # fmt: skip


def _scenario(mode, system="test-sam-active", **raid):
    """The fire unit (``system``: 100 km rounds, active or semi-active seeker) and the
    forward radar on one network in ``mode``; one missile from 300 km east to 60 km west."""
    nets = [{"id": "link", "members": ["sam", "fwd"], "latency_s": 2, "mode": mode}]
    return scenario([sam(system, doctrine=SALVO), _forward()],
                    [inbound_raid(300, -60, ALT_M, **raid)], 1500, networks=nets)  # fmt: skip


def _events(mode, system="test-sam-active", seed=0):
    return run(_scenario(mode, system), seed).events.to_frame()


def _ground_m(ev) -> np.ndarray:
    """Geodesic distance (m) of each event's position from the fire unit."""
    lat, lon = ev.lat.to_numpy(float), ev.lon.to_numpy(float)
    return GEOD.inv(np.full(len(lat), SITE[1]), np.full(len(lat), SITE[0]), lon, lat)[2]


def _blank(reason) -> np.ndarray:
    return (reason.isna() | (reason == "")).to_numpy()


def test_engage_on_remote_kills_beyond_the_own_radar_horizon():
    for seed in (0, 1):
        ev = _events("engage_on_remote", seed=seed)
        kills = ev[ev.kind == "intercept"]
        assert len(kills) == 1
        # the kill lies far beyond the FCR's horizon for a 30 m target: only the network's
        # track (the forward radar) can have guided the round there
        assert _ground_m(kills)[0] > FCR_HORIZON_M + 20e3
        sam_seen = ev[(ev.kind == "detection_start") & (ev.site == "sam")].time_s
        assert sam_seen.empty or sam_seen.min() > kills.time_s.iloc[0]
        launches = ev[ev.kind == "launch"]
        assert _blank(launches.reason).all()  # an active seeker: no fallback


def test_launch_on_remote_never_launches_a_round_its_fcr_cannot_guide_at_the_pip():
    for seed in (0, 1, 2):
        ev = _events("launch_on_remote", seed=seed)
        launches = ev[ev.kind == "launch"]
        assert len(launches) >= 1
        # every PIP (predicted on the track, as the fire unit sees it) inside the FCR's
        # horizon for the PIP's height: closed form, smooth 4/3 Earth
        limit = horizon_range_m(FCR_MAST_M, launches.alt_m.to_numpy(float))
        assert (_ground_m(launches) <= limit + 1.0).all()
        # and the shots the 100 km round could have taken earlier were held back
        refused = ev[(ev.kind == "no_engagement") & (ev.reason == "fcr_cannot_guide_at_pip")]
        assert refused.time_s.min() < launches.time_s.min()


def test_semi_active_round_in_engage_on_remote_falls_back_to_launch_on_remote():
    ev = _events("engage_on_remote", system="test-sam-semi-active")
    lor = _events("launch_on_remote", system="test-sam-semi-active")
    launches = ev[ev.kind == "launch"]
    assert len(launches) >= 1
    assert (launches.reason == "fallback_launch_on_remote").all()
    # the fallback is launch on remote: the same events, the launch reason aside
    cols = ["time_s", "kind", "site", "threat", "lat", "lon", "alt_m", "interceptor", "value"]
    pd.testing.assert_frame_equal(ev[cols].reset_index(drop=True), lor[cols].reset_index(drop=True))
    assert _blank(lor[lor.kind == "launch"].reason).all()
    limit = horizon_range_m(FCR_MAST_M, launches.alt_m.to_numpy(float))
    assert (_ground_m(launches) <= limit + 1.0).all()


def test_first_launch_order_engage_le_launch_lt_cued_le_standalone():
    for seed in (0, 1, 2):
        first = {}
        for mode in MODES:
            ev = _events(mode, seed=seed)
            first[mode] = ev[ev.kind == "launch"].time_s.min()
        assert first["engage_on_remote"] <= first["launch_on_remote"], (seed, first)
        assert first["launch_on_remote"] < first["cued"] <= first["standalone"], (seed, first)


RIDGE_KM = (15.0, 17.0)  # a 300 m ridge across the threat's path, east of the fire unit
RIDGE_M = 300.0


def _ridge_scenario(tmp_path, mode):
    """The same geometry over terrain: flat ground at sea level but for a ridge RIDGE_M high
    between RIDGE_KM east of the fire unit; the missile follows the ground at ALT_M."""
    step = 0.005  # degrees (~430 m east-west, ~560 m north-south)
    lon = np.arange(29.0, 34.5, step) + step / 2
    lat = np.arange(40.5, 39.5, -step) - step / 2
    east_km = (lon - SITE[1]) * 111.32 * np.cos(np.radians(SITE[0]))
    row = np.where((east_km >= RIDGE_KM[0]) & (east_km <= RIDGE_KM[1]), RIDGE_M, 0.0)
    dem = np.broadcast_to(row, (len(lat), len(lon)))
    write_geotiff(tmp_path / "ridge.tif", dem, cell_size_m=step, crs="EPSG:4326",
                  origin=(29.0, 40.5))  # fmt: skip
    raid = inbound_raid(300, -60, ALT_M, altitude_reference="agl")
    nets = [{"id": "link", "members": ["sam", "fwd"], "latency_s": 2, "mode": mode}]
    return scenario_from_dict(
        {
            "name": "ridge",
            "environment": {"dem": "ridge.tif"},
            "sites": [sam("test-sam-active", doctrine=SALVO), _forward()],
            "raids": [raid],
            "time": {"duration_s": 1500, "step_s": 1.0},
            "networks": nets,
        },
        base_dir=tmp_path,
    )


def _min_visible_behind_ridge_m(ground_m):
    """Lowest altitude the FCR sees at ground distance d beyond the ridge: the sight line over
    the ridge's near crest (the steepest blocker of a flat-topped ridge), curvature drop
    d^2 / (2 k R) on the 4/3 Earth (closed form, independent of the LOS engine)."""
    a = K_STANDARD * R_EARTH_M
    d1 = RIDGE_KM[0] * 1e3
    slope = (RIDGE_M - d1**2 / (2 * a) - FCR_MAST_M) / d1
    return FCR_MAST_M + slope * ground_m + ground_m**2 / (2 * a)


def test_terrain_line_of_sight_decides_launch_on_remote_and_not_engage_on_remote(tmp_path):
    lor = run(_ridge_scenario(tmp_path, "launch_on_remote"), 0).events.to_frame()
    launches = lor[lor.kind == "launch"]
    assert len(launches) >= 1
    d = _ground_m(launches)
    behind = d > RIDGE_KM[1] * 1e3 + 1e3  # PIPs beyond the ridge (a cell of margin)
    # the hidden zone behind the ridge: no launch there below the sight line over the crest
    assert (launches.alt_m.to_numpy()[behind] >= 0.9 * _min_visible_behind_ridge_m(d[behind])).all()
    refused = lor[(lor.kind == "no_engagement") & (lor.reason == "fcr_cannot_guide_at_pip")]
    assert refused.time_s.min() < launches.time_s.min()
    # engage on remote: the forward radar, beyond the ridge, guides a kill in the FCR's shadow
    eor = run(_ridge_scenario(tmp_path, "engage_on_remote"), 0).events.to_frame()
    kills = eor[eor.kind == "intercept"]
    assert len(kills) == 1 and _ground_m(kills)[0] > RIDGE_KM[1] * 1e3 + 10e3


def _engagement(p, **fields):
    """One round in flight, as steps._launch records it (other fields zero)."""
    e = {k: np.zeros(1, dt) for k, dt in steps._ENG_FIELDS.items()}
    for k, v in fields.items():
        e[k] = np.asarray([v], steps._ENG_FIELDS[k])
    return e


@pytest.mark.parametrize("guided", [True, False])
@pytest.mark.parametrize("need", ["need_net", "need_fcr"])
def test_guidance_is_checked_again_at_the_intercept(need, guided):
    # a round in flight meets its target now; it was launched on remote 30 s ago and needs
    # the network's track (engage on remote) or its own FCR (launch on remote) to guide it:
    # with a fresh track or FCR detection it gets its P_k draw (1: killed), without, it misses
    p = engine.prepare(_scenario("engage_on_remote"))
    st = steps.init_state(p, np.random.default_rng(0), 0)
    k = 200
    t = float(p.time_s[k])
    fwd, own = 1, 0  # site rows
    if guided and need == "need_net":
        st.tab.confirmed[fwd, 0], st.tab.t_upd[fwd, 0], st.tab.hits[fwd, 0] = True, t - 3.0, 5
    if guided and need == "need_fcr":
        st.fcr_seen_t[own, 0] = t - 10.0
    for _ in range(int(p.nets.delay_steps[0]) + 1):  # the picture reaches the unit
        st.lines.publish(st.tab)
    st.eng = _engagement(p, f=0, n=0, type=0, count=1, t_launch=t - 30.0, t_int=t, pk=1.0,
                         **{need: True})  # fmt: skip
    steps.resolve(p, st, k, t, np.random.default_rng(1))
    ev = st.log.to_frame()
    out = ev[ev.kind.isin(["intercept", "miss"])]
    assert len(out) == 1
    if guided:
        assert out.kind.iloc[0] == "intercept"
    else:
        want = "no_network_guidance" if need == "need_net" else "no_fcr_guidance"
        assert (out.kind.iloc[0], out.reason.iloc[0]) == ("miss", want)


def test_a_stale_network_track_does_not_guide():
    # the network's last update is older than its coast window at the intercept: no guidance
    p = engine.prepare(_scenario("engage_on_remote"))
    st = steps.init_state(p, np.random.default_rng(0), 0)
    k = 200
    t = float(p.time_s[k])
    coast = float(p.fu_net_coast_s[0])
    st.tab.confirmed[1, 0], st.tab.t_upd[1, 0], st.tab.hits[1, 0] = True, t - coast - 1.0, 5
    for _ in range(int(p.nets.delay_steps[0]) + 1):
        st.lines.publish(st.tab)
    st.eng = _engagement(p, f=0, n=0, type=0, count=1, t_launch=t - 30.0, t_int=t, pk=1.0,
                         need_net=True)  # fmt: skip
    steps.resolve(p, st, k, t, np.random.default_rng(1))
    ev = st.log.to_frame()
    assert ev[ev.kind == "miss"].reason.tolist() == ["no_network_guidance"]


def _pack_one_radar(det_range_m=400e3, heading_deg=0.0, sector_deg=360.0, el_deg=(-5.0, 90.0)):
    """A SupportPack of one radar on a FCR_MAST_M mast at SITE on sea-level ground, one
    threat whose detection range is ``det_range_m``, no terrain."""
    from types import SimpleNamespace

    from iadsim.geo.frames import enu_rotation, geodetic_to_ecef_m

    radar = SimpleNamespace(
        ecef_m=geodetic_to_ecef_m([SITE[0]], [SITE[1]], [FCR_MAST_M]).reshape(1, 3),
        enu_rot=enu_rotation([SITE[0]], [SITE[1]]).reshape(1, 3, 3),
        lat_deg=np.array([SITE[0]]),
        lon_deg=np.array([SITE[1]]),
        height_m=np.array([FCR_MAST_M]),
        heading_rad=np.radians([heading_deg]),
        half_sector_rad=np.radians([sector_deg / 2]),
        min_elevation_rad=np.radians([el_deg[0]]),
        max_elevation_rad=np.radians([el_deg[1]]),
    )
    a = K_STANDARD * R_EARTH_M
    return guidance.no_support(1, 1)._replace(
        det_range_m=np.array([[det_range_m]]),
        radar_geo=guidance.radar_geometry(radar, a),
        terrain_i=np.zeros((1, 6), np.int64),
        terrain_f=np.zeros((1, 5)),
        k_radius_m=a,
    )


def _holds(sp, az_deg, ground_m, alt_m):
    """radar_holds for the point at geodesic azimuth/distance from SITE, at ``alt_m``."""
    from iadsim.geo.earth import horizon_distance_m
    from iadsim.geo.frames import geodetic_to_ecef_m

    lon, lat, _ = GEOD.fwd(SITE[1], SITE[0], az_deg, ground_m)
    x, y, z = geodetic_to_ecef_m(lat, lon, alt_m).reshape(3)
    d_h = horizon_distance_m(alt_m, sp.k_radius_m)
    return guidance.radar_holds(sp, 0, 0, x, y, z, np.radians(lat), np.radians(lon), alt_m, d_h)


def test_radar_holds_against_the_closed_forms():
    sp = _pack_one_radar()
    h = float(horizon_range_m(FCR_MAST_M, ALT_M))
    # the smooth-Earth horizon (the engine's ground distance is spherical: 0.3 % margin)
    assert _holds(sp, 90.0, 0.997 * h, ALT_M) and not _holds(sp, 90.0, 1.003 * h, ALT_M)
    # the detection range for the threat (slant range)
    assert _holds(_pack_one_radar(20.1e3), 90.0, 20e3, ALT_M)
    assert not _holds(_pack_one_radar(19.9e3), 90.0, 20e3, ALT_M)
    # the azimuth sector around the heading: 120 deg facing east covers 30..150 deg
    sector = _pack_one_radar(heading_deg=90.0, sector_deg=120.0)
    assert _holds(sector, 31.0, 10e3, ALT_M) and _holds(sector, 149.0, 10e3, ALT_M)
    assert not _holds(sector, 29.0, 10e3, ALT_M) and not _holds(sector, 270.0, 10e3, ALT_M)
    # the elevation limits: a 0 deg floor hides a target below the antenna's tangent plane
    flat = _pack_one_radar(el_deg=(0.0, 90.0))
    assert not _holds(flat, 90.0, 20e3, 5.0) and _holds(flat, 90.0, 20e3, 200.0)
    # a ballistic-height target far beyond the low horizon but inside the detection range
    assert _holds(sp, 90.0, 300e3, 60e3) and not _holds(sp, 90.0, 300e3, 2e3)


def test_radar_holds_marches_the_sight_line_over_the_radar_centred_terrain_grid():
    # a 5 x 5 grid of 1 km cells centred on the radar (sea-level ground, antenna FCR_MAST_M),
    # a ridge of RIDGE_M in the cell east of it: a target D east at altitude h is hidden iff
    # the antenna is below the required eye altitude of the one sample between them, the
    # ridge at d = 1 km, f = d / D: (z' - h' f) / (1 - f), heights lowered by x^2 / (2 a)
    cell, ridge_m = 1000.0, 500.0
    heights = np.zeros((5, 5), np.float32)
    heights[2, 3] = ridge_m
    sp = _pack_one_radar()
    a = sp.k_radius_m
    sp = sp._replace(
        terrain_i=np.array([[guidance.TERRAIN_GRID, 0, 5, 5, 2, 2]], np.int64),
        terrain_f=np.array([[-2.5 * cell, 2.5 * cell, cell, ridge_m, FCR_MAST_M]]),
        terrain_m=heights.ravel(),
    )

    def lowest_visible(dist_m):  # the closed form solved for h at eye = FCR_MAST_M
        f = cell / dist_m
        z = ridge_m - cell**2 / (2 * a)
        return (z - FCR_MAST_M * (1 - f)) / f + dist_m**2 / (2 * a)

    for dist_m in (2000.0, 3000.0):  # inside the grid, and beyond it (the ridge still blocks)
        h0 = lowest_visible(dist_m)
        assert not _holds(sp, 90.0, dist_m, h0 - 2.0) and _holds(sp, 90.0, dist_m, h0 + 2.0)
    assert _holds(sp, 0.0, 1000.0, 50.0)  # the cell north of it: open ground
    assert _holds(sp, 270.0, 2400.0, 5.0)  # nothing between: the march finds no sample
    blind = sp._replace(terrain_i=np.array([[guidance.TERRAIN_BLIND, 0, 0, 0, 0, 0]], np.int64))
    assert not _holds(blind, 0.0, 1000.0, 50.0)
