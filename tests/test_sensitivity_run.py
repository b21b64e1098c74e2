"""``iadsim sensitivity`` on a scenario whose outcome only one uncertain number can change."""

from __future__ import annotations

import json

import pytest

from iadsim.errors import InputError
from iadsim.sensitivity_run import run_sensitivity
from tests.helpers.simkit import SITE, east_of, scenario

ALT_M = 500.0


def _floor_decides():
    """A cruise missile at 500 m flies over the SAM. The interceptor's floor is a what-if of
    500 m with alternatives 100 and 900 m: below 500 m the SAM engages, above it cannot. P_k is
    an exact what-if of 1, so a shot always kills; every other uncertain number (ranges,
    speeds, times, Pd...) keeps a wide margin and cannot flip the outcome."""
    raid = {
        "threat": "test-cruise",
        "speed_mps": 250,
        "route": [[SITE[0], east_of(60), ALT_M], [SITE[0], east_of(-15), ALT_M]],
    }
    scn = scenario([{"id": "sam", "system": "test-sam", "lat": SITE[0], "lon": SITE[1],
                     "ground_altitude_m": 0}], [raid], duration_s=400.0)  # fmt: skip
    data = scn.model_dump(mode="json", exclude_none=True)
    data["catalog_overrides"] = {
        "test-missile": {
            "envelopes.cruise.min_altitude": {
                "value": 500, "unit": "m", "alternatives": [100, 900], "source": "what-if",
            },
            "pk.cruise": {"value": 1.0, "unit": "probability", "source": "what-if"},
        }
    }  # fmt: skip
    from iadsim.scenario import scenario_from_dict

    return scenario_from_dict(data)


@pytest.mark.slow
def test_the_only_parameter_that_can_change_the_outcome_ranks_first(test_catalog):
    scn = _floor_decides()
    res = run_sensitivity(scn, method="morris", n=2, runs_per_point=1, seed=0)
    assert res.ranked[0] == "test-missile:envelopes.cruise.min_altitude"
    top, rest = res.rows[0], res.rows[1:]
    assert top["mu_star"] > 0.5  # leakers per run move between 0 and 1 across the floor
    assert all(r["mu_star"] < 0.2 * top["mu_star"] for r in rest)
    assert top["quality"] == "scenario override"
    assert (top["span_low"], top["span_high"]) == (100.0, 900.0)
    json.dumps(res.to_dict())  # the payload of sensitivity.json is plain JSON


def test_a_metric_the_results_do_not_have_is_refused_by_name(test_catalog):
    with pytest.raises(InputError, match="not a metric") as exc:
        run_sensitivity(_floor_decides(), n=2, runs_per_point=1, metric="leakers")
    assert exc.value.param == "metric"


@pytest.mark.slow
def test_decisive_parameters_name_the_floor_of_the_job_whose_outcome_it_decides(test_catalog):
    # job A: the floor (100..900 m around a 500 m cruise missile) decides each run's leak; job
    # B: the same raid with the floor an exact 100 m what-if, so B always kills; the difference
    # A - B then hinges on A's floor alone
    import iadsim
    from iadsim.api import decisive_parameters
    from iadsim.scenario import scenario_from_dict

    a = _floor_decides()
    data = a.model_dump(mode="json", exclude_none=True)
    data["catalog_overrides"]["test-missile"]["envelopes.cruise.min_altitude"] = {
        "value": 100, "unit": "m", "source": "what-if",
    }  # fmt: skip
    b = scenario_from_dict(data)
    jobs = {
        label: iadsim.run(s, runs=40, seed=3, workers=1, parameter_uncertainty=True)
        for label, s in (("A", a), ("B", b))
    }
    assert jobs["B"].runs["leakers"].sum() == 0
    assert 0 < jobs["A"].runs["leakers"].sum() < 40
    top = decisive_parameters(jobs, k=3, n_boot=50)
    assert (top[0]["job"], top[0]["parameter"]) == (
        "A",
        "test-missile:envelopes.cruise.min_altitude",
    )
    assert top[0]["rho"] > 0  # a higher floor, more leakers
    assert top[0]["share"] > 0.5 and top[0]["share_low"] <= top[0]["share"] <= top[0]["share_high"]
    assert all(r["share"] < 0.3 * top[0]["share"] for r in top[1:])
    assert top[0]["quality"] == "scenario override"


def test_decisive_parameters_refuse_a_job_without_parameter_uncertainty(test_catalog):
    import iadsim
    from iadsim.api import decisive_parameters

    rs = iadsim.run(_floor_decides(), runs=4, seed=0, workers=1)
    with pytest.raises(InputError, match="parameter_uncertainty=True") as exc:
        decisive_parameters({"A": rs})
    assert exc.value.param == "results"
