"""Coverage products: GeoJSON, GeoTIFF, PNG and summary.json (cities, countries) checked
against the rasters and against independent geometry (shapely, pyproj Geod); the coverage
package writes the files, the report layer's coverage job adds the maps."""

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import CRS

from iadsim.coverage import EnvelopeSpec, RadarSpec, SiteSpec, compute_coverage_multi, products
from iadsim.coverage.grid import GEOD
from iadsim.geo.countries import load_countries
from iadsim.report.coverage_job import run_coverage_job, write_coverage, write_coverage_set

OMNI = dict(min_elevation_deg=-90.0, max_elevation_deg=90.0)
ENV = EnvelopeSpec("m", 2e3, 60e3, 10.0, 20e3)


def _site(sid, lat, lon, det_m=80e3):
    return SiteSpec(sid, "test", lat, lon, (RadarSpec("r", 20.0, det_m, **OMNI),), 0, (ENV,))


@pytest.fixture(scope="module")
def result():
    # Ankara (a 3.5 M city) at the centre of a 80 km disc; Istanbul (350 km away) outside
    sites = [_site("ank", 39.93, 32.86), _site("far", 39.0, 35.0, det_m=50e3)]
    return compute_coverage_multi(None, [3000.0], sites=sites, resolution_km=2.0)[0]


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("cov")
    return out, write_coverage(result, out)


def test_summary_lists_covered_city_and_not_far_one(result):
    s = result.summary()
    names = {c["name"]: c for c in s["cities_covered"]}
    assert "Ankara" in names and names["Ankara"]["population"] > 3_000_000
    assert names["Ankara"]["country"] == "Turkey" and names["Ankara"]["detected"]
    assert "Istanbul" not in names and "Izmir" not in names
    pops = [c["population"] for c in s["cities_covered"]]
    assert pops == sorted(pops, reverse=True)
    detected = {c["name"] for c in s["cities_covered"] if c["detected"]}
    assert names["Çankaya"]["part_of"] == "Ankara"  # a district: Ankara's figure includes it
    assert s["population_covered"]["detection"] == sum(
        c["population"]
        for c in s["cities_covered"]
        if c["detected"] and c["part_of"] not in detected
    )


def test_summary_areas_and_country_areas(result):
    s = result.summary()
    assert [x["id"] for x in s["sites"]] == ["ank", "far"]
    assert s["sites"][0]["detection_area_km2"] == pytest.approx(
        result.area_km2(result.detection[0]), abs=0.1
    )
    assert s["union"]["detection_area_km2"] == pytest.approx(
        result.area_km2(result.union_detection), abs=0.1
    )
    # inland Turkey: the whole union is Turkish land; check against a shapely intersection
    # of the coverage with the Natural Earth polygon, projected to the equal-area grid
    tur = {c["iso_a3"]: c for c in s["countries"]}["TUR"]
    assert sum(c["detection_area_km2"] for c in s["countries"]) == pytest.approx(
        s["union"]["detection_area_km2"], rel=1e-6
    )
    countries = load_countries()
    poly = countries.geometries[list(countries.iso_a3).index("TUR")]
    g = result.grid
    poly_xy = shapely.transform(poly, lambda xy: np.column_stack(g.project(xy[:, 0], xy[:, 1])))
    cov = result.polygons(wgs84=False)["detection"]["union"]
    assert tur["detection_area_km2"] == pytest.approx(
        cov.intersection(poly_xy).area / 1e6, rel=0.02
    )


def test_country_areas_sum_to_land_part_of_a_coastal_union():
    # a site on the Mediterranean coast: part of its disc is sea
    r = compute_coverage_multi(
        None, [3000.0], sites=[_site("coast", 36.8, 34.6)], resolution_km=2.0
    )[0]
    s = r.summary(cities=False)
    land = sum(c["detection_area_km2"] for c in s["countries"])
    union = s["union"]["detection_area_km2"]
    assert 0.3 * union < land < 0.9 * union
    countries = load_countries()
    g = r.grid
    land_xy = shapely.union_all(
        [
            shapely.transform(
                countries.geometries[i], lambda xy: np.column_stack(g.project(xy[:, 0], xy[:, 1]))
            )
            for i in countries.in_bbox(32, 34, 37, 39)
        ]
    )
    cov = r.polygons(wgs84=False)["detection"]["union"]
    assert land == pytest.approx(cov.intersection(land_xy).area / 1e6, rel=0.03)


def test_geojson_features_properties_and_areas(result, written):
    out, paths = written
    gj = json.loads(paths["geojson"].read_text())
    feats = gj["features"]
    assert len(feats) == 2 * (2 + 1)
    keys = {(f["properties"]["site"], f["properties"]["kind"]) for f in feats}
    assert keys == {(s, k) for s in ("ank", "far", "union") for k in ("detection", "engagement")}
    for f in feats:
        p = f["properties"]
        assert p["altitude_m"] == 3000.0 and p["system"] in ("test", "all")
        geom = shapely.geometry.shape(f["geometry"])
        assert geom.is_valid
        lon_min, lat_min, lon_max, lat_max = geom.bounds
        assert 30 < lon_min < lon_max < 37 and 37 < lat_min < lat_max < 41  # WGS84 lon/lat
        geod_km2 = abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6
        assert geod_km2 == pytest.approx(p["area_km2"], rel=0.01)


def test_geotiff_is_georeferenced_with_described_bands(result, written):
    _, paths = written
    with rasterio.open(paths["geotiff"]) as ds:
        assert ds.count == 2 * 2 + 4
        assert ds.crs is not None
        assert CRS.from_wkt(ds.crs.to_wkt()).equals(result.grid.crs)
        assert CRS.from_wkt(ds.crs.to_wkt()).coordinate_operation.method_name.startswith(
            "Lambert Azimuthal Equal Area"
        )
        assert ds.transform == result.grid.transform
        assert ds.descriptions[0] == "ank detection"
        assert ds.descriptions[-1] == "overlap count engagement"
        assert np.array_equal(ds.read(1).astype(bool), result.detection[0])
        assert np.array_equal(ds.read(ds.count - 1), result.overlap_detection)
        # the site's position falls in a detected cell of band 1
        x, y = result.grid.project(32.86, 39.93)
        row, col = ds.index(float(x), float(y))
        assert ds.read(1)[row, col] == 1


def test_png_written(written):
    _, paths = written
    data = paths["png"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_coverage_package_writes_the_files_without_the_map(result, written, tmp_path):
    paths = products.write_coverage(result, tmp_path)
    assert set(paths) == {"geojson", "geotiff", "summary"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "coverage.geojson",
        "coverage.tif",
        "summary.json",
    ]
    # the same files as the job that also draws the map
    _, with_map = written
    for kind in paths:
        assert paths[kind].read_bytes() == with_map[kind].read_bytes()


def test_several_altitudes_write_one_folder_each(tmp_path):
    rs = compute_coverage_multi(
        None, [100.0, 5000.0], sites=[_site("a", 39.93, 32.86)], resolution_km=4.0
    )
    job = write_coverage_set(rs, tmp_path)
    index = json.loads((tmp_path / "index.json").read_text())
    assert [e["dir"] for e in index] == ["alt-100m", "alt-5000m"]
    for e in index:
        for name in ("coverage.geojson", "coverage.tif", "coverage.png", "summary.json"):
            assert (tmp_path / e["dir"] / name).is_file()
    a100, a5000 = (e["summary"]["union"]["detection_area_km2"] for e in job["altitudes"])
    assert a100 < a5000
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind
    for e in job["altitudes"]:
        assert e["paths"]["png"] == e["dir"] / "coverage.png"


def test_coverage_job_writes_every_altitude_and_the_vcd(tmp_path):
    scn = Path(__file__).resolve().parents[1] / "examples" / "ankara.yaml"
    job = run_coverage_job(scn, altitudes_m=[1000, 10000], resolution_km=8, out_dir=tmp_path)
    assert [e["dir"].name for e in job["altitudes"]] == ["alt-1000m", "alt-10000m"]
    for e in job["altitudes"]:
        assert set(e["paths"]) == {"geojson", "geotiff", "summary", "png"}
    assert job["index"] == tmp_path / "index.json"
    assert job["vcd"]["png"].name.startswith("vcd-") and job["vcd"]["csv"].is_file()
