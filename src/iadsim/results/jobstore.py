"""The store of a Monte Carlo job in progress: runs committed in chunks as they finish, so
that a job killed at any instant loses at most the chunks in flight and resumes where it
stopped.

``DIR/results.partial.duckdb`` (:data:`PARTIAL_NAME`) holds the ``meta`` of the job (as the
final store has it: scenario hash, seed, runs, options, iadsim version, catalog hash, the
command) and the tables ``runs``, ``events``, ``per_threat`` and ``parameter_draws`` of the
final store (:data:`iadsim.results.store.TABLES`) plus a column ``_seq``, each row's place in
its chunk. Every chunk goes in one transaction (:meth:`JobStore.commit`): DuckDB's write-ahead
log makes a committed chunk durable and an uncommitted one invisible, so the file is a valid
store holding whole runs at every instant, ``kill -9`` included. After each commit,
``DIR/progress.json`` (written atomically) says how many runs are committed, for a watcher:
the partial store itself stays open for writing while the job runs.

When every run is in, the job reads the rows back in run-id order (:meth:`JobStore.frames`:
the same order whichever worker ran what, and whether the job was interrupted or not), writes
the final ``results.duckdb`` and ``summary.json`` atomically
(:func:`iadsim.results.store.write_store`) and removes the partial store
(:meth:`JobStore.finish`). A job run again with ``resume`` opens the partial store, checks
that it is the same job (:data:`JOB_KEYS`: same scenario text, seed, number of runs, options,
catalog numbers and iadsim version) and runs only the run ids missing from it
(:meth:`JobStore.done_ids`).

A job over several scenario variants (a sweep, :mod:`iadsim.sweeps`) opens its partial store
with a leading ``variant`` column in every table (``key_columns``); its work items are then
``variant * runs + run_id`` (:meth:`JobStore.done_ids`) and its rows come back in (variant,
run id) order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from iadsim.errors import InputError
from iadsim.fileio import atomic_write_text
from iadsim.results.store import PARTIAL_NAME, STORE_NAME, TABLES

PROGRESS_JSON = "progress.json"
#: the tables a job commits chunk by chunk
CHUNK_TABLES = ("runs", "events", "per_threat", "parameter_draws")
#: the ``meta`` keys that identify a job: a resumed job must match them all
JOB_KEYS = (
    "scenario_sha256",
    "seed",
    "runs",
    "parameter_uncertainty",
    "catalog_sha256",
    "iadsim_version",
    "sweep_sha256",  # a sweep's variants (absent from plain jobs: None on both sides)
)
#: the leading column of every table of a sweep's store
VARIANT_COLUMNS = {"variant": "INTEGER"}


def _meta_rows(meta: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in meta.items() if not isinstance(v, (list, dict))]


def read_meta(path: Path) -> dict[str, str]:
    """The ``meta`` table of a store file (empty when it has none or cannot be read)."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a readable DuckDB results store ({exc})") from None
    try:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())
    except duckdb.Error:
        return {}
    finally:
        con.close()


def job_differences(stored: dict[str, str], meta: dict[str, Any]) -> list[str]:
    """The :data:`JOB_KEYS` on which a stored job and ``meta`` differ, as ``key stored X,
    given Y`` phrases (hashes shortened)."""
    out = []
    for key in JOB_KEYS:
        a, b = stored.get(key, "None"), str(meta.get(key))  # "None": a key the job lacks
        if a != b:
            if key.endswith("sha256"):
                a, b = (a or "none")[:12], b[:12]
            out.append(f"{key.removesuffix('_sha256')} (stored {a}, given {b})")
    return out


def first_record(stored: dict[str, str]) -> dict[str, str]:
    """The provenance a continued job keeps from its first start (the command, the scenario
    file as then named), so that its summary is the uninterrupted job's."""
    return {k: stored[k] for k in ("command", "scenario_file") if stored.get(k, "None") != "None"}


class JobStore:
    """A job's partial store in ``out_dir`` (see the module docstring); open it with
    :meth:`open`, commit chunks, read the frames back, then :meth:`finish`."""

    def __init__(
        self,
        out_dir: Path,
        con: duckdb.DuckDBPyConnection,
        meta: dict[str, str],
        key_columns: dict[str, str] | None = None,
    ):
        self.out_dir = out_dir
        self.path = out_dir / PARTIAL_NAME
        self._con = con
        #: the job's meta as first stored (a resumed job keeps its first command)
        self.stored_meta = meta
        self.key_columns = dict(key_columns or {})
        self.runs = int(meta["runs"])
        #: work items of the job: runs, or runs x variants for a sweep
        self.items = self.runs * int(meta.get("variants", 1) if self.key_columns else 1)
        self.committed = self._count()

    @classmethod
    def open(
        cls,
        out_dir: str | Path,
        meta: dict[str, Any],
        resume: bool,
        key_columns: dict[str, str] | None = None,
    ) -> JobStore:
        """The partial store of the job ``meta`` in ``out_dir``: created, or with ``resume``
        reopened after checking it is the same job (a one-line :class:`InputError` naming
        ``resume`` otherwise). Without ``resume``, an interrupted job found there is refused
        rather than overwritten. ``key_columns`` (a sweep: :data:`VARIANT_COLUMNS`) lead
        every table."""
        keys = dict(key_columns or {})
        out = Path(out_dir)
        path = out / PARTIAL_NAME
        if path.exists():
            stored = read_meta(path)
            if not resume:
                done = _count_runs(path)
                total = int(stored.get("runs", 0)) * int(stored.get("variants", 1))
                raise InputError(
                    f"{out} holds an interrupted job ({done} of {total or '?'} runs "
                    f"committed): continue it with resume, or remove {PARTIAL_NAME}",
                    "resume",
                )
            diff = job_differences(stored, meta)
            if diff:
                raise InputError(
                    f"resume: the interrupted job in {out} is another job: "
                    + "; ".join(diff)
                    + f"; give its settings, or remove {PARTIAL_NAME} to start anew",
                    "resume",
                )
            con = duckdb.connect(str(path))
            return cls(out, con, stored, keys)
        complete = None
        if resume and (out / STORE_NAME).exists():
            stored = read_meta(out / STORE_NAME)
            diff = job_differences(stored, meta)
            if diff:
                raise InputError(
                    f"resume: the job in {out} is another job: " + "; ".join(diff),
                    "resume",
                )
            complete = read_final_frames(out / STORE_NAME)
            meta = {**meta, **first_record(stored)}
        for stale in out.glob(f".{PARTIAL_NAME}.*"):  # temporary files of a killed finish
            stale.unlink(missing_ok=True)
        con = duckdb.connect(str(path))
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
            con.executemany("INSERT INTO meta VALUES (?, ?)", _meta_rows(meta))
            for name in CHUNK_TABLES:
                cols = ", ".join(f"{c} {t}" for c, t in {**keys, **TABLES[name]}.items())
                con.execute(f"CREATE TABLE {name} ({cols}, _seq BIGINT)")
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        except BaseException:
            con.close()
            path.unlink(missing_ok=True)
            raise
        job = cls(out, con, dict(_meta_rows(meta)), keys)
        if complete is not None:  # a finished job resumed: its runs, committed as one chunk
            job.commit(tuple(complete))
        return job

    def _count(self) -> int:
        row = self._con.execute("SELECT count(*) FROM runs").fetchone()
        return int(row[0]) if row else 0

    def done_ids(self) -> set[int]:
        """The work items committed so far: run ids, or ``variant * runs + run_id`` for a
        sweep."""
        expr = f"variant * {self.runs} + run_id" if self.key_columns else "run_id"
        return {int(r[0]) for r in self._con.execute(f"SELECT {expr} FROM runs").fetchall()}

    def commit(self, chunk: tuple[pd.DataFrame, ...]) -> int:
        """Commit one chunk's frames (runs, events, per_threat, parameter_draws) in one
        transaction; returns the number of runs committed so far."""
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            for name, frame in zip(CHUNK_TABLES, chunk, strict=True):
                _insert_raw(con, name, frame, {**self.key_columns, **TABLES[name]})
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self.committed += len(chunk[0])
        atomic_write_text(
            self.out_dir / PROGRESS_JSON,
            json.dumps({"committed_runs": self.committed, "runs": self.items}) + "\n",
        )
        return self.committed

    def frames(self) -> list[pd.DataFrame]:
        """The committed rows of :data:`CHUNK_TABLES`, in run-id order (a sweep's in (variant,
        run id) order; within a run in the order the engine gave them)."""
        out = []
        order = ", ".join([*self.key_columns, "run_id", "_seq"])
        for name in CHUNK_TABLES:
            df = self._con.execute(f"SELECT * EXCLUDE (_seq) FROM {name} ORDER BY {order}")
            out.append(df.df())
        return out

    def close(self) -> None:
        self._con.close()

    def finish(self) -> None:
        """Close and remove the partial store (the final store is in place)."""
        self.close()
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            p.unlink(missing_ok=True)
        (self.out_dir / PROGRESS_JSON).unlink(missing_ok=True)


def _count_runs(path: Path) -> int:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return 0
    try:
        row = con.execute("SELECT count(*) FROM runs").fetchone()
        return int(row[0]) if row else 0
    except duckdb.Error:
        return 0
    finally:
        con.close()


def _insert_raw(
    con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, schema: dict[str, str]
) -> None:
    """Insert a chunk's frame as it is (plain casts; missing columns NULL) with ``_seq``."""
    if df is None or len(df) == 0:
        return
    cols = ", ".join(
        f'CAST("{c}" AS {t})' if c in df.columns else f"CAST(NULL AS {t})"
        for c, t in schema.items()
    )
    src = df.reset_index(drop=True)
    src = src.assign(_seq=range(len(src)))
    con.register("_iadsim_chunk", src)
    try:
        con.execute(f"INSERT INTO {table} SELECT {cols}, _seq FROM _iadsim_chunk")
    finally:
        con.unregister("_iadsim_chunk")


def read_final_frames(path: Path) -> list[pd.DataFrame]:
    """The :data:`CHUNK_TABLES` of a complete store, as :meth:`JobStore.frames` gives them
    (the events' ``track`` back to -1 where the store holds NULL)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = [con.execute(f"SELECT * FROM {n}").df() for n in CHUNK_TABLES]
    finally:
        con.close()
    ev = out[1]
    if "track" in ev:
        ev["track"] = ev["track"].fillna(-1).astype("int64")
    return out
