"""Scale-out of a sweep on Dask: the same sweep on a LocalCluster of 1 and then 2 worker
processes (one thread each), and on the local process pool with 2 workers as the peer.

    .venv/bin/python benchmarks/scaleout.py                  # ~2 min on a 2-core machine
    .venv/bin/python benchmarks/scaleout.py --runs 40        # smoke run

What is timed: the whole ``iadsim.sweep(...)`` call into a fresh output directory (the
variants prepared in the calling process, the prepared job scattered to the workers, every
run, the chunks committed to the partial store, the final store, summary.json, sweep.csv and
sweep.png), with the cluster started beforehand (its start-up is printed apart: a cluster
serves many jobs). Each configuration runs once after a warm-up sweep of a few runs on the
same cluster (numba's compiled kernels loaded in every worker). The sweeps' summaries must be
identical (same seed, any number of workers), which the script checks.

Target (issue 10): speed-up 1 -> 2 Dask workers >= 1.8x.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from dask.distributed import Client, LocalCluster

from iadsim.sweeps import sweep

ROOT = Path(__file__).resolve().parents[1]


def _timed_sweep(scenario: Path, vary: list[str], runs: int, out: Path, **kw) -> tuple[float, str]:
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    sweep(scenario, vary, runs=runs, seed=0, out_dir=out, **kw)
    elapsed = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text())
    metrics = json.dumps([v["metrics"] for v in summary["by_variant"]], sort_keys=True)
    return elapsed, metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "examples/raid_s400_standalone.yaml")
    ap.add_argument(
        "--vary",
        action="append",
        default=None,
        help="PATH=V1,V2 (default: catalog_overrides.48n6e3.pk.cruise=0.7,0.9)",
    )
    ap.add_argument("--runs", type=int, default=150, help="runs per variant")
    args = ap.parse_args()
    vary = args.vary or ["catalog_overrides.48n6e3.pk.cruise=0.7,0.9"]
    n_var = 1
    for v in vary:
        n_var *= len(v.split("=", 1)[1].split(","))
    total = n_var * args.runs
    print(f"sweep of {args.scenario.name}: {' '.join(vary)}: {n_var} variants x {args.runs} runs")
    rows = []
    metrics = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for workers in (1, 2):
            t0 = time.perf_counter()
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
            start_s = time.perf_counter() - t0
            try:
                kw = {"backend": "dask", "scheduler": cluster.scheduler_address, "workers": workers}
                _timed_sweep(args.scenario, vary, 2, base / "warm", **kw)
                elapsed, metrics[f"dask {workers}"] = _timed_sweep(
                    args.scenario, vary, args.runs, base / f"dask{workers}", **kw
                )
            finally:
                client.close()
                cluster.close()
            rows.append((f"dask LocalCluster, {workers} worker(s)", start_s, elapsed))
        _timed_sweep(args.scenario, vary, 2, base / "warm", backend="local", workers=2)
        elapsed, metrics["local 2"] = _timed_sweep(
            args.scenario, vary, args.runs, base / "local2", backend="local", workers=2
        )
        rows.append(("local process pool, 2 workers (peer)", 0.0, elapsed))
    same = len(set(metrics.values())) == 1
    one = rows[0][2]
    print(f"{'configuration':42s} {'cluster start s':>15s} {'sweep s':>8s} {'runs/s':>7s} "
          f"{'speed-up':>8s}")  # fmt: skip
    for name, start_s, elapsed in rows:
        print(f"{name:42s} {start_s:15.1f} {elapsed:8.1f} {total / elapsed:7.1f} "
              f"{one / elapsed:7.2f}x")  # fmt: skip
    print(
        f"speed-up 1 -> 2 Dask workers: {one / rows[1][2]:.2f}x (target >= 1.8x); "
        f"Dask 2 workers vs local pool 2 workers: {rows[2][2] / rows[1][2]:.2f}x"
    )
    print(f"summaries identical across configurations: {same}")
    if not same:
        raise SystemExit("the sweeps' numbers differ between worker counts: a reproducibility bug")


if __name__ == "__main__":
    main()
