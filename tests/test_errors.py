"""Library errors speak Python: a bad argument raises an InputError whose message names the
function's parameter (never a command-line option) and whose ``params`` carry that name."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from iadsim.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _raises(param: str, fn, *args, **kwargs) -> InputError:
    with pytest.raises(InputError, match=rf"(^|\W){param}\W") as exc:
        fn(*args, **kwargs)
    assert exc.value.param == param
    assert "--" not in str(exc.value), str(exc.value)
    return exc.value


@pytest.fixture(scope="module")
def ankara():
    from iadsim.scenario import load_scenario

    return load_scenario(EXAMPLES / "ankara.yaml")


def test_input_error_carries_its_parameters_through_pickling():
    err = InputError("launch and aim are the same point", ("launch", "aim"))
    assert (err.param, err.params) == ("launch", ("launch", "aim"))
    back = pickle.loads(pickle.dumps(err))  # as from a worker process
    assert (type(back), str(back), back.params) == (InputError, str(err), ("launch", "aim"))
    assert InputError("no parameter").param is None


def test_coverage_arguments(ankara):
    from iadsim.coverage import compute_coverage_multi

    err = _raises("resolution_km", compute_coverage_multi, ankara, [100], resolution_km=0)
    assert str(err) == "resolution_km must be > 0, got 0"
    _raises("altitudes_m", compute_coverage_multi, ankara, [])
    _raises("altitudes_m", compute_coverage_multi, ankara, [2e6])
    err = _raises("altitudes_m", compute_coverage_multi, ankara, [-100], agl=True)
    assert err.params == ("altitudes_m", "agl") and "(agl)" in str(err)
    _raises("resolution_km", compute_coverage_multi, ankara, [1000], resolution_km=1000)


def test_a_too_fine_resolution_is_reported_as_resolution_km_not_the_grid_cell(ankara):
    from iadsim.coverage import compute_coverage_multi
    from iadsim.coverage.grid import make_grid

    err = _raises("resolution_km", compute_coverage_multi, ankara, [10000], resolution_km=0.05)
    assert "too fine" in str(err)
    _raises("cell_m", make_grid, [40.0], [30.0], [400e3], 50.0)  # the grid's own parameter
    _raises("cell_m", make_grid, [40.0], [30.0], [400e3], 0.0)


def test_run_arguments_fail_before_the_scenario_is_loaded(tmp_path):
    from iadsim.api import RunSet, run

    _raises("runs", run, tmp_path / "not-loaded.yaml", runs=0)
    _raises("backend", run, tmp_path / "not-loaded.yaml", backend="ray")
    afile = tmp_path / "file"
    afile.write_text("")
    err = _raises("out_dir", run, tmp_path / "not-loaded.yaml", out_dir=afile)
    assert "exists and is a file; give a directory" in str(err)
    _raises("out_dir", RunSet.save, None, afile)


def test_trajectory_arguments():
    from iadsim.sim.ballistic import ballistic_trajectory, solve_ballistic
    from iadsim.sim.kinematics import point_to_point

    _raises("step_s", point_to_point, "srbm-300", (50, 30), (52, 31), step_s=0)
    _raises("apogee_km", point_to_point, "cruise-missile", (50, 30), (52, 31), apogee_km=90)
    err = _raises("launch", point_to_point, "cruise-missile", (50, 30), (50, 30))
    assert err.params == ("launch", "aim")
    _raises("aim_lat", ballistic_trajectory, 50, 30, 95, 31)
    _raises("boost_time_s", solve_ballistic, 300e3, boost_time_s=-1)
    _raises("boost_model", solve_ballistic, 300e3, boost_model="rocket")


def test_vcd_and_terrain_arguments(tmp_path):
    from iadsim.geo.globe import parse_bounds
    from iadsim.report.vcd import vcd_curves, write_vcd

    _raises("k_factor", vcd_curves, "s-400", k_factor=0.2)
    _raises("antenna_height_m", vcd_curves, "s-400", antenna_height_m=-1)
    _raises("out_png", write_vcd, "s-400", tmp_path / "v.csv")
    assert not (tmp_path / "v.csv").exists()
    _raises("bounds", parse_bounds, "1,2,3")


def test_metric_and_tracker_arguments():
    import numpy as np

    from iadsim.sim.ospa import ospa
    from iadsim.sim.tracking import Tracker, TrackerConfig

    _raises("c", ospa, [[0.0]], [[1.0]], c=0.0)
    _raises("p", ospa, [[0.0]], [[1.0]], c=1.0, p=0.5)
    _raises("dim", TrackerConfig, dim=4)
    _raises("gate_chi2", TrackerConfig, gate_chi2=-1.0)
    _raises("delete_after_misses", TrackerConfig, delete_after_misses=0)
    tracker = Tracker(TrackerConfig(dim=2))
    _raises("R", tracker.step, 0.0, np.zeros((2, 2)), np.zeros((3, 2, 2)))
