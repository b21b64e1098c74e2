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
