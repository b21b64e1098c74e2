"""Hostile input: every number finite and in its documented range, strict YAML, contradictory
fields refused, doubtful input warned about; one located line each, never a traceback.

Each case of the hostile-input review (issue 10) is a test here: the scenario cases go through
``iadsim check`` (the loader and every lint, no simulation), the command-line cases through
their own command.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from iadsim.errors import DemOutlierWarning, ScenarioError
from iadsim.scenario import load_scenario, scenario_from_dict

BASE = """\
name: hostile
time: {{duration_s: 1800, step_s: 2}}
sites:
  - {{id: s, system: s-400, lat: 39.9, lon: 32.8, heading_deg: 100, ground_altitude_m: {ground}}}
raids:
  - {{threat: cruise-missile, count: 2, launch_time_s: {launch}, spacing_s: {spacing},
     speed_mps: {speed}, route: [[39.0, 34.0, {alt}], [39.9, 32.8, 30]]}}
  - {{threat: srbm-300, count: 1, launch: [38.5, 34.5], aim: [39.9, 32.8], apogee_km: {apogee}}}
networks:
  - {{id: n, members: [s], latency_s: {latency}}}
"""
GOOD = dict(ground=900, launch=0, spacing=10, speed=240, alt=50, apogee="null", latency=1)


def scenario_text(**changes: object) -> str:
    return BASE.format(**(GOOD | changes))


def check(iadsim_cli, tmp_path, text: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return (path, *iadsim_cli("check", path))


def assert_one_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize(
    ("change", "line", "field", "needle"),
    [
        ({"ground": ".nan"}, 4, "sites[0].ground_altitude_m", "finite number"),
        ({"ground": 20000}, 4, "sites[0].ground_altitude_m", "less than or equal to 9000"),
        ({"alt": ".nan"}, 7, "raids[0].route[0][2]", "finite number"),
        ({"alt": -5000}, 7, "raids[0].route", "-5000 m is outside [-500, 100000] m"),
        ({"alt": "1.0e+8"}, 7, "raids[0].route", "1e+08 m is outside"),
        ({"speed": ".inf"}, 7, "raids[0].speed_mps", "finite number"),
        ({"launch": ".inf"}, 6, "raids[0].launch_time_s", "finite number"),
        ({"spacing": ".inf"}, 6, "raids[0].spacing_s", "finite number"),
        ({"latency": ".inf"}, 10, "networks[0].latency_s", "finite number"),
        ({"apogee": ".inf"}, 8, "raids[1].apogee_km", "finite number"),
        ({"apogee": 1.0e5}, 8, "raids[1].apogee_km", "less than or equal to 5000"),
    ],
)
def test_non_finite_or_absurd_scenario_numbers_are_located_errors(
    iadsim_cli, tmp_path, change, line, field, needle
):
    path, code, _, err = check(iadsim_cli, tmp_path, scenario_text(**change))
    assert_one_error(code, err, f"{path}:{line}: field '{field}'", needle)


def test_an_inventory_of_10_to_the_20_is_a_located_error(iadsim_cli, tmp_path):
    text = scenario_text().replace(
        "heading_deg: 100,", "heading_deg: 100, interceptors: {48n6e3: 100000000000000000000},"
    )
    path, code, _, err = check(iadsim_cli, tmp_path, text)
    assert_one_error(code, err, f"{path}:4: field 'sites[0].interceptors.48n6e3'", "10000")


def test_a_raid_with_a_route_and_launch_aim_is_an_error(iadsim_cli, tmp_path):
    text = scenario_text().replace("route: [[39.0", "launch: [38.0, 34.0], route: [[39.0")
    path, code, _, err = check(iadsim_cli, tmp_path, text)
    assert_one_error(code, err, f"{path}:6: field 'raids[0]'", "not both", "'launch'")


def test_agl_route_below_ground_is_an_error():
    raid = {"threat": "cruise-missile", "altitude_reference": "agl"}
    raid["route"] = [[39.0, 34.0, -10], [39.9, 32.8, 30]]
    with pytest.raises(ScenarioError, match=r"raids\[0\].*above the ground"):
        scenario_from_dict({"name": "x", "raids": [raid]})


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("name: a\nname: b\n", 2, "key 'name' is given twice in one mapping (also on line 1)"),
        ("name: x\nsites:\n  - {id: a, id: b}\n", 3, "key 'id' is given twice"),
        ("name: !!python/object:os.system {}\n", 1, "python/object"),
        ("name: !custom x\n", 1, "'!custom'"),
        ("name: &a [*a]\n", 1, "refers to itself"),
        ("name: x\n? [a, b]\n: 1\n", 2, "plain name"),
    ],
)
def test_duplicate_keys_unknown_tags_and_odd_aliases_are_errors(
    iadsim_cli, tmp_path, text, line, needle
):
    path, code, _, err = check(iadsim_cli, tmp_path, text)
    assert_one_error(code, err, f"{path}:{line}:", needle)


def test_an_alias_bomb_is_refused_quickly(iadsim_cli, tmp_path):
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 10):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    text += "name: *a9\n"
    _, code, _, err = check(iadsim_cli, tmp_path, text)
    assert_one_error(code, err, "aliases expand it beyond 10,000 nodes")


def test_deeply_nested_yaml_is_one_error(iadsim_cli, tmp_path):
    _, code, _, err = check(iadsim_cli, tmp_path, "name: " + "[" * 3000 + "]" * 3000)
    assert_one_error(code, err, "nested too deeply")


def test_yaml_anchors_within_the_bound_still_load(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(
        "name: anchors\nsites:\n  - &s {id: a, system: s-400, lat: 39.9, lon: 32.8}\n"
        "  - {<<: *s, id: b}\n"
    )
    assert [s.id for s in load_scenario(path).sites] == ["a", "b"]


# ---- doubtful but legal input: one warning line, exit 0 -------------------------------------


def test_check_of_the_examples_is_clean(iadsim_cli):
    for name in ("raid_s400_standalone", "raid_patriot_networked"):
        code, out, err = iadsim_cli("check", f"examples/{name}.yaml")
        assert code == 0 and err == "" and "no errors, 0 warnings" in out


def test_check_warns_about_srbm_flown_2900_km_and_a_late_raid(iadsim_cli, tmp_path):
    text = scenario_text().replace("launch: [38.5, 34.5]", "launch: [40.0, -1.0]")
    text = text.replace("launch_time_s: 0,", "launch_time_s: 1800,")
    path, code, out, err = check(iadsim_cli, tmp_path, text)
    lines = err.splitlines()
    assert code == 0 and len(lines) == 2 and all(x.startswith("warning: ") for x in lines), err
    assert f"{path}:6: field 'raids[0].launch_time_s'" in err and "none of its threats" in err
    assert f"{path}:8: field 'raids[1]'" in err and "beyond its catalog max_range" in err
    assert "2 warnings" in out


def test_check_warns_when_the_last_threat_arrives_after_the_duration(iadsim_cli, tmp_path):
    text = scenario_text(spacing=1500)
    path, code, _, err = check(iadsim_cli, tmp_path, text)
    assert code == 0 and err.count("\n") == 1
    assert f"{path}:6: field 'raids[0]': its last threat arrives at" in err
    assert "give duration_s >=" in err


def test_check_warns_about_an_empty_raid_list(iadsim_cli, tmp_path):
    path, code, _, err = check(
        iadsim_cli,
        tmp_path,
        "name: x\nsites:\n  - {id: a, system: s-400, lat: 1, lon: 2}\nraids: []\n",
    )
    assert (
        code == 0
        and err
        == f"warning: {path}:4: field 'raids': no raids: fine for "
        "'iadsim coverage', but 'iadsim run' would simulate nothing; add raids to simulate\n"
    )


def test_check_warns_about_a_sector_radar_facing_away_from_the_raids(iadsim_cli, tmp_path):
    # the raids come from the south-east (bearings ~145 deg); the 92N6E (90 deg) faces north
    path, code, _, err = check(iadsim_cli, tmp_path, scenario_text().replace("100,", "0,", 1))
    assert code == 0 and err.count("\n") == 1, err
    assert f"{path}:4: field 'sites[0].heading_deg'" in err and "faces away" in err


def _dem(path, data, west=30.0, north=42.0, res=0.05):
    with rasterio.open(
        path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
        dtype="float32", crs="EPSG:4326", transform=from_origin(west, north, res, res),
        nodata=-32768,
    ) as ds:  # fmt: skip
        ds.write(data.astype(np.float32), 1)


def test_check_warns_about_a_dem_not_covering_the_raid_and_its_spikes(iadsim_cli, tmp_path):
    heights = np.full((60, 60), 800.0)  # 39-42 N, 30-33 E: the raid starts at 34 E
    heights[40, 40] = 1e9
    _dem(tmp_path / "dem.tif", heights)
    text = scenario_text().replace(
        "name: hostile\n", "name: hostile\nenvironment: {dem: dem.tif}\n"
    )
    path, code, _, err = check(iadsim_cli, tmp_path, text)
    assert code == 0, err
    assert f"{path}:7: field 'raids[0]': the DEM" in err and "% of the raid's ground track" in err
    assert "1 cells with heights outside [-11000, 9000] m (e.g. 1e+09 m)" in err
    assert all(x.startswith("warning: ") for x in err.splitlines())


def test_dem_spikes_read_as_nodata_with_one_warning(tmp_path):
    from iadsim.geo.dem import Dem

    heights = np.full((20, 20), 100.0)
    heights[5, 5], heights[6, 6] = 1e9, -1e9
    _dem(tmp_path / "d.tif", heights)
    with warnings.catch_warnings(record=True) as caught, Dem.open(tmp_path / "d.tif") as dem:
        warnings.simplefilter("always")
        block = dem.read_window(rasterio.windows.Window(0, 0, 20, 20))
        dem.read_window(rasterio.windows.Window(0, 0, 20, 20))
    assert np.isnan(block[5, 5]) and np.isnan(block[6, 6]) and block[0, 0] == 100
    assert [w.category for w in caught] == [DemOutlierWarning]


def test_run_warns_when_the_dem_does_not_cover_the_raid(tmp_path):
    import iadsim

    _dem(tmp_path / "dem.tif", np.full((60, 60), 800.0))
    text = scenario_text().replace(
        "name: hostile\n", "name: hostile\nenvironment: {dem: dem.tif}\n"
    )
    text = text.replace("duration_s: 1800, step_s: 2", "duration_s: 20, step_s: 10")
    (tmp_path / "s.yaml").write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        iadsim.run(tmp_path / "s.yaml", runs=1)
    assert any("the DEM" in str(w.message) and "raid's ground track" in str(w.message)
               for w in caught)  # fmt: skip


# ---- command-line numbers and output ----------------------------------------------------------


#: a valid `iadsim trajectory` call, to which a test adds one bad option
_TRAJECTORY = ["trajectory", "srbm-300", "--from", "38,34", "--to", "39.9,32.8"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["vcd", "s-400", "--antenna-height-m", "nan"],
            "--antenna-height-m must lie in [0, 10000]",
        ),
        (["vcd", "s-400", "--antenna-height-m", "1e9"], "--antenna-height-m must lie in"),
        (["vcd", "s-400", "--k-factor", "inf"], "--k-factor must be in (0.5, 100]"),
        (
            [*_TRAJECTORY, "--apogee-km", "inf"],
            "--apogee-km must lie in (0, 5000] km",
        ),
        (
            [*_TRAJECTORY, "--apogee-km", "nan"],
            "--apogee-km must lie in",
        ),
        (
            ["coverage", "examples/ankara.yaml", "--altitude-m", "100", "--resolution-km", "nan"],
            "--resolution-km must be > 0, got nan",
        ),
    ],
)
def test_non_finite_command_line_numbers_are_one_line(iadsim_cli, tmp_path, args, needle):
    code, _, err = iadsim_cli(*args, "--out", tmp_path / "o.png")
    assert_one_error(code, err, needle)
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("sql", ["", " ; "])
def test_results_with_an_empty_query_is_one_line(iadsim_cli, tmp_path, sql):
    import iadsim

    path = tmp_path / "s.yaml"
    path.write_text(
        scenario_text().replace("duration_s: 1800, step_s: 2", "duration_s: 20, step_s: 10")
    )
    iadsim.run(path, runs=1, out_dir=tmp_path / "out")
    code, _, err = iadsim_cli("results", tmp_path / "out", "--sql", sql)
    assert_one_error(code, err, "--sql:", "holds no query")


def test_ascii_terminal_gets_replacement_characters_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONIOENCODING="ascii", COLUMNS="120")
    proc = subprocess.run(
        [sys.executable, "-m", "iadsim.cli.main", "catalog", "show", "s-400"],
        capture_output=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr and b"S-400" in proc.stdout


@pytest.mark.parametrize(
    ("value", "needle"), [(1e300, "must lie in [0, 12000] mps"), (float("nan"), "finite number")]
)
def test_catalog_numbers_must_be_finite_and_in_range(tmp_path, value, needle):
    import yaml

    from iadsim import catalog
    from iadsim.errors import CatalogError

    raw = yaml.safe_load((catalog.DATA_DIR / "threats" / "srbm-300.yaml").read_text())
    raw["speed"]["value"] = value
    (tmp_path / "threats").mkdir()
    (tmp_path / "threats" / "srbm-300.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(CatalogError, match=r"srbm-300\.yaml: field 'speed") as err:
        catalog.load(tmp_path)
    assert needle in str(err.value)


def test_non_latin_names_render_with_a_cjk_font():
    from matplotlib.font_manager import FontProperties, findfont

    from iadsim.report.figure import font_families

    fams = font_families()
    if len(fams) == 1:
        pytest.skip("no CJK font installed (.ci/run installs fonts-droid-fallback)")
    path = findfont(FontProperties(family=fams[1]), fallback_to_default=False)
    from matplotlib.ft2font import FT2Font

    font = FT2Font(path)
    assert font.get_char_index(ord("北")) != 0


def test_plots_with_non_latin_names_give_no_warning(tmp_path):
    from iadsim.report.vcd import plot_vcd, vcd_curves

    curves = vcd_curves("s-400")
    curves["meta"]["name"] = "С-400 北京 بغداد"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_vcd(curves, tmp_path / "v.png")
    assert (tmp_path / "v.png").stat().st_size > 0
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught]
