"""Parameter uncertainty: the distribution of each catalog number (against scipy and the
documented rules), the draws' own seed stream, and the list of uncertain numbers against what
the engine actually reads (each listed one moves the prepared arrays; every other number of the
items in play leaves the runs unchanged)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from iadsim import catalog
from iadsim import uncertainty as U
from iadsim.catalog import Quantity, iter_quantities
from iadsim.catalog.view import OverrideError
from iadsim.montecarlo import run_rng
from iadsim.scenario import scenario_from_dict
from iadsim.sim import engine
from tests.helpers.prepared import differing
from tests.helpers.simkit import SITE, east_of


def _q(value, unit="m", confidence="low", alternatives=(), basis="estimate"):
    return Quantity(
        value=value, unit=unit, source="test value", confidence=confidence, basis=basis,
        alternatives=[{"value": a, "source": "test alternative"} for a in alternatives],
    )  # fmt: skip


def _param(field, q, item="x", overrides=None):
    view = catalog.base()
    return U.parameter(U.UsedQuantity(item, "radar", field, q), view)


def test_distribution_spans_value_and_alternatives_else_the_confidence_spread():
    assert U.span(_q(50, alternatives=[9, 60])) == (9, 60)
    assert U.span(_q(50, alternatives=[50])) == pytest.approx((35, 65))  # low: 30 %
    assert U.span(_q(50, confidence="medium")) == pytest.approx((42.5, 57.5))
    assert U.span(_q(50, confidence="high", basis="seen")) == pytest.approx((47.5, 52.5))
    assert U.span(_q(0.0)) is None  # zero without alternatives: fixed
    p = _param("envelopes.cruise.min_altitude", _q(50, alternatives=[9, 60]))
    assert (p.spread_low, p.mode, p.spread_high, p.low, p.high) == (9, 50, 60, 9, 60)
    assert p.distribution == "triangular(9, 50, 60) m" and p.quality == "unsourced estimate"


def test_ppf_is_the_triangular_distribution():
    p = _param("range_noise", _q(20, alternatives=[10, 45]))
    u = np.random.default_rng(3).random(20_000)
    x = p.ppf(u)
    ref = stats.triang(c=(20 - 10) / 35, loc=10, scale=35)
    assert stats.kstest(x, ref.cdf).pvalue > 0.01
    assert x.mean() == pytest.approx((10 + 20 + 45) / 3, rel=0.01)
    assert p.ppf(0.0) == 10 and p.ppf(1.0) == 45
    assert p.ppf((20 - 10) / 35) == pytest.approx(20)  # the mode at its CDF value


def test_limits_clip_probabilities_round_counts_and_keep_sectors_all_round():
    pk = _param("pk.cruise", _q(0.85, unit="probability"))
    assert (pk.spread_high, pk.high) == (pytest.approx(1.105), 1.0)
    assert pk.ppf(1.0) == 1.0 and pk.ppf(0.0) == pytest.approx(0.595)
    pd = _param("detection_pd", _q(0.8, unit="probability"))
    assert 0.0 < pd.ppf(0.0) and pd.ppf(1.0) < 1.0  # strictly inside (0, 1): SNR stays finite
    n = _param("fire_control_channels", _q(9, unit="count"))
    values = n.ppf(np.linspace(0, 1, 101))
    assert set(values) == set(range(6, 13)) and n.low == 6 and n.high == 12
    assert _param("missiles_per_channel", _q(1, unit="count", confidence="high")) is None
    assert _param("azimuth_sector", _q(360, unit="deg")) is None  # all round by construction
    sector = _param("azimuth_sector", _q(120, unit="deg", alternatives=[360]))
    assert sector.high == 360 and sector.ppf(1.0) == 360
    el = _param("max_elevation", _q(80, unit="deg"))
    assert el.high == 90


def test_a_drawn_minimum_never_exceeds_its_maximum():
    base = catalog.base()
    lo = U.Parameter("pac-3-mse", "interceptor", "envelopes.ballistic.min_altitude",
                     _q(1, "km"), 0.5, 1, 40, 0, np.inf)  # fmt: skip
    hi = U.Parameter("pac-3-mse", "interceptor", "envelopes.ballistic.max_altitude",
                     _q(30, "km"), 20, 30, 40, 0, np.inf)  # fmt: skip
    u = np.random.default_rng(0).random((500, 2))
    v = U.values_from_unit([lo, hi], u, base)
    assert (v[:, 0] <= v[:, 1]).all() and (v[:, 0] > v[:, 1] - 1e-12).any()
    only_lo = U.values_from_unit([lo], u[:, :1], base)  # against the catalog's 30 km ceiling
    assert only_lo.max() == 30
    # so every draw is a valid override
    for row in v[:20]:
        base.with_overrides(U.as_overrides([lo, hi], row))
    with pytest.raises(OverrideError):
        base.with_overrides(U.as_overrides([lo, hi], [35.0, 31.0]))


def test_parameter_draws_have_their_own_stream():
    a = U.parameter_rng(5, 3).random(4)
    assert np.array_equal(a, U.parameter_rng(5, 3).random(4))
    assert not np.array_equal(a, run_rng(5, 3).random(4))
    assert not np.array_equal(a, U.parameter_rng(5, 4).random(4))
    assert not np.array_equal(a, U.parameter_rng(6, 3).random(4))


def _engine_scenario(overrides=None):
    """A Patriot with reserve rounds, a forward AN/TPY-2 on a cued network, a cruise raid
    with the catalog speed (no speed_mps), a cruise raid with its own speed and an SRBM:
    every kind of used number is exercised. Flat Earth, 420 s."""
    data = {
        "name": "used numbers",
        "sites": [
            {"id": "p", "system": "patriot", "lat": SITE[0], "lon": SITE[1],
             "ground_altitude_m": 0, "heading_deg": 90, "network": "n",
             "interceptors": {"pac-3-mse": 30, "pac-2-gem-t": 20}},
            {"id": "tpy", "system": "an-tpy-2", "lat": SITE[0], "lon": east_of(60),
             "ground_altitude_m": 0, "heading_deg": 90, "network": "n"},
        ],
        "raids": [
            {"threat": "cruise-missile", "count": 2, "spacing_s": 20,
             "route": [[SITE[0], east_of(90), 300], [SITE[0], east_of(2), 300]]},
            {"threat": "cruise-missile", "count": 1, "speed_mps": 250, "launch_time_s": 10,
             "route": [[SITE[0] + 0.05, east_of(80), 200], [SITE[0], east_of(2), 200]]},
            {"threat": "srbm-300", "count": 1, "launch_time_s": 60,
             "launch": [SITE[0], east_of(250)], "aim": [SITE[0], east_of(3)]},
        ],
        "time": {"duration_s": 420, "step_s": 1.0},
    }  # fmt: skip
    if overrides:
        data["catalog_overrides"] = overrides
    return scenario_from_dict(data)


def _moved(q: Quantity, field: str) -> list[float]:
    """Two different values ``q`` could take (one above, one below where possible)."""
    v = q.value
    if q.unit == "count":
        return [v + 1] + ([v - 1] if v > 1 else [])
    if q.unit == "probability":
        return [min(v * 1.2, 0.99), v * 0.8]
    if field.endswith("azimuth_sector"):
        return [min(v * 1.2, 360.0), v * 0.8]
    if field.endswith("elevation"):
        return [v * 1.2 if v else 1.0, v * 0.8 if v else -1.0]
    return [v * 1.2, v * 0.8] if v else [1.0]


def _with(scn_fn, item, field, q, value):
    try:
        return scn_fn({item: {field: {"value": value, "unit": q.unit}}})
    except Exception:  # an ordered pair the move would break: not a valid what-if
        return None


@pytest.fixture(scope="module")
def nominal():
    scn = _engine_scenario()
    return scn, engine.prepare(scn)


def test_every_used_number_moves_what_prepare_computes(nominal):
    scn, p0 = nominal
    used = U.used_quantities(scn)
    names = {u.name for u in used}
    # what the list holds for this scenario (and what it leaves out)
    assert {"patriot:reload_time", "patriot:fire_control_channels", "an-mpq-65:antenna_height",
            "an-tpy-2:azimuth_sector", "cruise-missile:speed", "srbm-300:boost_time",
            "pac-3-mse:envelopes.ballistic.min_altitude", "pac-2-gem-t:pk.cruise",
            "an-tpy-2:detection_pd"} <= names  # fmt: skip
    assert not any(".aircraft." in n or n.endswith("pk.aircraft") for n in names)
    assert "cruise-missile:cruise_altitude" not in names and "patriot:in_service" not in names
    for u in used:
        changed = []
        for value in _moved(u.quantity, u.field):
            s = _with(_engine_scenario, u.item, u.field, u.quantity, value)
            if s is not None:
                changed += differing(engine.prepare(s), p0)
        assert changed, f"{u.name} is listed but moves nothing prepare() computes"


def test_no_other_number_of_the_items_in_play_changes_a_run(nominal):
    scn, p0 = nominal
    used = {u.name for u in U.used_quantities(scn)}
    items = {u.item for u in U.used_quantities(scn)} | {"patriot", "an-tpy-2"}
    ref = [engine.run_once(p0, np.random.default_rng(s)).events.to_frame() for s in (0, 1)]
    checked = 0
    for item_id in sorted(items):
        for path, q in iter_quantities(catalog.get(item_id)):
            if f"{item_id}:{path}" in used:
                continue
            for value in _moved(q, path)[:1]:
                s = _with(_engine_scenario, item_id, path, q, value)
                if s is None:
                    continue
                p = engine.prepare(s)
                for seed, ev in zip((0, 1), ref, strict=True):
                    got = engine.run_once(p, np.random.default_rng(seed)).events.to_frame()
                    assert got.equals(ev), f"{item_id}:{path} is not listed but changes a run"
                checked += 1
    assert checked >= 15


def test_scenario_statements_take_numbers_off_the_list():
    data_scn = _engine_scenario()
    assert "an-mpq-65:antenna_height" in {u.name for u in U.used_quantities(data_scn)}
    d = data_scn.model_dump(mode="json")
    d["sites"][0]["antenna_height_m"] = 8
    d["sites"][0]["doctrine"] = {"max_simultaneous": 4, "reload_time_s": 600}
    names = {u.name for u in U.used_quantities(scenario_from_dict(d))}
    assert "an-mpq-65:antenna_height" not in names
    assert "patriot:fire_control_channels" not in names and "patriot:reload_time" not in names
    assert "an-tpy-2:antenna_height" in names  # the other site still uses its catalog height


def test_overrides_take_part_as_their_statement_says():
    over = {
        "pac-3-mse": {
            "envelopes.cruise.min_altitude": {"value": 30, "unit": "m", "alternatives": [9, 60]},
            "pk.cruise": {"value": 0.7, "unit": "probability"},  # exact what-if: fixed
            "pk.ballistic": {"value": 0.5, "unit": "probability", "confidence": "medium"},
        }
    }
    params = {p.name: p for p in U.uncertain_parameters(_engine_scenario(over))}
    floor = params["pac-3-mse:envelopes.cruise.min_altitude"]
    assert (floor.low, floor.mode, floor.high) == (9, 30, 60)
    assert floor.quality == "scenario override"
    assert "pac-3-mse:pk.cruise" not in params
    assert params["pac-3-mse:pk.ballistic"].low == pytest.approx(0.425)
