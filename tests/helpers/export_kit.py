"""A small raid and its one-run results store, shared by the export tests (tests/test_export_*).

One Patriot battery and a radar-only AN/TPY-2 defend two assets against two cruise missiles
from the south, one 300 km ballistic missile and a late cruise missile still flying when the
simulated time ends (unresolved), over a smooth Earth (no DEM), for 700 s: the
run with :data:`SEED` has kills, a miss, a leak and an unresolved threat, so every part of an export is exercised.
"""

from __future__ import annotations

import copy
import warnings
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

SEED = 4

SCENARIO = {
    "name": "export test raid",
    "description": "Illustrative: one Patriot battery, two cruise missiles, one SRBM.",
    "time": {"duration_s": 700.0, "step_s": 1.0},
    "sites": [
        {"id": "pat-1", "system": "patriot", "lat": 39.90, "lon": 32.90, "heading_deg": 180},
        {"id": "tpy-1", "system": "an-tpy-2", "lat": 39.60, "lon": 33.20, "heading_deg": 190},
    ],
    "assets": [
        {"id": "city", "lat": 39.95, "lon": 32.90, "radius_km": 5, "value": 10},
        {"id": "base", "lat": 39.80, "lon": 33.30, "radius_km": 2, "value": 5},
    ],
    "raids": [
        {"id": "cm", "threat": "cruise-missile", "count": 2, "spacing_s": 40, "speed_mps": 250,
         "route": [[38.60, 32.95, 60], [39.95, 32.90, 60]]},
        {"id": "sr", "threat": "srbm-300", "count": 1, "launch_time_s": 100,
         "launch": [37.40, 33.60], "aim": [39.80, 33.30]},
        {"id": "late", "threat": "cruise-missile", "launch_time_s": 600, "speed_mps": 250,
         "route": [[38.00, 32.95, 60], [39.95, 32.90, 60]]},
    ],
}  # fmt: skip


def scenario_dict() -> dict:
    return copy.deepcopy(SCENARIO)


@cache
def _store(root: str) -> Path:
    import iadsim

    out = Path(root) / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", iadsim.UnresolvedThreatsWarning)  # the late missile
        iadsim.run(scenario_dict(), runs=1, seed=SEED, out_dir=out)
    return out


def run_store(tmp_path_factory) -> Path:
    """The results directory of one run of :data:`SCENARIO` (made once per test process)."""
    return _store(str(tmp_path_factory.getbasetemp()))


def frames(store: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The store's events and per_threat of run 0, and its meta."""
    con = duckdb.connect(str(store / "results.duckdb"), read_only=True)
    try:
        ev = con.execute("SELECT * FROM events WHERE run_id = 0 ORDER BY time_s").df()
        pt = con.execute("SELECT * FROM per_threat WHERE run_id = 0").df()
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()
    return ev, pt, meta
