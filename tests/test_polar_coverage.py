"""Coverage at the poles and across the antimeridian: areas against the closed-form spherical
cap, covered country areas against a brute-force point-in-polygon count of the covered cells,
and maps that stay readable there."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from iadsim.coverage import EnvelopeSpec, RadarSpec, SiteSpec, compute_coverage_multi
from iadsim.geo import earth
from iadsim.geo.countries import load_countries

OMNI = dict(min_elevation_deg=-90.0, max_elevation_deg=90.0)
ENV = EnvelopeSpec("m", 2e3, 60e3, 10.0, 20e3)
PLACES = {
    "south pole": (-90.0, 0.0),
    "north pole": (90.0, 0.0),
    "antimeridian, equator": (0.0, 180.0),
    "antimeridian, Fiji": (-17.0, 179.95),
    "antimeridian, Chukotka": (65.5, -179.9),
}


def _coverage(lat: float, lon: float, range_m: float, res_km: float):
    site = SiteSpec("s", "test", lat, lon, (RadarSpec("r", 10.0, range_m, **OMNI),), 0, (ENV,))
    return compute_coverage_multi(None, [3000.0], sites=[site], resolution_km=res_km)[0]


@pytest.mark.parametrize("place", list(PLACES))
def test_area_at_the_poles_and_across_the_antimeridian_is_the_spherical_cap(place):
    lat, lon = PLACES[place]
    arc_m = float(earth.ground_range_for_slant_m(150e3, 10.0, 3000.0))
    r = _coverage(lat, lon, 150e3, 1.5)
    cap_km2 = float(earth.spherical_cap_area_m2(arc_m)) / 1e6
    assert r.area_km2(r.union_detection) == pytest.approx(cap_km2, rel=0.01)


def _brute_force_km2(result, iso_a3: str) -> float:
    """Covered cells whose centre lies in the country (lon/lat point-in-polygon), times the
    cell area: independent of the projected rasterisation."""
    c = load_countries()
    geom = c.geometries[list(c.iso_a3).index(iso_a3)]
    lon, lat = result.grid.centres_lonlat()
    mask = result.union_detection
    inside = shapely.contains_xy(geom, np.asarray(lon)[mask], np.asarray(lat)[mask])
    return float(np.count_nonzero(inside)) * result.grid.cell_area_km2


@pytest.mark.parametrize(
    "lat, lon, iso_a3",
    [(-90.0, 0.0, "ATA"), (-80.0, 100.0, "ATA"), (82.0, -40.0, "GRL"), (65.5, -179.9, "RUS"),
     (-17.0, 179.95, "FJI")],
)  # fmt: skip
def test_covered_country_area_matches_a_brute_force_count(lat, lon, iso_a3):
    r = _coverage(lat, lon, 600e3, 6.0)
    rows = {x["iso_a3"]: x for x in r.summary(cities=False)["countries"]}
    ref = _brute_force_km2(r, iso_a3)
    assert ref > 0
    assert rows[iso_a3]["detection_area_km2"] == pytest.approx(ref, rel=0.01)


def test_map_borders_at_the_pole_have_no_seam_and_the_land_fills_the_grid():
    from iadsim.coverage.grid import make_grid
    from iadsim.geo.countries import borders_in

    g = make_grid([-90.0], [0.0], [400e3], 4000.0)
    land, lines = borders_in(g)
    box = shapely.box(*g.bounds)
    # the South Pole and 400 km around it are all Antarctic ice: land fills the whole map
    assert shapely.union_all(land).intersection(box).area == pytest.approx(box.area, rel=1e-3)
    # no outline runs along the 180th meridian into the pole: the nearest line is the Ross Sea
    # grounding line, 84.35 S on that meridian (620 km from the pole)
    assert min(shapely.distance(shapely.Point(0, 0), line) for line in lines) > 500e3


def test_map_borders_across_the_antimeridian_join_up():
    from iadsim.coverage.grid import make_grid
    from iadsim.geo.countries import borders_in

    g = make_grid([65.5], [-179.9], [400e3], 4000.0)
    _, lines = borders_in(g)
    x0, _, x1, _ = g.bounds
    # no line jumps across the map (a -180/180 wrap would draw one ~ the map width long)
    for line in lines:
        xy = np.asarray(line.coords)
        assert np.max(np.abs(np.diff(xy[:, 0]))) < 0.1 * (x1 - x0)
