"""Sensitivity analysis core against analytic references (Ishigami; one-variable functions)."""

from __future__ import annotations

import numpy as np
import pytest

from iadsim.errors import InputError
from iadsim.sensitivity import (
    Problem,
    ProblemParameter,
    analyze,
    decisive_for_difference,
    describe_row,
    rank_given_data,
    run_design,
    sample,
)


def _problem(names, low=-np.pi, high=np.pi):
    return Problem(tuple(ProblemParameter(n, low, high, 0.0, quality="q") for n in names))


def _ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def test_sobol_indices_of_ishigami_match_the_analytic_values():
    # Ishigami & Homma (1990); analytic indices e.g. Saltelli et al., Global Sensitivity
    # Analysis: The Primer (2008), sec. 4.9: S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
    prob = _problem(["x1", "x2", "x3"])
    res = run_design(prob, "sobol", 4096, _ishigami, metric="y", seed=1)
    by = {r["parameter"]: r for r in res.rows}
    for name, s1, st in (("x1", 0.3139, 0.5576), ("x2", 0.4424, 0.4424), ("x3", 0.0, 0.2437)):
        assert by[name]["S1"] == pytest.approx(s1, abs=0.03)
        assert by[name]["ST"] == pytest.approx(st, abs=0.03)
    assert res.ranked == ["x1", "x2", "x3"]  # by total index


def test_morris_ranks_the_only_influential_parameter_first_and_the_others_at_zero():
    prob = _problem(["a", "b", "c", "d"], 0.0, 1.0)
    res = run_design(prob, "morris", 20, lambda X: 5.0 * (X[:, 2] > 0.5), metric="y", seed=3)
    assert res.ranked[0] == "c"
    assert res.rows[0]["mu_star"] > 0
    assert all(r["mu_star"] == 0 for r in res.rows[1:])


def test_morris_mu_star_of_a_linear_function_is_its_slope_times_the_range():
    # y = 3 x0 - 2 x1 on [0, 10]^2: every elementary effect of x0 is 3 * 10 (SALib scales
    # effects to the unit range), of x1 -2 * 10
    prob = _problem(["x0", "x1"], 0.0, 10.0)
    res = run_design(prob, "morris", 10, lambda X: 3 * X[:, 0] - 2 * X[:, 1], seed=0)
    by = {r["parameter"]: r for r in res.rows}
    assert by["x0"]["mu_star"] == pytest.approx(30.0)
    assert by["x1"]["mu_star"] == pytest.approx(20.0)
    assert by["x1"]["mu"] == pytest.approx(-20.0)
    assert by["x0"]["sigma"] == pytest.approx(0.0, abs=1e-9)


def test_given_data_ranking_finds_the_monotone_driver_among_noise():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (300, 5))
    Y = 4 * X[:, 3] + rng.normal(0, 0.5, 300)
    prob = _problem([f"p{i}" for i in range(5)], 0.0, 1.0)
    res = rank_given_data(prob, X, Y, metric="y", n_boot=100)
    assert res.ranked[0] == "p3"
    top = res.rows[0]
    assert top["rho2_low"] > 0.5 > max(r["rho2_high"] for r in res.rows[1:])
    assert "p3" in describe_row(top) and "rho^2" in describe_row(top)


def test_given_data_parameter_that_never_varies_scores_zero():
    X = np.column_stack([np.arange(10.0), np.full(10, 2.0)])
    res = rank_given_data(_problem(["v", "const"], 0, 1), X, np.arange(10.0), n_boot=20)
    assert {r["parameter"]: r["rho2"] for r in res.rows} == {"v": 1.0, "const": 0.0}


def test_bad_problems_and_methods_are_refused_naming_the_parameter():
    with pytest.raises(InputError, match="at least one"):
        Problem(())
    with pytest.raises(InputError, match="high > low"):
        _problem(["x"], 1.0, 1.0)
    with pytest.raises(InputError, match="method must be one of morris, sobol") as exc:
        sample(_problem(["x"]), "fast", 10)
    assert exc.value.param == "method"
    X = sample(_problem(["x"], 0, 1), "morris", 4)
    with pytest.raises(InputError, match="finite"):
        analyze(_problem(["x"], 0, 1), "morris", X, np.full(len(X), np.nan))


def test_the_difference_is_decided_by_the_noisier_jobs_driver():
    rng = np.random.default_rng(1)
    prob = _problem(["a", "b"], 0.0, 1.0)
    XA, XB = rng.uniform(0, 1, (200, 2)), rng.uniform(0, 1, (200, 2))
    YA = 10 * XA[:, 1] + rng.normal(0, 0.1, 200)  # job A: b drives a wide spread
    YB = 1 * XB[:, 0] + rng.normal(0, 0.1, 200)  # job B: a drives a narrow one
    top = decisive_for_difference({"A": (prob, XA, YA), "B": (prob, XB, YB)}, k=2, n_boot=20)
    assert [(r["job"], r["parameter"]) for r in top] == [("A", "b"), ("B", "a")]
    assert top[0]["share"] > 0.9 > top[1]["share"]
    assert top[0]["rho"] > 0


def test_design_size_is_the_number_of_points_sample_draws():
    from iadsim.sensitivity import Problem, ProblemParameter, design_size, sample

    prob = Problem(tuple(ProblemParameter(f"p{i}", 0.0, 1.0, 0.5) for i in range(3)))
    for method, n in (("morris", 2), ("morris", 5), ("sobol", 2), ("sobol", 5), ("sobol", 8)):
        assert design_size(method, n, 3) == len(sample(prob, method, n)), (method, n)
