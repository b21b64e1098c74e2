"""Engagement geometry: envelope altitudes are heights above the ground under the target, and
a fire unit only fires where its fire-control radar's sector can guide the round."""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest

from iadsim.sim import engagement as eng
from iadsim.sim import engine
from iadsim.sim.events import REASONS
from tests.helpers.simkit import SITE, east_of, inbound_raid, sam, scenario

pytestmark = pytest.mark.usefixtures("test_catalog")


def _unit(system: str, heading_deg: float = 0.0):
    scn = scenario([sam(system, heading_deg=heading_deg)], [inbound_raid(60, 3, 2000.0)], 60)
    p = engine.prepare(scn)
    return p.fu, p.icp


def _evaluate(fu, icp, lat, lon, alt_m, ground_m=None, vel_enu=(0.0, 0.0, 0.0)):
    pos = np.array(pymap3d.geodetic2ecef(lat, lon, alt_m))[None]
    e, n, u = vel_enu
    vel = np.array(pymap3d.enu2uvw(e, n, u, lat, lon))[None]
    cls = np.array([eng.CLASS_CODE["cruise"]])
    g = None if ground_m is None else np.array([ground_m])
    ready = fu.ready0.copy()
    slot, reason, _, _ = eng.evaluate(fu, icp, np.array([0]), pos, vel, cls, ready, ground_m=g)
    return int(slot[0]), REASONS[int(reason[0])] if reason[0] else ""


def test_min_altitude_is_height_above_the_ground_under_the_target():
    # test-high engages cruise targets only above 5 km; a target 10 km east at 5.5 km AMSL
    fu, icp = _unit("test-sam-high")
    lon = east_of(10.0)
    assert _evaluate(fu, icp, SITE[0], lon, 5500.0) == (0, "")  # over sea level: 5.5 km
    # over a 1,000 m plateau the same point is 4.5 km above ground: below the floor
    assert _evaluate(fu, icp, SITE[0], lon, 5500.0, ground_m=1000.0)[1] == "below_min_altitude"


def test_pip_outside_the_fcr_sector_is_refused_with_its_reason():
    # test-sam-sector: the FCR's sector (see tests/data/sim_catalog) faces heading_deg
    east = (SITE[0], east_of(10.0), 2000.0)
    fu, icp = _unit("test-sam-sector", heading_deg=90.0)
    assert _evaluate(fu, icp, *east)[0] >= 0
    fu, icp = _unit("test-sam-sector", heading_deg=270.0)
    assert _evaluate(fu, icp, *east) == (-1, "outside_fcr_sector")
    # the all-round FCR of test-sam ignores heading
    fu, icp = _unit("test-sam", heading_deg=270.0)
    assert _evaluate(fu, icp, *east)[0] >= 0


def _ramp_dem(path):
    """EPSG:4326 DEM rising 20 m per km westward over the test geometry (0 m at 31.0 E)."""
    from iadsim.geo.synthetic_dem import write_geotiff

    cell = 0.005
    lon = 29.5 + cell * (np.arange(300) + 0.5)
    km_west = (31.0 - lon) * 111.32 * np.cos(np.radians(SITE[0]))
    dem = np.tile(np.clip(20.0 * km_west, 0, None), (200, 1))
    write_geotiff(path, dem, cell_size_m=cell, crs="EPSG:4326", origin=(29.5, 40.5))
    return path


@pytest.mark.parametrize(("agl_m", "launches"), [(4900.0, False), (5100.0, True)])
def test_terrain_follower_floor_uses_its_height_above_ground(tmp_path, agl_m, launches):
    # test-high's floor is 5 km above ground. A target flying at 4.9 km above a slope that
    # rises 20 m/km toward the site climbs 5 m/s: extrapolated in 3-D over a ~40 s fly-out its
    # PIP would sit ~200 m higher and clear the floor; in level flight it stays below it.
    from iadsim.scenario import scenario_from_dict

    dem = _ramp_dem(tmp_path / "ramp.tif")
    raid = inbound_raid(60, 3, agl_m, altitude_reference="agl")
    scn = scenario_from_dict({
        "name": "ramp", "environment": {"dem": str(dem)},
        "sites": [sam("test-sam-high", ground_altitude_m=None)], "raids": [raid],
        "time": {"duration_s": 300.0, "step_s": 1.0},
    })  # fmt: skip
    ev = engine.run_once(engine.prepare(scn), np.random.default_rng(0)).events.to_frame()
    n_launch = int((ev.kind == "launch").sum())
    if launches:
        assert n_launch >= 1
    else:
        assert n_launch == 0
        assert "below_min_altitude" in set(ev[ev.kind == "no_engagement"].reason)


def _at(az_deg: float, km: float = 10.0):
    """(lat, lon, alt) ``km`` from the site along geodesic azimuth ``az_deg``, at 2 km."""
    from pyproj import Geod

    lon, lat, _ = Geod(ellps="WGS84").fwd(SITE[1], SITE[0], az_deg, km * 1e3)
    return lat, lon, 2000.0


@pytest.mark.parametrize(
    ("heading", "az", "inside"),
    [
        (0.0, 0.0, True), (180.0, 0.0, False), (0.0, 180.0, False), (180.0, 180.0, True),
        (350.0, 20.0, True),  # the sector wraps through north: 20 deg is 30 deg off 350
        (350.0, 60.0, False), (10.0, 320.0, False), (10.0, 330.0, True),
    ],
)  # fmt: skip
def test_sector_rule_by_geodesic_azimuth(heading, az, inside):
    # test-fcr-sector: 90 deg sector, so +-45 deg around the heading
    fu, icp = _unit("test-sam-sector", heading_deg=heading)
    slot, reason = _evaluate(fu, icp, *_at(az))
    assert (slot >= 0) == inside, (heading, az, reason)
    if not inside:
        assert reason == "outside_fcr_sector"
