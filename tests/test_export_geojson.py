"""GeoJSON export (RFC 7946), read back with shapely and measured with pyproj's ``Geod`` on
the WGS84 ellipsoid: every coverage polygon's area within 0.5 % of the coverage's own
(summary.json: cell count x cell area on the equal-area grid), the right-hand rule, the
antimeridian split; a run's lines and points against the results store."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import yaml
from pyproj import Geod
from shapely.geometry import shape

import iadsim
from iadsim.export import export
from iadsim.export.geometry import laea_to_lonlat, split_line
from iadsim.scenario import scenario_from_dict
from tests.helpers.export_kit import frames, run_store, scenario_dict

GEOD = Geod(ellps="WGS84")


def _area_km2(geom) -> float:
    return GEOD.geometry_area_perimeter(geom)[0] / 1e6


def _polygons(geom) -> list:
    return list(geom.geoms) if hasattr(geom, "geoms") else [geom]


def _check_rfc7946_polygon(geom) -> None:
    """Right-hand rule, no crossing of the antimeridian, coordinates in range."""
    for p in _polygons(geom):
        assert p.is_valid
        assert p.exterior.is_ccw, "exterior rings run counter-clockwise"
        assert all(not r.is_ccw for r in p.interiors), "holes run clockwise"
        x0, y0, x1, y1 = p.bounds
        assert -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
        xy = np.asarray(p.exterior.coords)[:, :2]
        jump = np.abs(np.diff(xy[:, 0])) >= 180
        at_pole = (np.abs(xy[:-1, 1]) == 90) & (np.abs(xy[1:, 1]) == 90)
        assert not np.any(jump & ~at_pole), "no edge jumps across the antimeridian"


def _coverage_areas(gj) -> dict[tuple, tuple]:
    return {
        (f["properties"]["altitude_m"], f["properties"]["kind"], f["properties"]["site"]):
            (shape(f["geometry"]), f["properties"]["area_km2"])
        for f in gj["features"] if f["properties"]["layer"] == "coverage"
    }  # fmt: skip


def _summary_areas(scn, altitudes, resolution_km) -> dict[tuple, float]:
    out = {}
    for alt in altitudes:
        s = iadsim.compute_coverage(scn, alt, resolution_km=resolution_km).summary(
            cities=False, countries=False
        )
        for site in s["sites"]:
            for kind in ("detection", "engagement"):
                out[(float(alt), kind, site["id"])] = site[f"{kind}_area_km2"]
        for kind in ("detection", "engagement"):
            out[(float(alt), kind, "union")] = s["union"][f"{kind}_area_km2"]
    return {k: v for k, v in out.items() if v > 0}


def _write(tmp_path, data) -> object:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_coverage_polygons_keep_the_coverage_area_on_the_ellipsoid(tmp_path):
    data = scenario_dict()
    path = _write(tmp_path, data)
    out = tmp_path / "cov.geojson"
    export(path, "geojson", out, altitudes_m=[300, 8000], resolution_km=4.0)
    gj = json.loads(out.read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and "crs" not in gj
    got = _coverage_areas(gj)
    want = _summary_areas(scenario_from_dict(data), [300, 8000], 4.0)
    assert set(got) == set(want) and len(want) >= 8
    for key, (geom, area_prop) in got.items():
        _check_rfc7946_polygon(geom)
        assert area_prop == want[key]
        assert _area_km2(geom) == pytest.approx(want[key], rel=0.005), key


def test_coverage_across_the_antimeridian_is_split_and_keeps_its_area(tmp_path):
    """A Patriot battery on Taveuni (Fiji, 179.9 W/E): its coverage straddles ±180°, and is
    written as polygons on each side whose area on the ellipsoid is the coverage's."""
    data = {
        "name": "antimeridian",
        "sites": [
            {"id": "fiji", "system": "patriot", "lat": -16.8, "lon": 179.95, "heading_deg": 90}
        ],  # fmt: skip
    }
    path = _write(tmp_path, data)
    out = tmp_path / "fiji.geojson"
    export(path, None, out, altitudes_m=[5000], resolution_km=4.0)
    gj = json.loads(out.read_text(encoding="utf-8"))
    got = _coverage_areas(gj)
    want = _summary_areas(scenario_from_dict(data), [5000], 4.0)
    assert set(got) == set(want)
    for key, (geom, _) in got.items():
        assert geom.geom_type == "MultiPolygon", key
        sides = {np.sign(p.centroid.x) for p in geom.geoms}
        assert sides == {-1.0, 1.0}
        _check_rfc7946_polygon(geom)
        assert _area_km2(geom) == pytest.approx(want[key], rel=0.005), key
    sector = next(f for f in gj["features"] if f["properties"]["layer"] == "sector")
    _check_rfc7946_polygon(shape(sector["geometry"]))


@pytest.mark.parametrize("lat0", [89.0, -89.5])
def test_a_polygon_around_a_pole_keeps_its_area(lat0):
    """A disc of 500 km radius with a hole, on an equal-area grid centred near a pole, taken
    to lon/lat: closed along the pole, counter-clockwise, the same area."""
    from iadsim.coverage.grid import make_grid

    grid = make_grid([lat0], [10.0], [600e3], 2000.0)
    x, y = grid.project(10.0, lat0)
    disc = (
        shapely.Point(x, y).buffer(500e3, 64).difference(shapely.Point(x + 200e3, y).buffer(50e3))
    )
    ll = laea_to_lonlat(disc, grid)
    _check_rfc7946_polygon(ll)
    assert _area_km2(ll) == pytest.approx(disc.area / 1e6, rel=0.001)


def test_split_line_cuts_a_path_at_the_antimeridian():
    pieces = split_line([179.0, 179.8, -179.6, -179.0], [0.0, 0.2, 0.5, 1.0], [10, 20, 30, 40])
    assert len(pieces) == 2
    a, b = pieces
    assert a[-1][0] == 180.0 and b[0][0] == -180.0
    assert a[-1][1] == pytest.approx(0.2 + 0.3 * (0.2 / 0.6)) and a[-1][1] == b[0][1]
    assert a[-1][2] == pytest.approx(20 + 10 * (0.2 / 0.6))
    assert len(split_line([10, 11], [0, 0], [0, 0])) == 1


def test_run_geojson_lines_and_points_are_the_stores(tmp_path_factory, tmp_path):
    store = run_store(tmp_path_factory)
    ev, pt, _ = frames(store)
    out = tmp_path / "run.geojson"
    export(store, "geojson", out)
    gj = json.loads(out.read_text(encoding="utf-8"))
    by_layer: dict[str, list] = {}
    for f in gj["features"]:
        by_layer.setdefault(f["properties"]["layer"], []).append(f)
    assert "coverage" not in by_layer  # a run gets coverage only when altitudes are asked
    tracks = {f["properties"]["id"]: f for f in by_layer["threat_track"]}
    assert set(tracks) == set(pt.threat)
    for r in pt.itertuples():
        p = tracks[r.threat]["properties"]
        assert p["fate"] == ("killed" if r.killed else "leaked" if r.leaked else "unresolved")
        assert p["start_s"] == pytest.approx(r.launched_s, abs=1e-3)
        if r.killed:
            end = tracks[r.threat]["geometry"]["coordinates"][-1]
            hit = ev[(ev.kind == "intercept") & (ev.threat == r.threat)].iloc[0]
            assert end[:2] == pytest.approx([hit.lon, hit.lat], abs=1e-6)  # 6 decimals
            assert end[2] == pytest.approx(hit.alt_m, abs=0.05)  # 0.1 m
    flyouts = by_layer["interceptor_flyout"]
    assert len(flyouts) == (ev.kind == "launch").sum()
    assert {f["properties"]["outcome"] for f in flyouts} == {"kill", "miss"}
    events = by_layer["event"]
    for kind in ("intercept", "miss", "leak", "unresolved", "detection_start"):
        rows = ev[ev.kind == kind]
        mine = [f for f in events if f["properties"]["kind"] == kind]
        assert len(mine) == len(rows) > 0, kind
        for f, r in zip(mine, rows.itertuples(), strict=True):
            lon, lat, alt = f["geometry"]["coordinates"]
            assert (lon, lat) == pytest.approx((r.lon, r.lat), abs=1e-6)
            assert f["properties"]["time_s"] == pytest.approx(r.time_s, abs=1e-3)
