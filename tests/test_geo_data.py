"""Offline gazetteer and borders: Natural Earth countries and GeoNames cities."""

import numpy as np
import pytest
import shapely
from pyproj import Geod

from iadsim.coverage.grid import make_grid
from iadsim.geo.cities import cities_on_grid, load_cities
from iadsim.geo.countries import load_countries, rasterize_countries


def test_countries_load_with_names_codes_and_contain_their_capitals():
    c = load_countries()
    assert len(c.names) >= 200
    codes = list(c.iso_a3)
    for code, lon, lat in [("TUR", 32.86, 39.93), ("FRA", 2.35, 48.86), ("IND", 77.2, 28.6)]:
        assert shapely.contains_xy(c.geometries[codes.index(code)], lon, lat)
    assert c.names[codes.index("TUR")] == "Turkey"


def test_turkey_area_matches_published_figure():
    # CIA World Factbook: 783,562 km2 (land + water); Natural Earth 1:10m generalises coasts
    c = load_countries()
    tur = c.geometries[list(c.iso_a3).index("TUR")]
    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(tur)[0]) / 1e6
    assert area_km2 == pytest.approx(783_562, rel=0.02)


def test_rasterized_countries_on_equal_area_grid_give_country_area():
    g = make_grid([39.0], [35.0], [900e3], 5000.0)
    ids, present = rasterize_countries(g)
    c = load_countries()
    tur = list(c.iso_a3).index("TUR")
    assert tur in present
    assert np.count_nonzero(ids == tur) * g.cell_area_km2 == pytest.approx(783_562, rel=0.03)


def test_cities_gazetteer_has_ankara_and_grid_lookup_finds_it():
    c = load_cities()
    i = int(np.flatnonzero(c.name == "Ankara")[0])
    assert c.population[i] > 3_000_000 and c.country[i] == "Turkey"
    g = make_grid([39.93], [32.86], [50e3], 2000.0)
    idx, row, col = cities_on_grid(g)
    assert i in set(idx.tolist())
    assert not (c.name[idx] == "Istanbul").any()
    k = int(np.flatnonzero(idx == i)[0])
    centre_row, centre_col, _ = g.rowcol(*g.project(32.86, 39.93))
    assert abs(row[k] - centre_row) <= 1 and abs(col[k] - centre_col) <= 1


def test_grid_across_antimeridian_finds_cities_on_both_sides():
    # Fiji straddles 180 deg: Suva (178.4 E) and Labasa (179.4 E); Taveuni is near 180
    g = make_grid([-17.5], [179.9], [400e3], 4000.0)
    idx, _, _ = cities_on_grid(g)
    c = load_cities()
    assert "Suva" in set(c.name[idx].tolist())
    ids, present = rasterize_countries(g)
    assert list(load_countries().iso_a3).index("FJI") in present
