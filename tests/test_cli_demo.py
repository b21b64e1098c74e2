"""``iadsim demo`` end to end on a coarse grid and a few runs: every product is written, the
smooth-Earth and terrain coverage differ the way physics says, and the comparison names both
deployments and every metric (including per-class ones)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from iadsim.geo.earth import horizon_range_m

pytestmark = pytest.mark.slow  # every test reads the products of one `iadsim demo` run


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    cmd = [sys.executable, "-m", "iadsim.cli.main", "demo", "--out", str(out), "--runs", "20",
           "--workers", "2", "--resolution-km", "5"]  # fmt: skip
    # a wide console, whatever COLUMNS the caller exported, so table cells are not truncated
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_demo_writes_every_product(demo):
    out, stdout = demo
    for kind, suffix in (("smooth", ""), ("terrain", "-agl")):
        for alt in (100, 1000, 10000):
            d = out / "coverage" / kind / f"alt-{alt}m{suffix}"
            for name in ("coverage.geojson", "coverage.tif", "coverage.png", "summary.json"):
                assert (d / name).stat().st_size > 0, d / name
    pngs = [out / "figures" / "outcomes.png", out / "coverage" / "smooth" / "vcd-s-400.png",
            out / "coverage" / "smooth" / "vcd-patriot.png"]  # fmt: skip
    for png in pngs:
        with Image.open(png) as im:
            assert im.size[0] > 600 and im.size[1] > 300
    for d in ("raid-s400-standalone", "raid-patriot-networked"):
        assert (out / d / "results.duckdb").is_file() and (out / d / "summary.json").is_file()
        with Image.open(out / d / "raid-map.png") as im:
            assert im.size[0] > im.size[1] > 400
    assert str(out / "report.html") in stdout.replace("\n", "")


def test_demo_writes_its_comparison_as_the_report_from_its_own_runs(demo):
    out, stdout = demo
    data = json.loads((out / "report.json").read_text())
    html = (out / "report.html").read_text()
    assert data["labels"] == ["S-400 standalone", "Patriot networked"] and data["same_raid"]
    # the report reads the demo's own stores: nothing was run twice
    assert [d["dir"] for d in data["deployments"]] == ["raid-s400-standalone",
                                                         "raid-patriot-networked"]  # fmt: skip
    for d in data["deployments"]:
        summary = json.loads((out / d["dir"] / "summary.json").read_text())
        leak = next(r for r in data["outcomes"] if r["metric"] == "leakers_per_run")
        assert leak["values"][d["label"]] == summary["metrics"]["leakers_per_run"]
        assert d["runs"] == 20 and d["parameter_uncertainty"]
    # each deployment's coverage over the terrain, at the demo's altitudes above ground
    cov = data["coverage"]
    assert cov["terrain"] and cov["altitude_reference"] == "agl" and cov["common_grid"]
    assert [a["altitude_m"] for a in cov["altitudes"]] == [100, 1000, 10000]
    for d in ("raid-s400-standalone", "raid-patriot-networked"):
        assert (out / d / "coverage" / "alt-1000m-agl" / "coverage.png").is_file()
    assert data["decisive"]["pairs"][0]["rows"] == json.loads((out / "decisive.json").read_text())
    assert "data:image/png;base64," in html and "<script" not in html


def test_smooth_coverage_is_the_horizon_disc_and_terrain_masks_the_basin_site(demo):
    out, _ = demo
    smooth = json.loads((out / "coverage/smooth/alt-100m/summary.json").read_text())
    terrain = json.loads((out / "coverage/terrain/alt-100m-agl/summary.json").read_text())
    s400 = next(s for s in smooth["sites"] if s["system"] == "s-400")
    # smooth Earth: the S-400 (91N6E on a 25 m mast) sees a 100 m target out to the horizon
    import math

    disc_km2 = math.pi * (horizon_range_m(25.0, 100.0) / 1e3) ** 2
    assert s400["detection_area_km2"] == pytest.approx(disc_km2, rel=0.08)  # 5 km cells
    assert [a["id"] for a in smooth["sites"]] == [b["id"] for b in terrain["sites"]]
    # over GLOBE terrain the S-400 sits in the Ankara basin: hills 1-2 deg above its radar
    # horizon within 20 km (brute-force profile in tests/test_globe.py) hide most low targets
    t400 = next(s for s in terrain["sites"] if s["system"] == "s-400")
    assert t400["detection_area_km2"] < 0.5 * s400["detection_area_km2"]


def test_comparison_has_both_deployments_and_per_class_metrics(demo):
    out, stdout = demo
    with open(out / "comparison.csv", newline="") as fh:
        rows = {r["metric"]: r for r in csv.DictReader(fh)}
    for metric in ("leakers_per_run", "interceptors_spent_per_run", "mean_warning_time_s",
                   "p_raid_defeated", "p_detected[cruise]", "p_kill[ballistic]"):  # fmt: skip
        assert metric in rows
        assert {"S-400 standalone", "Patriot networked"} <= set(rows[metric])
        # the rich table prints the per-class names verbatim (no markup swallowing [cruise])
        assert metric in stdout


def test_demo_names_three_numbers_the_difference_hinges_on(demo):
    out, stdout = demo
    rows = json.loads((out / "decisive.json").read_text())
    assert len(rows) == 3
    jobs = {"S-400 standalone", "Patriot networked"}
    for r in rows:
        assert r["job"] in jobs and ":" in r["parameter"]
        assert 0 <= r["share_low"] <= r["share"] <= r["share_high"] <= 1
        assert r["low"] < r["high"] and r["quality"]
        assert r["parameter"].split(":", 1)[1] in stdout.replace("\n", "")
    assert [r["share"] for r in rows] == sorted((r["share"] for r in rows), reverse=True)
    assert "parameter uncertainty included" in " ".join(stdout.split())  # the title may wrap
