"""Metrics stay within what they can take: a count's interval never goes below 0 nor above the
largest per-run value, a proportion's stays in [0, 1] (also when every run gave 0, or the
same value), the bootstrap interval of a large well-behaved sample is the t interval, and a
fire unit that never fires is listed with 0 interceptors per run."""

from __future__ import annotations

import textwrap

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import iadsim
from iadsim.api import RunSet
from iadsim.results.metrics import bootstrap_interval, t_interval, wilson_interval


def _inside(est, low: float, high: float) -> None:
    assert low <= est.ci_low <= est.value <= est.ci_high <= high


def test_a_rare_count_has_no_negative_bound_where_the_t_interval_had_one():
    # 2 runs with one leaker out of 20: the t interval went below 0 (the issue's [-0.04, 0.24])
    x = np.array([1, 1] + [0] * 18)
    t = t_interval(x.mean(), x.std(ddof=1), x.size)
    assert t.ci_low < 0
    est = bootstrap_interval(x, "leakers_per_run")
    _inside(est, 0.0, 1.0)
    assert est.value == pytest.approx(0.1)
    assert est.ci_high == pytest.approx(t.ci_high, abs=0.06)  # same width scale as t


@pytest.mark.parametrize("value", [0.0, 3.0, 1.0])
@pytest.mark.parametrize("n", [2, 20, 500])
def test_all_equal_runs_give_the_zero_width_interval_at_that_value(value, n):
    est = bootstrap_interval(np.full(n, value), "leakers_per_run")
    assert (est.value, est.ci_low, est.ci_high, est.n) == (value, value, value, n)


@pytest.mark.parametrize("n", [1, 20, 500])
def test_proportions_of_all_zero_or_all_one_stay_in_0_1(n):
    for k in (0, n):
        est = wilson_interval(k, n)
        assert 0.0 <= est.ci_low <= est.value <= est.ci_high <= 1.0
    assert wilson_interval(0, n).ci_low == 0.0 and wilson_interval(0, n).ci_high > 0.0
    assert wilson_interval(n, n).ci_high == 1.0 and wilson_interval(n, n).ci_low < 1.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=12), min_size=2, max_size=300),
    st.text(max_size=8),
)
def test_count_interval_never_leaves_the_observed_range(counts, key):
    x = np.array(counts, float)
    est = bootstrap_interval(x, key)
    _inside(est, x.min(), x.max())
    assert est.n == x.size


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=2, max_size=200))
def test_mean_of_0_1_values_stays_in_0_1(flags):
    est = bootstrap_interval(np.array(flags, float), "p")
    _inside(est, 0.0, 1.0)


@pytest.mark.parametrize("n, tol", [(30, 0.08), (400, 0.06), (3000, 0.04)])
def test_a_large_symmetric_sample_gets_the_t_interval(n, tol):
    x = np.random.default_rng(n).normal(3.0, 2.0, n)
    est = bootstrap_interval(x, "mean_warning_time_s")
    lo, hi = stats.t.interval(0.95, n - 1, loc=x.mean(), scale=stats.sem(x))
    half = (hi - lo) / 2
    assert est.value == pytest.approx(x.mean())
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), abs=tol * half)


def test_a_large_count_sample_gets_the_t_interval():
    x = np.random.default_rng(2).poisson(4.0, 2000).astype(float)
    est = bootstrap_interval(x, "interceptors_spent_per_run")
    lo, hi = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), abs=0.04 * (hi - lo) / 2)


def test_the_interval_is_reproducible_and_independent_between_metrics():
    x = np.random.default_rng(1).poisson(0.3, 60).astype(float)
    a, b = bootstrap_interval(x, "leakers_per_run"), bootstrap_interval(x, "leakers_per_run")
    assert a == b
    assert bootstrap_interval(x[:1], "k").ci_low is None  # no interval from one run
    assert bootstrap_interval(np.array([]), "k").value is None


def test_the_bootstrap_covers_the_mean_of_a_skewed_count_about_95_percent():
    # coverage of the true mean over 400 independent samples of 25 runs of a rare count
    rng = np.random.default_rng(7)
    mu, hits = 0.3, 0
    for i in range(400):
        est = bootstrap_interval(rng.poisson(mu, 25).astype(float), f"cov{i}", resamples=1000)
        hits += est.ci_low <= mu <= est.ci_high
    assert 0.90 <= hits / 400 <= 0.985


def _runset(fire_units):
    events = pd.DataFrame({
        "run_id": [0, 1, 1], "time_s": [10.0, 12.0, 15.0], "kind": "launch",
        "site": ["busy", "busy", "busy"], "threat": "t0", "value": [2.0, 2.0, 1.0],
    })  # fmt: skip
    runs = pd.DataFrame({"run_id": [0, 1, 2]})
    meta = {"scenario": "idle", "seed": 0, "runs": 3, "fire_units": fire_units}
    return RunSet(meta, runs, events, pd.DataFrame(columns=["run_id", "threat"]))


def test_an_idle_fire_unit_is_listed_with_zero_interceptors_per_run(tmp_path):
    rs = _runset(["idle", "busy"])
    assert rs.metric("interceptors_per_run[idle]") == {
        "value": 0, "ci_low": 0, "ci_high": 0, "n": 3
    }  # fmt: skip
    busy = rs.metric("interceptors_per_run[busy]")
    assert busy["value"] == pytest.approx(5 / 3) and busy["n"] == 3
    assert 0 <= busy["ci_low"] <= busy["ci_high"] <= 3
    con = duckdb.connect(str(rs.to_duckdb(tmp_path / "r.duckdb")), read_only=True)
    try:
        assert con.execute("SELECT site FROM fire_units").fetchall() == [("idle",), ("busy",)]
    finally:
        con.close()


SCENARIO = """\
name: one fire unit out of reach
environment: {k_factor: 1.3333, dem: null}
time: {duration_s: 300, step_s: 1}
sites:
  - {id: near, system: nasams, lat: 39.9, lon: 32.8}
  - {id: far-away, system: nasams, lat: 45.0, lon: 40.0}
raids:
  - threat: cruise-missile
    count: 2
    route: [[39.9, 33.4, 50], [39.9, 32.8, 50]]
"""


def test_a_scenario_fire_unit_that_never_fires_shows_zero(tmp_path):
    path = tmp_path / "scn.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    rs = iadsim.run(path, runs=3, seed=1)
    assert rs.meta["fire_units"] == ["near", "far-away"]
    assert not (rs.events.kind.eq("launch") & rs.events.site.eq("far-away")).any()
    assert rs.metric("interceptors_per_run[far-away]")["value"] == 0
    assert rs.metric("interceptors_per_run[far-away]")["n"] == 3
    assert "interceptors_per_run[near]" in rs.summary["metrics"]
