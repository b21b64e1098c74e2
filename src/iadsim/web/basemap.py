"""The page's offline basemap: Natural Earth countries and GeoNames cities as GeoJSON, from
the data the package already reads for coverage summaries (:mod:`iadsim.geo.countries`,
:mod:`iadsim.geo.cities`)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import shapely

from iadsim.geo.cities import load_cities
from iadsim.geo.countries import load_countries

#: simplification tolerance of the country outlines (degrees, ~2 km): a light basemap
SIMPLIFY_DEG = 0.02


@functools.cache
def countries_geojson() -> dict[str, Any]:
    """Every Natural Earth admin-0 country, simplified, coordinates to 4 decimals."""
    c = load_countries()
    feats = []
    for name, code, geom in zip(c.names, c.iso_a3, c.geometries, strict=True):
        g = shapely.simplify(geom, SIMPLIFY_DEG, preserve_topology=True)
        g = shapely.transform(g, lambda xy: np.round(xy, 4))
        if g.is_empty:
            continue
        feats.append(
            {
                "type": "Feature",
                "properties": {"name": name, "iso_a3": code},
                "geometry": shapely.geometry.mapping(g),
            }
        )
    return {
        "type": "FeatureCollection",
        "name": "countries",
        "attribution": "Natural Earth (public domain)",
        "features": feats,
    }


@functools.lru_cache(maxsize=16)
def cities_geojson(min_population: int) -> dict[str, Any]:
    """The GeoNames places of at least ``min_population`` (parts of a larger place left
    out), largest first."""
    c = load_cities()
    idx = np.flatnonzero((c.population >= min_population) & (c.parent < 0))
    idx = idx[np.argsort(-c.population[idx], kind="stable")]
    return {
        "type": "FeatureCollection",
        "name": "cities",
        "attribution": "GeoNames (CC BY 4.0)",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": str(c.name[i]),
                    "country": str(c.country[i]),
                    "population": int(c.population[i]),
                },
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(c.lon[i]), 4), round(float(c.lat[i]), 4)],
                },
            }
            for i in idx
        ],
    }
