"""Monte Carlo replications of one prepared scenario: seeding, local processes, Dask.

Seeding (the reproducibility contract): a job with seed ``S`` builds one
``numpy.random.SeedSequence(S)``; run ``i`` always draws from
``default_rng(SeedSequence(S).spawn(N)[i])``, i.e. ``SeedSequence(S, spawn_key=(i,))``,
whichever worker runs it and in whatever order runs finish. Results are gathered and
ordered by run id, so the numbers do not depend on the number of workers or the backend.

Parameter uncertainty (:class:`ParameterJob`, :func:`run_parameter_draw`): run ``i`` first
draws every uncertain catalog number from a stream of its own,
``SeedSequence(S, spawn_key=(i, 1))`` (:func:`iadsim.uncertainty.parameter_rng`; the
simulation stream is untouched, so the draws of run ``i`` are the same whatever else the job
does), prepares the scenario with those values as catalog overrides on its worker's
:class:`~iadsim.sim.cache.PrepareCache`, and runs it. With ``values`` given instead (design
points of a sensitivity analysis), run ``i`` uses row ``i``.

Sweeps (:class:`SweepJob`, :func:`run_sweep_item`): one job over several scenario variants;
work item ``v * runs + i`` is run ``i`` of variant ``v`` and draws from run ``i``'s streams
(those above), so each variant's numbers are those of a job on that variant alone with the
same seed, for any number of workers (common random numbers across variants).

Backends:

* ``local`` — ``workers == 1`` runs in this process; otherwise a
  :class:`concurrent.futures.ProcessPoolExecutor` (spawn start method: no fork of a process
  holding threads) whose initializer receives the prepared scenario once per worker; runs
  are sent in chunks of consecutive run ids, at most two chunks per worker in flight (run
  ids are generated lazily). Workers end with the job's process (:func:`die_with_parent`).
* ``dask`` — :mod:`dask.distributed`, for runs beyond one machine: connect to
  ``scheduler`` (``tcp://host:8786``) or start a :class:`LocalCluster` with ``workers``
  processes (whose workers end with the job's process); the prepared scenario is scattered
  (broadcast) once, chunks are tasks, at most two per worker in flight.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iadsim.errors import InputError
from iadsim.scenario import Scenario
from iadsim.sim.cache import PrepareCache
from iadsim.sim.engine import EngineConfig, PreparedScenario, RunResult, prepare, run_once
from iadsim.uncertainty import Parameter, draw, parameter_rng, with_values

RunFn = Callable[[Any, np.random.Generator, int], Any]
Progress = Callable[[int, int], None]
Chunk = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]
DRAW_COLUMNS = ["run_id", "item", "field", "value"]


@dataclass
class Replications:
    """All runs of a job, ordered by run id: one row per run, the events, the per-threat rows
    and, with parameter uncertainty, the values drawn (run_id, item, field, value)."""

    runs: pd.DataFrame
    events: pd.DataFrame
    per_threat: pd.DataFrame
    parameter_draws: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=DRAW_COLUMNS)
    )


@dataclass
class ParameterJob:
    """The runs of a job with parameter uncertainty (see the module docstring): run ``i``
    prepares ``scenario`` with each of ``parameters`` set to row ``i`` of ``values`` or, when
    ``values`` is None, drawn from :func:`iadsim.uncertainty.parameter_rng` ``(seed, i)``
    (:func:`iadsim.uncertainty.draw`), then runs it (:func:`run_parameter_draw`). The
    preparation cache is built once per process (it travels empty to workers) and bounded
    by ``scenario``'s uncertainty, so results do not depend on which runs a worker did
    before."""

    scenario: Scenario
    parameters: Sequence[Parameter]
    seed: int = 0
    values: np.ndarray | None = None
    config: EngineConfig | None = None
    _cache: PrepareCache | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.parameters = tuple(self.parameters)
        if self.values is not None:
            self.values = np.asarray(self.values, float)
            if self.values.ndim != 2 or self.values.shape[1] != len(self.parameters):
                raise InputError(
                    f"values must have one column per parameter ({len(self.parameters)}), got "
                    f"shape {self.values.shape}",
                    "values",
                )

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None}

    @property
    def cache(self) -> PrepareCache:
        """This process's preparation cache (created on first use)."""
        if self._cache is None:
            self._cache = PrepareCache(base=self.scenario)
        return self._cache

    def run_values(self, run_id: int) -> np.ndarray:
        """The parameter values of run ``run_id`` (drawn, or row ``run_id`` of ``values``)."""
        if self.values is not None:
            if not 0 <= run_id < len(self.values):
                raise InputError(
                    f"run {run_id} has no row in values ({len(self.values)} rows)", "runs"
                )
            return self.values[run_id]
        return draw(self.parameters, parameter_rng(self.seed, run_id), self.scenario.catalog)

    def prepare(self, run_id: int) -> tuple[PreparedScenario, np.ndarray]:
        """Run ``run_id``'s prepared scenario (its parameter values as catalog overrides) and
        those values."""
        values = self.run_values(run_id)
        scn = with_values(self.scenario, self.parameters, values)
        return prepare(scn, config=self.config, cache=self.cache), values


def run_parameter_draw(job: ParameterJob, rng: np.random.Generator, run_id: int) -> RunResult:
    """The run function of a :class:`ParameterJob`: prepare run ``run_id`` with its parameter
    values, run it with ``rng`` (the run's simulation stream) and attach the values
    (``parameter_draws``: item, field, value)."""
    prepared, values = job.prepare(run_id)
    result = run_once(prepared, rng, run_id)
    result.parameter_draws = pd.DataFrame(
        {
            "item": [p.item for p in job.parameters],
            "field": [p.field for p in job.parameters],
            "value": np.asarray(values, float),
        }
    )
    return result


@dataclass
class SweepJob:
    """The work of a sweep: ``runs`` runs of each of several scenario variants, as one job.
    ``variants[v]`` is variant ``v`` ready to run: a :class:`PreparedScenario`, or a
    :class:`ParameterJob` with parameter uncertainty. Work item ``item`` is run
    ``item % runs`` of variant ``item // runs`` (:meth:`locate`); :func:`run_chunk` gives it
    the simulation stream of that run id, so variant ``v``'s runs are those of a job on
    variant ``v`` alone with the same seed, whatever worker runs them (common random numbers
    across variants)."""

    variants: Sequence[Any]
    runs: int

    @property
    def items(self) -> int:
        """The number of work items (variants x runs)."""
        return len(self.variants) * self.runs

    def locate(self, item: int) -> tuple[int, int]:
        """(variant, run_id) of work item ``item``."""
        return divmod(int(item), self.runs)


def run_sweep_item(job: SweepJob, rng: np.random.Generator, item: int) -> RunResult:
    """The run function of a :class:`SweepJob`: run work item ``item`` with ``rng``."""
    v, run_id = job.locate(item)
    work = job.variants[v]
    if isinstance(work, ParameterJob):
        return run_parameter_draw(work, rng, run_id)
    return run_once(work, rng, run_id)


def run_rng(seed: int, run_id: int) -> np.random.Generator:
    """The generator of run ``run_id``: child ``run_id`` of ``SeedSequence(seed)``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(run_id,)))


def _default_run_fn() -> RunFn:
    return run_once


def run_chunk(prepared: Any, run_fn: RunFn, seed: int, run_ids: Sequence[int]) -> Chunk:
    """Run the work items ``run_ids`` of one job and return (runs, events, per_threat,
    parameter_draws) frames for them.

    A work item is a run id, except for a job over several scenario variants (a sweep: the
    work object has a ``locate(item) -> (variant, run_id)`` method, :class:`SweepJob`): then
    item ``item`` is run ``run_id`` of variant ``variant``, its simulation stream is
    :func:`run_rng` ``(seed, run_id)`` (the variant's run ``run_id`` draws what run
    ``run_id`` of a job on that variant alone draws), and every row gets a ``variant``
    column."""
    run_rows, events, per_threat, draws = [], [], [], []
    locate = getattr(prepared, "locate", None)
    draw_columns = DRAW_COLUMNS if locate is None else [*DRAW_COLUMNS, "variant"]
    for item in run_ids:
        variant, run_id = locate(item) if locate is not None else (None, item)
        rng = run_rng(seed, run_id)
        result = run_fn(prepared, rng, item)
        ev = result.events.to_frame()
        ev["run_id"] = run_id
        pt = result.per_threat.copy()
        pt.insert(0, "run_id", run_id)
        spent_by_site = getattr(result, "interceptors_spent_by_site", None) or {}
        tag = {} if variant is None else {"variant": variant}
        if variant is not None:
            ev["variant"] = variant
            pt["variant"] = variant
        run_rows.append(
            {
                **tag,
                "run_id": run_id,
                "seed_entropy": str(seed),
                "spawn_key": str(run_id),
                "n_events": len(ev),
                "n_threats": len(pt),
                "leakers": int(pt["leaked"].sum()) if len(pt) else 0,
                "unresolved": int(pt["unresolved"].sum()) if "unresolved" in pt else 0,
                "kills": int(pt["killed"].sum()) if len(pt) else 0,
                "interceptors_spent": int(sum(spent_by_site.values())),
            }
        )
        events.append(ev)
        per_threat.append(pt)
        drawn = getattr(result, "parameter_draws", None)
        if drawn is not None and len(drawn):
            draws.append(drawn.assign(run_id=run_id, **tag)[draw_columns])
    drawn_frame = _concat(draws) if draws else pd.DataFrame(columns=draw_columns)
    return pd.DataFrame(run_rows), _concat(events), _concat(per_threat), drawn_frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# Per-process state of local workers, set once by the pool initializer.
_WORKER: dict[str, Any] = {}

#: seconds between two checks of a worker's watchdog that its parent is alive
WATCHDOG_PERIOD_S = 0.5


def die_with_parent(parent_pid: int) -> None:
    """End this (worker) process when process ``parent_pid`` ends, however it ends (``kill
    -9`` included), so that no worker outlives its job: on Linux the kernel sends SIGKILL on
    the parent's death (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon thread checks every
    :data:`WATCHDOG_PERIOD_S` that the parent is still there (its pid is still the parent's,
    or, for a process that is not the parent's child, e.g. a Dask worker under its nanny,
    that the pid is alive) and exits at once otherwise."""
    child = os.getppid() == parent_pid
    if child and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG

    def parent_alive() -> bool:
        if child:
            return os.getppid() == parent_pid
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            return False
        except OSError:  # exists, owned by another user
            return True
        return True

    if not parent_alive():  # died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while parent_alive():
            time.sleep(WATCHDOG_PERIOD_S)
        os._exit(1)

    threading.Thread(target=watch, name="iadsim-parent-watchdog", daemon=True).start()


def _init_worker(prepared: Any, run_fn: RunFn, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    _WORKER["prepared"], _WORKER["run_fn"] = prepared, run_fn


def _worker_chunk(seed: int, run_ids: Sequence[int]) -> Chunk:
    return run_chunk(_WORKER["prepared"], _WORKER["run_fn"], seed, run_ids)


def chunk_size_for(runs: int, workers: int, chunk_size: int | None = None) -> int:
    """Runs per chunk: ``chunk_size`` when given, else about 4 chunks per worker (load
    balance), at most 50 (a chunk is also the unit a job commits to its store)."""
    return chunk_size or max(1, min(50, math.ceil(runs / (4 * max(1, workers)))))


def iter_chunks(run_ids: Iterable[int], size: int) -> Iterator[list[int]]:
    """The run ids in consecutive chunks of ``size``, generated lazily (a job of 10^9 runs
    never holds its run ids)."""
    it = iter(run_ids)
    while batch := list(itertools.islice(it, size)):
        yield batch


def chunks(runs: int, workers: int, chunk_size: int | None = None) -> list[list[int]]:
    """Consecutive run ids in chunks of :func:`chunk_size_for` (as a list: tests, small jobs)."""
    return list(iter_chunks(range(runs), chunk_size_for(runs, workers, chunk_size)))


def check_job_args(
    runs: int, seed: int, workers: int, backend: str, scheduler: str | None = None
) -> None:
    """Raise a one-line :class:`InputError` naming the parameter for impossible job settings."""
    if runs < 1:
        raise InputError(f"runs must be >= 1, got {runs}", "runs")
    if workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}", "workers")
    if seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed}", "seed")
    if backend not in ("local", "dask"):
        raise InputError(f"backend must be 'local' or 'dask', got {backend!r}", "backend")
    if scheduler and backend != "dask":
        raise InputError(
            f"scheduler is a Dask address: it needs backend 'dask', got {backend!r}",
            ("scheduler", "backend"),
        )


def stream_replications(
    prepared: Any,
    run_ids: Iterable[int],
    on_chunk: Callable[[Chunk], None],
    seed: int = 0,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    chunk_size: int = 50,
    run_fn: RunFn | None = None,
) -> None:
    """Run the runs ``run_ids`` of a job (any iterable, consumed lazily in chunks of
    ``chunk_size``) and hand each finished chunk's (runs, events, per_threat,
    parameter_draws) frames to ``on_chunk``, in the order chunks finish (callers that need
    run-id order sort: every row carries its run id). At most two chunks per worker are in
    flight, so memory does not grow with the number of runs; ``on_chunk`` may commit a
    chunk to a store (:class:`iadsim.results.jobstore.JobStore`), making the job resumable
    from any instant. ``run_fn`` as in :func:`run_replications`."""
    run_fn = run_fn or _default_run_fn()
    work = iter_chunks(run_ids, chunk_size)
    if backend == "dask":
        _run_dask(prepared, run_fn, seed, work, workers, scheduler, on_chunk)
    elif workers == 1:
        for ids in work:
            on_chunk(run_chunk(prepared, run_fn, seed, ids))
    else:
        _run_processes(prepared, run_fn, seed, work, workers, on_chunk)


def run_replications(
    prepared: Any,
    runs: int,
    seed: int = 0,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    run_fn: RunFn | None = None,
) -> Replications:
    """Run ``runs`` replications of ``prepared`` and gather them in run-id order, in memory
    (:func:`stream_replications` hands chunks to a store instead).

    ``run_fn(prepared, rng, run_id)`` defaults to :func:`iadsim.sim.engine.run_once`; it must
    be a module-level function (it is pickled to worker processes).
    """
    check_job_args(runs, seed, workers, backend, scheduler)
    done: dict[int, Chunk] = {}
    if progress is not None:
        progress(0, runs)

    def collect(chunk: Chunk) -> None:
        done[int(chunk[0]["run_id"].iloc[0])] = chunk
        if progress is not None:
            progress(sum(len(c[0]) for c in done.values()), runs)

    size = chunk_size_for(runs, workers, chunk_size)
    stream_replications(
        prepared, range(runs), collect, seed, workers, backend, scheduler, size, run_fn
    )
    ordered = [done[k] for k in sorted(done)]
    frames = [_concat([c[i] for c in ordered]) for i in range(4)]
    if not len(frames[3]):
        frames[3] = pd.DataFrame(columns=DRAW_COLUMNS)
    return Replications(*frames)


def _first_chunks(work: Iterator[list[int]], n: int) -> tuple[list[list[int]], Iterator]:
    """Up to ``n`` chunks from ``work`` and the rest of it."""
    head = list(itertools.islice(work, n))
    return head, work


def _run_processes(prepared, run_fn, seed, work, workers, on_chunk) -> None:
    head, rest = _first_chunks(work, 2 * workers)
    if not head:
        return
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(head)),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(prepared, run_fn, os.getpid()),
    )
    try:
        pending = {pool.submit(_worker_chunk, seed, ids) for ids in head}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                on_chunk(fut.result())
            for ids in itertools.islice(rest, 2 * workers - len(pending)):
                pending.add(pool.submit(_worker_chunk, seed, ids))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def dask_client(workers: int, scheduler: str | None = None) -> Iterator[Any]:
    """A :class:`dask.distributed.Client` on ``scheduler`` (``tcp://host:8786``), or on a
    local cluster of ``workers`` single-threaded processes started (and closed) here."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError(
            "backend 'dask' needs dask.distributed: pip install 'iadsim[distributed]'", "backend"
        ) from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if not scheduler:
            raise InputError(f"cannot start a local Dask cluster ({exc})") from None
        raise InputError(
            f"scheduler {scheduler!r}: cannot reach the Dask scheduler ({exc})", "scheduler"
        ) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_dask(prepared, run_fn, seed, work, workers, scheduler, on_chunk) -> None:
    from dask.distributed import as_completed as dask_completed

    head, rest = _first_chunks(work, 2 * workers)
    if not head:
        return
    with dask_client(workers, scheduler) as client:
        if not scheduler:  # our own cluster: its workers end with this process
            client.run(die_with_parent, os.getpid())
        [prep] = client.scatter([prepared], broadcast=True)
        job = uuid.uuid4().hex[:12]  # unique task keys when jobs share a scheduler

        def submit(ids: list[int]) -> Any:
            return client.submit(
                run_chunk, prep, run_fn, seed, ids, pure=False, key=f"iadsim-{job}-{ids[0]}"
            )

        in_flight = dask_completed([submit(ids) for ids in head])
        for fut in in_flight:
            on_chunk(fut.result())
            for ids in itertools.islice(rest, 1):
                in_flight.add(submit(ids))
