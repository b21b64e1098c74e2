"""``iadsim sensitivity``: which uncertain catalog numbers decide a scenario's outcome.

The design points of :mod:`iadsim.sensitivity` (Morris or Sobol, SALib) live on the unit cube
of the parameters' *probabilities*: point ``u`` gives each parameter the value at quantile
``u_k`` of its uncertainty distribution (:func:`iadsim.uncertainty.values_from_unit`), so the
analysis explores exactly the ranges the uncertainty model allows, weighted like it.

Each point runs ``runs_per_point`` Monte Carlo replications of the scenario with those values
as catalog overrides, and the metric (any metric of the results store, e.g.
``leakers_per_run``) is their mean. Every point uses the same run seeds (run ``j`` draws from
``SeedSequence(seed, spawn_key=(j,))`` at every point): common random numbers, so that the
difference between two points is the parameters' effect and not a different roll of the dice
(the usual variance reduction for elementary effects; Morris's mu* would otherwise carry the
Monte Carlo noise of both points). Points are evaluated on the Monte Carlo backends: one
process, local worker processes, or a Dask cluster; the results do not depend on which.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import duckdb
import numpy as np

from iadsim.errors import InputError
from iadsim.montecarlo import check_job_args, dask_client, die_with_parent, run_chunk
from iadsim.results.store import fill_store, fire_units_frame
from iadsim.scenario import Scenario
from iadsim.sensitivity import Problem, ProblemParameter, SensitivityResult, analyze, sample
from iadsim.sim import engine
from iadsim.sim.cache import PrepareCache
from iadsim.uncertainty import Parameter, uncertain_parameters, values_from_unit, with_values

Progress = Callable[[int, int], None]


def problem_of(parameters: Sequence[Parameter]) -> Problem:
    """The SALib problem: one unit interval (quantile scale) per uncertain parameter, with its
    value span, unit and source quality for the outputs."""
    return Problem(
        tuple(
            ProblemParameter(
                p.name,
                0.0,
                1.0,
                p.value,
                p.unit,
                p.quality,
                p.source,
                span_low=p.low,
                span_high=p.high,
            )
            for p in parameters
        )  # fmt: skip
    )


def point_metric(
    scenario: Scenario,
    parameters: Sequence[Parameter],
    u: Sequence[float],
    metric: str,
    runs: int,
    seed: int,
) -> float:
    """Mean of ``metric`` over ``runs`` replications of ``scenario`` with the parameters at
    quantiles ``u`` (common run seeds ``0 .. runs-1`` of ``seed``)."""
    values = values_from_unit(parameters, np.asarray(u, float), scenario.catalog)
    prepared = engine.prepare(
        with_values(scenario, parameters, values), cache=_process_cache(scenario)
    )
    runs_df, events, per_threat, _ = run_chunk(prepared, engine.run_once, seed, list(range(runs)))
    con = duckdb.connect()
    try:
        dep = prepared.deployment
        units = fire_units_frame(None if dep is None else dep.fire_unit_ids)  # idle ones: 0
        table = fill_store(con, runs_df, events, per_threat, {"runs": runs}, {"fire_units": units})
    finally:
        con.close()
    row = table[table["metric"] == metric]
    if row.empty:
        known = ", ".join(m for m in table["metric"] if "[" not in m)
        raise InputError(f"metric {metric!r} is not a metric of the results; use one of {known}",
                         "metric")  # fmt: skip
    value = row["value"].iloc[0]
    return float("nan") if value is None else float(value)


#: this process's preparation caches (terrain grids, flights), one per base scenario
_CACHES: dict[tuple[str, str], PrepareCache] = {}


def _process_cache(scenario: Scenario) -> PrepareCache:
    key = (scenario.name, str(scenario.path))
    if key not in _CACHES:
        _CACHES[key] = PrepareCache(base=scenario)
    return _CACHES[key]


def _evaluate_points(
    scenario, parameters, X, metric, runs, seed, workers, backend, scheduler, progress
) -> np.ndarray:
    args = [(scenario, parameters, x, metric, runs, seed) for x in X]
    out = np.empty(len(X))
    done = 0
    if progress is not None:
        progress(0, len(X))

    def collect(i: int, value: float) -> None:
        nonlocal done
        out[i] = value
        done += 1
        if progress is not None:
            progress(done, len(X))

    if backend == "dask":
        with dask_client(workers, scheduler) as client:
            if not scheduler:  # our own cluster: its workers end with this process
                client.run(die_with_parent, os.getpid())
            futures = client.map(_point_star, args, pure=False)
            for i, fut in enumerate(futures):
                collect(i, fut.result())
    elif workers == 1:
        for i, a in enumerate(args):
            collect(i, point_metric(*a))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=die_with_parent,  # no worker outlives a killed job
            initargs=(os.getpid(),),
        ) as pool:
            for i, value in enumerate(pool.map(_point_star, args)):
                collect(i, value)
    return out


def _point_star(a: tuple) -> float:
    return point_metric(*a)


def run_sensitivity(
    scenario: Scenario,
    method: str = "morris",
    metric: str = "leakers_per_run",
    runs_per_point: int = 20,
    n: int = 10,
    seed: int = 0,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> SensitivityResult:
    """Global sensitivity of ``metric`` to every uncertain catalog number ``scenario`` uses.

    ``n``: Morris trajectories (``n (k + 1)`` points for ``k`` parameters) or the Sobol base
    sample (rounded up to a power of two; ``N (k + 2)`` points). Each point costs
    ``runs_per_point`` simulation runs.
    """
    check_job_args(runs_per_point, seed, workers, backend, scheduler)
    parameters = uncertain_parameters(scenario)
    if not parameters:
        raise InputError(
            "the scenario uses no uncertain catalog number (every value is fixed); nothing to "
            "rank", "scenario",
        )  # fmt: skip
    problem = problem_of(parameters)
    X = sample(problem, method, n, seed=seed)
    Y = _evaluate_points(
        scenario, parameters, X, metric, runs_per_point, seed, workers, backend, scheduler,
        progress,
    )  # fmt: skip
    if not np.all(np.isfinite(Y)):
        raise InputError(f"metric {metric!r} is undefined at some design points (e.g. a "
                         "per-class metric for a class that never flies)", "metric")  # fmt: skip
    result = analyze(problem, method, X, Y, metric=metric, seed=seed)
    result.settings.update(n=n, runs_per_point=runs_per_point, scenario=scenario.name,
                           design_scale="quantiles of each parameter's distribution",
                           common_random_numbers=True)  # fmt: skip
    return result


def result_payload(result: SensitivityResult) -> dict[str, Any]:
    """The content of ``sensitivity.json``."""
    return result.to_dict()
