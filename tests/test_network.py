"""Networks: delay line, and the modes on a forward-radar geometry (the interoperability
question): launch-on-remote launches before cued, cued before standalone; the own FCR's
sector. tests/test_network_modes.py covers engage on remote and the launch-time checks."""

from __future__ import annotations

import numpy as np
import pytest

from iadsim.geo.earth import horizon_range_m
from iadsim.sim import network as net
from tests.helpers.simkit import SITE, east_of, inbound_raid, run, sam, scenario

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


def _two_member_network(delay_steps: int) -> net.Networks:
    return net.Networks(
        net_of_site=np.array([0, 0]), mode_of_site=np.array([2, 2]), members=np.ones((1, 2), bool),
        delay_steps=np.array([delay_steps]), names=["n"],
    )  # fmt: skip


def test_delay_line_returns_the_picture_published_latency_ago():
    lines = _two_member_network(3).delay_lines()
    tab = net.TrackTable.empty(2, 1)
    seen = []
    for k in range(6):
        tab.confirmed[1, 0] = k >= 1  # the remote member confirms at step 1
        tab.t_upd[1, 0] = float(k)
        lines.publish(tab)
        snap = lines.remote(0)
        seen.append(None if snap is None else (bool(snap[0][0]), float(snap[2][0])))
    assert seen == [None, None, None, (False, -np.inf), (True, 1.0), (True, 2.0)]


def test_delay_lines_of_two_runs_of_one_network_are_independent():
    nets = _two_member_network(1)
    a, b = nets.delay_lines(), nets.delay_lines()
    tab = net.TrackTable.empty(2, 1)
    tab.confirmed[0, 0], tab.t_upd[0, 0] = True, 7.0
    for _ in range(3):
        a.publish(tab)
    assert a.remote(0) is not None and b.remote(0) is None  # b saw none of a's pictures
    assert nets.delay_lines().remote(0) is None


def test_forward_radar_sees_the_low_threat_first():
    ev, res = _launch_times("cued")
    first = ev[ev.kind == "detection_start"].groupby("site").time_s.min()
    assert first["fwd"] < first["sam"]
    # the forward radar's own horizon (30 m mast, 50 m target) sets its first detection
    fwd_h = horizon_range_m(30.0, 50.0)
    dist_at_first = (200e3 - 250.0 * first["fwd"]) - FORWARD_KM * 1e3
    assert dist_at_first == pytest.approx(fwd_h, abs=600.0)


def test_launch_on_remote_launches_before_cued_before_standalone():
    t = {}
    for mode in ("launch_on_remote", "cued", "standalone"):
        ev, _ = _launch_times(mode)
        t[mode] = ev[ev.kind == "launch"].time_s.min()
    assert t["launch_on_remote"] < t["cued"] < t["standalone"]
    # standalone waits for its own FCR track (2 detections) plus the 10 s reaction time
    assert t["standalone"] - t["cued"] >= 10.0


def test_site_outside_the_network_is_standalone():
    ev_none, _ = _launch_times(None)
    ev_alone, _ = _launch_times("standalone")
    assert (
        ev_none[ev_none.kind == "launch"].time_s.min()
        == ev_alone[ev_alone.kind == "launch"].time_s.min()
    )


def test_no_launch_outside_the_fire_control_radar_sector():
    # the fire unit's sector FCR faces west, away from the threat: its PIPs lie outside the
    # sector the FCR could guide in, so neither cued nor launch-on-remote launches
    for mode in ("launch_on_remote", "cued"):
        ev, res = _launch_times(mode, system="test-sam-sector", heading=270.0)
        assert (ev.kind == "launch").sum() == 0
        assert "outside_fcr_sector" in set(ev[ev.kind == "no_engagement"].reason)
        assert res.per_threat.leaked.all()
    # facing the threat, the same unit launches
    ev, _ = _launch_times("launch_on_remote", system="test-sam-sector", heading=90.0)
    assert (ev.kind == "launch").sum() >= 1
    # engage on remote with an active-seeker round (test-missile): the forward radar holds
    # the target at the PIP and the network guides the round, the own FCR's sector is moot
    ev, _ = _launch_times("engage_on_remote", system="test-sam-sector", heading=270.0)
    launches = ev[ev.kind == "launch"]
    assert len(launches) >= 1 and (launches.reason.isna() | (launches.reason == "")).all()


def test_launch_on_remote_waits_until_its_own_fcr_can_guide_a_sea_skimmer():
    # a 6 m sea-skimmer: the forward radar (30 m mast) sees it from ~33 km, the fire unit's FCR
    # (10 m) only inside its horizon of ~23 km, while the 40 km envelope would let a
    # remote-track launch intercept further out, where nobody could guide the round: launch on
    # remote holds such shots back (fcr_cannot_guide_at_pip) and fires only at PIPs its FCR is
    # predicted to see. The prediction is made on the forward radar's track, whose height
    # error (0.1 deg at 30 km: ~50 m) can still put a PIP above the true horizon: such a round
    # then misses for want of guidance, as it would in the field (track quality matters)
    alt_m = 6.0
    nets = [{"id": "link", "members": ["sam", "fwd"], "latency_s": 2, "mode": "launch_on_remote"}]
    sites = [sam(doctrine={"salvo_size": 1, "shoot_look_shoot": True}), _forward()]
    res = run(scenario(sites, [inbound_raid(200, 3, alt_m)], duration_s=800, networks=nets))
    ev = res.events.to_frame()
    assert "fcr_cannot_guide_at_pip" in set(ev[ev.kind == "no_engagement"].reason)
    launches = ev[ev.kind == "launch"]
    assert len(launches) >= 1
    pip_east_m = (launches.lon.to_numpy() - SITE[1]) * 111.32e3 * np.cos(np.radians(SITE[0]))
    assert (pip_east_m <= horizon_range_m(10.0, launches.alt_m.to_numpy()) + 1.0).all()
    refused = ev[(ev.kind == "no_engagement") & (ev.reason == "fcr_cannot_guide_at_pip")]
    assert refused.time_s.min() < launches.time_s.min()  # PIPs out of sight came first


def test_site_in_two_networks_is_a_one_line_scenario_error():
    from iadsim.errors import ScenarioError
    from iadsim.sim import engine

    nets = [{"id": "a", "members": ["sam", "fwd"]}, {"id": "b", "members": ["sam"]}]
    scn = scenario([sam(), _forward()], [inbound_raid(60, 3, 500.0)], duration_s=60, networks=nets)
    with pytest.raises(ScenarioError, match="site 'sam' is in networks 'a' and 'b'"):
        engine.prepare(scn)
