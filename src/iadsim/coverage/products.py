"""Coverage products: polygons, summary (areas, cities, countries) and the files of a run.

Files of one altitude (all written atomically: temporary file, then ``os.replace``):

* ``coverage.geojson``: WGS84 polygons, one feature per site and kind plus a ``union`` feature
  per kind; properties ``site``, ``system``, ``kind`` (detection|engagement), ``area_km2``,
  ``altitude_m``, ``altitude_reference``, ``threat``.
* ``coverage.tif``: uint8 GeoTIFF on the LAEA analysis grid; bands per site (detection,
  engagement), then union detection, union engagement, overlap counts; band descriptions set.
* ``summary.json``: :func:`summarize`.

Several altitudes go to one subfolder each, ``alt-<H>m`` (``alt-<H>m-agl`` above ground),
with an ``index.json`` listing them. The map (``coverage.png``) is drawn by the report layer:
:mod:`iadsim.report.coverage_job` (``write_coverage``, ``run_coverage_job``) adds it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely

from iadsim.fileio import atomic_path, atomic_write_text
from iadsim.geo.cities import cities_on_grid, counted, load_cities
from iadsim.geo.countries import load_countries, rasterize_countries

NOTE = (
    "Illustrative analysis from public data: catalog values are open-source estimates, "
    "not the performance of any real deployment."
)


def mask_to_geometry(mask: np.ndarray, grid, wgs84: bool = True):
    """Union of the cells of a boolean raster as one shapely (Multi)Polygon, via
    ``rasterio.features.shapes``; reprojected to WGS84 lon/lat unless ``wgs84=False``."""
    from rasterio.features import shapes

    mask = np.asarray(mask, bool)
    if not mask.any():
        return shapely.Polygon()
    polys = [
        shapely.geometry.shape(g)
        for g, _ in shapes(
            mask.astype(np.uint8), mask=mask, transform=grid.transform, connectivity=4
        )
    ]
    geom = shapely.union_all(polys)
    if wgs84:
        geom = shapely.transform(
            geom, lambda xy: np.column_stack(grid.to_wgs84.transform(xy[:, 0], xy[:, 1]))
        )
    return geom


def _write_json(path: Path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def _cities(result) -> tuple[list[dict], dict]:
    idx, row, col = cities_on_grid(result.grid)
    det = result.union_detection[row, col]
    eng = result.union_engagement[row, col]
    keep = det | eng
    c = load_cities()
    order = np.argsort(-c.population[idx[keep]], kind="stable")
    cities = [
        {
            "name": str(c.name[i]),
            "country": str(c.country[i]),
            "population": int(c.population[i]),
            "lat": round(float(c.lat[i]), 5),
            "lon": round(float(c.lon[i]), 5),
            "detected": bool(d),
            "engaged": bool(e),
            "part_of": None if c.parent[i] < 0 else str(c.name[c.parent[i]]),
        }
        for i, d, e in zip(idx[keep][order], det[keep][order], eng[keep][order], strict=True)
    ]
    # a part of a larger place (a city district) counts only when its parent is not covered:
    # the parent's figure includes it (iadsim.geo.cities)
    totals = {
        "detection": int(c.population[counted(idx[det])].sum()),
        "engagement": int(c.population[counted(idx[eng])].sum()),
    }
    return cities, totals


def _countries(result) -> list[dict]:
    ids, present = rasterize_countries(result.grid)
    if not present:
        return []
    n = len(load_countries().names)
    cell = result.grid.cell_area_km2
    det = np.bincount(ids[result.union_detection & (ids >= 0)], minlength=n) * cell
    eng = np.bincount(ids[result.union_engagement & (ids >= 0)], minlength=n) * cell
    c = load_countries()
    rows = [
        {
            "name": c.names[i],
            "iso_a3": c.iso_a3[i],
            "detection_area_km2": round(float(det[i]), 1),
            "engagement_area_km2": round(float(eng[i]), 1),
        }
        for i in present
        if det[i] > 0 or eng[i] > 0
    ]
    return sorted(rows, key=lambda r: -r["detection_area_km2"])


def summarize(result, cities: bool = True, countries: bool = True) -> dict:
    """summary.json: per-site and union areas (km^2), cities and countries covered."""
    a = result.area_km2
    out = {
        "scenario": result.scenario_name,
        "altitude_m": result.altitude_m,
        "altitude_reference": "agl" if result.agl else "amsl",
        "threat": result.threat,
        "k_factor": result.k_factor,
        "terrain": result.terrain,
        "fixed_sectors": result.sectors,
        "resolution_km": result.grid.cell_m / 1000.0,
        "crs": result.grid.crs.srs,
        "note": NOTE,
        "sites": [
            {
                "id": s.id,
                "system": s.system,
                "lat": s.lat,
                "lon": s.lon,
                "detection_area_km2": round(a(result.detection[i]), 1),
                "engagement_area_km2": round(a(result.engagement[i]), 1),
                "radars": [
                    {
                        "id": r.id,
                        "detection_range_km": round(r.detection_range_m / 1000, 1),
                        "antenna_height_m": r.antenna_height_m,
                    }
                    for r in s.radars
                ],
                "interceptors": [e.interceptor for e in s.envelopes],
                **(
                    {"dem_covered_fraction": round(result.dem_covered_fraction[i], 4)}
                    if result.dem_covered_fraction is not None
                    else {}
                ),
            }
            for i, s in enumerate(result.sites)
        ],
        "union": {
            "detection_area_km2": round(a(result.union_detection), 1),
            "engagement_area_km2": round(a(result.union_engagement), 1),
            "detection_overlap_area_km2": round(a(result.overlap_detection >= 2), 1),
            "engagement_overlap_area_km2": round(a(result.overlap_engagement >= 2), 1),
        },
    }
    if cities:
        out["cities_covered"], out["population_covered"] = _cities(result)
    if countries:
        out["countries"] = _countries(result)
    return out


def _round_coords(geom, ndigits: int = 5):
    return shapely.transform(geom, lambda xy: np.round(xy, ndigits))


def coverage_geojson(result) -> dict:
    """The FeatureCollection written to coverage.geojson."""
    feats = []
    systems = {s.id: s.system for s in result.sites}
    for kind, geoms in result.polygons(wgs84=True).items():
        masks = result.masks()[kind]
        for key, geom in geoms.items():
            feats.append(
                {
                    "type": "Feature",
                    "properties": {
                        "site": key,
                        "system": systems.get(key, "all"),
                        "kind": kind,
                        "area_km2": round(result.area_km2(masks[key]), 1),
                        "altitude_m": result.altitude_m,
                        "altitude_reference": "agl" if result.agl else "amsl",
                        "threat": result.threat,
                    },
                    "geometry": shapely.geometry.mapping(_round_coords(geom)),
                }
            )
    return {
        "type": "FeatureCollection",
        "name": result.scenario_name or "coverage",
        "features": feats,
    }


def band_layers(result) -> list[tuple[str, np.ndarray]]:
    """(description, uint8 raster) of every GeoTIFF band, in band order."""
    layers = []
    for i, sid in enumerate(result.site_ids):
        layers.append((f"{sid} detection", result.detection[i]))
        layers.append((f"{sid} engagement", result.engagement[i]))
    layers += [
        ("union detection", result.union_detection),
        ("union engagement", result.union_engagement),
        ("overlap count detection", result.overlap_detection),
        ("overlap count engagement", result.overlap_engagement),
    ]
    return [(d, np.asarray(a, np.uint8)) for d, a in layers]


def write_geotiff(result, path: Path) -> Path:
    import rasterio

    layers = band_layers(result)
    profile = dict(
        driver="GTiff",
        width=result.grid.ncols,
        height=result.grid.nrows,
        count=len(layers),
        dtype="uint8",
        crs=result.grid.crs,
        transform=result.grid.transform,
        compress="deflate",
        tiled=True,
    )
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as ds:
        for b, (desc, arr) in enumerate(layers, start=1):
            ds.write(arr, b)
            ds.set_band_description(b, desc)
        ds.update_tags(
            altitude_m=str(result.altitude_m),
            threat=result.threat,
            altitude_reference="agl" if result.agl else "amsl",
            note=NOTE,
        )
    return Path(path)


def write_coverage(result, out_dir, summary: dict | None = None) -> dict[str, Path]:
    """Write coverage.geojson, coverage.tif and summary.json into ``out_dir``; return their
    paths by kind (``summary`` reuses an already computed summary)."""
    out = Path(out_dir)
    gj = coverage_geojson(result)
    return {
        "geojson": _write_json(out / "coverage.geojson", gj),
        "geotiff": write_geotiff(result, out / "coverage.tif"),
        "summary": _write_json(out / "summary.json", summary or result.summary()),
    }


def altitude_dirname(altitude_m: float, agl: bool) -> str:
    return f"alt-{altitude_m:g}m" + ("-agl" if agl else "")


def write_coverage_set(results, out_dir) -> dict:
    """Write the products of one or several altitudes (:func:`write_coverage`): directly into
    ``out_dir`` for one altitude, else one ``alt-<H>m`` subfolder per altitude plus
    ``index.json``. Returns ``{"altitudes": [{altitude_m, dir, paths, summary}], "index":
    path (several altitudes)}``."""
    out = Path(out_dir)
    entries = []
    for r in results:
        sub = out if len(results) == 1 else out / altitude_dirname(r.altitude_m, r.agl)
        summary = r.summary()
        paths = write_coverage(r, sub, summary=summary)
        entries.append({"altitude_m": r.altitude_m, "dir": sub, "paths": paths, "summary": summary})
    if len(results) == 1:
        return {"altitudes": entries}
    index = [
        {
            "altitude_m": e["altitude_m"],
            "dir": e["dir"].name,
            "detection_area_km2": e["summary"]["union"]["detection_area_km2"],
            "engagement_area_km2": e["summary"]["union"]["engagement_area_km2"],
        }
        for e in entries
    ]
    return {"altitudes": entries, "index": _write_json(out / "index.json", index)}
