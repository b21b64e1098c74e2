"""The results store: one DuckDB file per Monte Carlo job, written atomically.

``DIR/results.duckdb`` holds the tables

* ``meta``       (key, value): scenario name, seed, number of runs, options, iadsim version,
  and the job's provenance: the scenario's file and text (``scenario_file``,
  ``scenario_text``) and their sha256, the sha256 of the catalog numbers used, the command;
* ``runs``       (run_id, seed_entropy, spawn_key, n_events, n_threats, leakers, unresolved,
  kills, interceptors_spent);
* ``events``     (run_id + :data:`EVENT_COLUMNS`): every detection, track, launch, intercept,
  miss, leak, impact, refusal and unresolved threat of a run;
* ``per_threat`` (run_id, threat, target_class, launched_s, first_detection_s, ...);
* ``summary``    (metric, value, ci_low, ci_high, n): the metrics of
  :mod:`iadsim.results.metrics`;
* ``catalog_overrides`` (item, field, value, unit, catalog_value, alternatives, source,
  confidence, exact): the scenario's ``catalog_overrides`` in force during the job
  (:meth:`iadsim.catalog.CatalogOverride.as_dict`; alternatives as comma-separated text).
* ``uncertain_parameters`` (name, item, field, unit, value, low, high, distribution, quality,
  source): with parameter uncertainty, the catalog numbers drawn per run and their
  distributions (:mod:`iadsim.uncertainty`); empty without;
* ``parameter_draws`` (run_id, item, field, value): the value of each of them in each run;
* ``catalog_values`` (item, kind, field, value, unit, confidence, source): every catalog
  number the engine read for the scenario, overrides applied (the job's provenance, with the
  ``meta`` keys ``scenario_text``, ``scenario_sha256``, ``catalog_sha256``, ``command``,
  ``iadsim_version``);
* ``site_defaults`` (site, field, value, origin): every value the engine applied to a site
  that the scenario did not state (or that a catalog figure capped), from
  :meth:`iadsim.deployment.Deployment.defaults` (booleans as 1/0);
* ``fire_units`` (site): every site of the scenario with interceptors, in scenario order, so
  that a fire unit that never fired still has its ``interceptors_per_run[SITE]`` metric (0).

A job writes its runs in chunks to a partial store first (:mod:`iadsim.results.jobstore`),
then the final store here. Atomicity: the file is built under a temporary name in the same
directory and moved into place with :func:`os.replace` (atomic on POSIX and Windows within
one file system), so a reader never sees a partial store and an interrupted job leaves any earlier
``results.duckdb`` untouched (:func:`iadsim.fileio.atomic_path`). ``summary.json`` is written
the same way.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from iadsim.errors import InputError
from iadsim.fileio import atomic_path, atomic_write_text, lock_holder
from iadsim.results.metrics import compute_summary

STORE_NAME = "results.duckdb"
#: the store of a job in progress (:mod:`iadsim.results.jobstore`)
PARTIAL_NAME = "results.partial.duckdb"
SUMMARY_JSON = "summary.json"

EVENT_SCHEMA: dict[str, str] = {
    "run_id": "INTEGER",
    "time_s": "DOUBLE",
    "kind": "VARCHAR",
    "site": "VARCHAR",
    "threat": "VARCHAR",
    "track": "BIGINT",  # NULL when the event concerns no track (the engine's -1)
    "lat": "DOUBLE",
    "lon": "DOUBLE",
    "alt_m": "DOUBLE",
    "reason": "VARCHAR",
    "interceptor": "VARCHAR",
    "value": "DOUBLE",
}
PER_THREAT_SCHEMA: dict[str, str] = {
    "run_id": "INTEGER",
    "threat": "VARCHAR",
    "target_class": "VARCHAR",
    "launched_s": "DOUBLE",
    "first_detection_s": "DOUBLE",
    "first_track_s": "DOUBLE",
    "killed": "BOOLEAN",
    "kill_time_s": "DOUBLE",
    "leaked": "BOOLEAN",
    "unresolved": "BOOLEAN",
    "impact_asset": "VARCHAR",
    "interceptors_spent": "INTEGER",
    "warning_time_s": "DOUBLE",
}
RUNS_SCHEMA: dict[str, str] = {
    "run_id": "INTEGER",
    "seed_entropy": "VARCHAR",  # SeedSequence entropy can exceed 64 bits
    "spawn_key": "VARCHAR",
    "n_events": "INTEGER",
    "n_threats": "INTEGER",
    "leakers": "INTEGER",
    "unresolved": "INTEGER",
    "kills": "INTEGER",
    "interceptors_spent": "INTEGER",
}
SUMMARY_SCHEMA: dict[str, str] = {
    "metric": "VARCHAR",
    "value": "DOUBLE",
    "ci_low": "DOUBLE",
    "ci_high": "DOUBLE",
    "n": "INTEGER",
}
CATALOG_OVERRIDES_SCHEMA: dict[str, str] = {
    "item": "VARCHAR",
    "field": "VARCHAR",
    "value": "DOUBLE",
    "unit": "VARCHAR",
    "catalog_value": "DOUBLE",
    "alternatives": "VARCHAR",
    "source": "VARCHAR",
    "confidence": "VARCHAR",
    "exact": "BOOLEAN",
}
SITE_DEFAULTS_SCHEMA: dict[str, str] = {
    "site": "VARCHAR",
    "field": "VARCHAR",
    "value": "DOUBLE",
    "origin": "VARCHAR",
}
UNCERTAIN_PARAMETERS_SCHEMA: dict[str, str] = {
    "name": "VARCHAR",
    "item": "VARCHAR",
    "field": "VARCHAR",
    "unit": "VARCHAR",
    "value": "DOUBLE",
    "low": "DOUBLE",
    "high": "DOUBLE",
    "distribution": "VARCHAR",
    "quality": "VARCHAR",
    "source": "VARCHAR",
}
PARAMETER_DRAWS_SCHEMA: dict[str, str] = {
    "run_id": "INTEGER",
    "item": "VARCHAR",
    "field": "VARCHAR",
    "value": "DOUBLE",
}
FIRE_UNITS_SCHEMA: dict[str, str] = {"site": "VARCHAR"}
CATALOG_VALUES_SCHEMA: dict[str, str] = {
    "item": "VARCHAR",
    "kind": "VARCHAR",
    "field": "VARCHAR",
    "value": "DOUBLE",
    "unit": "VARCHAR",
    "confidence": "VARCHAR",
    "source": "VARCHAR",
}
TABLES = {
    "runs": RUNS_SCHEMA,
    "events": EVENT_SCHEMA,
    "per_threat": PER_THREAT_SCHEMA,
    "summary": SUMMARY_SCHEMA,
    "catalog_overrides": CATALOG_OVERRIDES_SCHEMA,
    "site_defaults": SITE_DEFAULTS_SCHEMA,
    "uncertain_parameters": UNCERTAIN_PARAMETERS_SCHEMA,
    "parameter_draws": PARAMETER_DRAWS_SCHEMA,
    "fire_units": FIRE_UNITS_SCHEMA,
    "catalog_values": CATALOG_VALUES_SCHEMA,
}


# Column conversions on insert beyond a plain CAST.
_EXPR = {("events", "track"): 'NULLIF(CAST("{c}" AS {t}), -1)'}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    for name, schema in TABLES.items():
        cols = ", ".join(f"{c} {t}" for c, t in schema.items())
        con.execute(f"CREATE TABLE {name} ({cols})")


def insert_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    df: pd.DataFrame,
    schema: dict[str, str] | None = None,
) -> None:
    """Bulk-insert a DataFrame (registered as a view, one INSERT ... SELECT; NaN -> NULL).

    Columns missing from ``df`` become NULL; extra columns are ignored. ``schema``: the
    table's columns (default :data:`TABLES` ``[table]``; a sweep's store adds ``variant``).
    """
    if df is None or len(df) == 0:
        return
    schema = schema or TABLES[table]
    cols = ", ".join(
        _EXPR.get((table, c), 'CAST("{c}" AS {t})').format(c=c, t=t)
        if c in df.columns
        else f"CAST(NULL AS {t})"
        for c, t in schema.items()
    )
    con.register("_iadsim_src", df)
    try:
        con.execute(f"INSERT INTO {table} SELECT {cols} FROM _iadsim_src")
    finally:
        con.unregister("_iadsim_src")


def overrides_frame(records: list[dict[str, Any]] | None) -> pd.DataFrame:
    """The ``catalog_overrides`` rows from :meth:`iadsim.catalog.CatalogOverride.as_dict`
    records (alternatives joined as text)."""
    rows = [
        {**r, "alternatives": ", ".join(f"{a:g}" for a in r.get("alternatives", []))}
        for r in records or []
    ]
    return pd.DataFrame(rows, columns=list(CATALOG_OVERRIDES_SCHEMA))


def site_defaults_frame(records: list[dict[str, Any]] | None) -> pd.DataFrame:
    """The ``site_defaults`` rows (dicts with site, field, value, origin, as
    :meth:`iadsim.deployment.Deployment.provenance_records` gives them) as a frame, values
    as floats (booleans 1/0)."""
    rows = [{**r, "value": float(r["value"])} for r in records or []]
    return pd.DataFrame(rows, columns=list(SITE_DEFAULTS_SCHEMA))


def fire_units_frame(sites: list[str] | None) -> pd.DataFrame:
    """The ``fire_units`` rows: the ids of the scenario's sites with interceptors."""
    return pd.DataFrame({"site": pd.Series(list(sites or []), dtype=object)})


def catalog_values_frame(records: list[dict[str, Any]] | None) -> pd.DataFrame:
    """The ``catalog_values`` rows (dicts as ``summary.json`` lists them)."""
    return pd.DataFrame(list(records or []), columns=list(CATALOG_VALUES_SCHEMA))


def parameters_frame(records: list[dict[str, Any]] | None) -> pd.DataFrame:
    """The ``uncertain_parameters`` rows (dicts as ``summary.json`` lists them)."""
    return pd.DataFrame(list(records or []), columns=list(UNCERTAIN_PARAMETERS_SCHEMA))


def fill_store(
    con: duckdb.DuckDBPyConnection,
    runs: pd.DataFrame,
    events: pd.DataFrame,
    per_threat: pd.DataFrame,
    meta: dict[str, Any],
    tables: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Create the tables, insert the frames, compute and insert the summary; return it.
    ``tables`` holds the rows of the job's other tables by name (e.g. ``catalog_overrides``);
    ``meta`` values that are lists or dicts are left to those tables."""
    con.execute("SET threads = 1")  # float aggregates in one fixed order: reproducible
    create_tables(con)
    rows = [(k, str(v)) for k, v in meta.items() if not isinstance(v, (list, dict))]
    if rows:
        con.executemany("INSERT INTO meta VALUES (?, ?)", rows)
    insert_frame(con, "runs", runs)
    insert_frame(con, "events", events)
    insert_frame(con, "per_threat", per_threat)
    for name, frame in (tables or {}).items():
        insert_frame(con, name, frame)
    summary = compute_summary(con)
    insert_frame(con, "summary", summary)
    return summary


def write_store(
    path: str | Path,
    runs: pd.DataFrame,
    events: pd.DataFrame,
    per_threat: pd.DataFrame,
    meta: dict[str, Any],
    tables: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Write a complete results store to ``path`` atomically; return the summary table.
    ``tables``: rows of the other tables by name (see :func:`fill_store`)."""
    with atomic_path(path) as tmp:
        tmp.unlink()  # DuckDB wants to create the file itself
        con = duckdb.connect(str(tmp))
        try:
            summary = fill_store(con, runs, events, per_threat, meta, tables)
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return summary


def _clean(x: Any) -> Any:
    """JSON-safe scalar: NaN/None -> null, floats to 12 significant digits (stable text)."""
    if x is None:
        return None
    if isinstance(x, (bool, int, str)):
        return x
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return None
    if f.is_integer() and abs(f) < 2**53 and not isinstance(x, float):
        return int(f)
    return float(f"{f:.12g}")


def _clean_tree(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean_tree(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean_tree(v) for v in x]
    return _clean(x)


def summary_dict(summary: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    """The summary as a plain dict: job metadata plus ``metrics[name] = {value, ci_low, ...}``."""
    metrics = {
        str(r.metric): {
            "value": _clean(r.value),
            "ci_low": _clean(r.ci_low),
            "ci_high": _clean(r.ci_high),
            "n": int(r.n),
        }
        for r in summary.itertuples(index=False)
    }
    return {**{k: _clean_tree(v) for k, v in meta.items()}, "metrics": metrics}


def write_summary_json(path: str | Path, summary: dict[str, Any]) -> None:
    """Write ``summary.json`` atomically, with stable formatting (byte-identical reruns)."""
    text = json.dumps(_clean_tree(summary), indent=2, allow_nan=False) + "\n"
    atomic_write_text(path, text)


def open_store(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open a results store read-only; ``path`` is the file or the directory holding it."""
    p = Path(path)
    if p.is_dir():
        pid = lock_holder(p)
        if pid is not None and not (p / STORE_NAME).is_file():
            raise InputError(
                f"{p}: a job (pid {pid}) is still running there; its progress is in "
                f"{p / 'progress.json'}"
            )
        if (p / PARTIAL_NAME).is_file() and pid is None:
            raise InputError(
                f"{p}: holds an interrupted job ({PARTIAL_NAME}); 'iadsim run SCENARIO "
                "--resume' with the same settings completes it"
            )
        p = p / STORE_NAME
    if not p.is_file():
        raise InputError(
            f"{p}: no results store here; iadsim.run(..., out_dir=DIR) or 'iadsim run' writes one"
        )
    try:
        return duckdb.connect(str(p), read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"{p}: not a readable DuckDB results store ({exc})") from None
