"""Which uncertain numbers decide an outcome: global sensitivity analysis with SALib.

Two ways to rank parameters, both over the same :class:`Problem` (names, bounds and the
source quality of each uncertain catalog number):

* **Designed experiments** (``iadsim sensitivity``): SALib draws the design points, each point
  is evaluated (for a scenario: a few Monte Carlo runs with the point's values as catalog
  overrides, the metric averaged over them) and SALib computes the indices.

  - ``morris``: elementary effects (Morris 1991, with Campolongo, Cariboni & Saltelli 2007's
    mu*): ``r`` trajectories of ``k + 1`` points on a ``num_levels`` grid; for each parameter
    mu* = mean |EE| (overall influence), sigma = sd(EE) (non-linearity or interaction), and a
    bootstrap confidence interval of mu*. Cheap screening: ``r (k + 1)`` points.
  - ``sobol``: variance-based first-order and total indices S1, ST (Sobol' 2001; Saltelli 2002
    sampling, Saltelli et al. 2010 estimators) with bootstrap confidence intervals;
    ``N (k + 2)`` points.

* **Given data** (:func:`rank_given_data`, for the demo and the comparison report): the runs of
  a ``--parameter-uncertainty`` job already pair one parameter draw with one outcome per run,
  so no extra simulation is needed. Each parameter is scored by the squared Spearman rank
  correlation between its draws and the outcome (the share of the outcome's rank variance a
  monotone relation with that parameter explains), with a bootstrap interval. Monte Carlo
  noise and the other parameters' effects dilute it, so it is a screening measure:
  ``iadsim sensitivity`` is the design-based answer.

Indices are only as good as the bounds: each parameter's bounds are the support of its
uncertainty distribution (value, alternatives and confidence; see
:mod:`iadsim.uncertainty`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from iadsim.errors import InputError

Method = Literal["morris", "sobol"]
METHODS: tuple[str, ...] = ("morris", "sobol")


@dataclass(frozen=True)
class ProblemParameter:
    """One uncertain number: its name (``item:field.path``), bounds and source quality."""

    name: str
    low: float
    high: float
    value: float  #: the catalog's (or the override's) chosen value
    unit: str = ""
    quality: str = ""  #: e.g. ``sourced (medium)`` or ``unsourced estimate``
    source: str = ""
    #: the values the bounds stand for, when the design runs on another scale (e.g. the
    #: quantiles of the parameter's distribution: bounds 0..1, values span_low..span_high)
    span_low: float | None = None
    span_high: float | None = None


@dataclass(frozen=True)
class Problem:
    """The parameters of a sensitivity analysis, in a fixed order."""

    parameters: tuple[ProblemParameter, ...]

    def __post_init__(self) -> None:
        if not self.parameters:
            raise InputError("a sensitivity analysis needs at least one uncertain parameter")
        for p in self.parameters:
            if not (math.isfinite(p.low) and math.isfinite(p.high) and p.high > p.low):
                raise InputError(
                    f"parameter {p.name!r}: bounds must be finite with high > low, "
                    f"got [{p.low}, {p.high}]"
                )

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def salib(self) -> dict[str, Any]:
        """The problem dict SALib expects."""
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [[p.low, p.high] for p in self.parameters],
        }


@dataclass
class SensitivityResult:
    """Indices per parameter, ranked most influential first.

    ``rows`` are dicts with ``parameter``, ``rank`` and the method's indices (``mu_star``,
    ``mu_star_conf``, ``sigma``, ``mu`` for Morris; ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
    for Sobol; ``rho2``, ``rho``, ``rho2_low``, ``rho2_high`` for given data), plus each
    parameter's ``low``, ``high``, ``value``, ``unit``, ``quality`` and ``source``.
    """

    method: str
    metric: str
    rows: list[dict[str, Any]]
    n_points: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ranked(self) -> list[str]:
        return [r["parameter"] for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "metric": self.metric,
            "n_points": self.n_points,
            "settings": self.settings,
            "parameters": self.rows,
        }

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}", "method")


def sample(problem: Problem, method: str, n: int, seed: int = 0, num_levels: int = 4):
    """Design points (rows) for ``method``: Morris with ``n`` trajectories on ``num_levels``
    levels, or Sobol (Saltelli scheme, first and total order) with base sample size ``n``
    (rounded up to a power of two, as the Sobol' sequence needs)."""
    _check_method(method)
    if n < 2:
        raise InputError(f"n must be >= 2, got {n}", "n")
    if method == "morris":
        from SALib.sample import morris as morris_sample

        return morris_sample.sample(problem.salib(), n, num_levels=num_levels, seed=seed)
    from SALib.sample import sobol as sobol_sample

    return sobol_sample.sample(problem.salib(), sobol_base(n), calc_second_order=False, seed=seed)


def sobol_base(n: int) -> int:
    """The Sobol base sample size for ``n``: the next power of two (at least 2)."""
    return 1 << max(1, math.ceil(math.log2(n)))


def design_size(method: str, n: int, k: int) -> int:
    """Points :func:`sample` draws for ``k`` parameters: Morris ``n (k + 1)``, Sobol (first
    and total order) ``sobol_base(n) (k + 2)``."""
    _check_method(method)
    return n * (k + 1) if method == "morris" else sobol_base(n) * (k + 2)


def analyze(
    problem: Problem,
    method: str,
    X: np.ndarray,
    Y: np.ndarray,
    metric: str = "",
    seed: int = 0,
    num_levels: int = 4,
    conf_level: float = 0.95,
) -> SensitivityResult:
    """Indices from design points ``X`` (from :func:`sample`) and their outputs ``Y``."""
    _check_method(method)
    Y = np.asarray(Y, float)
    if not np.all(np.isfinite(Y)):
        raise InputError("every design point needs a finite metric value", "Y")
    meta = {p.name: p for p in problem.parameters}
    if method == "morris":
        from SALib.analyze import morris as morris_analyze

        res = morris_analyze.analyze(
            problem.salib(), np.asarray(X), Y, num_levels=num_levels, seed=seed,
            conf_level=conf_level,
        )  # fmt: skip
        rows = _index_rows(problem, res, ("mu_star", "mu_star_conf", "sigma", "mu"))
        key = "mu_star"
    else:
        from SALib.analyze import sobol as sobol_analyze

        res = sobol_analyze.analyze(
            problem.salib(), Y, calc_second_order=False, seed=seed, conf_level=conf_level
        )
        rows = _index_rows(problem, res, ("S1", "S1_conf", "ST", "ST_conf"))
        key = "ST"
    rows = _ranked(rows, key, meta)
    settings = {"num_levels": num_levels, "conf_level": conf_level, "seed": seed}
    return SensitivityResult(method, metric, rows, len(Y), settings)


def _index_rows(problem: Problem, res: Any, keys: Sequence[str]) -> list[dict[str, Any]]:
    """One row per parameter with SALib's indices ``keys`` as floats."""
    return [
        {"parameter": name, **{k: float(res[k][i]) for k in keys}}
        for i, name in enumerate(problem.names)
    ]


def _ranked(rows: list[dict], key: str, meta: dict[str, ProblemParameter]) -> list[dict]:
    rows = sorted(rows, key=lambda r: (-np.nan_to_num(r[key], nan=-np.inf), r["parameter"]))
    for i, r in enumerate(rows):
        p = asdict(meta[r["parameter"]])
        p.pop("name")
        r.update(rank=i + 1, **p)
    return rows


def run_design(
    problem: Problem,
    method: str,
    n: int,
    evaluate: Callable[[np.ndarray], np.ndarray],
    metric: str = "",
    seed: int = 0,
    num_levels: int = 4,
) -> SensitivityResult:
    """Sample, evaluate every design point with ``evaluate(X) -> Y`` (one metric value per
    row; the caller decides how points are run, e.g. in parallel), analyse."""
    X = sample(problem, method, n, seed=seed, num_levels=num_levels)
    Y = np.asarray(evaluate(X), float).reshape(len(X))
    result = analyze(problem, method, X, Y, metric=metric, seed=seed, num_levels=num_levels)
    result.settings["n"] = n
    return result


def rank_given_data(
    problem: Problem,
    X: np.ndarray,
    Y: np.ndarray,
    metric: str = "",
    n_boot: int = 200,
    seed: int = 0,
    conf_level: float = 0.95,
) -> SensitivityResult:
    """Rank parameters from paired draws ``X`` (runs x parameters) and outcomes ``Y`` (runs).

    Score: the squared Spearman rank correlation rho^2 of each parameter with the outcome,
    with a percentile bootstrap interval over runs (``n_boot`` resamples). A parameter that
    never varies (zero spread in ``X``) scores 0.
    """
    X = np.asarray(X, float)
    Y = np.asarray(Y, float)
    if X.ndim != 2 or X.shape != (len(Y), len(problem.parameters)):
        raise InputError(
            f"X must be (runs, {len(problem.parameters)}) and Y (runs,), got {X.shape} and "
            f"{Y.shape}",
            "X",
        )
    if len(Y) < 4:
        raise InputError(f"rank_given_data needs at least 4 runs, got {len(Y)}", "Y")
    rho = _spearman_columns(X, Y)
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, X.shape[1]))
    for b in range(n_boot):
        i = rng.integers(0, len(Y), len(Y))
        boot[b] = _spearman_columns(X[i], Y[i]) ** 2
    a = (1 - conf_level) / 2
    lo, hi = np.nanquantile(boot, [a, 1 - a], axis=0)
    rows = [
        {
            "parameter": name,
            "rho2": float(rho[j] ** 2),
            "rho": float(rho[j]),
            "rho2_low": float(lo[j]),
            "rho2_high": float(hi[j]),
        }
        for j, name in enumerate(problem.names)
    ]
    meta = {p.name: p for p in problem.parameters}
    settings = {"n_boot": n_boot, "conf_level": conf_level, "seed": seed}
    return SensitivityResult("given_data", metric, _ranked(rows, "rho2", meta), len(Y), settings)


def _spearman_columns(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Spearman correlation of every column of X with Y (0 where either is constant)."""
    rx = stats.rankdata(X, axis=0)
    ry = stats.rankdata(Y)
    rx = rx - rx.mean(axis=0)
    ry = ry - ry.mean()
    den = np.sqrt((rx**2).sum(axis=0) * (ry**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (rx * ry[:, None]).sum(axis=0) / den
    return np.where(den > 0, r, 0.0)


def describe_row(row: dict[str, Any]) -> str:
    """One line for a ranked parameter: name, its index and its source quality."""
    if "mu_star" in row:
        idx = f"mu*={row['mu_star']:.3g} (+/-{row['mu_star_conf']:.2g}), sigma={row['sigma']:.3g}"
    elif "ST" in row:
        idx = f"ST={row['ST']:.3g} (+/-{row['ST_conf']:.2g}), S1={row['S1']:.3g}"
    else:
        idx = f"rho^2={row['rho2']:.2f} [{row['rho2_low']:.2f}, {row['rho2_high']:.2f}]"
    lo = row["low"] if row.get("span_low") is None else row["span_low"]
    hi = row["high"] if row.get("span_high") is None else row["span_high"]
    span = f"{lo:.4g}..{hi:.4g} {row.get('unit', '')}".rstrip()
    return f"{row['parameter']} ({span}): {idx}; {row.get('quality') or 'source unknown'}"


def decisive_for_difference(
    jobs: dict[str, tuple[Problem, np.ndarray, np.ndarray]],
    k: int = 3,
    n_boot: int = 200,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The ``k`` parameters that decide the difference of a metric between independent jobs
    (e.g. two deployments, each run with parameter uncertainty).

    ``jobs[label] = (problem, X, Y)``: one job's parameter draws (runs x parameters) and its
    metric per run. With independent jobs, Var(Y_A - Y_B) = Var(Y_A) + Var(Y_B); a parameter
    of job D explains about ``rho^2 Var(Y_D)`` of it (its squared rank correlation with the
    job's outcome, :func:`rank_given_data`), so parameters of all jobs are ranked by their
    ``share`` = rho^2 Var(Y_D) / sum_D Var(Y_D). A parameter used by several jobs (e.g. the
    threat's RCS) appears once per job. Rows: ``job``, ``parameter``, ``share``, ``rho``
    (sign: a higher value raises (+) or lowers (-) the metric), ``rho2_low``, ``rho2_high``,
    ``quality``, ``source``, ``value``, ``unit``, span.
    """
    total = sum(float(np.var(np.asarray(Y, float))) for _, _, Y in jobs.values())
    rows = []
    for label, (problem, X, Y) in jobs.items():
        var = float(np.var(np.asarray(Y, float)))
        res = rank_given_data(problem, X, Y, n_boot=n_boot, seed=seed)
        for r in res.rows:
            share = r["rho2"] * var / total if total > 0 else 0.0
            rows.append({"job": label, "share": share, **r})
    rows.sort(key=lambda r: (-r["share"], r["job"], r["parameter"]))
    return rows[:k]
