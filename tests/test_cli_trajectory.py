"""`iadsim trajectory` end to end through the real typer app."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod
from typer.testing import CliRunner

from iadsim import catalog
from iadsim.cli.main import app
from iadsim.sim.ballistic import (
    min_energy_apogee_m,
    min_energy_time_of_flight_s,
    solve_ballistic,
)

GEOD = Geod(ellps="WGS84")
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
LAUNCH, AIM = (50.0, 30.0), (52.6, 31.2)  # about 300 km


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _read(path):
    header = path.read_text().splitlines()[0]
    return header, np.loadtxt(path, delimiter=",", skiprows=1)


def _run(runner, *args):
    return runner.invoke(app, ["trajectory", *map(str, args)], env=WIDE)


def test_srbm_csv_runs_from_launch_to_aim_on_the_minimum_energy_arc(runner, tmp_path):
    out = tmp_path / "srbm.csv"
    res = _run(runner, "srbm-300", "--from", "50.0,30.0", "--to", "52.6,31.2", "--out", out)
    assert res.exit_code == 0, res.output
    assert "apogee_km" in res.stdout and "minimum-energy" in res.stdout
    header, data = _read(out)
    assert header == "time_s,lat,lon,alt_m,speed_mps"
    t, lat, lon, alt, speed = data.T
    range_m = GEOD.inv(LAUNCH[1], LAUNCH[0], AIM[1], AIM[0])[2]
    assert np.all(np.diff(t[:-1]) == pytest.approx(1.0))
    assert (lat[0], lon[0], alt[0], speed[0]) == (50.0, 30.0, 0.0, 0.0)
    assert lat[-1] == pytest.approx(AIM[0], abs=1e-7) and lon[-1] == pytest.approx(AIM[1], abs=1e-7)
    assert alt[-1] == 0.0
    # the default boost model, climb: the catalog's 60 s climb from rest, then the arc to the
    # minimum-energy apogee; about t_b / 2 later than the impulsive closed form
    boost_s = catalog.get("srbm-300").boost_time.si
    assert "climb" in res.stdout
    assert t[-1] == pytest.approx(min_energy_time_of_flight_s(range_m) + boost_s / 2, rel=0.05)
    assert t[-1] == pytest.approx(
        solve_ballistic(range_m, None, boost_s).time_of_flight_s, abs=1e-3
    )
    assert alt.max() == pytest.approx(min_energy_apogee_m(range_m), rel=0.01)
    assert speed[-1] == pytest.approx(catalog.get("srbm-300").reentry_speed.si, rel=0.05)


def test_arc_boost_model_keeps_the_closed_form_timing(runner, tmp_path):
    out = tmp_path / "arc.csv"
    res = _run(runner, "srbm-300", "--from", "50.0,30.0", "--to", "52.6,31.2", "--boost-model",
               "arc", "--out", out)  # fmt: skip
    assert res.exit_code == 0, res.output
    t, *_, speed = _read(out)[1].T
    range_m = GEOD.inv(LAUNCH[1], LAUNCH[0], AIM[1], AIM[0])[2]
    assert t[-1] == pytest.approx(min_energy_time_of_flight_s(range_m), rel=1e-3)
    assert speed[-1] == pytest.approx(catalog.get("srbm-300").reentry_speed.si, rel=0.05)


def test_cruise_missile_flies_the_geodesic_at_catalog_altitude_and_speed(runner, tmp_path):
    out = tmp_path / "cm.csv"
    res = _run(
        runner,
        "cruise-missile",
        "--from",
        "-33.9,18.4",
        "--to",
        "-33.0,19.0",
        "--step-s",
        5,
        "--out",
        out,
    )
    assert res.exit_code == 0, res.output
    _, data = _read(out)
    t, lat, lon, alt, speed = data.T
    cm = catalog.get("cruise-missile")
    dist = GEOD.inv(18.4, -33.9, 19.0, -33.0)[2]
    assert t[-1] == pytest.approx(dist / cm.speed.si, abs=1e-3)
    assert np.all(alt == pytest.approx(cm.cruise_altitude.si, abs=0.05))
    assert np.all(speed == pytest.approx(cm.speed.si, abs=0.01))
    _, _, step = GEOD.inv(lon[:-2], lat[:-2], lon[1:-1], lat[1:-1])
    assert step == pytest.approx(5 * cm.speed.si, rel=1e-4)


def test_lofted_apogee_is_flown_and_the_file_is_replaced_atomically(runner, tmp_path):
    out = tmp_path / "sub" / "lofted.csv"
    out.parent.mkdir()
    out.write_text("stale contents that must disappear\n" * 1000)
    res = _run(
        runner,
        "srbm-300",
        "--from",
        "50,30",
        "--to",
        "52.6,31.2",
        "--apogee-km",
        150,
        "--step-s",
        0.5,
        "--out",
        out,
    )
    assert res.exit_code == 0, res.output
    assert "lofted" in res.stdout
    _, data = _read(out)
    assert data[:, 3].max() == pytest.approx(150e3, rel=1e-4)
    assert [p.name for p in out.parent.iterdir()] == ["lofted.csv"]  # no temp file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["no-such-missile", "--from", "50,30", "--to", "52,31"],
            "unknown threat 'no-such-missile'",
        ),
        (["srbm-300", "--from", "50;30", "--to", "52,31"], "--from: expected LAT,LON"),
        (["srbm-300", "--from", "50,30", "--to", "95,31"], "--to: '95,31' is outside"),
        (["srbm-300", "--from", "50,30", "--to", "52,31", "--apogee-km", "2"], "is not feasible"),
        (
            ["cruise-missile", "--from", "50,30", "--to", "52,31", "--apogee-km", "90"],
            "ballistic threats",
        ),
        (["srbm-300", "--from", "50,30", "--to", "52,31", "--step-s", "0"], "--step-s must be > 0"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(iadsim_cli, tmp_path, args, message):
    out = tmp_path / "x.csv"
    code, stdout, err = iadsim_cli("trajectory", *args, "--out", out)
    assert code == 2
    err = err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err and stdout == ""
    assert not out.exists()
