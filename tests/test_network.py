"""Networks: delay line, and the three modes on a forward-radar geometry (the interoperability
question): engage-on-remote launches before cued, cued before standalone."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "data"))
from simkit import SITE, east_of, inbound_raid, run, sam, scenario, test_catalog  # noqa: E402,F401

from iadsim.geo.earth import horizon_range_m  # noqa: E402
from iadsim.sim import network as net  # noqa: E402

pytestmark = pytest.mark.usefixtures("test_catalog")

FORWARD_KM = 51.0  # forward radar east of the fire unit, on the threat's path


def _forward():
    return {
        "id": "fwd",
        "system": "test-ew",
        "lat": SITE[0],
        "lon": east_of(FORWARD_KM),
        "ground_altitude_m": 0,
    }


def _launch_times(mode: str | None, system="test-sam", heading=0.0):
    """Launch times of the fire unit against one low (50 m) inbound cruise missile."""
    sites = [sam(system, heading_deg=heading), _forward()]
    nets = (
        []
        if mode is None
        else [{"id": "link", "members": ["sam", "fwd"], "latency_s": 2, "mode": mode}]
    )
    res = run(scenario(sites, [inbound_raid(200, 3, 50.0)], duration_s=800, networks=nets))
    return res.events.to_frame(), res


def test_delay_line_returns_the_picture_published_latency_ago():
    nets = net.Networks(
        net_of_site=np.array([0, 0]), mode_of_site=np.array([2, 2]), members=np.ones((1, 2), bool),
        delay_steps=np.array([3]), names=["n"],
    )  # fmt: skip
    nets.reset()
    tab = net.TrackTable.empty(2, 1)
    seen = []
    for k in range(6):
        tab.confirmed[1, 0] = k >= 1  # the remote member confirms at step 1
        tab.t_upd[1, 0] = float(k)
        nets.publish(tab)
        snap = nets.remote(0)
        seen.append(None if snap is None else (bool(snap[0][0]), float(snap[2][0])))
    assert seen == [None, None, None, (False, -np.inf), (True, 1.0), (True, 2.0)]


def test_forward_radar_sees_the_low_threat_first():
    ev, res = _launch_times("cued")
    first = ev[ev.kind == "detection_start"].groupby("site").time_s.min()
    assert first["fwd"] < first["sam"]
    # the forward radar's own horizon (30 m mast, 50 m target) sets its first detection
    fwd_h = horizon_range_m(30.0, 50.0)
    dist_at_first = (200e3 - 250.0 * first["fwd"]) - FORWARD_KM * 1e3
    assert dist_at_first == pytest.approx(fwd_h, abs=600.0)


def test_engage_on_remote_launches_before_cued_before_standalone():
    t = {}
    for mode in ("engage_on_remote", "cued", "standalone"):
        ev, _ = _launch_times(mode)
        t[mode] = ev[ev.kind == "launch"].time_s.min()
    assert t["engage_on_remote"] < t["cued"] < t["standalone"]
    # standalone waits for its own FCR track (2 detections) plus the 10 s reaction time
    assert t["standalone"] - t["cued"] >= 10.0


def test_site_outside_the_network_is_standalone():
    ev_none, _ = _launch_times(None)
    ev_alone, _ = _launch_times("standalone")
    assert (
        ev_none[ev_none.kind == "launch"].time_s.min()
        == ev_alone[ev_alone.kind == "launch"].time_s.min()
    )


def test_engage_on_remote_without_own_fcr_guidance_misses():
    # the fire unit's sector FCR faces west, away from the threat: it never sees it
    ev, res = _launch_times("engage_on_remote", system="test-sam-sector", heading=270.0)
    shots = ev[ev.kind.isin(["intercept", "miss"])]
    assert len(ev[ev.kind == "launch"]) >= 1
    assert (shots.kind == "miss").all() and "no_fcr_guidance" in set(shots.reason)
    assert set(shots.reason) <= {"no_fcr_guidance", "target_gone"}  # last one: route ended
    assert res.per_threat.leaked.all()
    # cued mode never launches there: the FCR must see the target first
    ev_c, _ = _launch_times("cued", system="test-sam-sector", heading=270.0)
    assert (ev_c.kind == "launch").sum() == 0
    assert "no_fcr_track" in set(ev_c[ev_c.kind == "no_engagement"].reason)


def test_site_in_two_networks_is_a_one_line_scenario_error():
    from iadsim.errors import ScenarioError
    from iadsim.sim import engine

    nets = [{"id": "a", "members": ["sam", "fwd"]}, {"id": "b", "members": ["sam"]}]
    scn = scenario([sam(), _forward()], [inbound_raid(60, 3, 500.0)], duration_s=60, networks=nets)
    with pytest.raises(ScenarioError, match="site 'sam' is in networks 'a' and 'b'"):
        engine.prepare(scn)
