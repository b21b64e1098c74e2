"""Monte Carlo with parameter uncertainty: each run's draws come from its own stream and are
applied exactly; results are the same for any worker count; the draws are stored; a drawn
number visibly drives the outcome."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from scipy import stats

import iadsim
from iadsim import uncertainty as U
from iadsim.montecarlo import ParameterJob, run_parameter_draw, run_replications, run_rng
from iadsim.sim import engine
from tests.helpers.simkit import SITE, east_of
from tests.test_uncertainty import _engine_scenario


@pytest.fixture(scope="module")
def scn():
    return _engine_scenario()


def test_each_run_draws_from_its_own_stream_and_runs_on_exactly_those_numbers(scn):
    rs = iadsim.run(scn, runs=3, seed=11, parameter_uncertainty=True)
    params = U.uncertain_parameters(scn)
    assert [p["name"] for p in rs.uncertain_parameters] == [p.name for p in params]
    wide = rs.parameter_values()
    for run_id in range(3):
        expect = U.draw(params, U.parameter_rng(11, run_id), scn.catalog)
        assert np.array_equal(wide.loc[run_id].to_numpy(), expect)
        p = engine.prepare(U.with_values(scn, params, expect))
        ev = engine.run_once(p, run_rng(11, run_id), run_id).events.to_frame()
        ev["run_id"] = run_id
        got = rs.events[rs.events.run_id == run_id].reset_index(drop=True)
        assert got[list(ev.columns)].equals(ev[list(ev.columns)])
    # the draws differ between runs, and from the catalog values
    assert not np.array_equal(wide.loc[0], wide.loc[1])


@pytest.mark.slow
def test_same_seed_same_results_for_one_or_two_workers(scn, tmp_path):
    a = iadsim.run(
        scn, runs=5, seed=4, workers=1, parameter_uncertainty=True, out_dir=tmp_path / "a"
    )
    b = iadsim.run(
        scn, runs=5, seed=4, workers=2, parameter_uncertainty=True, out_dir=tmp_path / "b"
    )
    assert a.parameter_draws.equals(b.parameter_draws)
    assert a.events.equals(b.events) and a.per_threat.equals(b.per_threat)
    assert (tmp_path / "a" / "summary.json").read_bytes() == (
        tmp_path / "b" / "summary.json"
    ).read_bytes()


def test_the_draws_and_their_distributions_are_stored(scn, tmp_path, iadsim_cli):
    code, out, err = iadsim_cli(
        "run", scn_path(scn, tmp_path), "--runs", 2, "--seed", 1, "--parameter-uncertainty",
        "--out", tmp_path / "o",
    )  # fmt: skip
    assert code == 0, err
    n = len(U.uncertain_parameters(scn))
    assert f"parameter uncertainty: {n} catalog numbers drawn in every run" in out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["parameter_uncertainty"] is True
    assert len(summary["uncertain_parameters"]) == n
    rec = {p["name"]: p for p in summary["uncertain_parameters"]}["srbm-300:boost_time"]
    assert rec["low"] < rec["value"] < rec["high"] and rec["distribution"].startswith("triang")
    con = duckdb.connect(str(tmp_path / "o" / "results.duckdb"), read_only=True)
    try:
        draws = con.execute("SELECT count(*), count(DISTINCT run_id) FROM parameter_draws")
        assert draws.fetchone() == (2 * n, 2)
        assert con.execute("SELECT count(*) FROM uncertain_parameters").fetchone() == (n,)
        inside = con.execute(
            "SELECT bool_and(d.value BETWEEN u.low AND u.high) FROM parameter_draws d "
            "JOIN uncertain_parameters u USING (item, field)"
        ).fetchone()
        assert inside == (True,)
    finally:
        con.close()
    # without the flag: no draws, the tables empty
    plain = iadsim.run(scn, runs=2, seed=1)
    assert plain.meta["parameter_uncertainty"] is False and len(plain.parameter_draws) == 0


def scn_path(scn, tmp_path):
    import yaml

    path = tmp_path / "scn.yaml"
    path.write_text(yaml.safe_dump(scn.model_dump(mode="json", exclude_none=True)))
    return path


def test_given_values_run_as_design_points(scn):
    """A ParameterJob with a values matrix (a sensitivity design) runs row i in run i."""
    params = U.uncertain_parameters(scn)
    rows = np.array([U.draw(params, U.parameter_rng(2, i), scn.catalog) for i in range(2)])
    drawn = run_replications(ParameterJob(scn, params, seed=2), 2, 2, run_fn=run_parameter_draw)
    given = run_replications(
        ParameterJob(scn, params, seed=2, values=rows), 2, 2, run_fn=run_parameter_draw
    )
    assert given.parameter_draws.equals(drawn.parameter_draws)
    assert given.events.equals(drawn.events)


def test_a_drawn_kill_probability_drives_the_kills():
    """One Patriot against 6 cruise missiles at 300 m; the PAC-3 MSE's cruise P_k overridden
    to 0.5 with alternatives 0.05 and 0.95: across runs the kills follow the drawn P_k
    (Spearman rank correlation clearly positive), as the parameter uncertainty says they
    should."""
    over = {
        "pac-3-mse": {
            "pk.cruise": {"value": 0.5, "unit": "probability", "alternatives": [0.05, 0.95]}
        }
    }
    scn = iadsim.scenario.scenario_from_dict(
        {
            "name": "pk drives kills",
            "sites": [{"id": "p", "system": "patriot", "lat": SITE[0], "lon": SITE[1],
                       "ground_altitude_m": 0, "heading_deg": 90,
                       "interceptors": {"pac-3-mse": 40},
                       "doctrine": {"salvo_size": 1, "shoot_look_shoot": False}}],
            "raids": [{"threat": "cruise-missile", "count": 6, "spacing_s": 15,
                       "speed_mps": 240,
                       "route": [[SITE[0], east_of(60), 300], [SITE[0], east_of(2), 300]]}],
            "time": {"duration_s": 400, "step_s": 1.0},
            "catalog_overrides": over,
        }
    )  # fmt: skip
    rs = iadsim.run(scn, runs=40, seed=0, parameter_uncertainty=True)
    pk = rs.parameter_values()["pac-3-mse:pk.cruise"]
    kills = rs.runs.set_index("run_id")["kills"].loc[pk.index]
    rho = stats.spearmanr(pk, kills).statistic
    assert rho > 0.4, rho
    assert pk.min() < 0.3 and pk.max() > 0.7
