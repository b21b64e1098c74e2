"""Loss-free, resumable Monte Carlo jobs: a real ``iadsim run`` subprocess is killed with
SIGKILL once its store holds some committed runs, resumed with ``--resume``, and its
``summary.json`` must be byte-identical to an uninterrupted job's; no worker process may
outlive a killed job (:mod:`iadsim.results.jobstore`, :func:`iadsim.montecarlo.die_with_parent`).

A small scenario (3 cruise missiles, smooth Earth, 10 simulated minutes) keeps each job to a
few seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest

from iadsim.results.store import PARTIAL_NAME

pytestmark = pytest.mark.slow

TINY = """\
name: tiny raid for resume tests
description: one S-400 battery, 3 low cruise missiles, smooth Earth, 10 minutes
time: {duration_s: 600, step_s: 2.0}
sites:
  - {id: s400, system: s-400, lat: 39.98, lon: 32.75, heading_deg: 180}
assets:
  - {id: centre, lat: 39.925, lon: 32.866, radius_km: 5, value: 10}
raids:
  - id: cm
    threat: cruise-missile
    count: 3
    launch_time_s: 0
    spacing_s: 20
    speed_mps: 240
    route: [[38.60, 33.00, 50], [39.925, 32.866, 50]]
"""
RUNS = 60  # chunks of 15 runs with 1 worker, 8 with 2


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return p


def _cmd(scenario: Path, out: Path, *extra: str, runs: int = RUNS, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "iadsim.cli.main", "run", str(scenario), "--runs", str(runs),
            "--seed", "7", "--workers", str(workers), "--out", str(out), *extra]  # fmt: skip


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


def _committed(out: Path) -> int:
    try:
        return json.loads((out / "progress.json").read_text())["committed_runs"]
    except (OSError, ValueError, KeyError):
        return 0


def _start_and_kill(cmd: list[str], out: Path, at_least: int) -> list[psutil.Process]:
    """Start ``cmd``, SIGKILL it once ``at_least`` runs are committed; return the processes
    it had started (workers, resource tracker, ...)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while _committed(out) < at_least:
            assert proc.poll() is None, f"the job ended before the kill: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.02)
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stderr is not None:
            proc.stderr.close()
    return children


def _gone(procs: list[psutil.Process], timeout_s: float = 15.0) -> list[psutil.Process]:
    """The processes of ``procs`` still alive after ``timeout_s`` (zombies count as gone)."""
    _, alive = psutil.wait_procs(procs, timeout=timeout_s)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize(
    "backend, kill_at, options",
    [("local", ((16, 2), (40, 1)), ()), ("dask", ((16, 2),), ("--parameter-uncertainty",))],
    ids=["local", "dask-parameter-uncertainty"],
)
def test_a_killed_job_resumed_gives_the_uninterrupted_summary_bytes(tiny, tmp_path, backend,
                                                                     kill_at, options):  # fmt: skip
    """Killed after k committed runs with W workers, resumed with one: the reference job runs
    with one worker, so the bytes also hold across worker counts."""
    out = tmp_path / "job"
    extra = ("--backend", backend, *options)
    ref = _run(_cmd(tiny, out, *extra))
    assert ref.returncode == 0, ref.stderr
    reference = (out / "summary.json").read_bytes()
    shutil.rmtree(out)
    for k, workers in kill_at:
        children = _start_and_kill(_cmd(tiny, out, *extra, workers=workers), out, k)
        assert not (out / "results.duckdb").exists()
        con = duckdb.connect(str(out / PARTIAL_NAME), read_only=True)  # valid after kill -9
        committed = con.execute("SELECT count(*) FROM runs").fetchone()[0]
        con.close()
        assert k <= committed < RUNS
        assert not _gone(children), "a worker process outlived the killed job"
        # a job into the directory without --resume is refused: it would lose the runs
        refused = _run(_cmd(tiny, out, *extra))
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"error: {out} holds an interrupted job")
        done = _run(_cmd(tiny, out, *extra, "--resume"))
        assert done.returncode == 0, done.stderr
        assert f"{committed} of {RUNS} runs were committed before" in done.stdout
        assert (out / "summary.json").read_bytes() == reference
        assert not (out / PARTIAL_NAME).exists()
        con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
        assert con.execute("SELECT count(DISTINCT run_id), count(*) FROM runs").fetchone() == (
            RUNS,
            RUNS,
        )
        con.close()
        shutil.rmtree(out)


def test_resume_refuses_another_job_in_one_line(tiny, tmp_path):
    out = tmp_path / "job"
    _start_and_kill(_cmd(tiny, out), out, 8)
    other = _run(_cmd(tiny, out, "--resume", runs=RUNS + 1))
    assert other.returncode == 2 and len(other.stderr.splitlines()) == 1
    assert other.stderr.startswith(f"error: --resume: the interrupted job in {out} is another")
    assert f"runs (stored {RUNS}, given {RUNS + 1})" in other.stderr
    tiny.write_text(TINY.replace("count: 3", "count: 2"))
    changed = _run(_cmd(tiny, out, "--resume"))
    assert changed.returncode == 2 and "scenario (stored " in changed.stderr
    seed = _run(_cmd(tiny, out, "--resume") + ["--seed", "8"])
    assert seed.returncode == 2 and "seed (stored 7, given 8)" in seed.stderr


def test_resume_of_a_complete_job_runs_nothing_and_keeps_the_bytes(tiny, tmp_path):
    out = tmp_path / "job"
    assert _run(_cmd(tiny, out, runs=20)).returncode == 0
    before = (out / "summary.json").read_bytes()
    again = _run(_cmd(tiny, out, "--resume", runs=20))
    assert again.returncode == 0, again.stderr
    assert "20 of 20 runs were committed before, 0 run now" in again.stdout
    assert (out / "summary.json").read_bytes() == before


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_no_worker_process_survives_kill_9_of_the_job(tiny, tmp_path, backend):
    out = tmp_path / "job"
    cmd = _cmd(tiny, out, "--backend", backend, runs=4000, workers=2)
    children = _start_and_kill(cmd, out, 1)
    assert children, "the job had started no process"
    alive = _gone(children)
    assert not alive, [(p.pid, p.cmdline()) for p in alive]
