"""Simulation throughput (a benchmark, not a test: it prints figures).

1. One run of a large synthetic raid: 1,000 threats (cruise missiles on routes, short- and
   medium-range ballistic missiles) against 20 fire units for 30 simulated minutes at 1 s
   steps, on one core. Prints the preparation time, the run time and the real-time factor
   (simulated seconds per wall-clock second of ``run_once``; target >= 1,000x).
2. 1,000 Monte Carlo runs of the demo raid(s) on 2 worker processes, through the public
   ``iadsim.run`` (target < 5 min per raid).

    python benchmarks/sim_throughput.py [--runs 1000] [--workers 2] [--skip-mc] [--skip-big]

The synthetic scenario is illustrative geometry, not an assessment.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO_RAIDS = ("examples/raid_s400_standalone.yaml", "examples/raid_patriot_networked.yaml")
CENTRE = (50.0, 20.0)  # lat, lon of the defended area (arbitrary, illustrative)


def _offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    """Small-offset point (equirectangular; fine for laying out a synthetic scenario)."""
    dlat = north_km / 111.2
    dlon = east_km / (111.2 * np.cos(np.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def synthetic_scenario(n_threats: int = 1000, n_units: int = 20) -> dict:
    """1,000 threats (70% cruise, 20% SRBM, 10% MRBM) against 20 fire units, 30 min, 1 s."""
    lat0, lon0 = CENTRE
    systems = ("patriot", "s-400", "samp-t", "nasams", "hq-9b")
    sites = []
    for i in range(n_units):
        row, col = divmod(i, 5)
        lat, lon = _offset(lat0, lon0, -60 + 40 * row, -80 + 40 * col)
        sites.append(
            {
                "id": f"fu{i:02d}",
                "system": systems[i % len(systems)],
                "lat": lat,
                "lon": lon,
                "heading_deg": 90.0,  # sector radars face the raids from the east
                "network": "iads" if systems[i % len(systems)] != "hq-9b" else None,
            }
        )
    assets = []
    for j in range(5):
        lat, lon = _offset(lat0, lon0, -40 + 20 * j, -20 + 10 * j)
        assets.append({"id": f"asset{j}", "lat": lat, "lon": lon, "radius_km": 10, "value": 1})
    n_cruise, n_srbm = int(0.7 * n_threats), int(0.2 * n_threats)
    n_mrbm = n_threats - n_cruise - n_srbm
    raids = []
    for k in range(14):  # cruise missiles from the east in 14 streams, 380 km out
        count = n_cruise // 14 + (1 if k < n_cruise % 14 else 0)
        aim = assets[k % 5]
        start = _offset(lat0, lon0, -150 + 22 * k, 380)
        mid = _offset(lat0, lon0, -100 + 15 * k, 150)
        raids.append(
            {
                "threat": "cruise-missile",
                "count": count,
                "launch_time_s": 10 * k,
                "spacing_s": 3,
                "route": [[*start, 50], [*mid, 50], [aim["lat"], aim["lon"], 30]],
            }
        )
    for k in range(10):
        aim = assets[k % 5]
        raids.append(
            {
                "threat": "srbm-300",
                "count": n_srbm // 10 + (1 if k < n_srbm % 10 else 0),
                "launch_time_s": 300 + 30 * k,
                "spacing_s": 4,
                "launch": list(_offset(aim["lat"], aim["lon"], 20 * (k - 5), 300)),
                "aim": [aim["lat"], aim["lon"]],
            }
        )
    for k in range(5):
        aim = assets[k]
        raids.append(
            {
                "threat": "mrbm-1000",
                "count": n_mrbm // 5 + (1 if k < n_mrbm % 5 else 0),
                "launch_time_s": 600 + 60 * k,
                "spacing_s": 6,
                "launch": list(_offset(aim["lat"], aim["lon"], 50 * (k - 2), 1000)),
                "aim": [aim["lat"], aim["lon"]],
            }
        )
    return {
        "name": "synthetic 1000 threats vs 20 fire units",
        "description": "benchmarks/sim_throughput.py; illustrative geometry",
        "sites": sites,
        "time": {"duration_s": 1800, "step_s": 1},
        "raids": raids,
        "assets": assets,
        "networks": [{"id": "iads", "latency_s": 2.0, "mode": "engage_on_remote"}],
    }


def bench_big_run(repeats: int = 3) -> None:
    from iadsim.scenario import scenario_from_dict
    from iadsim.sim import engine

    scn = scenario_from_dict(synthetic_scenario())
    n_threats = sum(r.count for r in scn.raids)
    t0 = time.perf_counter()
    prepared = engine.prepare(scn)
    prep_s = time.perf_counter() - t0
    engine.run_once(prepared, np.random.default_rng(0), 0)  # warm-up (JIT, caches)
    times, n_events = [], 0
    for r in range(repeats):
        t0 = time.perf_counter()
        res = engine.run_once(prepared, np.random.default_rng(r + 1), r + 1)
        times.append(time.perf_counter() - t0)
        n_events = len(res.events)
    run_s = min(times)
    sim_s = scn.time.duration_s
    pt = res.per_threat
    print(f"[1] {n_threats} threats vs {len(scn.sites)} fire units, {sim_s:.0f} s simulated "
          f"at {scn.time.step_s:g} s steps ({len(prepared.time_s)} steps)")  # fmt: skip
    print(f"    prepare (once per scenario): {prep_s:8.2f} s")
    print(f"    run_once (best of {repeats}):     {run_s:8.3f} s   "
          f"({n_events} events, {int(pt.killed.sum())} killed, {int(pt.leaked.sum())} leaked)")  # fmt: skip
    rtf = sim_s / run_s
    print(f"    real-time factor (run_once): {rtf:8.0f}x   target >= 1000x: "
          f"{'MET' if rtf >= 1000 else 'MISSED'}")  # fmt: skip
    rtf_all = sim_s / (run_s + prep_s)
    print(f"    real-time factor incl. prepare, single run: {rtf_all:.0f}x")


def bench_monte_carlo(runs: int, workers: int) -> None:
    import iadsim

    for rel in DEMO_RAIDS:
        path = ROOT / rel
        if not path.is_file():
            print(f"[2] {rel}: not found, skipped")
            continue
        t0 = time.perf_counter()
        rs = iadsim.run(path, runs=runs, seed=0, workers=workers)
        wall = time.perf_counter() - t0
        leak = rs.metric("leakers_per_run")
        print(f"[2] {rel}: {runs} runs on {workers} workers in {wall:6.1f} s "
              f"({wall / runs * 1000:.1f} ms/run; target < 300 s: "
              f"{'MET' if wall < 300 else 'MISSED'}); leakers/run {leak['value']:.2f} "
              f"[{leak['ci_low']:.2f}, {leak['ci_high']:.2f}], {len(rs.events)} events")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-mc", action="store_true")
    args = ap.parse_args()
    if not args.skip_big:
        bench_big_run(args.repeats)
    if not args.skip_mc:
        bench_monte_carlo(args.runs, args.workers)


if __name__ == "__main__":
    main()
