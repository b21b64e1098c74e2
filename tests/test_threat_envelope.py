"""A threat flown far outside its catalog class draws a ThreatEnvelopeWarning: in the library
(point_to_point, once per scenario raid), as one ``warning:`` line in ``iadsim trajectory`` and
``iadsim run`` (exit code 0). Limits: 10 % beyond the catalog max_range, 10 % above the catalog
(impulsive, minimum-energy at max_range) burnout speed for ballistic threats."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import yaml
from pyproj import Geod

from iadsim import catalog
from iadsim.errors import ThreatEnvelopeWarning
from iadsim.examples import example_path
from iadsim.scenario import load_scenario
from iadsim.sim.ballistic import min_energy_burnout
from iadsim.sim.kinematics import ENVELOPE_MARGIN, envelope_excess, point_to_point, sample_raids

GEOD = Geod(ellps="WGS84")
LAUNCH = (50.0, 30.0)


def _aim(range_km: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(LAUNCH[1], LAUNCH[0], 45.0, range_km * 1e3)
    return float(lat), float(lon)


def _envelope_warnings(fn, *args, **kw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args, **kw)
    return [str(w.message) for w in caught if issubclass(w.category, ThreatEnvelopeWarning)]


def test_the_catalog_speed_is_the_minimum_energy_burnout_speed_at_max_range():
    # what the energy check compares with: the class's own figure, independent of the check
    for tid in ("srbm-300", "mrbm-1000"):
        t = catalog.get(tid)
        v, _ = min_energy_burnout(t.max_range.si)
        assert t.speed.si == pytest.approx(float(v), rel=0.01)


@pytest.mark.parametrize(
    ("threat", "range_km", "apogee_km", "why"),
    [
        ("srbm-300", 329.0, None, None),  # within 10 % of 300 km, and of 1.70 km/s
        ("srbm-300", 331.0, None, "max_range of 300 km"),
        ("srbm-300", 300.0, 120.0, None),  # lofted, 1.79 km/s: inside the class
        ("srbm-300", 300.0, 150.0, "burnout speed of 1.89 km/s"),  # lofted beyond its energy
        ("srbm-300", 2900.0, None, "max_range of 300 km"),
        ("mrbm-1000", 1000.0, None, None),
        ("cruise-missile", 1700.0, None, "max_range of 1,500 km"),
        ("drone", 1600.0, None, None),
        ("fighter-4gen", 3000.0, None, None),  # an aircraft's max_range is a radius of action
    ],
)
def test_envelope_excess_uses_a_10_percent_margin_on_the_catalog_figures(
    threat, range_km, apogee_km, why
):
    assert ENVELOPE_MARGIN == 0.10
    msg = envelope_excess(
        catalog.get(threat), range_km * 1e3, None if apogee_km is None else apogee_km * 1e3
    )
    if why is None:
        assert msg is None
    else:
        assert why in msg and msg.startswith(f"{threat} flown {range_km:,.0f} km")


def test_point_to_point_warns_for_an_srbm_lofted_to_4500_km_at_7_2_km_s():
    msgs = _envelope_warnings(point_to_point, "srbm-300", LAUNCH, _aim(998.0), 4500.0, 60.0)
    assert len(msgs) == 1
    assert "max_range of 300 km" in msgs[0] and "burnout speed of 7.21 km/s" in msgs[0]
    assert _envelope_warnings(point_to_point, "srbm-300", LAUNCH, _aim(300.0), None, 10.0) == []


def _write_scenario(path, raids, duration_s=1200.0):
    path.write_text(
        yaml.safe_dump(
            {
                "name": "out of class",
                "time": {"duration_s": duration_s, "step_s": 1.0},
                "sites": [
                    {
                        "id": "sam",
                        "system": "patriot",
                        "lat": 50.5,
                        "lon": 31.0,
                        "ground_altitude_m": 0,
                        "heading_deg": 45,
                    }
                ],  # fmt: skip
                "raids": raids,
            },
            sort_keys=False,
        )
    )
    return path


RAIDS = [
    {"id": "fine", "threat": "srbm-300", "launch": list(LAUNCH), "aim": list(_aim(290.0))},
    {
        "id": "far",
        "threat": "srbm-300",
        "count": 3,
        "launch": list(LAUNCH),
        "aim": list(_aim(2900.0)),
    },  # fmt: skip
    {
        "id": "lofted",
        "threat": "srbm-300",
        "launch": list(LAUNCH),
        "aim": list(_aim(300.0)),
        "apogee_km": 200,
    },  # fmt: skip
]


def test_scenario_raids_warn_once_per_raid_with_the_located_field(tmp_path):
    scn = load_scenario(_write_scenario(tmp_path / "raids.yaml", RAIDS))
    msgs = _envelope_warnings(sample_raids, scn, np.arange(0.0, 10.0))
    assert len(msgs) == 2  # one per raid out of its class, not one per threat
    path = str(tmp_path / "raids.yaml")
    assert msgs[0].startswith(f"{path}:") and "field 'raids[1]'" in msgs[0]
    assert "flown 2,900 km" in msgs[0]
    assert "field 'raids[2]'" in msgs[1] and "to a 200 km apogee" in msgs[1]


@pytest.mark.parametrize("name", ["raid_s400_standalone.yaml", "raid_patriot_networked.yaml"])
def test_the_example_raids_are_inside_their_classes(name):
    scn = load_scenario(example_path(name))
    assert _envelope_warnings(sample_raids, scn, np.arange(0.0, 5.0)) == []


def test_cli_trajectory_prints_one_warning_line_and_exits_0(iadsim_cli, tmp_path):
    lat, lon = _aim(998.0)
    out = tmp_path / "x.csv"
    args = ("trajectory", "srbm-300", "--from", "50,30", "--to", f"{lat},{lon}", "--out", out)
    code, stdout, err = iadsim_cli(*args, "--apogee-km", 4500, "--step-s", 60)
    assert code == 0 and out.exists() and "lofted" in stdout
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: srbm-300 flown 998 km")
    lat, lon = _aim(300.0)
    code, _, err = iadsim_cli("trajectory", "srbm-300", "--from", "50,30", "--to", f"{lat},{lon}",
                              "--out", out)  # fmt: skip
    assert code == 0 and "warning" not in err


def test_cli_run_prints_one_warning_line_per_raid_out_of_class(iadsim_cli, tmp_path):
    scn = _write_scenario(tmp_path / "raids.yaml", RAIDS[:2])
    code, _, err = iadsim_cli("run", scn, "--runs", 1, "--out", tmp_path / "out")
    assert code == 0
    lines = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(lines) == 1 and "field 'raids[1]'" in lines[0] and "flown 2,900 km" in lines[0]
