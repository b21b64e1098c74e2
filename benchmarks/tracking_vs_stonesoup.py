"""Benchmark: iadsim's tracker against Stone Soup (GNN-2D and kd-tree GNN-2D) on identical data.

Scenario (run with stonesoup 1.9.1): N pre-existing targets at 1 per km^2 (a square of side
1 km * sqrt(N)), velocities N(0, 10 m/s) per axis, 2-D nearly-constant velocity
with q = 0.5 m^2/s^3, dt = 1 s; Pd = 0.9; Poisson clutter with mean N/5 per scan uniform over the
region plus a 2 km margin; linear position sensor sigma = 10 m. Initiation: 3 updates (Stone
Soup's MultiMeasurementInitiator(min_points=3) with UpdateTimeStepsDeleter(2); iadsim 3-of-5);
deletion after 5 scans without update; gate Mahalanobis distance 3 (chi^2 = 9). OSPA c = 100 m,
p = 1 on positions, the same function for both trackers.

Truth and detections are generated once with numpy and fed to both trackers; Stone Soup
``Detection`` objects are built before timing, so only tracking is timed.

    .venv/bin/python benchmarks/tracking_vs_stonesoup.py                  # 10, 50, 200 targets
    .venv/bin/python benchmarks/tracking_vs_stonesoup.py --quick          # about 15 s
    .venv/bin/python benchmarks/tracking_vs_stonesoup.py --sizes 10,50 --scans 100
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # single-threaded, as in the anchor measurements
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

import numpy as np  # noqa: E402

from iadsim.sim.ospa import ospa_series  # noqa: E402
from iadsim.sim.tracking import Tracker, TrackerConfig  # noqa: E402

Q_PSD = 0.5  # m^2/s^3
SIGMA_M = 10.0
PD = 0.9
INIT_SPEED_SIGMA_MPS = 30.0  # prior velocity standard deviation for a new track, both trackers
OSPA_C_M, OSPA_P = 100.0, 1.0


def make_scenario(n_targets: int, n_scans: int, seed: int):
    """Truth positions (scans, N, 2) and per-scan detections (M, 2) with truth tags (-1 = clutter)."""
    rng = np.random.default_rng(seed)
    side = 1000.0 * np.sqrt(n_targets)
    pos = rng.uniform(0, side, (n_targets, 2))
    vel = rng.normal(0, 10, (n_targets, 2))
    Q1 = Q_PSD * np.array([[1 / 3, 1 / 2], [1 / 2, 1.0]])  # one axis, dt = 1 s
    L = np.linalg.cholesky(Q1)
    truth, dets, tags = [], [], []
    for _ in range(n_scans):
        w = rng.standard_normal((n_targets, 2, 2)) @ L.T
        pos, vel = pos + vel + w[:, :, 0], vel + w[:, :, 1]
        seen = np.flatnonzero(rng.random(n_targets) < PD)
        n_c = rng.poisson(n_targets / 5)
        z_t = pos[seen] + rng.normal(0, SIGMA_M, (len(seen), 2))
        z_c = rng.uniform(-2000, side + 2000, (n_c, 2))
        truth.append(pos.copy())
        dets.append(np.vstack([z_t, z_c]))
        tags.append(np.concatenate([seen, np.full(n_c, -1)]))
    return truth, dets, tags


def run_iadsim(dets, tags):
    cfg = TrackerConfig(
        dim=2,
        q_accel_mps2=np.sqrt(Q_PSD),
        gate_chi2=9.0,
        init_m=3,
        init_n=5,
        delete_after_misses=5,
        init_speed_sigma_mps=INIT_SPEED_SIGMA_MPS,
    )
    tracker, R = Tracker(cfg), np.eye(2) * SIGMA_M**2
    times, estimates = [], []
    for k, (z, tag) in enumerate(zip(dets, tags, strict=True)):
        t0 = time.perf_counter()
        tracker.step(float(k), z, R, tag)
        times.append(time.perf_counter() - t0)
        estimates.append(tracker.confirmed_tracks()[1])
    return np.array(times), estimates


def build_stonesoup(variant: str):
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import KalmanUpdater

    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(Q_PSD)] * 2)
    sensor = LinearGaussian(ndim_state=4, mapping=(0, 2), noise_covar=np.eye(2) * SIGMA_M**2)
    predictor, updater = KalmanPredictor(transition), KalmanUpdater(sensor)
    hyp = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(), missed_distance=3)
    if variant == "gnn":
        associator = GNNWith2DAssignment(hyp)
    else:  # kd-tree gating at r = 200 m, as in the anchor
        associator = DetectionKDTreeGNN2D(
            hypothesiser=hyp, predictor=predictor, updater=updater, max_distance=200.0
        )
    v2 = INIT_SPEED_SIGMA_MPS**2
    initiator = MultiMeasurementInitiator(
        prior_state=GaussianState(np.zeros((4, 1)), np.diag([0.0, v2, 0.0, v2])),
        measurement_model=sensor,
        deleter=UpdateTimeStepsDeleter(2),
        data_associator=associator,
        updater=updater,
        min_points=3,
    )
    tracker = MultiTargetTracker(
        initiator=initiator,
        deleter=UpdateTimeStepsDeleter(5),
        detector=None,
        data_associator=associator,
        updater=updater,
    )
    return tracker, sensor


def run_stonesoup(variant: str, dets):
    from stonesoup.types.detection import Detection

    tracker, sensor = build_stonesoup(variant)
    t0 = datetime(2026, 1, 1)
    scans = []
    for k, z in enumerate(dets):  # object construction is simulation, not tracking: untimed
        ts = t0 + timedelta(seconds=k)
        scans.append(
            (ts, {Detection(p.reshape(2, 1), timestamp=ts, measurement_model=sensor) for p in z})
        )
    tracker.detector_iter = iter(scans)
    times, estimates = [], []
    for _ in scans:
        t_start = time.perf_counter()
        _, tracks = next(tracker)
        times.append(time.perf_counter() - t_start)
        pos = [np.asarray(tr.state_vector, float)[[0, 2], 0] for tr in tracks]
        estimates.append(np.array(pos).reshape(-1, 2))
    return np.array(times), estimates


def summarise(name, times, estimates, truth, settle):
    o = ospa_series(truth, estimates, c=OSPA_C_M, p=OSPA_P)
    ms = times * 1e3
    return dict(
        name=name,
        mean=ms.mean(),
        median=np.median(ms),
        p95=np.percentile(ms, 95),
        total=times.sum(),
        ospa=o.mean(),
        ospa_settled=o[settle:].mean(),
        final_tracks=len(estimates[-1]),
        times=ms,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,50,200", help="comma-separated target counts")
    ap.add_argument("--scans", type=int, default=200)
    ap.add_argument("--variants", default="gnn,kdgnn", help="Stone Soup variants: gnn,kdgnn")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--quick", action="store_true", help="10 and 50 targets, 50 scans")
    ap.add_argument("--per-scan", action="store_true", help="print every scan's times")
    args = ap.parse_args()
    sizes = [10, 50] if args.quick else [int(s) for s in args.sizes.split(",")]
    n_scans = 50 if args.quick else args.scans
    variants = [v for v in args.variants.split(",") if v]
    settle = min(10, n_scans // 2)

    run_iadsim(*make_scenario(5, 5, 0)[1:])  # warm-up: lazy scipy imports
    rows = []
    for n in sizes:
        t_gen = time.perf_counter()
        truth, dets, tags = make_scenario(n, n_scans, args.seed + n)
        t_gen = time.perf_counter() - t_gen
        n_det = np.mean([len(z) for z in dets])
        print(
            f"\nN = {n}: {n_scans} scans, {n_det:.1f} detections/scan, simulated in {t_gen:.2f} s"
        )
        res = [summarise("iadsim", *run_iadsim(dets, tags), truth, settle)]
        for v in variants:
            res.append(summarise(f"stonesoup-{v}", *run_stonesoup(v, dets), truth, settle))
            print(f"  stonesoup-{v} done in {res[-1]['total']:.1f} s", flush=True)
        print(f"  {'tracker':<17}{'total s':>9}{'ms/scan mean':>14}{'median':>9}{'p95':>9}"
              f"{'OSPA m':>9}{'OSPA>=' + str(settle):>10}{'tracks':>8}")  # fmt: skip
        for r in res:
            print(f"  {r['name']:<17}{r['total']:9.3f}{r['mean']:14.3f}{r['median']:9.3f}"
                  f"{r['p95']:9.3f}{r['ospa']:9.2f}{r['ospa_settled']:10.2f}{r['final_tracks']:8d}")  # fmt: skip
        if args.per_scan:
            for r in res:
                print(f"  {r['name']} ms per scan: " + " ".join(f"{t:.2f}" for t in r["times"]))
        rows.append((n, n_det, res))

    print("\nSummary: Stone Soup time / iadsim time per scan, and OSPA difference (iadsim vs peer)")
    for n, _, res in rows:
        ours = res[0]
        for r in res[1:]:
            ratio = r["mean"] / ours["mean"]
            d_ospa = 100 * (ours["ospa"] - r["ospa"]) / r["ospa"]
            print(f"  N={n:<4} vs {r['name']:<16} speed-up {ratio:8.1f}x   "
                  f"OSPA {ours['ospa']:.2f} vs {r['ospa']:.2f} m ({d_ospa:+.1f}%)")  # fmt: skip


if __name__ == "__main__":
    main()
