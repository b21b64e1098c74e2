"""Engagement: intercept-time solution, P_k frequencies, envelopes, inventory and reload."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from iadsim.sim import engine
from iadsim.sim.engagement import intercept_time_s
from tests.helpers.simkit import inbound_raid, run, sam, scenario

pytestmark = pytest.mark.usefixtures("test_catalog")


def test_intercept_time_solves_the_pursuit_equation_and_is_the_earliest():
    rng = np.random.default_rng(0)
    p = rng.uniform(-50e3, 50e3, (300, 3))
    v = rng.uniform(-600, 600, (300, 3))
    s = rng.uniform(300, 1500, 300)
    t = intercept_time_s(p, v, s)
    ok = ~np.isnan(t)
    assert ok.mean() > 0.5
    miss = np.linalg.norm(p + v * t[:, None], axis=1) - s * t
    assert np.abs(miss[ok]).max() < 1e-6 * np.abs(s * t)[ok].max()
    # brute force: no earlier root on a fine grid, and none at all where NaN was returned
    grid = np.linspace(0, 2000, 200_001)
    for i in range(40):
        gap = np.linalg.norm(p[i] + np.outer(grid, v[i]), axis=1) - s[i] * grid
        cross = np.flatnonzero(gap <= 0)
        if ok[i]:
            assert grid[cross[0]] == pytest.approx(t[i], abs=0.02)
        else:
            assert len(cross) == 0


def test_intercept_time_head_on_closed_form():
    t = intercept_time_s(np.array([[30e3, 0, 0]]), np.array([[-250.0, 0, 0]]), np.array([1000.0]))
    assert t[0] == pytest.approx(30e3 / 1250.0)


def _salvo_one_raid(count=100):
    # targets at 2 km altitude (visible at once), inbound from 60 km, one every 5 s
    return inbound_raid(60, 3, 2000.0, count=count, spacing_s=5.0)


PK = 0.7  # test-missile against every class (tests/data/sim_catalog/interceptors)


@pytest.mark.parametrize("salvo_size", [1, 2])
def test_salvo_kill_frequency_within_binomial_ci_of_one_minus_miss_to_the_salvo(salvo_size):
    """Each round draws its own kill: a salvo of n kills with probability 1 - (1 - P_k)^n."""
    scn = scenario(
        [
            sam(
                interceptors={"test-missile": 400},
                doctrine={"salvo_size": salvo_size, "shoot_look_shoot": False},
            )
        ],
        [_salvo_one_raid()],
        duration_s=800,
    )
    prepared = engine.prepare(scn)
    kills = salvos = 0
    for seed in range(3):
        ev = engine.run_once(prepared, np.random.default_rng(seed)).events.to_frame()
        fired = ev[ev.kind.isin(["intercept", "miss"]) & ev.reason.isna()]
        kills += int((fired.kind == "intercept").sum())
        salvos += len(fired)
        assert (ev[ev.kind == "launch"].value == salvo_size).all()
    assert salvos >= 250
    ci = binomtest(kills, salvos).proportion_ci(0.95)
    assert ci.low <= 1 - (1 - PK) ** salvo_size <= ci.high, (kills, salvos)


def test_impossible_envelope_gives_no_launch_and_says_why():
    # test-high only engages above 5 km; the threat flies at 2 km
    res = run(scenario([sam("test-sam-high")], [_salvo_one_raid(3)], duration_s=400))
    ev = res.events.to_frame()
    assert (ev.kind == "launch").sum() == 0
    reasons = set(ev[ev.kind == "no_engagement"].reason)
    assert "below_min_altitude" in reasons
    assert res.per_threat.leaked.all() and res.per_threat.interceptors_spent.sum() == 0


def test_inventory_exhaustion_stops_launches():
    site = sam(
        interceptors={"test-missile": 3}, doctrine={"salvo_size": 1, "shoot_look_shoot": False}
    )
    res = run(scenario([site], [_salvo_one_raid(10)], duration_s=400))
    ev = res.events.to_frame()
    assert ev[ev.kind == "launch"].value.sum() == 3
    assert "no_interceptor" in set(ev[ev.kind == "no_engagement"].reason)
    assert res.interceptors_spent_by_site == {"sam": 3}


def test_reload_after_ready_rounds_run_out():
    # test-sam-small holds 2 ready rounds and reloads in 30 s; inventory 4 = 2 ready + 2 reserve
    site = sam("test-sam-small", interceptors={"test-missile": 4},
               doctrine={"salvo_size": 1, "shoot_look_shoot": False})  # fmt: skip
    res = run(scenario([site], [_salvo_one_raid(8)], duration_s=400))
    launches = res.events.to_frame().query("kind == 'launch'").time_s.to_numpy()
    assert len(launches) == 4
    assert launches[2] >= launches[1] + 30.0


def test_shoot_look_shoot_reengages_only_after_assessment():
    site = sam(doctrine={"salvo_size": 1, "shoot_look_shoot": True})
    prepared = engine.prepare(scenario([site], [_salvo_one_raid(20)], duration_s=500))
    ev = engine.run_once(prepared, np.random.default_rng(5)).events.to_frame()
    assessed = ev[ev.kind == "kill_assessed"]
    for threat, shots in ev[ev.kind == "launch"].groupby("threat"):
        t = shots.time_s.to_numpy()
        done = assessed[assessed.threat == threat].time_s.to_numpy()
        for k in range(1, len(t)):  # each follow-up comes after the previous assessment
            assert t[k] >= done[k - 1]
    assert (ev[ev.kind == "launch"].groupby("threat").size() > 1).any()
