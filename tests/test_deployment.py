"""The deployment (iadsim.deployment): one resolution of a scenario's sites, the same radars,
fire-control radar and interceptors in coverage and in the simulation, checked against the
catalog rules written out by hand; defaults recorded with their origin."""

from __future__ import annotations

import json

import numpy as np
import pymap3d
import pytest

from iadsim import catalog
from iadsim.coverage import resolve_sites
from iadsim.deployment import resolve_catalog_item, resolve_deployment
from iadsim.examples import EXAMPLES_DIR, example_path
from iadsim.geo.dem import Dem
from iadsim.report.vcd import vcd_curves
from iadsim.scenario import load_scenario, scenario_from_dict
from iadsim.sim.engagement import CLASS_CODE
from iadsim.sim.engine import prepare

EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.glob("*.yaml"))
THREATS = ("fighter-4gen", "cruise-missile", "srbm-300")  # aircraft, cruise, ballistic


def _prepared_sites_only(scn):
    """prepare() on the scenario's sites without its raids (the site arrays do not depend on
    the threats; this skips sampling and line of sight of the raids)."""
    return prepare(scn.model_copy(update={"raids": []}))


def _expected(scn_site, ground_m):
    """The resolution rules written out against the catalog: radar ids, antenna heights
    above mean sea level, the FCR id, the inventory."""
    item = catalog.get(scn_site.system, kind=("system", "radar"))
    radars = [item] if item.kind == "radar" else [catalog.get(r, kind="radar") for r in item.radars]
    stated = scn_site.antenna_height_m
    heights = [ground_m + (r.antenna_height.si if stated is None else stated) for r in radars]
    if item.kind == "radar":
        return [item.id], heights, None, {}
    inv = scn_site.interceptors if scn_site.interceptors is not None else item.default_loadout
    return [r.id for r in radars], heights, item.fire_control_radar, dict(inv)


def _check_same_site_everywhere(scn):
    """Coverage (resolve_sites for each threat class) and the simulation (prepare: radars,
    fire units, interceptors) agree with each other and with the catalog rules."""
    p = _prepared_sites_only(scn)
    dep = p.deployment
    ground = pymap3d.ecef2geodetic(*p.site_ecef.T)[2]
    np.testing.assert_allclose(ground, dep.ground_altitudes_m, atol=1e-6)
    specs = {t: resolve_sites(scn, t) for t in THREATS}
    for s, site in enumerate(scn.sites):
        ids, heights, fcr_id, inv = _expected(site, dep.ground_altitudes_m[s])
        rows = np.flatnonzero(p.radars.site == s)
        # simulation radars
        assert list(p.radars.radar_id[rows]) == ids
        np.testing.assert_allclose(p.radars.height_m[rows], heights, rtol=0, atol=1e-9)
        assert list(p.radars.is_fcr[rows]) == [r == fcr_id for r in ids]
        # no heading: only all-round radars (any boresight gives the same coverage), 0 rad
        heading = 0.0 if site.heading_deg is None else np.radians(site.heading_deg)
        np.testing.assert_array_equal(p.radars.heading_rad[rows], heading)
        want_pd = [catalog.get(r, kind="radar").detection_pd.value for r in ids]
        np.testing.assert_array_equal(p.radars.detection_pd[rows], want_pd)
        for threat in THREATS:
            spec = specs[threat][s]
            thr = catalog.get(threat, kind="threat")
            # coverage radars: same ids, heights above the ground, headings, sectors, limits
            assert [r.id for r in spec.radars] == ids
            np.testing.assert_allclose(
                [r.antenna_height_m for r in spec.radars],
                np.asarray(heights) - dep.ground_altitudes_m[s],
                atol=1e-9,
            )
            assert all(r.heading_deg == site.heading_deg for r in spec.radars)
            np.testing.assert_allclose(
                [np.radians(r.azimuth_sector_deg) / 2 for r in spec.radars],
                p.radars.half_sector_rad[rows],
                rtol=1e-15,
            )
            np.testing.assert_allclose(
                np.radians([r.min_elevation_deg for r in spec.radars]),
                p.radars.min_elevation_rad[rows],
            )
            # detection range on the threat: the sim's radar equation, at the radar's
            # catalog detection_pd (the Pd its reference range is quoted at)
            for r, row in zip(spec.radars, rows, strict=True):
                seen = p.radars.detects_ballistic[row] or thr.target_class != "ballistic"
                rng = p.radars.ref_range_m[row] * (thr.rcs.si / p.radars.ref_rcs_m2[row]) ** 0.25
                want = min(rng, p.radars.max_range_m[row]) if seen else 0.0
                assert r.detection_range_m == pytest.approx(want, rel=1e-12)
            # the fire-control radar
            assert spec.fire_control == (None if fcr_id is None else ids.index(fcr_id))
            # interceptors: coverage draws the types with rounds that have an envelope for
            # the class; the fire unit carries the whole inventory
            c = CLASS_CODE[thr.target_class]
            f = np.flatnonzero(p.fu.site == s)
            if not inv:
                assert len(f) == 0 and spec.envelopes == ()
                continue
            (f,) = f
            slots = [t for t in p.fu.types[f] if t >= 0]
            assert [p.icp.ids[t] for t in slots] == list(inv)
            armed = [
                p.icp.ids[t]
                for j, t in enumerate(p.fu.types[f])
                if t >= 0
                and p.fu.ready0[f, j] + p.fu.reserve0[f, j] > 0
                and not np.isnan(p.icp.max_range_m[t, c])
            ]
            assert [e.interceptor for e in spec.envelopes] == armed
            assert armed == [
                i
                for i, n in inv.items()
                if n > 0 and thr.target_class in catalog.get(i, kind="interceptor").envelopes
            ]
            half = p.fu.half_sector_rad[f]
            assert half == pytest.approx(p.radars.half_sector_rad[rows][ids.index(fcr_id)])


@pytest.mark.parametrize("name", EXAMPLES)
def test_shipped_example_sites_resolve_the_same_in_coverage_and_simulation(name):
    _check_same_site_everywhere(load_scenario(example_path(name)))


def _override_scenario(**environment):
    return scenario_from_dict(
        {
            "name": "overrides",
            "environment": environment,
            "sites": [
                {
                    "id": "own",
                    "system": "s-400",
                    "lat": 39.9,
                    "lon": 32.8,
                    "antenna_height_m": 30,
                    "ground_altitude_m": 500,
                    "heading_deg": 45,
                    "interceptors": {"48n6e3": 20, "40n6e": 0, "9m96e2": 40},
                    "doctrine": {"salvo_size": 4, "max_simultaneous": 3, "reload_time_s": 600},
                },
                {"id": "tpy2", "system": "an-tpy-2", "lat": 38.3, "lon": 37.8, "heading_deg": 95},
                {"id": "pat", "system": "patriot", "lat": 39.8, "lon": 32.9, "heading_deg": 120},
                {"id": "nasams", "system": "nasams", "lat": 39.7, "lon": 32.7},  # all round
            ],
        },
        base_dir=EXAMPLES_DIR,
    )


def test_explicit_overrides_resolve_the_same_in_coverage_and_simulation():
    _check_same_site_everywhere(_override_scenario())
    _check_same_site_everywhere(_override_scenario(dem="anatolia-globe.tif"))


def test_explicit_inventory_antenna_ground_and_doctrine_are_used_as_stated():
    dep = resolve_deployment(_override_scenario())
    own = dep.site("own")
    assert own.ground_altitude_m == 500.0 and own.ground_origin == "scenario"
    assert [(r.id, r.antenna_height_m, r.heading_deg) for r in own.radars] == [
        ("91n6e", 30.0, 45.0),
        ("92n6e", 30.0, 45.0),
    ]
    assert own.fcr.id == "92n6e" and own.fcr.is_fcr and not own.radars[0].is_fcr
    # magazine: ready = min(inventory, catalog loadout of the type); an empty type is kept
    split = [(i.id, i.rounds, i.rounds_per_reload, i.ready, i.reserve) for i in own.interceptors]
    assert split == [
        ("48n6e3", 20, 16, 16, 4),
        ("40n6e", 0, 8, 0, 0),
        ("9m96e2", 40, 32, 32, 8),
    ]
    assert [i.id for i, _ in own.envelopes("aircraft")] == ["48n6e3", "9m96e2"]
    d = own.doctrine
    assert (d.channels, d.salvo_size, d.reload_time_s, d.reaction_time_s) == (3, 2, 600.0, 9.0)
    p = _prepared_sites_only(_override_scenario())
    rows = np.flatnonzero(p.radars.site == 0)
    np.testing.assert_allclose(p.radars.height_m[rows], 530.0)
    assert (p.fu.channels[0], p.fu.salvo[0], p.fu.reload_s[0]) == (3, 2, 600.0)
    np.testing.assert_array_equal(p.fu.ready0[0], [16, 0, 32])
    np.testing.assert_array_equal(p.fu.reserve0[0], [4, 0, 8])
    np.testing.assert_array_equal(p.fu.loadout[0], [16, 8, 32])


def test_default_values_are_flagged_with_their_origin():
    dep = resolve_deployment(_override_scenario())
    origin = {(p.site, p.field): (p.value, p.origin) for p in dep.provenance}
    assert origin["own", "ground_altitude_m"] == (500.0, "scenario")
    assert origin["own", "radars.92n6e.antenna_height_m"] == (30.0, "scenario")
    assert origin["own", "interceptors.40n6e"] == (0, "scenario")
    assert origin["own", "doctrine.channels"] == (3, "scenario")
    assert origin["own", "doctrine.salvo_size"] == (2, "catalog cap")  # 4 asked, 2 per channel
    assert origin["own", "doctrine.shoot_look_shoot"] == (True, "scenario default")
    assert origin["own", "doctrine.reaction_time_s"] == (9.0, "catalog")
    assert origin["pat", "ground_altitude_m"] == (0.0, "sea level")
    assert origin["pat", "heading_deg"] == (120.0, "scenario")
    assert ("nasams", "heading_deg") not in origin  # not given, not defaulted: none needed
    assert origin["pat", "radars.an-mpq-65.antenna_height_m"][1] == "catalog default"
    assert origin["pat", "interceptors.pac-3-mse"] == (24, "catalog default")
    assert origin["pat", "doctrine.channels"] == (9, "catalog default")
    assert origin["pat", "doctrine.salvo_size"] == (2, "scenario default")
    assert origin["pat", "doctrine.reload_time_s"] == (3600.0, "catalog default")
    defaults = {(p.site, p.field) for p in dep.defaults()}
    assert ("pat", "doctrine.channels") in defaults
    assert ("own", "doctrine.salvo_size") in defaults  # capped: not the scenario's value
    assert not {("own", "ground_altitude_m"), ("own", "doctrine.channels")} & defaults
    records = dep.provenance_records(defaults_only=True)
    assert json.loads(json.dumps(records)) == records
    assert {"site", "field", "value", "origin"} == set(records[0])


def test_unstated_ground_is_the_dem_height_at_the_site_else_sea_level():
    scn = _override_scenario(dem="anatolia-globe.tif")
    outside = scn.sites[2].model_copy(update={"id": "far", "lat": 10.0, "lon": 10.0})
    scn = scn.model_copy(update={"sites": [*scn.sites, outside]})
    dep = resolve_deployment(scn)
    with Dem.open(example_path("anatolia-globe.tif")) as dem:
        want = float(dem.height_at(38.3, 37.8))
    assert want > 500  # eastern Anatolia
    assert (dep.site("tpy2").ground_altitude_m, dep.site("tpy2").ground_origin) == (want, "dem")
    assert dep.site("own").ground_origin == "scenario"
    assert (dep.site("far").ground_altitude_m, dep.site("far").ground_origin) == (0.0, "sea level")
    np.testing.assert_array_equal(
        _prepared_sites_only(scn).deployment.ground_altitudes_m, dep.ground_altitudes_m
    )


def test_radar_only_site_has_no_fire_unit():
    scn = _override_scenario()
    dep = resolve_deployment(scn)
    tpy2 = dep.site("tpy2")
    assert tpy2.kind == "radar" and not tpy2.has_fire_unit
    assert tpy2.fcr is None and tpy2.interceptors == () and tpy2.doctrine is None
    assert [r.id for r in tpy2.radars] == ["an-tpy-2"] and not tpy2.radars[0].is_fcr
    p = _prepared_sites_only(scn)
    assert 1 not in p.fu.site and list(p.fu.site) == [0, 2, 3]
    spec = resolve_sites(scn, "srbm-300")[1]
    assert spec.fire_control is None and spec.envelopes == ()


def test_detection_range_is_zero_for_ballistic_targets_of_a_radar_that_cannot_see_them():
    site = resolve_catalog_item("nasams")
    (radar,) = site.radars
    assert radar.id == "an-mpq-64" and not radar.detects_ballistic
    assert radar.detection_range_m(catalog.get("srbm-300", kind="threat")) == 0.0
    fighter = catalog.get("fighter-4gen", kind="threat")
    assert radar.detection_range_m(fighter) == catalog.detection_range_m(
        radar.radar, fighter.rcs.si
    )


def test_system_vcd_shows_every_interceptor_type_the_system_can_fire():
    site = resolve_catalog_item("s-400", antenna_height_m=12.0)
    assert [i.id for i in site.interceptors] == list(catalog.get("s-400").interceptors)
    assert {i.id: i.rounds for i in site.interceptors}["48n6e2"] == 0  # not in the loadout
    assert all(r.antenna_height_m == 12.0 for r in site.radars)
    cols = vcd_curves("s-400", n=11)["columns"]
    assert "engagement_48n6e2_lower" in cols
