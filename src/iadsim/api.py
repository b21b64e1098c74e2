"""The Monte Carlo Python API: ``iadsim.run(...)`` and ``iadsim.api.compare(...)``.

>>> import iadsim
>>> rs = iadsim.run("examples/raid_s400_standalone.yaml", runs=200, seed=1, workers=2)
>>> rs.summary["metrics"]["leakers_per_run"]          # {'value': ..., 'ci_low': ..., ...}
>>> rs.per_threat.groupby("target_class").killed.mean()
>>> rs.to_duckdb("out/results.duckdb")

The CLI command ``iadsim run`` is a thin layer over :func:`run`.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from iadsim._version import __version__
from iadsim.checks import RESOLVE_MARGIN_S, warn_before_run
from iadsim.errors import InputError, UnresolvedThreatsWarning
from iadsim.fileio import check_out_dir, job_out_dir
from iadsim.memory import check_memory
from iadsim.montecarlo import (
    DRAW_COLUMNS,
    ParameterJob,
    Progress,
    RunFn,
    check_job_args,
    chunk_size_for,
    run_parameter_draw,
    run_replications,
    stream_replications,
)
from iadsim.results.jobstore import JobStore, first_record
from iadsim.results.metrics import CONFIDENCE
from iadsim.results.store import (
    STORE_NAME,
    SUMMARY_JSON,
    catalog_values_frame,
    fill_store,
    fire_units_frame,
    overrides_frame,
    parameters_frame,
    site_defaults_frame,
    summary_dict,
    write_store,
    write_summary_json,
)
from iadsim.scenario import Scenario, load_scenario, scenario_from_dict
from iadsim.sensitivity import Problem, ProblemParameter, decisive_for_difference
from iadsim.sim import engine
from iadsim.uncertainty import Parameter, uncertain_parameters, used_quantities

# Headline metrics shown side by side by compare(); per-class ones are added as found.
KEY_METRICS = (
    "leakers_per_run",
    "unresolved_per_run",
    "p_raid_defeated",
    "interceptors_spent_per_run",
    "undetected_per_run",
    "mean_warning_time_s",
)


@dataclass
class RunSet:
    """The result of a Monte Carlo job, dataframe-friendly.

    ``runs`` (one row per run), ``events`` (every event of every run), ``per_threat`` (one row
    per run and threat), ``summary_table`` (metric, value, ci_low, ci_high, n) and
    ``summary`` (the same as the dict written to ``summary.json``). ``meta`` holds the job's
    settings, among them ``catalog_overrides``: the scenario's overrides in force
    (:meth:`iadsim.catalog.CatalogOverride.as_dict` records; :attr:`catalog_overrides`), and
    ``fire_units``: the ids of the sites with interceptors (the store's ``fire_units`` table;
    a fire unit that never fires gets ``interceptors_per_run[SITE]`` = 0 from it).
    ``site_defaults`` lists every value the engine applied to a site that the scenario did not
    state (dicts with site, field, value, origin, from
    :meth:`iadsim.deployment.Deployment.provenance_records`); ``summary`` and the store carry
    it too. With parameter uncertainty, ``parameter_draws`` holds the catalog numbers each run
    drew (run_id, item, field, value; :meth:`parameter_values` pivots it to one row per run)
    and :attr:`uncertain_parameters` their distributions.
    """

    meta: dict[str, Any]
    runs: pd.DataFrame
    events: pd.DataFrame
    per_threat: pd.DataFrame
    summary_table: pd.DataFrame | None = field(default=None, repr=False)  # set in __post_init__
    site_defaults: list[dict[str, Any]] = field(default_factory=list, repr=False)
    parameter_draws: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=DRAW_COLUMNS), repr=False
    )

    def __post_init__(self) -> None:
        if self.summary_table is None:
            con = duckdb.connect()  # in memory: the same SQL as the file store
            try:
                self.summary_table = fill_store(
                    con, self.runs, self.events, self.per_threat, self.meta, self._tables()
                )
            finally:
                con.close()

    @property
    def catalog_overrides(self) -> list[dict[str, Any]]:
        """The scenario's catalog overrides in force during the job (one dict each: item,
        field, value, unit, catalog_value, alternatives, source, confidence, exact)."""
        return list(self.meta.get("catalog_overrides", []))

    @property
    def uncertain_parameters(self) -> list[dict[str, Any]]:
        """The catalog numbers drawn per run with parameter uncertainty (empty without): one
        dict each (name, item, field, unit, value, low, high, distribution, quality,
        source)."""
        return list(self.meta.get("uncertain_parameters", []))

    def parameter_values(self) -> pd.DataFrame:
        """The draws as one row per run (index ``run_id``) and one column per parameter
        (``item:field``), in parameter order."""
        d = self.parameter_draws
        names = [p["name"] for p in self.uncertain_parameters]
        if not len(d):
            return pd.DataFrame(columns=names, index=pd.Index([], name="run_id"), dtype=float)
        wide = d.assign(name=d["item"] + ":" + d["field"]).pivot(
            index="run_id", columns="name", values="value"
        )
        wide.columns.name = None
        return wide[names]

    def _tables(self) -> dict[str, pd.DataFrame]:
        """The store's tables beyond runs, events and per_threat."""
        return {
            "catalog_overrides": overrides_frame(self.catalog_overrides),
            "site_defaults": site_defaults_frame(self.site_defaults),
            "uncertain_parameters": parameters_frame(self.uncertain_parameters),
            "parameter_draws": self.parameter_draws,
            "fire_units": fire_units_frame(self.meta.get("fire_units")),
            "catalog_values": catalog_values_frame(self.meta.get("catalog_values")),
        }

    @property
    def summary(self) -> dict[str, Any]:
        return {
            **summary_dict(self.summary_table, self.meta),
            "site_defaults": [dict(r) for r in self.site_defaults],
        }

    def metric(self, name: str) -> dict[str, Any]:
        """One metric's ``{value, ci_low, ci_high, n}``; KeyError names the available ones."""
        metrics = self.summary["metrics"]
        if name not in metrics:
            raise KeyError(f"{name!r}; available: {sorted(metrics)}")
        return metrics[name]

    def to_duckdb(self, path: str | Path) -> Path:
        """Write the results store (atomically) to ``path``; returns the path."""
        write_store(path, self.runs, self.events, self.per_threat, self.meta, self._tables())
        return Path(path)

    def save(self, out_dir: str | Path) -> tuple[Path, Path]:
        """Write ``out_dir/results.duckdb`` and ``out_dir/summary.json`` (both atomically)."""
        out = _check_out_dir(out_dir)
        store = self.to_duckdb(out / STORE_NAME)
        write_summary_json(out / SUMMARY_JSON, self.summary)
        return store, out / SUMMARY_JSON

    def __repr__(self) -> str:
        m = self.summary["metrics"].get("leakers_per_run", {})
        return (
            f"RunSet(scenario={self.meta.get('scenario')!r}, runs={len(self.runs)}, "
            f"events={len(self.events)}, leakers_per_run={m.get('value')})"
        )


def _check_out_dir(out_dir: str | Path) -> Path:
    """``out_dir`` checked as an output directory and created (:func:`check_out_dir`)."""
    return check_out_dir(out_dir, "out_dir")


def _scenario(scenario_or_path: Any):
    if isinstance(scenario_or_path, Scenario):
        return scenario_or_path
    if isinstance(scenario_or_path, dict):
        return scenario_from_dict(scenario_or_path)
    if isinstance(scenario_or_path, (str, Path)):
        path = Path(scenario_or_path)
        if not path.is_file():
            raise InputError(f"{path}: scenario file not found")
        return load_scenario(path)
    raise InputError(
        f"run() takes a scenario path, dict or Scenario, not {type(scenario_or_path).__name__}"
    )


def scenario_text(scenario_or_path: Any, scenario: Scenario) -> tuple[str, str | None]:
    """The text a job's scenario came from, and its file: the YAML file as written, a dict
    as sorted JSON, a :class:`Scenario` built without a file as its JSON dump."""
    path = scenario.path
    if path is not None and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8"), str(path)
    if isinstance(scenario_or_path, dict):
        return json.dumps(scenario_or_path, sort_keys=True, default=str), None
    return scenario.model_dump_json(), None


def catalog_values(scenario: Scenario, deployment: Any = None) -> list[dict[str, Any]]:
    """Every catalog number the job's engine reads for ``scenario``, overrides applied
    (:func:`iadsim.uncertainty.used_quantities`): item, kind, field, value, unit,
    confidence, source."""
    return [
        {
            "item": u.item,
            "kind": u.kind,
            "field": u.field,
            "value": u.quantity.value,
            "unit": u.quantity.unit,
            "confidence": u.quantity.confidence,
            "source": u.quantity.source,
        }
        for u in used_quantities(scenario, deployment)
    ]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: bytes a job's results hold per run and per threat of a run in memory (the ``runs`` row;
#: the ``per_threat`` row and the few events every threat has at least: launch, impact or
#: kill), for the check before the runs; the check after the first chunk measures instead
BYTES_PER_RUN = 512
BYTES_PER_THREAT_RUN = 1024


def run(
    scenario_or_path: Any,
    runs: int = 100,
    seed: int = 0,
    workers: int = 1,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    parameter_uncertainty: bool = False,
    resume: bool = False,
    command: str | None = None,
) -> RunSet:
    """Run ``runs`` Monte Carlo replications of a scenario and compute the metrics.

    ``scenario_or_path``: a YAML path, a dict or a loaded :class:`~iadsim.scenario.Scenario`.
    ``seed`` fixes every number: the same seed gives the same results for any ``workers``
    and ``backend`` (``"local"`` processes or ``"dask"``; ``scheduler`` is a Dask address,
    otherwise a local Dask cluster is started). ``progress(done, total)`` is called as runs
    complete (first ``progress(done_before, runs)`` once the scenario is prepared). The
    arguments and ``out_dir`` are checked before the scenario is loaded, so a bad one fails
    at once rather than after the runs.

    With ``out_dir``: the job locks the directory (:func:`iadsim.fileio.job_out_dir`: a
    second job into it is refused), commits its runs in chunks as they finish to
    ``results.partial.duckdb`` (:class:`iadsim.results.jobstore.JobStore`), then writes
    ``results.duckdb`` and ``summary.json`` atomically. ``resume=True`` continues an
    interrupted job there (same scenario text, seed, runs and options, else refused): only
    the missing runs are run, and the results are the same as the uninterrupted job's.
    ``command`` is the command recorded as the job's provenance (default: this call; ``iadsim
    run`` gives its command line less the options that change no number: ``--out``,
    ``--workers``, ``--backend``, ``--scheduler``, ``--resume``, ``--map``).

    ``parameter_uncertainty``: every run also draws every uncertain catalog number the
    scenario uses (:func:`iadsim.uncertainty.uncertain_parameters`, docs/catalog.md
    "Uncertainty model") from a seed stream of its own and runs on those numbers
    (:class:`iadsim.montecarlo.ParameterJob`); the metrics' intervals then include the
    parameter uncertainty, and :attr:`RunSet.parameter_draws` holds the draws.

    Sizes are checked before anything grows with them (:func:`iadsim.memory.check_memory`):
    the raid's threats x time steps when preparing, the results of ``runs`` runs before the
    runs and again, measured, after the first chunk.
    """
    check_job_args(runs, seed, workers, backend, scheduler)
    if resume and out_dir is None:
        raise InputError("resume continues a job in out_dir: give out_dir", ("resume", "out_dir"))
    if command is None:
        command = (
            f"iadsim.run({str(scenario_or_path)!r}, runs={runs}, seed={seed}, "
            f"parameter_uncertainty={parameter_uncertainty})"
            if isinstance(scenario_or_path, (str, Path))
            else f"iadsim.run(<{type(scenario_or_path).__name__}>, runs={runs}, seed={seed}, "
            f"parameter_uncertainty={parameter_uncertainty})"
        )
    if out_dir is None:
        return _run(scenario_or_path, runs, seed, workers, None, progress, backend, scheduler,
                    parameter_uncertainty, False, command)  # fmt: skip
    with job_out_dir(out_dir, "out_dir") as out:
        return _run(scenario_or_path, runs, seed, workers, out, progress, backend, scheduler,
                    parameter_uncertainty, resume, command)  # fmt: skip


def _run(
    scenario_or_path: Any,
    runs: int,
    seed: int,
    workers: int,
    out: Path | None,
    progress: Progress | None,
    backend: str,
    scheduler: str | None,
    parameter_uncertainty: bool,
    resume: bool,
    command: str,
) -> RunSet:
    scenario = _scenario(scenario_or_path)
    warn_before_run(scenario)  # no raids, a DEM not covering them
    text, scenario_file = scenario_text(scenario_or_path, scenario)
    values = catalog_values(scenario)
    n_threats = sum(r.count for r in scenario.raids)
    check_memory(
        runs * (BYTES_PER_RUN + n_threats * BYTES_PER_THREAT_RUN),
        f"the results of {runs:,} Monte Carlo replications of {n_threats:,} threats",
        "use fewer runs",
        "runs",
    )
    meta: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": seed,
        "runs": runs,
        "confidence": CONFIDENCE,
        "iadsim_version": __version__,
        "parameter_uncertainty": bool(parameter_uncertainty),
        "scenario_file": scenario_file,
        "scenario_sha256": _sha256(text),
        "catalog_sha256": _sha256(json.dumps(values, sort_keys=True)),
        "command": command,
        "scenario_text": text,
    }
    store: JobStore | None = None
    if out is not None:
        store = JobStore.open(out, meta, resume)
        meta.update(first_record(store.stored_meta))  # as the job first recorded them
    try:
        return _run_job(
            scenario, meta, values, runs, seed, workers, out, store, progress, backend,
            scheduler, parameter_uncertainty,
        )  # fmt: skip
    finally:
        if store is not None:
            store.close()


def _run_job(
    scenario: Scenario,
    meta: dict[str, Any],
    values: list[dict[str, Any]],
    runs: int,
    seed: int,
    workers: int,
    out: Path | None,
    store: JobStore | None,
    progress: Progress | None,
    backend: str,
    scheduler: str | None,
    parameter_uncertainty: bool,
) -> RunSet:
    params: list[Parameter] = []
    work: Any
    run_fn: RunFn
    if parameter_uncertainty:
        params = uncertain_parameters(scenario)
        job = ParameterJob(scenario, params, seed)
        # the nominal preparation checks the scenario and warns here, once; in this process
        # it also fills the cache the runs of a single local worker use
        dep = engine.prepare(scenario, cache=job.cache).deployment
        work, run_fn = job, run_parameter_draw
    else:
        prepared = engine.prepare(scenario)
        dep = prepared.deployment  # None only for a PreparedScenario built without one
        work, run_fn = prepared, engine.run_once
    meta = {
        **meta,
        "catalog_overrides": [o.as_dict() for o in scenario.catalog.overrides],
        "uncertain_parameters": [parameter_record(p) for p in params],
        "fire_units": [] if dep is None else dep.fire_unit_ids,
        "catalog_values": values,
    }
    if store is None:
        reps = run_replications(
            work, runs=runs, seed=seed, workers=workers, backend=backend,
            scheduler=scheduler, progress=progress, run_fn=run_fn,
        )  # fmt: skip
        frames = [reps.runs, reps.events, reps.per_threat, reps.parameter_draws]
    else:
        frames = _run_into_store(
            store, work, run_fn, runs, seed, workers, backend, scheduler, progress
        )
    defaults = [] if dep is None else dep.provenance_records(defaults_only=True)
    draws = frames[3] if len(frames[3]) else pd.DataFrame(columns=DRAW_COLUMNS)
    rs = RunSet(
        meta, frames[0], frames[1], frames[2], site_defaults=defaults, parameter_draws=draws
    )
    if out is not None and store is not None:
        rs.save(out)
        store.finish()
    message = unresolved_message(rs.events, runs)
    if message:
        warnings.warn(UnresolvedThreatsWarning(message), stacklevel=3)
    return rs


def _run_into_store(
    store: JobStore,
    work: Any,
    run_fn: RunFn,
    runs: int,
    seed: int,
    workers: int,
    backend: str,
    scheduler: str | None,
    progress: Progress | None,
) -> list[pd.DataFrame]:
    """Run the runs missing from ``store``, committing each chunk as it finishes; return the
    frames of every run in run-id order."""
    done = store.done_ids()
    if progress is not None:
        progress(len(done), runs)
    measured = False

    def commit(chunk: Any) -> None:
        nonlocal measured
        committed = store.commit(chunk)
        if not measured:  # the first chunk tells how much a run's results really take
            measured = True
            per_run = sum(int(f.memory_usage(deep=True).sum()) for f in chunk) / len(chunk[0])
            check_memory(
                2 * per_run * runs,  # the frames and their copy in the final store's insert
                f"the results of {runs:,} Monte Carlo replications ({per_run / 1024:,.0f} KB "
                "each, measured on the first chunk)",
                "use fewer runs (remove results.partial.duckdb first: a resumed job keeps its "
                "number of runs)",
                "runs",
            )
        if progress is not None:
            progress(committed, runs)

    pending = (i for i in range(runs) if i not in done)
    if len(done) < runs:
        stream_replications(
            work, pending, commit, seed, workers, backend, scheduler,
            chunk_size_for(runs, workers), run_fn,
        )  # fmt: skip
    return store.frames()


def parameter_record(p: Parameter) -> dict[str, Any]:
    """An uncertain parameter as a JSON-ready dict (as ``summary.json`` lists it)."""
    return {
        "name": p.name,
        "item": p.item,
        "field": p.field,
        "unit": p.unit,
        "value": p.value,
        "low": p.low,
        "high": p.high,
        "distribution": p.distribution,
        "quality": p.quality,
        "source": p.source,
    }


def unresolved_message(events: pd.DataFrame, runs: int) -> str | None:
    """One sentence on the threats left unresolved (``unresolved`` events) in a job, with the
    ``time.duration_s`` that would let all of them arrive: their latest impact / arrival time
    (the event's ``value``) plus :data:`RESOLVE_MARGIN_S`, rounded up to a whole minute; None
    when every threat was resolved."""
    if not len(events):
        return None
    u = events[events["kind"] == "unresolved"]
    if not len(u):
        return None
    names = sorted(set(u["threat"].astype(str)))
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    n_runs, end_s = u["run_id"].nunique(), float(u["time_s"].max())
    per_run = len(u) / runs
    need = math.ceil((float(u["value"].max()) + RESOLVE_MARGIN_S) / 60.0) * 60.0
    return (
        f"{len(names)} threat(s) ({shown}) were still flying or not yet launched when the "
        f"simulated time ended at {end_s:g} s, in {n_runs} of {runs} runs "
        f"({per_run:.3g} per run): they count as unresolved (unresolved_per_run), not as "
        f"defeated; time.duration_s: {need:g} would let every one of them arrive"
    )


def _metrics_of(x: Any) -> dict[str, Any]:
    if isinstance(x, RunSet):
        return x.summary["metrics"]
    if isinstance(x, dict):
        return x.get("metrics", x)
    if isinstance(x, (str, Path)):
        import json

        p = Path(x)
        p = p / SUMMARY_JSON if p.is_dir() else p
        if not p.is_file():
            raise InputError(
                f"{p}: no summary.json; iadsim.run(..., out_dir=DIR) or 'iadsim run' writes one"
            )
        return json.loads(p.read_text(encoding="utf-8"))["metrics"]
    raise InputError(f"compare() takes RunSets, summary dicts or result dirs, not {type(x)}")


def compare(results_a: Any, results_b: Any, labels: tuple[str, str] = ("A", "B")) -> pd.DataFrame:
    """The key metrics of two jobs side by side.

    Accepts :class:`RunSet` objects, summary dicts or result directories. Returns a DataFrame
    indexed by metric with columns ``LABEL``, ``LABEL ci_low``, ``LABEL ci_high`` per job;
    a metric one job lacks (e.g. a threat class it never faced) is NaN there.
    """
    ma, mb = _metrics_of(results_a), _metrics_of(results_b)
    per_class = sorted({k for k in (*ma, *mb) if k.startswith(("p_kill[", "p_detected["))})
    names = [k for k in KEY_METRICS if k in ma or k in mb] + per_class
    rows = []
    for name in names:
        row: dict[str, Any] = {"metric": name}
        for label, m in zip(labels, (ma, mb), strict=True):
            e = m.get(name, {})
            row[label] = e.get("value")
            row[f"{label} ci_low"] = e.get("ci_low")
            row[f"{label} ci_high"] = e.get("ci_high")
        rows.append(row)
    return pd.DataFrame(rows).set_index("metric").astype(float)


#: per-run outcomes (columns of a job's ``runs`` table) :func:`decisive_parameters` explains
RUN_OUTCOMES: tuple[str, ...] = ("leakers", "unresolved", "kills", "interceptors_spent")


def decisive_parameters(
    results: Mapping[str, RunSet],
    outcome: str = "leakers",
    k: int = 3,
    n_boot: int = 200,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The ``k`` uncertain catalog numbers that decide the difference of a per-run ``outcome``
    between jobs run with ``parameter_uncertainty=True`` (e.g. two deployments facing the same
    raid), from the runs already made: no extra simulation.

    Each job pairs one parameter draw with one outcome per run; a parameter of job D explains
    about ``rho^2 Var(Y_D)`` of the variance of the difference (rho: its Spearman rank
    correlation with the outcome), so the rows are ranked by ``share`` = rho^2 Var(Y_D) /
    sum_D Var(Y_D) (:func:`iadsim.sensitivity.decisive_for_difference`), with ``share_low``,
    ``share_high`` from the bootstrap interval of rho^2 (``n_boot`` resamples of the runs).
    Monte Carlo noise dilutes every share, so this is a screening answer; ``iadsim
    sensitivity`` designs the experiment. Rows also carry ``job``, ``parameter``, ``rho``
    (sign: a higher value raises (+) or lowers (-) the outcome), ``value``, ``low``, ``high``,
    ``unit``, ``quality`` (e.g. ``unsourced estimate``) and ``source``.
    """
    if outcome not in RUN_OUTCOMES:
        raise InputError(
            f"outcome must be one of {', '.join(RUN_OUTCOMES)}, got {outcome!r}", "outcome"
        )
    if k < 1:
        raise InputError(f"k must be >= 1, got {k}", "k")
    jobs: dict[str, tuple[Problem, Any, Any]] = {}
    for label, rs in results.items():
        records = rs.uncertain_parameters
        if not records:
            raise InputError(
                f"job {label!r} was run without parameter uncertainty: run it with "
                "parameter_uncertainty=True (iadsim run --parameter-uncertainty)",
                "results",
            )
        X = rs.parameter_values()
        Y = rs.runs.set_index("run_id")[outcome].reindex(X.index)
        problem = Problem(
            tuple(
                ProblemParameter(
                    r["name"], r["low"], r["high"], r["value"], r["unit"], r["quality"], r["source"]
                )  # fmt: skip
                for r in records
            )
        )
        jobs[label] = (problem, X.to_numpy(float), Y.to_numpy(float))
    rows = decisive_for_difference(jobs, k=k, n_boot=n_boot, seed=seed)
    for r in rows:  # the share's interval, from rho^2's (the variances taken as known)
        scale = r["share"] / r["rho2"] if r["rho2"] > 0 else 0.0
        r["share_low"], r["share_high"] = r["rho2_low"] * scale, r["rho2_high"] * scale
    return rows
