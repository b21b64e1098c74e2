"""`iadsim coverage` and `iadsim vcd` end to end through the real typer app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from iadsim.cli.main import app

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ankara.yaml"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _coverage_ok(runner, scenario, out, *args):
    """``iadsim coverage SCENARIO ARGS --out OUT``; it must succeed."""
    r = runner.invoke(
        app, ["coverage", str(scenario), *map(str, args), "--out", str(out)], env=WIDE
    )
    assert r.exit_code == 0, r.output
    return r


def test_help_texts(runner):
    for cmd in ("coverage", "vcd"):
        r = runner.invoke(app, [cmd, "--help"], env=WIDE)
        assert r.exit_code == 0, r.output
        assert "--out" in r.stdout and "--threat" in r.stdout
    assert "--altitude-m" in runner.invoke(app, ["coverage", "--help"], env=WIDE).stdout


@pytest.mark.slow
def test_coverage_run_writes_products_and_prints_summary(runner, tmp_path):
    r = _coverage_ok(runner, EXAMPLE, tmp_path, "--altitude-m", 1000, "--resolution-km", 8)
    for name in ("coverage.geojson", "coverage.tif", "coverage.png", "summary.json"):
        assert (tmp_path / name).is_file(), name
    s = json.loads((tmp_path / "summary.json").read_text())
    assert [x["id"] for x in s["sites"]] == ["ankara-1", "incirlik-patriot", "malatya-patriot"]
    assert s["union"]["detection_area_km2"] > 0 and s["threat"] == "fighter-4gen"
    assert "ankara-1" in r.stdout and "union" in r.stdout and str(tmp_path) in r.stdout


@pytest.mark.slow
def test_coverage_several_altitudes_agl_and_threat(runner, tmp_path):
    _coverage_ok(
        runner,
        EXAMPLE,
        tmp_path,
        *("--altitude-m", 100, "--altitude-m", 10000, "--agl"),
        *("--threat", "cruise-missile", "--resolution-km", 10),
    )
    index = json.loads((tmp_path / "index.json").read_text())
    assert [e["dir"] for e in index] == ["alt-100m-agl", "alt-10000m-agl"]
    assert index[0]["detection_area_km2"] < index[1]["detection_area_km2"]


@pytest.mark.slow
def test_coverage_with_scenario_dem_uses_terrain(runner, tmp_path):
    from iadsim.geo.synthetic_dem import write_geotiff

    # a flat 0 m DEM under a radar-only site: terrain run equals the smooth-Earth run
    write_geotiff(
        tmp_path / "flat.tif",
        np.zeros((120, 120), np.float32),
        cell_size_m=0.01,
        crs="EPSG:4326",
        origin=(32.3, 40.5),
    )
    scn = tmp_path / "s.yaml"
    scn.write_text(
        "name: t\nenvironment: {dem: flat.tif}\nsites:\n"
        "  - {id: r, system: an-mpq-65, lat: 39.93, lon: 32.86}\n"
    )
    outs = {}
    for tag in ("dem", "smooth"):
        if tag == "smooth":
            scn.write_text(scn.read_text().replace("dem: flat.tif", "dem: null"))
        r = _coverage_ok(runner, scn, tmp_path / tag, "--altitude-m", 200, "--resolution-km", 2)
        outs[tag] = json.loads((tmp_path / tag / "summary.json").read_text())
        # the 1.2 deg DEM holds less than the radar's ~70 km reach at 200 m: one warning line
        warned = [ln for ln in r.output.splitlines() if ln.startswith("warning: DEM")]
        assert len(warned) == (1 if tag == "dem" else 0), r.output
        if warned:
            assert "flat.tif covers only" in warned[0] and "of site 'r' at 200 m AMSL" in warned[0]
            assert 0.5 < outs[tag]["sites"][0]["dem_covered_fraction"] < 0.99
    assert outs["dem"]["terrain"] and not outs["smooth"]["terrain"]
    a_dem = outs["dem"]["union"]["detection_area_km2"]
    a_smooth = outs["smooth"]["union"]["detection_area_km2"]
    assert a_dem == pytest.approx(a_smooth, rel=0.03)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--altitude-m", "100", "--threat", "no-such-threat"], "unknown threat"),
        (["--altitude-m", "100", "--resolution-km", "-2"], "resolution"),
        (["--altitude-m", "100", "--dem", "__BAD_DEM__"], "DEM"),
        (["--altitude-m", "-100", "--agl"], "must be >= 0"),
        # 1,000 km cells: every site would fall in one cell with zero area
        (["--altitude-m", "1000", "--resolution-km", "1000"], "coarser than"),
    ],
)
def test_coverage_errors_are_one_line_exit_2(iadsim_cli, tmp_path, args, needle):
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    args = [a.replace("__BAD_DEM__", str(bad)) for a in args]
    code, out, err = iadsim_cli("coverage", EXAMPLE, *args, "--out", tmp_path / "o")
    assert code == 2, err
    assert needle in err and "Traceback" not in err and out == ""
    assert len(err.strip().splitlines()) == 1


def test_coverage_bad_scenario_exit_2(iadsim_cli, tmp_path):
    scn = tmp_path / "s.yaml"
    shutil.copy(EXAMPLE, scn)
    scn.write_text(scn.read_text().replace("system: s-400", "system: s-999"))
    code, _, err = iadsim_cli("coverage", scn, "--altitude-m", "100", "--out", tmp_path / "o")
    assert code == 2 and "s-999" in err and "s.yaml:" in err


def test_vcd_run_and_errors(runner, iadsim_cli, tmp_path):
    out = tmp_path / "v.png"
    r = runner.invoke(app, ["vcd", "s-400", "--threat", "fighter-stealth", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.is_file() and out.with_suffix(".csv").is_file()
    r = runner.invoke(app, ["vcd", "an-tpy-2", "--out", str(tmp_path / "r.png")])
    assert r.exit_code == 0, r.output  # a radar alone: horizon and detection only
    code, _, err = iadsim_cli("vcd", "no-such-system", "--out", out)
    assert code == 2 and "unknown" in err
    code, _, err = iadsim_cli("vcd", "s-400", "--out", tmp_path / "v.txt")
    assert code == 2 and "--out" in err and ".png" in err
