"""Networks: delay line, and the three modes on a forward-radar geometry (the interoperability
question): engage-on-remote launches before cued, cued before standalone."""

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


def test_no_launch_outside_the_fire_control_radar_sector():
    # the fire unit's sector FCR faces west, away from the threat: its PIPs lie outside the
    # sector the FCR could guide in, so even engage-on-remote does not launch
    for mode in ("engage_on_remote", "cued"):
        ev, res = _launch_times(mode, system="test-sam-sector", heading=270.0)
        assert (ev.kind == "launch").sum() == 0
        assert "outside_fcr_sector" in set(ev[ev.kind == "no_engagement"].reason)
        assert res.per_threat.leaked.all()
    # facing the threat, the same unit launches
    ev, _ = _launch_times("engage_on_remote", system="test-sam-sector", heading=90.0)
    assert (ev.kind == "launch").sum() >= 1


def test_engage_on_remote_without_own_fcr_guidance_misses():
    # a 6 m sea-skimmer: the forward radar (30 m mast) sees it from ~33 km, the fire unit's FCR
    # (10 m) only inside its horizon of ~23 km, while the 40 km envelope lets a remote-track
    # launch intercept further out: nobody guides that round, it misses
    alt_m = 6.0
    fcr_horizon_m = horizon_range_m(10.0, alt_m)
    nets = [{"id": "link", "members": ["sam", "fwd"], "latency_s": 2, "mode": "engage_on_remote"}]
    sites = [sam(doctrine={"salvo_size": 1, "shoot_look_shoot": True}), _forward()]
    res = run(scenario(sites, [inbound_raid(200, 3, alt_m)], duration_s=800, networks=nets))
    ev = res.events.to_frame()
    outcome = ev[ev.kind.isin(["intercept", "miss"])]
    # a round launched at the edge of the envelope may miss first by the truth (its true
    # intercept beyond max range); the first round the truth lets reach the target is unguided
    first = outcome[outcome.reason != "beyond_range_at_intercept"].iloc[0]
    assert first.kind == "miss" and first.reason == "no_fcr_guidance"
    sam_first = ev[(ev.kind == "detection_start") & (ev.site == "sam")].time_s.min()
    assert first.time_s < sam_first  # the intercept came before the FCR's first detection
    dist_at_first_det = (200e3 - 250.0 * sam_first) - 0.0
    assert dist_at_first_det == pytest.approx(fcr_horizon_m, abs=600.0)


def test_site_in_two_networks_is_a_one_line_scenario_error():
    from iadsim.errors import ScenarioError
    from iadsim.sim import engine

    nets = [{"id": "a", "members": ["sam", "fwd"]}, {"id": "b", "members": ["sam"]}]
    scn = scenario([sam(), _forward()], [inbound_raid(60, 3, 500.0)], duration_s=60, networks=nets)
    with pytest.raises(ScenarioError, match="site 'sam' is in networks 'a' and 'b'"):
        engine.prepare(scn)
