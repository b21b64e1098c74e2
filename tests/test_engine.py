"""Engine: contract of run_once (events, per-threat table), determinism, empty raids, examples."""

from __future__ import annotations

import copy
import dataclasses
import sys
import threading
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from iadsim.scenario import load_scenario
from iadsim.sim import engine
from iadsim.sim.events import EVENT_COLUMNS, EVENT_KINDS, EventLog
from tests.helpers.simkit import SITE, east_of, inbound_raid, run, sam, scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PER_THREAT = ["threat", "target_class", "launched_s", "first_detection_s", "first_track_s", "killed",
              "kill_time_s", "leaked", "unresolved", "impact_asset", "interceptors_spent",
              "warning_time_s"]  # fmt: skip


def test_event_log_frame_has_the_contract_columns():
    log = EventLog(7, ["a", "b"], ["t0"], ["m"], ["asset"])
    log.add("launch", 3.0, site=np.array([1]), threat=np.array([0]), interceptor=0, value=2.0)
    log.add("no_engagement", 1.0, site=0, threat=0, reason="no_channel")
    df = log.to_frame()
    assert tuple(df.columns) == EVENT_COLUMNS
    assert df.kind.tolist() == ["no_engagement", "launch"]  # sorted by time
    assert df.site.tolist() == ["a", "b"] and df.reason.tolist()[0] == "no_channel"
    assert df.run_id.eq(7).all() and df.interceptor.tolist()[1] == "m"
    assert set(EVENT_KINDS) >= {"detection_start", "launch", "leak", "impact", "no_engagement"}


@pytest.mark.usefixtures("test_catalog")
def test_zero_threats_run_gives_zero_events():
    res = run(scenario([sam()], [], duration_s=60))
    df = res.events.to_frame()
    assert len(df) == 0 and tuple(df.columns) == EVENT_COLUMNS
    assert len(res.per_threat) == 0 and list(res.per_threat.columns) == PER_THREAT
    assert res.interceptors_spent_by_site == {"sam": 0}


@pytest.mark.usefixtures("test_catalog")
def test_same_seed_gives_identical_events_and_another_seed_differs():
    scn = scenario(
        [sam(doctrine={"salvo_size": 1})],
        [inbound_raid(60, 3, 2000.0, count=10, spacing_s=5)],
        duration_s=400,
    )
    prepared = engine.prepare(scn)
    a = engine.run_once(prepared, np.random.default_rng(11), run_id=3)
    b = engine.run_once(prepared, np.random.default_rng(11), run_id=3)
    c = engine.run_once(prepared, np.random.default_rng(12), run_id=3)
    pd.testing.assert_frame_equal(a.events.to_frame(), b.events.to_frame())
    pd.testing.assert_frame_equal(a.per_threat, b.per_threat)
    assert not a.events.to_frame().equals(c.events.to_frame())


@pytest.mark.usefixtures("test_catalog")
def test_leaks_hit_assets_and_warning_time_is_arrival_minus_first_detection():
    # no interceptors at all: every threat leaks onto the asset at the route end
    site = sam(interceptors={"test-missile": 0})
    asset = {"id": "depot", "lat": 40.0, "lon": 30.0 + 3 / 85.3, "radius_km": 2, "value": 4}
    res = run(
        scenario(
            [site],
            [inbound_raid(60, 3, 2000.0, count=2, spacing_s=10)],
            duration_s=400,
            assets=[asset],
        )
    )
    per = res.per_threat
    assert per.leaked.all() and (per.impact_asset == "depot").all() and not per.killed.any()
    ev = res.events.to_frame()
    impacts = ev[ev.kind == "impact"]
    assert len(impacts) == 2 and (impacts.reason == "depot").all() and (impacts.value == 4).all()
    arrival = impacts.time_s.to_numpy()
    assert np.allclose(per.warning_time_s, arrival - per.first_detection_s, atol=1.0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["raid_s400_standalone.yaml", "raid_patriot_networked.yaml"])
def test_example_raid_runs_and_books_balance(name):
    scn = load_scenario(EXAMPLES / name)
    assert scn.illustrative
    res = engine.run_once(engine.prepare(scn), np.random.default_rng(0))
    per, ev = res.per_threat, res.events.to_frame()
    assert list(per.columns) == PER_THREAT and len(per) == 13
    # every threat ends exactly one way; the examples' duration lets every threat arrive
    assert (per.killed.astype(int) + per.leaked + per.unresolved == 1).all()
    assert not per.unresolved.any() and "unresolved" not in set(ev.kind)
    launched = ev[ev.kind == "launch"]
    assert (
        per.interceptors_spent.sum()
        == launched.value.sum()
        == sum(res.interceptors_spent_by_site.values())
    )
    assert (ev[ev.kind == "intercept"].threat.value_counts() <= 1).all()  # killed once
    assert set(per.threat[per.killed]) == set(ev[ev.kind == "intercept"].threat)
    assert ev.time_s.is_monotonic_increasing


@pytest.mark.usefixtures("test_catalog")
def test_gnn_tracking_option_tracks_like_ideal_association():
    raid = inbound_raid(60, 3, 2000.0, count=5, spacing_s=8)
    scn = scenario([sam(doctrine={"salvo_size": 1})], [raid], duration_s=400)
    res = {
        mode: engine.run_once(engine.prepare(scn, config=engine.EngineConfig(tracking=mode)), np.random.default_rng(4))
        for mode in ("ideal", "gnn")
    }  # fmt: skip
    first = {m: r.per_threat.first_track_s.to_numpy() for m, r in res.items()}
    assert np.all(np.abs(first["gnn"] - first["ideal"]) <= 2.0)
    ev = res["gnn"].events.to_frame()
    assert (ev.kind == "launch").sum() >= 5 and (ev.kind == "track_start").sum() >= 5
    assert not (res["gnn"].per_threat.killed & res["gnn"].per_threat.leaked).any()


def _networked_raid():
    """A fire unit and a forward radar sharing tracks with a 2 s delay (engage on remote):
    the fire unit's launches depend on the delayed pictures."""
    fwd = {"id": "fwd", "system": "test-ew", "lat": SITE[0], "lon": east_of(51.0),
           "ground_altitude_m": 0}  # fmt: skip
    link = {"id": "link", "members": ["sam", "fwd"], "latency_s": 2, "mode": "engage_on_remote"}
    raid = inbound_raid(200, 3, 50.0, count=6, spacing_s=20)
    return scenario([sam(doctrine={"salvo_size": 1}), fwd], [raid], 900, networks=[link])


def _assert_same(a, b, where="prepared") -> None:
    """Deep equality of a PreparedScenario and a copy: arrays element by element (NaN equal
    to NaN), containers and dataclasses field by field."""
    assert type(a) is type(b), where
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        same = np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        assert same, where
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            _assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (list, tuple, deque)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    else:
        assert a == b, where


@pytest.mark.usefixtures("test_catalog")
def test_a_run_leaves_the_prepared_scenario_as_prepare_made_it():
    prepared = engine.prepare(_networked_raid())
    before = copy.deepcopy(prepared)
    res = engine.run_once(prepared, np.random.default_rng(1))
    assert (res.events.to_frame().kind == "launch").any()  # the run did engage
    _assert_same(prepared, before)


@pytest.mark.usefixtures("test_catalog")
def test_concurrent_runs_of_one_prepared_scenario_give_the_sequential_events(monkeypatch):
    prepared = engine.prepare(_networked_raid())
    seeds = (1, 2, 1, 2)  # two runs of each seed at once
    sequential = {s: engine.run_once(prepared, np.random.default_rng(s)) for s in set(seeds)}
    monkeypatch.setattr(sys, "getswitchinterval", sys.getswitchinterval)  # restored below
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: interleave the steps
    start, results = threading.Barrier(len(seeds)), [None] * len(seeds)

    def work(i: int) -> None:
        start.wait()
        results[i] = engine.run_once(prepared, np.random.default_rng(seeds[i]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(seeds))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    for seed, res in zip(seeds, results, strict=True):
        pd.testing.assert_frame_equal(res.events.to_frame(), sequential[seed].events.to_frame())
        pd.testing.assert_frame_equal(res.per_threat, sequential[seed].per_threat)
    launches = {s: (r.events.to_frame().kind == "launch").sum() for s, r in sequential.items()}
    assert all(n > 0 for n in launches.values())
