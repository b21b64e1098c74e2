"""No silent defaults that change outcomes: a sector radar's heading is never assumed (a
located one-line error where it matters), and every default the engine applies to a site is
listed in summary.json and in the results store."""

from __future__ import annotations

import json
import textwrap

import duckdb
import pytest

import iadsim
from iadsim.coverage import compute_coverage_multi
from iadsim.errors import ScenarioError
from iadsim.examples import EXAMPLES_DIR
from iadsim.scenario import load_scenario
from iadsim.sim.engine import prepare

SCENARIO = """\
name: heading rule
environment: {k_factor: 1.3333, dem: null}
time: {duration_s: 360, step_s: 1}
sites:
  - id: sam-all-round
    system: nasams
    lat: 39.9
    lon: 32.8
  - id: ew
    system: arabel
    lat: 40.0
    lon: 32.9
  - id: pat
    system: patriot
    lat: 39.8
    lon: 32.9
    network: link
raids:
  - threat: cruise-missile
    count: 1
    route: [[39.8, 33.6, 50], [39.8, 32.9, 50]]
"""


def _write(tmp_path, text):
    p = tmp_path / "scn.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_sector_radar_without_heading_in_a_raid_scenario_is_a_located_error(tmp_path):
    p = _write(tmp_path, SCENARIO)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert "\n" not in msg
    # the site's line (the field itself is missing), the field, the radar, the fix
    assert msg.startswith(f"{p}:13: field 'sites[2].heading_deg': ")
    assert "'an-mpq-65' (120 deg)" in msg
    assert msg.endswith("give the boresight azimuth in degrees")


def test_all_round_radars_need_no_heading_and_a_stated_one_loads(tmp_path):
    text = SCENARIO.replace("    network: link\n", "    network: link\n    heading_deg: 90\n")
    scn = load_scenario(_write(tmp_path, text))
    assert scn.site("pat").heading_deg == 90.0
    assert scn.site("sam-all-round").heading_deg is None  # not given, not needed
    assert scn.sector_sites_without_heading() == []


def test_without_raids_coverage_may_turn_sectors_but_fixed_sectors_need_the_heading(tmp_path):
    text = SCENARIO.split("raids:")[0]
    p = _write(tmp_path, text)
    scn = load_scenario(p)  # no raids: a heading is not needed to load
    assert scn.sector_sites_without_heading() == [(2, "an-mpq-65", 120.0)]
    free = compute_coverage_multi(scn, [1000.0], threat="fighter-4gen", resolution_km=10.0)
    assert free[0].summary()["union"]["detection_area_km2"] > 0
    with pytest.raises(ScenarioError) as exc:
        compute_coverage_multi(scn, [1000.0], threat="fighter-4gen", resolution_km=10.0,
                               sectors=True)  # fmt: skip
    msg = str(exc.value)
    assert msg.startswith(f"{p}:13: field 'sites[2].heading_deg': ") and "fixed sectors" in msg
    # the engine fixes sectors too: prepare refuses the site even without raids
    with pytest.raises(ScenarioError, match=r"sites\[2\]\.heading_deg"):
        prepare(scn)


def test_shipped_examples_state_every_sector_heading():
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        assert load_scenario(path).sector_sites_without_heading() == [], path.name


def test_site_defaults_are_listed_in_summary_json_and_the_store(tmp_path):
    text = SCENARIO.replace("    network: link\n", "    network: link\n    heading_deg: 90\n")
    scn = _write(tmp_path, text)
    rs = iadsim.run(scn, runs=2, seed=3, out_dir=tmp_path / "out")
    expected = iadsim.deployment.resolve_deployment(load_scenario(scn))
    want = [p.as_dict() for p in expected.defaults()]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["site_defaults"] == want
    assert rs.summary["site_defaults"] == want
    # what the scenario stated is not listed; what it left out is, with its origin
    listed = {(d["site"], d["field"]): d for d in want}
    assert ("pat", "heading_deg") not in listed
    assert listed["pat", "ground_altitude_m"]["origin"] == "sea level"
    assert listed["pat", "doctrine.salvo_size"] == {
        "site": "pat", "field": "doctrine.salvo_size", "value": 2, "origin": "scenario default"
    }  # fmt: skip
    assert listed["ew", "radars.arabel.antenna_height_m"]["origin"] == "catalog default"
    con = duckdb.connect(str(tmp_path / "out" / "results.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT site, field, value, origin FROM site_defaults").fetchall()
    finally:
        con.close()
    assert rows == [(d["site"], d["field"], float(d["value"]), d["origin"]) for d in want]
