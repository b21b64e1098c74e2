"""Monte Carlo runner: per-run seeding, and identical results for any worker count or backend.

A small stub engine (tests.helpers.stub_engine) stands in for iadsim.sim.engine so that these
tests isolate the runner: it draws detections, salvos, kills and leaks from the Generator it is
given and logs them through the real EventLog.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from iadsim.errors import InputError
from iadsim.montecarlo import chunks, run_replications, run_rng
from tests.helpers.stub_engine import stub_prepare, stub_run_once


def _same(a, b) -> None:
    for name in ("runs", "events", "per_threat"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_run_i_draws_from_child_i_of_the_job_seed_sequence():
    children = np.random.SeedSequence(42).spawn(5)
    for i in (0, 3, 4):
        expected = np.random.default_rng(children[i]).random(8)
        np.testing.assert_array_equal(run_rng(42, i).random(8), expected)


@pytest.mark.slow
def test_results_do_not_depend_on_worker_count_or_chunking():
    prep = stub_prepare()
    one = run_replications(prep, runs=12, seed=7, workers=1, run_fn=stub_run_once)
    odd_chunks = run_replications(
        prep, runs=12, seed=7, workers=1, chunk_size=5, run_fn=stub_run_once
    )
    two = run_replications(prep, runs=12, seed=7, workers=2, chunk_size=2, run_fn=stub_run_once)
    _same(one, odd_chunks)
    _same(one, two)
    assert list(one.runs.run_id) == list(range(12))
    assert one.events.run_id.is_monotonic_increasing
    # different seeds really differ
    other = run_replications(prep, runs=12, seed=8, workers=1, run_fn=stub_run_once)
    assert not one.per_threat.equals(other.per_threat)


def test_a_run_is_the_same_whatever_the_number_of_runs_in_the_job():
    prep = stub_prepare()
    short = run_replications(prep, runs=3, seed=5, run_fn=stub_run_once)
    long = run_replications(prep, runs=9, seed=5, run_fn=stub_run_once)
    pd.testing.assert_frame_equal(short.per_threat, long.per_threat[long.per_threat.run_id < 3])


def test_dask_backend_gives_the_same_numbers_as_local():
    distributed = pytest.importorskip("dask.distributed")
    prep = stub_prepare()
    local = run_replications(prep, runs=8, seed=3, workers=1, run_fn=stub_run_once)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = run_replications(
            prep, runs=8, seed=3, workers=2, backend="dask", scheduler=cluster.scheduler_address,
            chunk_size=3, run_fn=stub_run_once,
        )  # fmt: skip
    _same(local, remote)


def test_progress_reaches_the_total_and_counts_up():
    seen = []
    run_replications(
        stub_prepare(), runs=7, seed=0, chunk_size=3, run_fn=stub_run_once,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_engine_failure_mid_job_propagates(workers):
    with pytest.raises(RuntimeError, match="run 5"):
        run_replications(
            stub_prepare(fail_at=5), runs=10, seed=0, workers=workers, chunk_size=2,
            run_fn=stub_run_once,
        )  # fmt: skip


@pytest.mark.parametrize(
    "kwargs, message",
    [({"runs": 0}, "runs must be >= 1, got 0"), ({"workers": 0}, "workers must be >= 1, got 0"),
     ({"seed": -1}, "seed must be a non-negative integer, got -1"),
     ({"backend": "ray"}, "backend must be 'local' or 'dask', got 'ray'"),
     ({"scheduler": "tcp://x:1"}, "scheduler is a Dask address: it needs backend 'dask'")],
)  # fmt: skip
def test_bad_job_arguments_are_input_errors_naming_the_parameter(kwargs, message):
    args = {"runs": 2, "seed": 0, "workers": 1, **kwargs}
    with pytest.raises(InputError, match=message) as exc:
        run_replications(stub_prepare(), run_fn=stub_run_once, **args)
    assert exc.value.param == next(iter(kwargs)) and "--" not in str(exc.value)


def test_chunks_cover_every_run_once_in_order():
    for runs, workers in ((1, 1), (10, 2), (1000, 2), (7, 16)):
        flat = [i for c in chunks(runs, workers) for i in c]
        assert flat == list(range(runs))
