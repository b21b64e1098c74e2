"""Metrics and intervals against independent computations (scipy.stats, numpy, pandas) on the
same data: the SQL over the store must agree with a direct computation on the frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from iadsim.api import RunSet, compare
from iadsim.montecarlo import run_replications
from iadsim.results.metrics import t_interval, wilson_interval
from tests.helpers.stub_engine import stub_prepare, stub_run_once


@pytest.mark.parametrize("n", [2, 5, 40])
def test_t_interval_matches_scipy(n):
    x = np.random.default_rng(n).normal(3.0, 2.0, n)
    est = t_interval(x.mean(), x.std(ddof=1), n)
    lo, hi = stats.t.interval(0.95, n - 1, loc=x.mean(), scale=stats.sem(x))
    assert est.value == pytest.approx(x.mean())
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), rel=1e-12)


def test_t_interval_is_undefined_below_two_runs():
    assert t_interval(4.0, None, 1).ci_low is None
    assert t_interval(None, None, 0).value is None


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (517, 1000), (1, 1)])
def test_wilson_interval_matches_scipy_binomtest(k, n):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    est = wilson_interval(k, n)
    assert est.value == pytest.approx(k / n)
    assert (est.ci_low, est.ci_high) == pytest.approx((ref.low, ref.high), abs=1e-12)


@pytest.fixture(scope="module")
def runset() -> RunSet:
    reps = run_replications(
        stub_prepare(n_threats=8, pk=0.5), runs=40, seed=11, run_fn=stub_run_once
    )
    # one run with no events at all: must count as zero leakers / zero interceptors
    runs = pd.concat([reps.runs, pd.DataFrame({"run_id": [40]})], ignore_index=True)
    meta = {"scenario": "stub", "seed": 11, "runs": 41}
    return RunSet(meta, runs, reps.events, reps.per_threat)


def _t_ref(values) -> tuple[float, float, float]:
    v = np.asarray(values, float)
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    return v.mean(), lo, hi


def _boot_ref(values) -> tuple[float, float, float]:
    """scipy's percentile bootstrap at Hesterberg's expanded level (an independent draw)."""
    v = np.asarray(values, float)
    n = len(v)
    tail = stats.norm.cdf(-np.sqrt(n / (n - 1)) * stats.t.ppf(0.975, n - 1))
    res = stats.bootstrap(
        (v,), np.mean, confidence_level=1 - 2 * tail, method="percentile", n_resamples=20_000,
        random_state=np.random.default_rng(5),
    )  # fmt: skip
    return v.mean(), res.confidence_interval.low, res.confidence_interval.high


def _check(rs: RunSet, name: str, ref, n: int, values=None) -> None:
    """The metric's value is ``ref``'s mean (exactly); a proportion's (Wilson) interval is
    ``ref``'s exactly; for a mean over runs (``values`` given), the interval is within a tenth
    of its half-width of ``ref``'s (a bootstrap of other draws) and inside [min, max] of
    ``values``."""
    m = rs.metric(name)
    assert m["n"] == n, name
    assert m["value"] == pytest.approx(ref[0], rel=1e-9), name
    if values is None:
        assert (m["ci_low"], m["ci_high"]) == pytest.approx(ref[1:], rel=1e-9), name
        return
    half = (ref[2] - ref[1]) / 2
    assert (m["ci_low"], m["ci_high"]) == pytest.approx(ref[1:], abs=0.1 * half), name
    v = np.asarray(values, float)
    assert v.min() <= m["ci_low"] <= m["value"] <= m["ci_high"] <= v.max(), name


def _check_mean(rs: RunSet, name: str, values, n: int) -> None:
    _check(rs, name, _boot_ref(values), n, values)


def test_per_run_means_match_a_direct_computation(runset):
    rs = runset
    all_runs = rs.runs.run_id
    ev = rs.events
    leak = ev[ev.kind == "leak"].groupby("run_id").threat.nunique().reindex(all_runs, fill_value=0)
    # the stub's per_threat agrees with its leak events (minus the empty run)
    assert leak.iloc[:-1].tolist() == rs.per_threat.groupby("run_id").leaked.sum().tolist()
    _check_mean(rs, "leakers_per_run", leak, 41)
    launches = ev[ev.kind == "launch"]
    spent = launches.groupby("run_id").value.sum().reindex(all_runs, fill_value=0)
    _check_mean(rs, "interceptors_spent_per_run", spent, 41)
    salvos = launches.groupby("run_id").size().reindex(all_runs, fill_value=0)
    _check_mean(rs, "salvos_per_run", salvos, 41)
    for site in sorted(launches.site.unique()):
        s = launches[launches.site == site].groupby("run_id").value.sum()
        _check_mean(rs, f"interceptors_per_run[{site}]", s.reindex(all_runs, fill_value=0), 41)
    pt = rs.per_threat
    warn_all = pt.warning_time_s.fillna(0.0).groupby(pt.run_id).mean()  # undetected = 0 s
    _check_mean(rs, "mean_warning_time_s", warn_all, len(warn_all))
    warn = pt.groupby("run_id").warning_time_s.mean().dropna()
    _check_mean(rs, "mean_warning_time_detected_s", warn, len(warn))
    undetected = pt.first_detection_s.isna().groupby(pt.run_id).sum()
    _check_mean(rs, "undetected_per_run", undetected.reindex(all_runs, fill_value=0), 41)
    assert rs.metric("unresolved_per_run")["value"] == 0  # the stub resolves every threat


def _hand_built_runset() -> RunSet:
    """Three runs of three threats with every metric known by hand:

    run 0: warnings 100 s, undetected, 50 s; t1 leaks            -> not defeated
    run 1: warnings 200, 100, 300 s; nothing leaks                -> defeated
    run 2: nothing detected; t0, t2 still flying at the end (600 s),
           arriving at 900 s and 1000 s; nothing leaks             -> not defeated (unresolved)
    """
    nan = np.nan
    per_threat = pd.DataFrame({
        "run_id": np.repeat([0, 1, 2], 3),
        "threat": ["t0", "t1", "t2"] * 3,
        "target_class": "cruise",
        "launched_s": 0.0,
        "first_detection_s": [400, nan, 450, 300, 400, 200, nan, nan, nan],
        "warning_time_s": [100, nan, 50, 200, 100, 300, nan, nan, nan],
        "killed": [True, False, True, True, True, True, False, False, False],
        "leaked": [False, True, False] + [False] * 6,
        "unresolved": [False] * 6 + [True, False, True],
    })  # fmt: skip
    events = pd.DataFrame({
        "run_id": [0, 2, 2],
        "time_s": [500.0, 600.0, 600.0],
        "kind": ["leak", "unresolved", "unresolved"],
        "threat": ["t1", "t0", "t2"],
        "value": [0.0, 900.0, 1000.0],
    })  # fmt: skip
    runs = pd.DataFrame({"run_id": [0, 1, 2]})
    return RunSet({"scenario": "hand-built", "seed": 0, "runs": 3}, runs, events, per_threat)


def test_warning_time_and_undetected_metrics_on_a_hand_built_store():
    rs = _hand_built_runset()
    value = {k: rs.metric(k)["value"] for k in rs.summary["metrics"]}
    # all threats, undetected = 0 s: runs (100+0+50)/3 = 50, 200, 0 -> 250/3
    assert value["mean_warning_time_s"] == pytest.approx(250 / 3)
    assert rs.metric("mean_warning_time_s")["n"] == 3
    # detected threats only: runs 75 and 200 (run 2 has none and is left out)
    assert value["mean_warning_time_detected_s"] == pytest.approx(137.5)
    assert rs.metric("mean_warning_time_detected_s")["n"] == 2
    assert value["undetected_per_run"] == pytest.approx((1 + 0 + 3) / 3)


def test_unresolved_threats_count_and_the_raid_is_not_defeated_on_a_hand_built_store():
    rs = _hand_built_runset()
    assert rs.metric("leakers_per_run")["value"] == pytest.approx(1 / 3)
    assert rs.metric("unresolved_per_run")["value"] == pytest.approx(2 / 3)
    # only run 1 has neither a leaker nor an unresolved threat (leakers alone would give 2/3)
    assert rs.metric("p_raid_defeated")["value"] == pytest.approx(1 / 3)
    assert rs.metric("p_raid_defeated")["n"] == 3


def test_probabilities_match_wilson_from_scipy(runset):
    rs = runset
    ev = rs.events
    leakers = ev[ev.kind == "leak"].groupby("run_id").size().reindex(rs.runs.run_id, fill_value=0)
    unresolved = ev[ev.kind == "unresolved"].groupby("run_id").size()
    unresolved = unresolved.reindex(rs.runs.run_id, fill_value=0)
    k = int(((leakers == 0) & (unresolved == 0)).sum())
    ref = stats.binomtest(k, 41).proportion_ci(method="wilson")
    _check(rs, "p_raid_defeated", (k / 41, ref.low, ref.high), 41)
    for cls, g in rs.per_threat.groupby("target_class"):
        kills, n = int(g.killed.sum()), len(g)
        ref = stats.binomtest(kills, n).proportion_ci(method="wilson")
        _check(rs, f"p_kill[{cls}]", (kills / n, ref.low, ref.high), n)
        seen = int(g.first_detection_s.notna().sum())
        ref = stats.binomtest(seen, n).proportion_ci(method="wilson")
        _check(rs, f"p_detected[{cls}]", (seen / n, ref.low, ref.high), n)


def test_first_detection_and_warning_time_per_threat(runset):
    rs = runset
    det = rs.events[rs.events.kind == "detection_start"]
    first = det.groupby(["run_id", "threat"]).time_s.min().reset_index()
    for threat, g in first.groupby("threat"):
        _check_mean(rs, f"first_detection_s[{threat}]", g.time_s, len(g))
    for threat, g in rs.per_threat.groupby("threat"):
        w = g.warning_time_s.dropna()
        _check_mean(rs, f"warning_time_s[{threat}]", w, len(w))
    names = [k for k in rs.summary["metrics"] if k.startswith("first_detection_s[")]
    assert names == [f"first_detection_s[t{i}]" for i in range(8)]  # launch order, not lexical


def test_compare_puts_key_metrics_side_by_side(runset):
    other = run_replications(
        stub_prepare(n_threats=8, pk=0.95), runs=10, seed=1, run_fn=stub_run_once
    )
    rs_b = RunSet(
        {"scenario": "b", "seed": 1, "runs": 10}, other.runs, other.events, other.per_threat
    )
    table = compare(runset, rs_b, labels=("standalone", "networked"))
    assert list(table.columns) == [
        "standalone", "standalone ci_low", "standalone ci_high",
        "networked", "networked ci_low", "networked ci_high",
    ]  # fmt: skip
    assert {"leakers_per_run", "p_raid_defeated", "p_kill[cruise]"} <= set(table.index)
    assert {"unresolved_per_run", "undetected_per_run", "mean_warning_time_s"} <= set(table.index)
    assert table.loc["leakers_per_run", "networked"] == rs_b.metric("leakers_per_run")["value"]
    assert (
        table.loc["p_kill[ballistic]", "standalone"] == runset.metric("p_kill[ballistic]")["value"]
    )
