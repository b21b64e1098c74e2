"""Threats still flying when the simulated time ends are *unresolved*, not defeated: two drones
at 50 m/s launched 200 km out cannot arrive within a 600 s run (they would need 4,000 s)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import yaml

import iadsim
from iadsim.api import unresolved_message
from iadsim.errors import UnresolvedThreatsWarning
from tests.helpers.simkit import SITE, east_of, run, sam, scenario

DRONE_SPEED_MPS = 50.0  # the catalog drone's speed
START_KM = 200.0


def _late_drones(duration_s=600.0, spacing_s=10.0):
    raid = {
        "id": "late",
        "threat": "drone",
        "count": 2,
        "spacing_s": spacing_s,
        "route": [[SITE[0], east_of(START_KM), 500.0], [SITE[0], SITE[1], 500.0]],
    }
    return scenario([sam(system="patriot", heading_deg=90.0)], [raid], duration_s=duration_s)


def test_threats_still_flying_at_the_end_are_unresolved_with_an_event_where_they_are():
    res = run(_late_drones())
    per, ev = res.per_threat, res.events.to_frame()
    assert per.unresolved.all() and not per.killed.any() and not per.leaked.any()
    u = ev[ev.kind == "unresolved"].sort_values("threat")
    assert len(u) == 2 and (u.time_s == 600.0).all()
    # value: the arrival time from the trajectory (route length / speed + the launch offset)
    arrival = np.array([0.0, 10.0]) + START_KM * 1e3 / DRONE_SPEED_MPS
    np.testing.assert_allclose(u.value, arrival, rtol=2e-3)
    # position: where each drone is at 600 s, (600 - launch) * 50 m/s along the route
    flown_km = (600.0 - np.array([0.0, 10.0])) * DRONE_SPEED_MPS / 1e3
    np.testing.assert_allclose(u.lon, east_of(START_KM - flown_km), atol=2e-3)
    assert np.allclose(u.alt_m, 500.0)


def test_a_long_enough_run_resolves_the_same_threats():
    res = run(_late_drones(duration_s=4200.0))
    assert not res.per_threat.unresolved.any()
    assert "unresolved" not in set(res.events.to_frame().kind)


def test_iadsim_run_warns_and_does_not_score_the_raid_defeated():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rs = iadsim.run(_late_drones(), runs=2, seed=3)
    assert rs.metric("unresolved_per_run")["value"] == 2
    assert rs.metric("leakers_per_run")["value"] == 0
    assert rs.metric("p_raid_defeated")["value"] == 0  # was 1 when only leakers counted
    assert rs.runs.unresolved.tolist() == [2, 2]
    msgs = [str(w.message) for w in caught if issubclass(w.category, UnresolvedThreatsWarning)]
    assert len(msgs) == 1
    # latest arrival 4010 s + 60 s margin, rounded up to a minute
    assert "2 threat(s)" in msgs[0] and "ended at 600 s" in msgs[0]
    assert "in 2 of 2 runs" in msgs[0] and "time.duration_s: 4080" in msgs[0]


def test_unresolved_message_is_none_when_everything_resolved():
    assert unresolved_message(pd.DataFrame(columns=["kind"]), 3) is None
    ev = pd.DataFrame({"run_id": [0], "time_s": [9.0], "kind": ["leak"], "value": [0.0]})
    assert unresolved_message(ev, 1) is None


def test_cli_run_prints_one_warning_line_for_unresolved_threats(tmp_path, iadsim_cli):
    scn = tmp_path / "late.yaml"
    scn.write_text(
        yaml.safe_dump(
            {
                "name": "late drones",
                "time": {"duration_s": 600, "step_s": 1.0},
                "sites": [
                    {
                        "id": "sam",
                        "system": "patriot",
                        "lat": SITE[0],
                        "lon": SITE[1],
                        "ground_altitude_m": 0,
                        "heading_deg": 90,
                    }
                ],
                "raids": [
                    {
                        "threat": "drone",
                        "count": 2,
                        "spacing_s": 10,
                        "route": [
                            [SITE[0], float(east_of(START_KM)), 500],
                            [SITE[0], SITE[1], 500],
                        ],
                    }
                ],
            }
        )  # fmt: skip
    )
    code, out, err = iadsim_cli("run", scn, "--runs", 1, "--out", tmp_path / "out")
    assert code == 0
    lines = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(lines) == 1 and "unresolved" in lines[0] and "time.duration_s: 4080" in lines[0]
    assert "unresolved_per_run" in out
