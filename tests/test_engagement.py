"""Engagement: intercept-time solution, P_k frequencies, envelopes, inventory and reload."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from iadsim.sim import engagement as eng
from iadsim.sim import engine
from iadsim.sim.engagement import intercept_time_s, intercept_time_scalar_s
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


def _first_root_brute_force(p, v, s):
    """Smallest t > 0 with |p + v t| - s t = 0: the first sign change on a dense geometric
    grid (1 us to 1e7 s), refined by bisection; None if the gap never reaches 0."""
    t = np.concatenate([[0.0], np.geomspace(1e-6, 1e7, 60_001)])
    gap = np.linalg.norm(p + np.outer(t, v), axis=1) - s * t
    cross = np.flatnonzero(gap[1:] <= 0)
    if len(cross) == 0:
        return None
    lo, hi = t[cross[0]], t[cross[0] + 1]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.linalg.norm(p + mid * v) - s * mid > 0:
            lo = mid
        else:
            hi = mid
    return hi


def test_engine_intercept_solver_finds_the_first_root_found_by_brute_force():
    """The scalar solver _evaluate_nb calls, against bisection of |p + v t| - s t on random
    geometries: slower and faster targets, and targets exactly as fast as the interceptor."""
    rng = np.random.default_rng(7)
    checked = {"root": 0, "none": 0}
    for k in range(160):
        p = rng.uniform(-80e3, 80e3, 3)
        v = rng.uniform(-900, 900, 3)
        s = np.linalg.norm(v) if k % 4 == 0 else rng.uniform(200, 1500)  # equal speeds
        t = intercept_time_scalar_s(*p, *v, s)
        ref = _first_root_brute_force(p, v, s)
        if ref is None:
            assert np.isnan(t), (p, v, s, t)
            checked["none"] += 1
        else:
            assert t == pytest.approx(ref, rel=1e-9), (p, v, s)
            checked["root"] += 1
    assert min(checked.values()) > 20  # both outcomes exercised


def test_intercept_time_array_api_is_the_engine_solver_row_by_row():
    rng = np.random.default_rng(8)
    p, v = rng.uniform(-50e3, 50e3, (200, 3)), rng.uniform(-600, 600, (200, 3))
    s = rng.uniform(300, 1500, 200)
    t = intercept_time_s(p, v, s)
    ref = [intercept_time_scalar_s(*p[i], *v[i], s[i]) for i in range(200)]
    np.testing.assert_array_equal(t, ref)
    assert intercept_time_s(p[:3], v[:3], 800.0).shape == (3,)  # a scalar speed broadcasts


@pytest.mark.parametrize(
    ("p", "v", "s", "expected"),
    [
        ((30e3, 0, 0), (-250.0, 0, 0), 1000.0, 30e3 / 1250.0),  # head on
        ((30e3, 0, 0), (250.0, 0, 0), 1000.0, 30e3 / 750.0),  # tail chase
        ((30e3, 0, 0), (0, 600.0, 0), 1000.0, 30e3 / np.sqrt(1000.0**2 - 600.0**2)),  # crossing
        ((30e3, 0, 0), (-1000.0, 0, 0), 1000.0, 15.0),  # equal speeds, head on: halfway
        ((30e3, 0, 0), (0, 1000.0, 0), 1000.0, np.nan),  # equal speeds, crossing: never
        ((30e3, 0, 0), (1000.0, 0, 0), 1000.0, np.nan),  # equal speeds, receding
        ((30e3, 0, 0), (1500.0, 0, 0), 1000.0, np.nan),  # receding faster than the interceptor
        ((30e3, 0, 0), (0, 1200.0, 0), 1000.0, np.nan),  # crossing faster: out of reach
        ((0, 0, 0), (-300.0, 0, 0), 1000.0, np.nan),  # at the launcher: t = 0 is not > 0
        ((0, 0, 0), (0, 0, 0), 1000.0, np.nan),  # at the launcher, still
        ((np.nan, 0, 0), (-250.0, 0, 0), 1000.0, np.nan),
        ((30e3, 0, 0), (np.nan, 0, 0), 1000.0, np.nan),
        ((30e3, 0, 0), (-250.0, 0, 0), np.nan, np.nan),
    ],
)
def test_intercept_time_closed_forms_and_edge_cases(p, v, s, expected):
    t = intercept_time_scalar_s(*p, *v, s)
    assert t == pytest.approx(expected, rel=1e-12, nan_ok=True)
    assert intercept_time_s(np.array([p]), np.array([v]), np.array([s]))[0] == pytest.approx(
        expected, rel=1e-12, nan_ok=True
    )


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
    # every outcome (a P_k draw, or a miss decided at the true intercept) is known to the unit
    # KILL_ASSESSMENT_S after its time; a kill_assessed event follows each P_k draw
    outcome = ev[ev.kind.isin(["intercept", "miss"])]
    assessed = ev[ev.kind == "kill_assessed"]
    drawn = outcome[outcome.reason.isna()]
    np.testing.assert_allclose(assessed.time_s, drawn.time_s + eng.KILL_ASSESSMENT_S)
    for threat, shots in ev[ev.kind == "launch"].groupby("threat"):
        t = shots.time_s.to_numpy()
        done = outcome[outcome.threat == threat].time_s.to_numpy() + eng.KILL_ASSESSMENT_S
        for k in range(1, len(t)):  # each follow-up comes after the previous assessment
            assert t[k] >= done[k - 1]
    assert (ev[ev.kind == "launch"].groupby("threat").size() > 1).any()
