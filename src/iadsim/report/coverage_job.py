"""A coverage job: compute coverage at several altitudes, write the files of
:mod:`iadsim.coverage.products` plus the map of each altitude, and optionally a vertical
coverage diagram (``iadsim coverage``, ``iadsim demo``, ``iadsim.run_coverage_job``).

It sits in the report layer, above :mod:`iadsim.coverage` (which writes no picture) and beside
the drawings it calls (:mod:`iadsim.report.maps`, :mod:`iadsim.report.vcd`), so that loading
it needs neither DuckDB, pandas nor the simulation engine.
"""

from __future__ import annotations

from pathlib import Path

from iadsim.coverage import products
from iadsim.coverage.analysis import compute_coverage_multi
from iadsim.fileio import atomic_write
from iadsim.report.maps import plot_coverage_map
from iadsim.report.vcd import write_vcd
from iadsim.scenario import Scenario, load_scenario


def write_coverage(result, out_dir, png: bool = True, summary: dict | None = None):
    """Write coverage.geojson, coverage.tif and summary.json
    (:func:`iadsim.coverage.write_coverage`) and, with ``png``, the map coverage.png into
    ``out_dir``; return their paths by kind (``summary`` reuses an already computed summary)."""
    paths = products.write_coverage(result, out_dir, summary=summary)
    if png:
        out = Path(out_dir) / "coverage.png"
        paths["png"] = atomic_write(out, lambda p: plot_coverage_map(result, p))
    return paths


def write_coverage_set(results, out_dir, png: bool = True) -> dict:
    """:func:`iadsim.coverage.products.write_coverage_set` (one folder per altitude when there
    are several, ``index.json``) plus, with ``png``, each altitude's map; same return value,
    with ``paths["png"]`` per altitude."""
    job = products.write_coverage_set(results, out_dir)
    if png:
        for result, entry in zip(results, job["altitudes"], strict=True):
            out = Path(entry["dir"]) / "coverage.png"
            entry["paths"]["png"] = atomic_write(out, lambda p, r=result: plot_coverage_map(r, p))
    return job


def run_coverage_job(
    scenario,
    altitudes_m=(100, 1000, 10000),
    threat: str = "fighter-4gen",
    resolution_km: float = 2.0,
    out_dir="out/coverage",
    agl: bool = False,
    dem=None,
    vcd: str | bool | None = "auto",
    progress=None,
    sectors: bool = False,
) -> dict:
    """Compute coverage at every altitude (one LOS pass per site) and write all products.

    ``scenario`` is a path or a loaded Scenario. ``vcd="auto"`` also writes ``vcd-<system>.png``
    (+ .csv) for the first site that is a system (e.g. the S-400), a catalog id picks one,
    False skips it. Returns ``{"altitudes": [{altitude_m, dir, paths, summary}], "index":
    path (several altitudes), "vcd": {png, csv} or None}``.
    """
    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    results = compute_coverage_multi(
        scn,
        list(altitudes_m),
        agl=agl,
        threat=threat,
        resolution_km=resolution_km,
        dem=dem,
        progress=progress,
        sectors=sectors,
    )
    job = write_coverage_set(results, out_dir)
    job["vcd"] = None
    if vcd:
        item = vcd
        if vcd == "auto":
            systems = [s for s in results[0].sites if s.fire_control is not None]
            item = systems[0].system if systems else None
        if item:
            v = write_vcd(
                item,
                Path(out_dir) / f"vcd-{item}.png",
                threat=threat,
                k_factor=scn.environment.k_factor,
            )
            job["vcd"] = {"png": v["png"], "csv": v["csv"]}
    return job
