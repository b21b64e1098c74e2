"""Monte Carlo and comparison jobs of ``iadsim serve``: a table in SQLite, one process per
running job, off the request thread.

A job is a row of ``DATA_DIR/jobs.db`` (state ``queued`` -> ``running`` -> ``done`` |
``failed`` | ``cancelled``) and a directory ``DATA_DIR/jobs/ID/`` holding a copy of its
scenario(s) (later edits of the scenario do not change a submitted job), ``progress.json``,
``outcome.json`` and ``results/`` (the output directory of ``iadsim run`` or ``iadsim
compare``). At most ``workers`` jobs run at once, each in its own process started with
``spawn`` (:func:`iadsim.web.worker.run_job`), so that cancelling one terminates exactly its
process, which also ends when the server's does (``kill -9`` included). A server restarted over the same data directory lists the finished jobs; those that
were queued or running when it stopped become ``failed`` ("the server stopped ...").
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

from iadsim.errors import InputError
from iadsim.web import scenarios as scn_store
from iadsim.web.storage import DataDir, NotFound, check_id, new_id
from iadsim.web.worker import OUTCOME_FILE, PROGRESS_FILE, run_job

STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
#: most runs a job of the server may ask for
MAX_RUNS = 10_000
log = logging.getLogger("iadsim.web")
STOPPED = "the server stopped while the job was queued or running; submit it again"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, client TEXT,
    scenario_id TEXT NOT NULL, other_scenario_id TEXT, runs INTEGER NOT NULL,
    seed INTEGER NOT NULL, labels TEXT, created TEXT NOT NULL, started TEXT, finished TEXT,
    done INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, stage TEXT,
    error TEXT, warnings TEXT
)
"""
_COLUMNS = (
    "job_id", "kind", "state", "client", "scenario_id", "other_scenario_id", "runs", "seed",
    "labels", "created", "started", "finished", "done", "total", "stage", "error", "warnings",
)  # fmt: skip


class TooManyJobs(Exception):
    """A client already has its share of queued and running jobs (HTTP 429)."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class _Running:
    cancel: threading.Event
    process: Any = None


class JobManager:
    """The job table and the processes running its jobs (module docstring)."""

    def __init__(self, data: DataDir, workers: int = 1, per_client: int = 2) -> None:
        if workers < 1:
            raise InputError(f"workers must be >= 1, got {workers}", "workers")
        self.data, self.workers, self.per_client = data, workers, per_client
        self._db = sqlite3.connect(data.jobs_db, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(workers)
        self._live: dict[str, _Running] = {}
        self._ctx = multiprocessing.get_context("spawn")
        with self._lock:
            self._db.execute(_SCHEMA)
            self._db.execute(
                "UPDATE jobs SET state = 'failed', error = ?, finished = ? "
                "WHERE state IN ('queued', 'running')",
                (STOPPED, _now()),
            )

    # -- the table ---------------------------------------------------------------------
    def _update(self, job_id: str, **values: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {cols} WHERE job_id = ?", (*values.values(), job_id))

    def get(self, job_id: str) -> dict[str, Any]:
        check_id(job_id, "job")
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise NotFound("no job with that id")
        return _record(row)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs ORDER BY created DESC, rowid DESC"
            ).fetchall()
        return [_record(r) for r in rows]

    # -- submitting, running, cancelling --------------------------------------------------
    def submit(
        self, kind: str, scenario_id: str, other_scenario_id: str | None, runs: int, seed: int,
        client: str,
    ) -> str:  # fmt: skip
        """Queue a job; its scenarios are copied now. :class:`TooManyJobs` beyond the
        client's share."""
        if kind not in ("run", "compare"):
            raise InputError(f"kind must be run or compare, got {kind!r}", "kind")
        if not 1 <= runs <= MAX_RUNS:
            raise InputError(f"runs must be between 1 and {MAX_RUNS:,}, got {runs}", "runs")
        if seed < 0:
            raise InputError(f"seed must be >= 0, got {seed}", "seed")
        if kind == "compare" and other_scenario_id is None:
            raise InputError(
                "other_scenario_id: a compare job needs a second scenario", "other_scenario_id"
            )
        if kind == "run" and other_scenario_id is not None:
            raise InputError("other_scenario_id: only compare jobs take one", "other_scenario_id")
        first = scn_store.load_stored(self.data, scenario_id)
        second = (
            scn_store.load_stored(self.data, other_scenario_id)
            if other_scenario_id is not None
            else None
        )
        labels = None
        if second is not None:
            a, b = first.scenario.name.strip() or "A", second.scenario.name.strip() or "B"
            if a.casefold() == b.casefold():
                a, b = f"{a} (A)", f"{b} (B)"
            labels = [a, b]
        with self._lock:
            (active,) = self._db.execute(
                "SELECT count(*) FROM jobs WHERE client = ? AND state IN ('queued', 'running')",
                (client,),
            ).fetchone()
            if active >= self.per_client:
                raise TooManyJobs(
                    f"{active} of your jobs are queued or running (at most {self.per_client} "
                    "per client); wait for one to end or cancel it"
                )
            job_id = new_id()
            job_dir = self.data.root / "jobs" / job_id
            job_dir.mkdir()
            shutil.copytree(first.path.parent, job_dir / "scenario", symlinks=True)
            if second is not None:
                shutil.copytree(second.path.parent, job_dir / "scenario_b", symlinks=True)
            self._db.execute(
                "INSERT INTO jobs (job_id, kind, state, client, scenario_id, other_scenario_id,"
                " runs, seed, labels, created, total) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?,"
                " ?, ?)",
                (job_id, kind, client, scenario_id, other_scenario_id, runs, seed,
                 json.dumps(labels), _now(), runs),
            )  # fmt: skip
            self._live[job_id] = _Running(threading.Event())
        spec = {"kind": kind, "runs": runs, "seed": seed, "labels": labels}
        threading.Thread(target=self._run, args=(job_id, spec), daemon=True).start()
        return job_id

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (its process is terminated); a finished job is
        left as it is."""
        job = self.get(job_id)
        live = self._live.get(job_id)
        if job["state"] in ACTIVE and live is not None:
            live.cancel.set()
            if live.process is None:  # still waiting for a slot: it never starts
                self._update(job_id, state="cancelled", finished=_now())
            elif live.process.is_alive():
                live.process.terminate()
            deadline = time.monotonic() + 10
            while self.get(job_id)["state"] in ACTIVE and time.monotonic() < deadline:
                time.sleep(0.05)
        return self.get(job_id)

    def _run(self, job_id: str, spec: dict[str, Any]) -> None:
        live = self._live[job_id]
        job_dir = self.data.root / "jobs" / job_id
        self._slots.acquire()
        try:
            if live.cancel.is_set():
                self._update(job_id, state="cancelled", finished=_now())
                return
            proc = self._ctx.Process(
                target=run_job,
                args=(str(job_dir), spec, os.getpid()),
                name=f"iadsim-job-{job_id[:8]}",
            )
            live.process = proc
            proc.start()
            self._update(job_id, state="running", started=_now())
            while proc.is_alive():
                proc.join(0.25)
                self._read_progress(job_id, job_dir)
                if live.cancel.is_set() and proc.is_alive():
                    proc.terminate()
            self._read_progress(job_id, job_dir)
            self._finish(job_id, job_dir, live, proc.exitcode)
        except Exception:  # the job, not the server, fails; the details go to the log
            log.exception("job %s could not be run", job_id)
            self._update(
                job_id, state="failed", finished=_now(),
                error="internal error: the server log has the details",
            )  # fmt: skip
        finally:
            self._slots.release()
            self._live.pop(job_id, None)

    def _read_progress(self, job_id: str, job_dir) -> None:
        try:
            p = json.loads((job_dir / PROGRESS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        self._update(job_id, done=int(p["done"]), total=int(p["total"]), stage=p.get("stage"))

    def _finish(self, job_id: str, job_dir, live: _Running, exitcode: int | None) -> None:
        if live.cancel.is_set():
            self._update(job_id, state="cancelled", finished=_now())
            return
        try:
            outcome = json.loads((job_dir / OUTCOME_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = {
                "state": "failed",
                "error": f"the job's process ended without a result (exit code {exitcode})",
            }
        self._update(
            job_id,
            state=outcome["state"],
            error=outcome.get("error"),
            warnings=json.dumps(outcome.get("warnings") or []),
            finished=_now(),
        )

    def shutdown(self) -> None:
        """Terminate the running jobs' processes (the server is stopping)."""
        for live in list(self._live.values()):
            live.cancel.set()
            if live.process is not None and live.process.is_alive():
                live.process.terminate()


def _record(row: tuple) -> dict[str, Any]:
    r = dict(zip(_COLUMNS, row, strict=True))
    r.pop("client")
    r["labels"] = json.loads(r["labels"]) if r["labels"] else None
    r["warnings"] = json.loads(r["warnings"]) if r["warnings"] else []
    r["progress"] = {"done": r.pop("done"), "total": r.pop("total"), "stage": r.pop("stage")}
    return r
