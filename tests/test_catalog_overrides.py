"""Catalog views with overrides and the scenario key ``catalog_overrides``: the replaced number
is what every consumer reads, the base catalog is untouched, the outcome moves the way the
physics says, and each mistake is one located line."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from iadsim import catalog
from iadsim.catalog import Catalog, OverrideError
from iadsim.coverage.analysis import resolve_sites
from iadsim.deployment import resolve_deployment
from iadsim.errors import ScenarioError
from iadsim.scenario import load_scenario, scenario_from_dict
from iadsim.sim import engine
from iadsim.sim.kinematics import sample_raids
from tests.helpers.simkit import SITE, east_of

FLOOR = "envelopes.cruise.min_altitude"


def test_with_overrides_replaces_along_the_path_and_leaves_the_base_alone():
    base = catalog.base()
    view = base.with_overrides(
        {
            "pac-3-mse": {
                FLOOR: {"value": 30, "unit": "m", "alternatives": [9, 60], "source": "what-if"},
                "pk.ballistic": catalog.get("pac-3-mse")
                .pk["ballistic"]
                .model_copy(update={"value": 0.5}),
            },
            "an-mpq-65": {"antenna_height": {"value": 12, "unit": "m", "confidence": "low"}},
        }
    )
    pac3 = view.get("pac-3-mse", kind="interceptor")
    assert pac3.envelopes["cruise"].min_altitude.value == 30
    assert [a.value for a in pac3.envelopes["cruise"].min_altitude.alternatives] == [9, 60]
    assert pac3.pk["ballistic"].value == 0.5
    # the aircraft envelope shared the YAML anchor with the cruise one: only cruise changes
    assert pac3.envelopes["aircraft"].min_altitude.value == 50
    assert view.get("an-mpq-65").antenna_height.value == 12
    # the base catalog and the module-level functions are unchanged
    assert catalog.get("pac-3-mse").envelopes["cruise"].min_altitude.value == 50
    assert base.get("pac-3-mse").pk["ballistic"].value == 0.6
    assert [o.field for o in view.overrides] == [FLOOR, "pk.ballistic", "antenna_height"]
    rec = view.override("pac-3-mse", FLOOR)
    assert rec.original.value == 50 and not rec.exact
    assert view.override("an-mpq-65", "antenna_height").exact is False  # a confidence: drawn
    assert len(view) == len(base) and set(view) == set(base)
    assert [i.id for i in view.items("system")] == [i.id for i in catalog.items("system")]
    again = pickle.loads(pickle.dumps(view))
    assert again.get("pac-3-mse").envelopes["cruise"].min_altitude.value == 30
    assert again.overrides == view.overrides


def test_with_overrides_refuses_with_the_part_at_fault():
    base = catalog.base()
    cases = [
        ({"pac3-mse": {FLOOR: {"value": 1, "unit": "m"}}}, "item", "did you mean 'pac-3-mse'"),
        ({"pac-3-mse": {"envelopes.cruise.floor": {"value": 1, "unit": "m"}}}, "field", FLOOR),
        ({"pac-3-mse": {FLOOR: {"value": 0.03, "unit": "km"}}}, "unit", "give the value in m"),
        ({"pac-3-mse": {"pk.cruise": {"value": 1.2, "unit": "probability"}}}, "value", "[0, 1]"),
        ({"patriot": {"reaction_time": {"value": -1, "unit": "s"}}}, "value", ">= 0"),
    ]
    for overrides, part, text in cases:
        with pytest.raises(OverrideError) as err:
            base.with_overrides(overrides)
        assert err.value.part == part and text in str(err.value), str(err.value)


SCENARIO = """\
name: override test
sites:
  - {id: p, system: patriot, lat: 40.0, lon: 30.0, heading_deg: 90}
catalog_overrides:
  pac-3-mse:
    %s
"""


def _load(tmp_path: Path, entry: str):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO % entry, encoding="utf-8")
    return load_scenario(path)


@pytest.mark.parametrize(
    ("entry", "field", "problem"),
    [
        ("envelopes.cruise.min_altitud: {value: 30, unit: m}",
         "catalog_overrides.pac-3-mse.envelopes.cruise.min_altitud",
         f"is not a number of pac-3-mse; did you mean '{FLOOR}'"),
        (f"{FLOOR}: {{value: 0.03, unit: km}}",
         f"catalog_overrides.pac-3-mse.{FLOOR}.unit",
         "unit 'km' differs from the catalog's 'm'"),
        (f"{FLOOR}: {{value: .nan, unit: m}}",
         f"catalog_overrides.pac-3-mse.{FLOOR}.value",
         "finite number"),
        (f"{FLOOR}: {{value: 30, unit: m, alternatives: [9, .inf]}}",
         f"catalog_overrides.pac-3-mse.{FLOOR}.alternatives[1]",
         "finite number"),
        ("pk.cruise: {value: 1.5, unit: probability}",
         "catalog_overrides.pac-3-mse.pk.cruise.value",
         "probability: it must lie in [0, 1]"),
        ("pk.cruise: {value: 0.8, unit: probability, alternatives: [-0.1]}",
         "catalog_overrides.pac-3-mse.pk.cruise.alternatives",
         "probability: it must lie in [0, 1]"),
        (f"{FLOOR}: {{value: 50000, unit: m}}",
         f"catalog_overrides.pac-3-mse.{FLOOR}.value",
         "keep the minimum below the maximum"),
        (f"{FLOOR}: {{unit: m}}",
         f"catalog_overrides.pac-3-mse.{FLOOR}.value",
         "required field is missing"),
    ],
)  # fmt: skip
def test_scenario_override_mistakes_are_one_located_line(tmp_path, entry, field, problem):
    with pytest.raises(ScenarioError) as err:
        _load(tmp_path, entry)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{tmp_path / 's.yaml'}:6: field '{field}':"), msg
    assert problem in msg, msg


def test_unknown_item_names_close_matches_and_its_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        SCENARIO.replace("  pac-3-mse:", "  pac-3mse:") % f"{FLOOR}: {{value: 30, unit: m}}",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert re.match(
        rf"{re.escape(str(path))}:5: field 'catalog_overrides.pac-3mse': unknown catalog item "
        r"'pac-3mse'; did you mean 'pac-3-mse'",
        str(err.value),
    ), str(err.value)


def test_a_bad_path_lists_the_valid_ones(tmp_path):
    with pytest.raises(ScenarioError) as err:
        _load(tmp_path, "range: {value: 30, unit: km}")
    msg = str(err.value)
    assert "its numbers: average_speed, max_target_speed, envelopes.aircraft.min_range" in msg


def _scenario(overrides=None, raids=(), sites=None, dem=None):
    data = {
        "name": "override physics",
        "sites": sites
        or [
            {
                "id": "p",
                "system": "patriot",
                "lat": SITE[0],
                "lon": SITE[1],
                "ground_altitude_m": 0,
                "heading_deg": 90,
            }
        ],  # fmt: skip
        "raids": list(raids),
        "time": {"duration_s": 500, "step_s": 1.0},
    }
    if overrides:
        data["catalog_overrides"] = overrides
    return scenario_from_dict(data)


def _cruise_raid(alt_m: float = 30.0, count: int = 1):
    """Cruise missiles flying west along the site's parallel at ``alt_m`` (flat Earth, no
    DEM), from 100 km east to 5 km east of the Patriot."""
    return {
        "threat": "cruise-missile",
        "count": count,
        "spacing_s": 20,
        "speed_mps": 240,
        "route": [[SITE[0], east_of(100), alt_m], [SITE[0], east_of(5), alt_m]],
    }


def test_every_consumer_reads_the_scenario_catalog():
    over = {
        "pac-3-mse": {FLOOR: {"value": 20, "unit": "m"}},
        "an-mpq-65": {"antenna_height": {"value": 15, "unit": "m"}},
        "cruise-missile": {"rcs": {"value": 0.5, "unit": "m2"}},
    }
    scn = _scenario(over, [_cruise_raid()])
    assert scn.catalog.get("pac-3-mse").envelopes["cruise"].min_altitude.value == 20
    dep = resolve_deployment(scn)
    site = dep.site("p")
    pac3 = next(i for i in site.interceptors if i.id == "pac-3-mse")
    assert pac3.envelope("cruise").min_altitude.si == 20
    assert site.radars[0].antenna_height_m == 15
    assert sample_raids(scn, np.arange(3.0)).rcs_m2.tolist() == [0.5]
    spec = resolve_sites(scn, "cruise-missile")[0]
    plain = resolve_sites(_scenario(), "cruise-missile")[0]
    r = catalog.get("an-mpq-65")
    assert spec.radars[0].detection_range_m == pytest.approx(catalog.detection_range_m(r, 0.5))
    assert spec.radars[0].detection_range_m > plain.radars[0].detection_range_m
    env = {e.interceptor: e for e in spec.envelopes}
    assert env["pac-3-mse"].min_altitude_m == 20
    prepared = engine.prepare(scn)
    assert 20.0 in prepared.icp.min_alt_m


def test_a_lower_floor_lets_the_unit_engage_a_cruise_missile_it_could_not():
    """Cruise missiles at 300 m against a Patriot whose rounds' cruise floors are overridden to
    1000 m: no launch, reason below_min_altitude. Lowering the PAC-3 MSE floor to 100 m (below
    the missiles, with a margin of several times the track's height noise) lets the same unit
    launch PAC-3 MSE rounds, and the reason disappears."""
    raid = [_cruise_raid(300.0, count=2)]
    high = {"value": 1000, "unit": "m", "source": "what-if"}
    floors = {"pac-3-mse": {FLOOR: high}, "pac-2-gem-t": {FLOOR: high}}
    lowered = {**floors, "pac-3-mse": {FLOOR: {**high, "value": 100}}}
    for seed in (0, 1):
        ev = engine.simulate(_scenario(floors, raid), seed=seed).events.to_frame()
        assert (ev.kind == "launch").sum() == 0
        assert "below_min_altitude" in set(ev[ev.kind == "no_engagement"].reason)
        ev = engine.simulate(_scenario(lowered, raid), seed=seed).events.to_frame()
        launches = ev[ev.kind == "launch"]
        assert len(launches) > 0 and set(launches.interceptor) == {"pac-3-mse"}
        assert "below_min_altitude" not in set(ev[ev.kind == "no_engagement"].reason)


def test_the_run_records_and_prints_the_overrides(tmp_path, iadsim_cli):
    path = tmp_path / "s.yaml"
    path.write_text(
        """\
name: recorded overrides
sites:
  - {id: p, system: patriot, lat: 40.0, lon: 30.0, ground_altitude_m: 0, heading_deg: 90}
time: {duration_s: 300, step_s: 1}
raids:
  - {threat: cruise-missile, count: 1, speed_mps: 240,
     route: [[40.0, 30.8, 30], [40.0, 30.05, 30]]}
catalog_overrides:
  pac-3-mse:
    envelopes.cruise.min_altitude: {value: 30, unit: m, alternatives: [9, 60], source: "what-if"}
  cruise-missile:
    rcs: {value: 0.05, unit: m2}
""",
        encoding="utf-8",
    )
    code, out, err = iadsim_cli("run", path, "--runs", 2, "--out", tmp_path / "o")
    assert code == 0, err
    lines = [x for x in out.splitlines() if x.startswith("catalog override:")]
    assert lines == [
        "catalog override: pac-3-mse envelopes.cruise.min_altitude = 30 m (catalog 50 m; "
        "alternatives 9, 60; confidence low; source: what-if)",
        "catalog override: cruise-missile rcs = 0.05 m2 (catalog 0.1 m2; exact what-if; "
        "source: scenario override)",
    ]
    import json

    import duckdb

    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert [(o["item"], o["field"], o["value"]) for o in summary["catalog_overrides"]] == [
        ("pac-3-mse", FLOOR, 30),
        ("cruise-missile", "rcs", 0.05),
    ]
    con = duckdb.connect(str(tmp_path / "o" / "results.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT item, field, value, unit, catalog_value, alternatives, exact "
        "FROM catalog_overrides ORDER BY item"
    ).fetchall()
    con.close()
    assert rows == [
        ("cruise-missile", "rcs", 0.05, "m2", 0.1, "", True),
        ("pac-3-mse", FLOOR, 30.0, "m", 50.0, "9, 60", False),
    ]


def test_a_scenario_without_overrides_runs_on_the_base_catalog():
    scn = _scenario()
    assert isinstance(scn.catalog, Catalog) and scn.catalog.overrides == ()
    assert scn.catalog.get("patriot") is catalog.get("patriot")
