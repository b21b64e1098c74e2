"""Engagement geometry: envelope altitudes are heights above the ground under the target, and
a fire unit only fires where its fire-control radar's sector can guide the round."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pymap3d
import pytest

sys.path.insert(0, str(Path(__file__).parent / "data"))
from simkit import SITE, east_of, inbound_raid, sam, scenario, test_catalog  # noqa: E402,F401

from iadsim.sim import engagement as eng  # noqa: E402
from iadsim.sim import engine  # noqa: E402
from iadsim.sim.events import REASONS  # noqa: E402

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
